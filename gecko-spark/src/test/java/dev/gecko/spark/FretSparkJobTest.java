package dev.gecko.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gecko.train.fret.FretPipeline;
import dev.gecko.train.fret.FretSettings;
import dev.gecko.train.fret.NoExamplesException;
import dev.gecko.train.fret.TooManyRejectsException;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.io.Corpus;
import dev.gecko.core.io.Passage;
import dev.gecko.train.llm.Capability;
import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmClients;
import dev.gecko.train.llm.PriceTable;
import dev.gecko.train.llm.RetryPolicy;
import dev.gecko.train.llm.UsageMeter;
import dev.gecko.train.testing.FakeLlmServer;
import dev.gecko.train.testing.FakeLlmServer.Fault;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FRet on Spark over 100 real ArguAna passages against the loopback fake LLM with scripted faults,
 * one relabel task killed mid-run and retried, compared with the single-JVM {@code FretPipeline}
 * that {@code gecko generate} runs, over the same seeds.
 */
class FretSparkJobTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int SEEDS = 100;
  /** An fp32 model: its vectors do not depend on the batch, so both runs retrieve the same neighbours. */
  private static final String MODEL = GeckoEmbeddingsTest.FP32;
  /** Neighbours relabelled per seed: 21 LLM calls a seed (the paper's 20 doubles the test's time, not what it checks). */
  private static final int CANDIDATES = 10;
  /** Task attempts the hook asks the test to kill. */
  static final BlockingQueue<Long> TO_KILL = new LinkedBlockingQueue<>();
  private static FakeLlmServer server;
  private static Path corpusFile;

  @TempDir static Path dir;

  @BeforeAll
  static void start() throws Exception {
    server = FakeLlmServer.start();
    corpusFile = corpusOf(SEEDS, "arguana-" + SEEDS + ".jsonl");
  }

  /** The first {@code passages} ArguAna passages as a JSON Lines corpus file named {@code name}. */
  private static Path corpusOf(int passages, String name) throws Exception {
    Path file = dir.resolve(name);
    StringBuilder b = new StringBuilder();
    for (Passage p : TestSpark.arguanaPassages(passages)) {
      ObjectNode o = JSON.createObjectNode().put("_id", p.id()).put("title", p.title()).put("text", p.text());
      b.append(o).append('\n');
    }
    Files.writeString(file, b.toString());
    return file;
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** Kills relabel task 2 of the second wave in its first attempt, after its third seed. */
  static final class KillOnce implements FretSparkJob.TaskHook {
    private static final long serialVersionUID = 1L;

    @Override
    public void afterSeed(int stage, int partition, int attempt, long taskAttemptId, int seedsDone) {
      if (stage == 1 && partition == 2 && attempt == 0 && seedsDone == 3) {
        TO_KILL.add(taskAttemptId);
        try {
          Thread.sleep(120_000); // until the kill interrupts this task
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("killed");
        }
      }
    }
  }

  private static final class TaskEnds extends SparkListener {
    final AtomicInteger killed = new AtomicInteger();

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
      if (end.reason().toString().startsWith("TaskKilled")) {
        killed.incrementAndGet();
      }
    }
  }

  private static FretSparkJob.Builder job(Path out) {
    LlmSpec llm = LlmSpec.builder(LlmSpec.Provider.OPENAI, "fake-llm").baseUrl(server.openAiBaseUrl())
        .capabilities(EnumSet.of(Capability.JSON_OUTPUT, Capability.TOP_LOGPROBS)).requestTimeout(Duration.ofSeconds(30))
        .retries(5, Duration.ofMillis(10), Duration.ofMillis(200)).build();
    return FretSparkJob.builder().llm(llm).output(out).model(MODEL)
        .settings(FretSettings.builder().limit(SEEDS).candidates(CANDIDATES).concurrency(8).build()).seedsPerTask(12).shards(3);
  }

  /** Every line of the run's parts: seed id to its example or reject, failing on a seed seen twice. */
  private static Map<String, JsonNode> lines(Path out, String file) throws Exception {
    Map<String, JsonNode> m = new HashMap<>();
    for (Path part : FretSparkJob.parts(out)) {
      for (String l : Files.readAllLines(part.resolve(file), StandardCharsets.UTF_8)) {
        JsonNode n = JSON.readTree(l);
        assertThat(m.put(n.path("seed_id").asText(), n)).as("seed %s twice", n.path("seed_id").asText()).isNull();
      }
    }
    return m;
  }

  private static Map<String, JsonNode> reference(Path file) throws Exception {
    Map<String, JsonNode> m = new HashMap<>();
    if (Files.exists(file)) {
      for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        JsonNode n = JSON.readTree(l);
        m.put(n.path("seed_id").asText(), n);
      }
    }
    return m;
  }

  /**
   * A limit far above the corpus (here 1,000,000,000, "all" written as a number) picks every
   * passage: {@code takeOrdered(limit)} gave each task a buffer of 2 x limit entries and failed with
   * OutOfMemoryError.
   */
  @Test
  void seedsAreTheFirstPassagesByOrdinalWhateverTheLimit() {
    List<scala.Tuple2<Long, String>> pairs = new ArrayList<>();
    for (long o : new long[] {7, 3, 9, 1, 5, 4}) {
      pairs.add(new scala.Tuple2<>(o, "p" + o));
    }
    org.apache.spark.api.java.JavaRDD<scala.Tuple2<Long, String>> ids =
        org.apache.spark.api.java.JavaSparkContext.fromSparkContext(TestSpark.session().sparkContext()).parallelize(pairs, 3);
    for (int limit : new int[] {Integer.MAX_VALUE, 1_000_000_000, 6}) {
      assertThat(FretSparkJob.seeds(ids, limit, pairs.size())).as("limit %d", limit).extracting(scala.Tuple2::_2)
          .containsExactly("p1", "p3", "p4", "p5", "p7", "p9");
    }
    assertThat(FretSparkJob.seeds(ids, 2, pairs.size())).extracting(scala.Tuple2::_2).containsExactly("p1", "p3");
  }

  /** The default settings ({@link FretSettings#limit()} = {@link Integer#MAX_VALUE}: every passage) run every passage once. */
  @Test
  void withNoLimitEveryPassageIsASeedExactlyOnce() throws Exception {
    int passages = 8;
    Path file = dir.resolve("arguana-8.jsonl");
    StringBuilder b = new StringBuilder();
    List<String> ids = new ArrayList<>();
    for (Passage p : TestSpark.arguanaPassages(passages)) {
      b.append(JSON.createObjectNode().put("_id", p.id()).put("title", p.title()).put("text", p.text())).append('\n');
      ids.add(p.id());
    }
    Files.writeString(file, b.toString());
    FretSettings settings = FretSettings.builder().candidates(3).concurrency(4).build();
    assertThat(settings.limit()).as("the default limit: all").isEqualTo(Integer.MAX_VALUE);
    Path out = dir.resolve("spark-no-limit");
    FretSparkSummary s = job(out).settings(settings).seedsPerTask(3).shards(2).build()
        .run(TestSpark.session(), SparkCorpus.read(TestSpark.session(), file.toString()));

    assertThat(s.seeds()).isEqualTo(passages);
    assertThat(s.skipped()).isZero();
    Map<String, JsonNode> examples = lines(out, "examples.jsonl"); // fails on a seed seen twice
    Map<String, JsonNode> rejects = lines(out, "rejects.jsonl");
    assertThat(examples.keySet().stream().filter(rejects::containsKey)).as("seeds with an example and a reject").isEmpty();
    List<String> seeds = new ArrayList<>();
    for (Path part : FretSparkJob.parts(out)) {
      seeds.addAll(Files.readAllLines(part.resolve("seeds.txt"), StandardCharsets.UTF_8));
    }
    assertThat(seeds).as("every passage a seed, exactly once").containsExactlyInAnyOrderElementsOf(ids);
    assertThat(examples.size() + rejects.size()).isEqualTo(passages);
    assertThat(s.written() + s.rejected()).isEqualTo(passages);
  }

  /** As the local pipeline: a request the server refuses as invalid (HTTP 400) rejects its seed, and the job goes on. */
  @Test
  void aRequestRefusedAsInvalidRejectsItsSeedAndTheJobGoesOn() throws Exception {
    int passages = 4;
    Path file = corpusOf(passages, "arguana-4.jsonl");
    server.enqueue(Fault.status(400, Map.of(), "{\"error\":{\"message\":\"filtered\",\"code\":\"content_filter\"}}"));
    Path out = dir.resolve("spark-refused");
    // the folder holds a run of another configuration that stopped before committing a part (a
    // mistyped model name, say): nothing to protect, so this run starts there instead of refusing
    Files.createDirectories(out);
    Files.writeString(out.resolve(FretSparkJob.MANIFEST), "{\"format\":\"" + FretSparkJob.FORMAT
        + "\",\"digest\":\"0123456789abcdef\",\"status\":\"stopped\",\"config\":{\"llm\":{\"model\":\"typo\"}}}");
    FretSparkSummary s = job(out).settings(FretSettings.builder().candidates(3).concurrency(1).build()).seedsPerTask(4)
        .shards(1).build().run(TestSpark.session(), SparkCorpus.read(TestSpark.session(), file.toString()));
    Map<String, JsonNode> rejects = lines(out, "rejects.jsonl");
    assertThat(rejects.values()).singleElement().satisfies(r -> {
      assertThat(r.path("stage").asText()).isEqualTo("request");
      assertThat(r.path("reason").asText()).contains("HTTP 400");
    });
    assertThat(lines(out, "examples.jsonl")).hasSize(passages - 1);
    assertThat(s.written() + s.rejected()).isEqualTo(passages);
    assertThat(JSON.readTree(out.resolve(FretSparkJob.MANIFEST).toFile()).path("digest").asText())
        .isNotEqualTo("0123456789abcdef").hasSize(64);
  }

  /**
   * As the local pipeline: a run whose seeds are all rejected, fewer than the early stop watches,
   * ends with no dataset: it fails and its manifest says why, rather than "complete" with nothing.
   */
  @Test
  void aRunThatEndsWithNoExampleFailsAndItsManifestSaysWhy() throws Exception {
    int passages = 2;
    Path file = corpusOf(passages, "arguana-2.jsonl");
    for (int i = 0; i < passages; i++) {
      server.enqueue(Fault.status(400, Map.of(), "{\"error\":{\"message\":\"filtered\",\"code\":\"content_filter\"}}"));
    }
    Path out = dir.resolve("spark-nothing");
    FretSparkJob runJob = job(out).settings(FretSettings.builder().candidates(3).concurrency(1).build()).seedsPerTask(2)
        .shards(1).build();
    assertThatThrownBy(() -> runJob.run(TestSpark.session(), SparkCorpus.read(TestSpark.session(), file.toString())))
        .isInstanceOfSatisfying(NoExamplesException.class, e -> {
          assertThat(e.summary().rejected()).isEqualTo(passages);
          assertThat(e.summary().totalExamples()).isZero();
        })
        .hasMessageContaining("no examples in").hasMessageContaining("rejected 2 of its 2 seeds").hasMessageContaining("HTTP 400");
    JsonNode manifest = JSON.readTree(out.resolve(FretSparkJob.MANIFEST).toFile());
    assertThat(manifest.path("status").asText()).isEqualTo("stopped");
    assertThat(manifest.path("error").asText()).contains("no examples in");
    // the manifest damaged (cut short): named with its line, not Jackson's words about a "Source"
    Path m = out.resolve(FretSparkJob.MANIFEST);
    String whole = Files.readString(m);
    Files.writeString(m, whole.substring(0, whole.indexOf('\n', 1) + 1));
    assertThatThrownBy(() -> runJob.run(TestSpark.session(), SparkCorpus.read(TestSpark.session(), file.toString())))
        .isInstanceOf(java.io.IOException.class)
        .hasMessageStartingWith(m + ":2: not valid JSON (Unexpected end-of-input")
        .hasMessageEndingWith("; the run folder is damaged");
  }

  /**
   * A model that does not resolve is told before any pass over the corpus: no Spark job runs.
   * Before, the corpus was persisted, checked for duplicate ids (two shuffles) and counted first.
   */
  @Test
  void aModelThatDoesNotResolveFailsBeforeAnyPassOverTheCorpus() throws Exception {
    java.util.concurrent.atomic.AtomicInteger jobs = new java.util.concurrent.atomic.AtomicInteger();
    SparkListener counting = new SparkListener() {
      @Override
      public void onJobStart(org.apache.spark.scheduler.SparkListenerJobStart start) {
        jobs.incrementAndGet();
      }
    };
    Dataset<Row> corpus = SparkCorpus.read(TestSpark.session(), corpusOf(4, "arguana-4b.jsonl").toString());
    // reading ran a job of its own: its events are delivered before the listener is added
    TestSpark.session().sparkContext().listenerBus().waitUntilEmpty(30_000);
    TestSpark.session().sparkContext().addSparkListener(counting);
    try {
      assertThatThrownBy(() -> job(dir.resolve("spark-no-model")).model("no-such-model").build()
          .run(TestSpark.session(), corpus)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no-such-model");
      TestSpark.session().sparkContext().listenerBus().waitUntilEmpty(30_000);
      assertThat(jobs.get()).isZero();
    } finally {
      TestSpark.session().sparkContext().removeSparkListener(counting);
    }
  }

  /**
   * The early stop watches the first {@code earlyStop} seeds the run finishes, over as many waves
   * as that takes: with waves of 2 and an early stop of 6, six rejected seeds stop the run. Before,
   * only a first wave of at least {@code earlyStop} seeds was watched, so with smaller waves every
   * seed was sent to an LLM that answered nothing usable.
   */
  @Test
  void theEarlyStopWatchesItsSeedsOverWavesSmallerThanIt() throws Exception {
    int passages = 12;
    Path file = corpusOf(passages, "arguana-12.jsonl");
    for (int i = 0; i < 6; i++) { // as many refusals as seeds the early stop lets through
      server.enqueue(Fault.status(400, Map.of(), "{\"error\":{\"message\":\"filtered\",\"code\":\"content_filter\"}}"));
    }
    Path out = dir.resolve("spark-early-stop");
    FretSparkJob runJob = job(out).settings(FretSettings.builder().candidates(3).concurrency(1).earlyStop(6).build())
        .waveSize(2).seedsPerTask(2).shards(1).build();
    assertThatThrownBy(() -> runJob.run(TestSpark.session(), SparkCorpus.read(TestSpark.session(), file.toString())))
        .isInstanceOf(TooManyRejectsException.class)
        .hasMessageStartingWith("run stopped early: the first 6 seeds it finished were all rejected");
    assertThat(lines(out, "rejects.jsonl")).hasSize(6);
    assertThat(lines(out, "examples.jsonl")).isEmpty();
  }

  /**
   * A model folder retrained in place (same name, same width, other files) is another
   * configuration: the run refuses to resume, naming the embedder's fingerprint. Before, the
   * configuration knew the embedder by name and width only, and the run went on.
   */
  @Test
  void aModelFolderRetrainedInPlaceDoesNotResume() throws Exception {
    dev.gecko.core.ModelPackage builtIn = dev.gecko.core.ModelPackage.builtIn(dev.gecko.core.GeckoEmbedder.Builder.DEFAULT_MODEL);
    Path model = Files.createDirectories(dir.resolve("retrained-model"));
    try (java.io.InputStream m = builtIn.model().open(); java.io.InputStream t = builtIn.tokenizer().open()) {
      Files.copy(m, model.resolve("model.onnx"));
      Files.copy(t, model.resolve("tokenizer.json"));
    }
    dev.gecko.core.ModelManifest.describing(builtIn).write(model.resolve(dev.gecko.core.ModelPackage.MANIFEST));
    Path file = corpusOf(2, "arguana-2-retrained.jsonl");
    Path out = dir.resolve("spark-retrained");
    java.util.function.Supplier<FretSparkJob> runJob = () -> job(out).model(model.toString())
        .settings(FretSettings.builder().candidates(3).concurrency(1).build()).seedsPerTask(2).shards(1).build();
    for (int i = 0; i < 2; i++) { // both seeds rejected at once: a short first run, its manifest written
      server.enqueue(Fault.status(400, Map.of(), "{\"error\":{\"message\":\"filtered\",\"code\":\"content_filter\"}}"));
    }
    assertThatThrownBy(() -> runJob.get().run(TestSpark.session(), SparkCorpus.read(TestSpark.session(), file.toString())))
        .isInstanceOf(NoExamplesException.class);
    JsonNode embedder = JSON.readTree(out.resolve(FretSparkJob.MANIFEST).toFile()).path("config").path("embedder");
    assertThat(embedder.path("fingerprint").asText()).isEqualTo(dev.gecko.core.ModelPackage.resolve(model.toString())
        .fingerprint()).hasSize(64);

    // "retrained": the tokenizer file rewritten (a blank line added: it reads and tokenizes as before)
    Files.writeString(model.resolve("tokenizer.json"), "\n", java.nio.file.StandardOpenOption.APPEND);
    assertThatThrownBy(() -> runJob.get().run(TestSpark.session(), SparkCorpus.read(TestSpark.session(), file.toString())))
        .isInstanceOf(dev.gecko.train.fret.ResumeConflictException.class)
        .hasMessageContaining("differs in: embedder.fingerprint (was '" + embedder.path("fingerprint").asText().substring(0, 20))
        .hasMessageNotContaining("embedder.model").hasMessageNotContaining("embedder.dimensions");
  }

  @Test
  void sparkRunWithAKilledTaskEqualsTheSingleJvmPipelineAndReRunsDoOnlyWhatIsMissing() throws Exception {
    // the single-JVM reference: FretPipeline set up as gecko generate sets it up (gecko generate --llm openai
    // --base-url URL --llm-model fake-llm --model MODEL --limit SEEDS --candidates CANDIDATES --concurrency 8)
    Path ref = dir.resolve("reference");
    LlmClient http = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).model("fake-llm")
        .capabilities(EnumSet.of(Capability.JSON_OUTPUT, Capability.TOP_LOGPROBS))
        .requestTimeout(LlmClients.DEFAULT_REQUEST_TIMEOUT).build();
    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    LlmClient llm = LlmClients.standard(http, 8, RetryPolicy.builder().maxRetries(5).build(), meter, ref.resolve("cache"));
    try (GeckoEmbedder embedder = GeckoEmbedder.builder().model(MODEL).coalescingWindow(Duration.ZERO).build()) {
      FretPipeline.builder().llm(llm).embedder(embedder).corpus(Corpus.read(corpusFile, Integer.MAX_VALUE)).output(ref)
          .settings(FretSettings.builder().limit(SEEDS).candidates(CANDIDATES).concurrency(8).build()).usageMeter(meter)
          .build().run();
    }
    Map<String, JsonNode> refExamples = reference(ref.resolve("examples.jsonl"));
    Map<String, JsonNode> refRejects = reference(ref.resolve("rejects.jsonl"));
    assertThat(refExamples.size() + refRejects.size()).isEqualTo(SEEDS);
    assertThat(refExamples.size()).isGreaterThan(SEEDS / 2);

    // the Spark run: faults on the first requests, one relabel task killed after its third seed
    server.enqueue(Fault.status(429, Map.of("Retry-After", "1"), "{\"error\":{\"message\":\"rate limited\"}}"));
    server.enqueue(Fault.status(500, Map.of(), "{\"error\":{\"message\":\"oops\"}}"));
    server.enqueue(Fault.truncated());
    server.enqueue(Fault.malformed());
    int requestsBefore = server.requests().size();
    Path out = dir.resolve("spark");
    TaskEnds ends = new TaskEnds();
    TestSpark.session().sparkContext().addSparkListener(ends);
    Thread killer = new Thread(() -> {
      try {
        Long id = TO_KILL.poll(10, TimeUnit.MINUTES);
        if (id != null) {
          TestSpark.session().sparkContext().killTaskAttempt(id, true, "test: killed mid-run");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    killer.start();
    Dataset<Row> corpus = SparkCorpus.read(TestSpark.session(), corpusFile.toString());
    FretSparkSummary s = job(out).hook(new KillOnce()).build().run(TestSpark.session(), corpus);
    killer.join(1000);
    TestSpark.session().sparkContext().listenerBus().waitUntilEmpty(30_000);
    TestSpark.session().sparkContext().removeSparkListener(ends);
    assertThat(ends.killed).as("tasks killed").hasValueGreaterThanOrEqualTo(1);
    assertThat(server.requests().size() - requestsBefore).as("requests, faults included").isGreaterThanOrEqualTo((int) s.calls() + 4);

    Map<String, JsonNode> examples = lines(out, "examples.jsonl");
    Map<String, JsonNode> rejects = lines(out, "rejects.jsonl");
    assertThat(examples.keySet().stream().filter(rejects::containsKey)).as("seeds with an example and a reject").isEmpty();
    assertThat(examples.size() + rejects.size()).isEqualTo(SEEDS);
    assertThat(s.seeds()).isEqualTo(SEEDS);
    assertThat(s.written()).isEqualTo(examples.size());
    assertThat(s.rejected()).isEqualTo(rejects.size());
    assertThat(s.totalExamples()).isEqualTo(examples.size());
    // the killed task's part was committed by its retry
    boolean retried = false;
    for (Path part : FretSparkJob.parts(out)) {
      retried |= JSON.readTree(part.resolve("part.json").toFile()).path("attempt").asInt() > 0;
    }
    assertThat(retried).as("a part written by a retried attempt").isTrue();

    // the examples equal the single-JVM pipeline's, field by field
    assertThat(examples.keySet()).isEqualTo(refExamples.keySet());
    assertThat(rejects.keySet()).isEqualTo(refRejects.keySet());
    for (Map.Entry<String, JsonNode> e : examples.entrySet()) {
      assertThat(e.getValue()).as("example of seed %s", e.getKey()).isEqualTo(refExamples.get(e.getKey()));
    }

    // run again over its own folder: nothing is missing, nothing is asked
    int requests = server.requests().size();
    FretSparkSummary again = job(out).build().run(TestSpark.session(), corpus);
    assertThat(again.skipped()).isEqualTo(SEEDS);
    assertThat(again.written() + again.rejected()).isZero();
    assertThat(server.requests().size()).isEqualTo(requests);

    // lose one part (as an interrupted run would): only its seeds are done again, from the response cache
    Path lost = FretSparkJob.parts(out).get(3);
    List<String> lostSeeds = Files.readAllLines(lost.resolve("seeds.txt"));
    FretSparkJob.deleteTree(lost);
    FretSparkSummary resumed = job(out).build().run(TestSpark.session(), corpus);
    assertThat(resumed.skipped()).isEqualTo(SEEDS - lostSeeds.size());
    assertThat(resumed.written() + resumed.rejected()).isEqualTo(lostSeeds.size());
    assertThat(resumed.calls()).as("every answer came from the cache").isZero();
    Map<String, JsonNode> after = lines(out, "examples.jsonl");
    assertThat(after.size() + lines(out, "rejects.jsonl").size()).isEqualTo(SEEDS);
    assertThat(after).isEqualTo(examples);
    JsonNode manifest = JSON.readTree(out.resolve(FretSparkJob.MANIFEST).toFile());
    assertThat(manifest.path("status").asText()).isEqualTo("complete");
    assertThat(manifest.path("counts").path("totalExamples").asLong()).isEqualTo(examples.size());
    assertThat(manifest.get("llmEndpoints")).extracting(JsonNode::asText)
        .containsExactly("openai-compatible " + server.openAiBaseUrl());
  }

  /**
   * A model folder whose manifest declares no width: the run records, and plans its shards with,
   * the graph's width; and a corpus of collated string columns (Spark 4) is read as text. Before,
   * the configuration recorded {@code "dimensions": 0} (and planned the shards for width 0), and
   * the collated columns were refused as "must be string".
   */
  @Test
  void aModelThatDeclaresNoWidthIsRecordedWithItsGraphsWidthAndCollatedColumnsAreText() throws Exception {
    Path model = SparkRetrievalEvaluatorTest.writeModelWithoutWidth(dir.resolve("no-width-model"), MODEL);
    Path file = corpusOf(2, "arguana-2-no-width.jsonl");
    Path out = dir.resolve("spark-no-width");
    Dataset<Row> read = SparkCorpus.read(TestSpark.session(), file.toString());
    Dataset<Row> collated = read.select(org.apache.spark.sql.functions.col("ordinal"),
        org.apache.spark.sql.functions.collate(org.apache.spark.sql.functions.col("id"), "UTF8_LCASE").as("id"),
        org.apache.spark.sql.functions.collate(org.apache.spark.sql.functions.col("title"), "UTF8_LCASE").as("title"),
        org.apache.spark.sql.functions.collate(org.apache.spark.sql.functions.col("text"), "UNICODE_CI").as("text"));
    assertThat(collated.schema().apply("text").dataType()).isNotEqualTo(org.apache.spark.sql.types.DataTypes.StringType);
    for (int i = 0; i < 2; i++) { // both seeds rejected at once: a short run, its manifest written
      server.enqueue(Fault.status(400, Map.of(), "{\"error\":{\"message\":\"filtered\",\"code\":\"content_filter\"}}"));
    }
    FretSparkJob runJob = job(out).model(model.toString()).settings(FretSettings.builder().candidates(3).concurrency(1).build())
        .seedsPerTask(2).shards(1).build();
    assertThatThrownBy(() -> runJob.run(TestSpark.session(), collated)).isInstanceOf(NoExamplesException.class);
    JsonNode embedder = JSON.readTree(out.resolve(FretSparkJob.MANIFEST).toFile()).path("config").path("embedder");
    assertThat(embedder.path("dimensions").asInt()).isEqualTo(384);
    assertThat(embedder.path("model").asText()).isEqualTo(MODEL);
    assertThatThrownBy(() -> FretSparkJob.shardsFor(10, 0, 4)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dims must be >= 1 to plan the shards, was 0");
  }

  @Test
  void corporaThatWouldLoseOrRepeatSeedsAreRefusedNamingTheColumnOrRow() {
    org.apache.spark.sql.SparkSession spark = TestSpark.session();
    org.apache.spark.sql.types.StructType schema = new org.apache.spark.sql.types.StructType()
        .add("ordinal", org.apache.spark.sql.types.DataTypes.LongType, true)
        .add("id", org.apache.spark.sql.types.DataTypes.StringType, true)
        .add("text", org.apache.spark.sql.types.DataTypes.StringType, true);
    java.util.function.Function<List<Row>, Dataset<Row>> corpus = rows -> spark.createDataFrame(rows, schema);
    // an id with a line break: a part's seeds.txt holds one id per line, so a rerun would misread it
    assertThatThrownBy(() -> job(dir.resolve("newline")).build().run(spark, corpus.apply(List.of(
        org.apache.spark.sql.RowFactory.create(0L, "a\nb", "x"), org.apache.spark.sql.RowFactory.create(1L, "c", "y")))))
        .hasMessageContaining("line break");
    // two rows with one ordinal: seeds are found, named and written by ordinal
    assertThatThrownBy(() -> job(dir.resolve("ordinal")).build().run(spark, corpus.apply(List.of(
        org.apache.spark.sql.RowFactory.create(5L, "a", "x"), org.apache.spark.sql.RowFactory.create(5L, "b", "y")))))
        .hasMessageContaining("duplicate ordinal 5");
    assertThatThrownBy(() -> job(dir.resolve("nullOrdinal")).build().run(spark, corpus.apply(List.of(
        org.apache.spark.sql.RowFactory.create(null, "a", "x")))))
        .hasMessageContaining("ordinal is null");
    // a null text or id: which one, and the row's id where it has one
    assertThatThrownBy(() -> job(dir.resolve("nullText")).build().run(spark, corpus.apply(List.of(
        org.apache.spark.sql.RowFactory.create(3L, "a", null)))))
        .hasMessageContaining("corpus row 3: text is null (id 'a')");
    assertThatThrownBy(() -> job(dir.resolve("nullId")).build().run(spark, corpus.apply(List.of(
        org.apache.spark.sql.RowFactory.create(4L, null, "x")))))
        .hasMessageContaining("corpus row 4: id is null");
    // a text column of another type: named on the driver
    org.apache.spark.sql.types.StructType numbers = new org.apache.spark.sql.types.StructType()
        .add("id", org.apache.spark.sql.types.DataTypes.StringType).add("text", org.apache.spark.sql.types.DataTypes.IntegerType);
    assertThatThrownBy(() -> job(dir.resolve("types")).build().run(spark, spark.createDataFrame(
        List.of(org.apache.spark.sql.RowFactory.create("a", 1)), numbers)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("column 'text' must be string");
  }

  @Test
  void theShardsGrowWithTheCorpusSoThatEachFitsOneArray() {
    assertThat(FretSparkJob.shardsFor(1000, 384, 4)).isEqualTo(4);
    assertThat(FretSparkJob.shardsFor(22_000_000L, 384, 4)).as("22M passages: 8.4G floats").isEqualTo(8);
    assertThat(FretSparkJob.shardsFor(100_000_000L, 384, 4)).isEqualTo(36);
  }

  @Test
  void aRunOnAnotherServerAddsItToTheManifestsEndpoints() {
    Path out = Path.of("run");
    ObjectNode previous = JSON.createObjectNode();
    previous.putArray("llmEndpoints").add("openai-compatible http://127.0.0.1:1/v1");
    assertThat(FretSparkJob.endpoints(out, null, "openai-compatible http://127.0.0.1:1/v1"))
        .containsExactly("openai-compatible http://127.0.0.1:1/v1");
    assertThat(FretSparkJob.endpoints(out, previous, "openai-compatible http://127.0.0.1:1/v1"))
        .containsExactly("openai-compatible http://127.0.0.1:1/v1");
    assertThat(FretSparkJob.endpoints(out, previous, "openai-compatible http://127.0.0.1:2/v1"))
        .containsExactly("openai-compatible http://127.0.0.1:1/v1", "openai-compatible http://127.0.0.1:2/v1");
  }
}
