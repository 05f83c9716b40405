package dev.gecko.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.io.Passage;
import dev.gecko.spark.FretSparkJob.Generated;
import dev.gecko.spark.FretSparkJob.SeedText;
import dev.gecko.train.fret.FretSettings;
import dev.gecko.train.llm.Capability;
import dev.gecko.train.llm.LlmException;
import dev.gecko.train.testing.FakeLlmServer;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.Tuple2;

/**
 * {@link FretSparkJob} when things go wrong mid-run: an I/O failure in the middle of a wave (on an
 * executor, and on the driver) stops the run with the manifest saying so, and a stage-1 partition
 * that Spark computes again (a lost cached block) never asks the LLM for a second, different query.
 */
class FretSparkJobRecoveryTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MODEL = GeckoEmbeddingsTest.FP32;
  private static final int SEEDS = 5;
  /** Per run folder: the relabel seeds its hook saw. */
  static final Map<String, AtomicInteger> RELABELLED = new ConcurrentHashMap<>();
  private static FakeLlmServer server;
  private static List<Passage> passages;

  @TempDir static Path dir;

  @BeforeAll
  static void start() throws Exception {
    server = FakeLlmServer.start();
    passages = TestSpark.arguanaPassages(SEEDS);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static LlmSpec llm() {
    return LlmSpec.builder(LlmSpec.Provider.OPENAI, "fake-llm").baseUrl(server.openAiBaseUrl())
        .capabilities(EnumSet.of(Capability.JSON_OUTPUT, Capability.TOP_LOGPROBS)).requestTimeout(Duration.ofSeconds(30))
        .retries(2, Duration.ofMillis(10), Duration.ofMillis(100)).build();
  }

  /** Waves of 2 seeds, one task each (ordinals 0-1, 2-3, 4), no early stop: the second wave is mid-run. */
  private static FretSparkJob.Builder job(Path out) {
    return FretSparkJob.builder().llm(llm()).output(out).model(MODEL)
        .settings(FretSettings.builder().limit(SEEDS).candidates(3).concurrency(1).earlyStop(0).build())
        .waveSize(2).seedsPerTask(2).shards(1);
  }

  /** The corpus with ordinals 0..4, so a test knows each wave's seeds. */
  private static Dataset<Row> corpus() {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < passages.size(); i++) {
      Passage p = passages.get(i);
      rows.add(RowFactory.create((long) i, p.id(), p.title(), p.text()));
    }
    return TestSpark.rows(rows, SparkCorpus.SCHEMA, 2);
  }

  /** What goes wrong in the middle of a run. */
  enum Failure {
    /** A file where the tasks' attempt folders go: every attempt of the task fails to write. */
    ATTEMPTS_NOT_A_FOLDER,
    /** The wave's part as its task names it, with a folder where part.json goes. */
    PART_JSON_A_FOLDER,
    /** The LLM fails beyond its retries in every attempt of the task. */
    LLM_DOWN,
    /**
     * Every attempt of the task fails with an I/O failure that is no file of the job's (as a class
     * that does not serialize, or Spark's own shuffle files, would).
     */
    FOREIGN_IO
  }

  /**
   * On the relabel stage's first seed of the second wave (the third seed relabelled), makes {@code
   * failure} happen: after the first wave's part was committed and before the second's.
   */
  static final class MidRun implements FretSparkJob.TaskHook {
    private static final long serialVersionUID = 1L;
    private final String out;
    private final Failure failure;

    MidRun(Path out, Failure failure) {
      this.out = out.toString();
      this.failure = failure;
    }

    @Override
    public void afterSeed(int stage, int partition, int attempt, long taskAttemptId, int seedsDone) {
      if (stage != 1) {
        return;
      }
      int n = RELABELLED.computeIfAbsent(out, k -> new AtomicInteger()).incrementAndGet();
      if (failure == Failure.LLM_DOWN && n >= 3) {
        throw new LlmException("HTTP 503 from the test's LLM: down", null); // each attempt: the task fails
      }
      if (failure == Failure.FOREIGN_IO && n >= 3) {
        throw new UncheckedIOException(new NotSerializableException("dev.example.NotSerializableThing"));
      }
      if (n != 3) {
        return;
      }
      try {
        Path run = Path.of(out);
        if (failure == Failure.PART_JSON_A_FOLDER) {
          // the task takes the folder for an earlier attempt's commit; the driver cannot read its counts
          String name = FretTasks.name("part", 2, List.of(passages.get(2).id(), passages.get(3).id()));
          Files.createDirectories(run.resolve(FretSparkJob.PARTS).resolve(name).resolve("part.json"));
        } else if (failure == Failure.ATTEMPTS_NOT_A_FOLDER) {
          Path attempts = run.resolve(FretSparkJob.ATTEMPTS);
          FretSparkJob.deleteTree(attempts);
          Files.writeString(attempts, "not a folder");
        }
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private static JsonNode manifest(Path out) throws IOException {
    return JSON.readTree(out.resolve(FretSparkJob.MANIFEST).toFile());
  }

  @Test
  void aTaskThatCannotWriteMidRunStopsTheRunWithAnIOExceptionAndTheRunResumes() throws Exception {
    Path out = dir.resolve("unwritable");
    Dataset<Row> corpus = corpus();
    Throwable thrown = catchThrowable(() -> job(out).hook(new MidRun(out, Failure.ATTEMPTS_NOT_A_FOLDER)).build()
        .run(TestSpark.session(), corpus));

    assertThat(thrown).isInstanceOf(IOException.class)
        .hasMessageStartingWith("run stopped after ")
        .hasMessageContaining("I/O failure: java.nio.file.FileSystemException")
        .hasMessageContaining(FretSparkJob.ATTEMPTS)
        .hasMessageEndingWith("Run the job again to resume.");
    JsonNode m = manifest(out);
    assertThat(m.path("status").asText()).isEqualTo("stopped");
    assertThat(m.path("error").asText()).isEqualTo(thrown.getMessage());
    List<Path> parts = FretSparkJob.parts(out);
    assertThat(parts).as("the first wave's part, committed before the failure").hasSize(1);
    assertThat(Files.readAllLines(parts.get(0).resolve("seeds.txt"))).containsExactly(passages.get(0).id(),
        passages.get(1).id());
    int firstWave = m.path("counts").path("written").asInt();
    assertThat(firstWave + m.path("counts").path("rejected").asInt()).as("the first wave's seeds").isEqualTo(2);
    assertThat(m.path("counts").path("totalExamples").asInt()).isEqualTo(firstWave);
    assertThat(thrown).hasMessageStartingWith("run stopped after " + firstWave + " new examples: ");

    // the folder writable again (the next run clears _attempts itself): only the missing seeds are done
    FretSparkSummary s = job(out).build().run(TestSpark.session(), corpus);
    assertThat(s.skipped()).isEqualTo(2);
    assertThat(s.written() + s.rejected()).isEqualTo(SEEDS - 2);
    assertThat(manifest(out).path("status").asText()).isEqualTo("complete");
    assertThat(s.totalExamples()).isEqualTo(firstWave + s.written());
  }

  @Test
  void aPartTheDriverCannotReadMidRunMarksTheManifestStopped() throws Exception {
    Path out = dir.resolve("unreadable");
    Throwable thrown = catchThrowable(() -> job(out).hook(new MidRun(out, Failure.PART_JSON_A_FOLDER)).build()
        .run(TestSpark.session(), corpus()));

    assertThat(thrown).isInstanceOf(IOException.class)
        .hasMessageStartingWith("run stopped after ")
        .hasMessageContaining("part.json")
        .hasMessageEndingWith("Run the job again to resume.");
    assertThat(thrown.getCause()).as("the driver's own failure, kept").isInstanceOf(IOException.class);
    JsonNode m = manifest(out);
    assertThat(m.path("status").asText()).isEqualTo("stopped");
    assertThat(m.path("error").asText()).isEqualTo(thrown.getMessage());
  }

  @Test
  void anLlmFailingMidRunStopsTheRunWithAnLlmException() throws Exception {
    Path out = dir.resolve("llm-down");
    Throwable thrown = catchThrowable(() -> job(out).hook(new MidRun(out, Failure.LLM_DOWN)).build()
        .run(TestSpark.session(), corpus()));

    assertThat(thrown).isInstanceOf(LlmException.class)
        .hasMessageStartingWith("run stopped after ")
        .hasMessageContaining("HTTP 503 from the test's LLM: down")
        .hasMessageEndingWith("Run the job again to resume.");
    JsonNode m = manifest(out);
    assertThat(m.path("status").asText()).isEqualTo("stopped");
    assertThat(m.path("error").asText()).isEqualTo(thrown.getMessage());
    assertThat(FretSparkJob.parts(out)).as("the first wave's part, kept").hasSize(1);
  }

  /**
   * An I/O failure in a task's cause chain that is not one of the job's files (here a {@link
   * NotSerializableException}, as Spark's "Task not serializable" carries) is Spark's failure, not
   * an {@link IOException} that tells the user to run the job again; the manifest still says
   * stopped. Before the failures of the job's own files were marked, any {@link IOException} in
   * the chain was taken for one.
   */
  @Test
  void anIoFailureThatIsNoFileOfTheJobsStaysSparksException() throws Exception {
    Path out = dir.resolve("foreign-io");
    Throwable thrown = catchThrowable(() -> job(out).hook(new MidRun(out, Failure.FOREIGN_IO)).build()
        .run(TestSpark.session(), corpus()));

    assertThat(thrown).isInstanceOf(SparkException.class).isNotInstanceOf(IOException.class)
        .hasRootCauseInstanceOf(NotSerializableException.class);
    JsonNode m = manifest(out);
    assertThat(m.path("status").asText()).isEqualTo("stopped");
    assertThat(m.path("error").asText()).startsWith("run stopped after ").doesNotContain("I/O failure");
  }

  /**
   * Spark computes a stage-1 partition again when its cached block is lost (here: an RDD that is
   * not cached, collected twice). With no response cache, the second computation asked the LLM
   * again, and the server's answer had changed (another style), so the seed's candidates, found
   * for the first query, would be relabelled against another one. Now it reads the first answers.
   */
  @Test
  void aStageOnePartitionComputedAgainReadsItsQueriesInsteadOfAskingTheLlm() throws Exception {
    Path out = dir.resolve("recomputed");
    FretSettings fret = FretSettings.builder().concurrency(2).build();
    FretSparkJob.Settings s = new FretSparkJob.Settings(llm(), fret, MODEL, ModelPackage.builtIn(MODEL).fingerprint(), 1, 512,
        out.toString(), null, null);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(TestSpark.session().sparkContext());
    List<Tuple2<Integer, SeedText>> seeds = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Passage p = passages.get(i);
      seeds.add(new Tuple2<>(i, new SeedText(i, p.id(), p.title(), p.text())));
    }
    FretSparkJob.Counts counts = new FretSparkJob.Counts(jsc);
    JavaPairRDD<Integer, Generated> generated = jsc.parallelizePairs(seeds, 2)
        .mapPartitionsToPair(new FretTasks.GenerateTask(s, counts), true); // not persisted: each action computes it
    server.generationStyle(FakeLlmServer.GenerationStyle.CHATTY);
    List<String> first;
    int requests;
    try {
      first = describe(generated.collect());
      requests = server.requests().size();
    } finally {
      server.generationStyle(FakeLlmServer.GenerationStyle.FENCED); // the server now answers otherwise
    }
    assertThat(counts.calls.value()).isEqualTo(4);
    assertThat(first).allSatisfy(g -> assertThat(g).contains("question="));

    List<String> again = describe(generated.collect());
    assertThat(server.requests().size()).as("LLM requests of the second computation").isEqualTo(requests);
    assertThat(again).isEqualTo(first);
    Path committed = out.resolve(FretSparkJob.GENERATED).resolve(FretTasks.name("gen", 0,
        List.of(passages.get(0).id(), passages.get(1).id()))).resolve(FretTasks.GENERATED_FILE);
    assertThat(Files.readAllLines(committed, StandardCharsets.UTF_8)).as("the first task's committed answers").hasSize(2);
  }

  private static List<String> describe(List<Tuple2<Integer, Generated>> g) {
    List<String> out = new ArrayList<>();
    for (Tuple2<Integer, Generated> t : g) {
      Generated x = t._2();
      out.add(t._1() + " " + x.seed.id + " task=" + x.task + " query=" + x.query + " extra=" + x.extra + " reject=" + x.reject);
    }
    return out;
  }
}
