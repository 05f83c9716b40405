package dev.gecko.spark.example;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.TaskType;
import dev.gecko.core.index.FlatIndex;
import dev.gecko.core.index.SearchHit;
import dev.gecko.core.io.Passage;
import dev.gecko.eval.BeirDataset;
import dev.gecko.eval.EvalReport;
import dev.gecko.spark.DistributedTopK;
import dev.gecko.spark.EmbeddingCounters;
import dev.gecko.spark.FretSparkJob;
import dev.gecko.spark.FretSparkSummary;
import dev.gecko.spark.GeckoEmbeddings;
import dev.gecko.spark.LlmSpec;
import dev.gecko.spark.SparkCorpus;
import dev.gecko.spark.SparkRetrievalEvaluator;
import dev.gecko.train.fret.FretSettings;
import dev.gecko.train.fret.RejectReason;
import dev.gecko.train.llm.Capability;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The gecko-spark example: an application, run with {@code spark-submit} or as a plain {@code main}
 * (then on {@code local[*]}, or {@code --master}). Each command prints one JSON object on standard
 * output (an application may; the library prints nothing). See docs/spark.md.
 *
 * <pre>
 * embed           --corpus PATH --out DIR [--model M] [--partitions N] [--threads T]
 * eval-retrieval  --data BEIR_DIR [--model M] [--dims 384,128] [--ignore-identical-ids] [--shards S] [--partitions N] [--json OUT]
 * generate        --corpus PATH --out DIR --base-url URL --llm-model NAME [--llm openai|gemini] [--limit N]
 *                 [--concurrency N] [--candidates N] [--model M] [--prompt-logprobs] [--no-logprobs] [--shards S]
 * check-embeddings --data BEIR_DIR [--model M] [--partitions 4,1] [--topk K] [--min-cosine C]   Spark's vectors against
 *                 GeckoEmbedder.embedRequests, each at cosine C or more (default 0.9999; 0.99 for a built-in -int8
 *                 model); with --topk, check-topk on the first partitioning's vectors
 * check-topk      --data BEIR_DIR [--model M] [--k 100] [--shards S]  DistributedTopK against one FlatIndex
 * </pre>
 *
 * <p>Not thread-safe; one run per JVM.
 */
public final class GeckoSparkExample {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Map<String, String> options = new HashMap<>();
  private final Set<String> flags = new java.util.HashSet<>();

  private GeckoSparkExample(String[] args, int from) {
    for (int i = from; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        throw new UsageError("unexpected argument '" + a + "'");
      }
      if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
        options.put(a.substring(2), args[++i]);
      } else {
        flags.add(a.substring(2));
      }
    }
    if (options.containsKey("min-cosine")) { // refused before a Spark session starts
      cosine("min-cosine", options.get("min-cosine"));
    }
  }

  /** A command line this program does not accept: exit 2, with the usage line. */
  private static final class UsageError extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    UsageError(String message) {
      super(message);
    }
  }

  private static final Set<String> COMMANDS = Set.of("embed", "eval-retrieval", "generate", "check-embeddings",
      "check-topk");
  private static final String USAGE = "usage: GeckoSparkExample [--master M] embed|eval-retrieval|generate|"
      + "check-embeddings|check-topk [options] (see docs/spark.md)";

  /** Runs a command; exits 0 when it (and its check) succeeded, 1 when not, 2 on a usage error. */
  public static void main(String[] args) throws Exception {
    try {
      run(args);
    } catch (UsageError e) {
      System.err.println("usage error: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(2);
    }
  }

  private static void run(String[] args) throws Exception {
    int first = 0;
    String master = null;
    if (args.length > 1 && args[0].equals("--master")) {
      master = args[1];
      first = 2;
    }
    if (args.length <= first) {
      throw new UsageError("no command");
    }
    String command = args[first];
    if (!COMMANDS.contains(command)) { // before a Spark session starts
      throw new UsageError("unknown command '" + command + "'");
    }
    GeckoSparkExample ex = new GeckoSparkExample(args, first + 1);
    String logLevel = System.getProperty("gecko.spark.logLevel", "WARN");
    // spark.log.level applies as the context starts, before its INFO lines of start-up
    SparkSession.Builder b = SparkSession.builder().appName("gecko-spark " + command).config("spark.log.level", logLevel);
    if (master != null) {
      b.master(master);
    } else if (System.getProperty("spark.master") == null) {
      b.master("local[*]"); // a plain main; spark-submit sets spark.master
    }
    long start = System.nanoTime();
    SparkSession spark = b.getOrCreate();
    spark.sparkContext().setLogLevel(logLevel);
    double startup = (System.nanoTime() - start) / 1e9;
    boolean ok;
    try {
      ObjectNode out = switch (command) {
        case "embed" -> ex.embed(spark);
        case "eval-retrieval" -> ex.evalRetrieval(spark);
        case "generate" -> ex.generate(spark);
        case "check-embeddings" -> ex.checkEmbeddings(spark);
        case "check-topk" -> ex.checkTopK(spark);
        default -> throw new IllegalArgumentException("unknown command '" + command + "'");
      };
      out.put("master", spark.sparkContext().master()).put("session_start_seconds", round(startup));
      // UTF-8 whatever the platform's charset (Java 17 writes System.out in it: '?' for a path's "é")
      java.io.PrintStream stdout = new java.io.PrintStream(System.out, true, java.nio.charset.StandardCharsets.UTF_8);
      stdout.println(out);
      ok = out.path("ok").asBoolean(true);
    } finally {
      spark.stop();
    }
    System.exit(ok ? 0 : 1);
  }

  private String required(String name) {
    String v = options.get(name);
    if (v == null) {
      throw new UsageError("--" + name + " is required");
    }
    return v;
  }

  private int intOption(String name, int fallback) {
    return options.containsKey(name) ? number(name, options.get(name)) : fallback;
  }

  private static int number(String option, String text) {
    try {
      return Integer.parseInt(text.strip());
    } catch (NumberFormatException e) {
      throw new UsageError("--" + option + ": '" + text + "' is not a whole number");
    }
  }

  private static double cosine(String option, String text) {
    double v;
    try {
      v = Double.parseDouble(text.strip());
    } catch (NumberFormatException e) {
      throw new UsageError("--" + option + ": '" + text + "' is not a number");
    }
    if (!(v >= -1 && v <= 1)) {
      throw new UsageError("--" + option + ": " + text + " is not a cosine (-1 to 1)");
    }
    return v;
  }

  private String model() {
    return options.getOrDefault("model", GeckoEmbedder.Builder.DEFAULT_MODEL);
  }

  private static double round(double x) {
    return Math.round(x * 1000) / 1000.0;
  }

  /** Embeds a corpus as {@code gecko embed --input} does (each text with its title, the model's default prompt) into Parquet. */
  private ObjectNode embed(SparkSession spark) {
    int partitions = intOption("partitions", 4 * spark.sparkContext().defaultParallelism());
    Dataset<Row> corpus = SparkCorpus.read(spark, required("corpus")).repartition(partitions);
    GeckoEmbeddings embed = new GeckoEmbeddings().setModel(model()).setTitleCol("title").setThreads(intOption("threads", 1));
    EmbeddingCounters counters = EmbeddingCounters.register(spark.sparkContext(), "example");
    long start = System.nanoTime();
    embed.transform(corpus, counters).select("id", "embedding").write().mode(SaveMode.Overwrite).parquet(required("out"));
    double seconds = (System.nanoTime() - start) / 1e9;
    ObjectNode o = JSON.createObjectNode().put("command", "embed").put("model", model()).put("rows", counters.rows())
        .put("tokens", counters.tokens()).put("truncated", counters.truncated()).put("null_texts", counters.nullTexts())
        .put("broken_unicode", counters.brokenUnicode()).put("partitions", partitions).put("seconds", round(seconds))
        .put("tokens_per_second", Math.round(counters.tokens() / seconds));
    return o;
  }

  private ObjectNode evalRetrieval(SparkSession spark) throws Exception {
    BeirDataset data = BeirDataset.read(Path.of(required("data")));
    SparkRetrievalEvaluator.Builder b = SparkRetrievalEvaluator.builder(new GeckoEmbeddings().setModel(model()))
        .ignoreIdenticalIds(flags.contains("ignore-identical-ids")).shards(intOption("shards", 4))
        .partitions(intOption("partitions", 8));
    if (options.containsKey("dims")) {
      List<Integer> dims = new ArrayList<>();
      for (String d : options.get("dims").split(",")) {
        dims.add(number("dims", d));
      }
      b.dims(dims);
    }
    EvalReport r = b.build().evaluate(spark, data);
    if (options.containsKey("json")) {
      r.writeJson(Path.of(options.get("json")));
    }
    ObjectNode o = (ObjectNode) JSON.readTree(r.toJson());
    o.put("command", "eval-retrieval");
    return o;
  }

  private ObjectNode generate(SparkSession spark) throws Exception {
    String kind = options.getOrDefault("llm", "openai");
    Set<Capability> caps = EnumSet.of(Capability.JSON_OUTPUT);
    if (!flags.contains("no-logprobs")) {
      caps.add(Capability.TOP_LOGPROBS);
    }
    if (flags.contains("prompt-logprobs")) {
      caps.add(Capability.PROMPT_LOGPROBS);
    }
    LlmSpec.Builder llm = LlmSpec.builder(LlmSpec.Provider.valueOf(kind.toUpperCase(Locale.ROOT)), required("llm-model"))
        .capabilities(caps);
    if (options.containsKey("base-url")) {
      llm.baseUrl(options.get("base-url"));
    }
    FretSettings.Builder settings = FretSettings.builder().concurrency(intOption("concurrency", 4))
        .candidates(intOption("candidates", 20));
    if (options.containsKey("limit")) {
      settings.limit(number("limit", options.get("limit")));
    }
    FretSparkSummary s = FretSparkJob.builder().llm(llm.build()).output(Path.of(required("out"))).model(model())
        .settings(settings.build()).shards(intOption("shards", 4)).build()
        .run(spark, SparkCorpus.read(spark, required("corpus")));
    ObjectNode o = JSON.createObjectNode().put("command", "generate").put("output", s.output().toString()).put("seeds", s.seeds())
        .put("skipped", s.skipped()).put("written", s.written()).put("rejected", s.rejected())
        .put("total_examples", s.totalExamples()).put("calls", s.calls()).put("cache_hits", s.cacheHits())
        .put("prompt_tokens", s.promptTokens()).put("completion_tokens", s.completionTokens()).put("cost", s.cost())
        .put("digest", s.digest());
    ArrayNode reasons = o.putArray("reject_reasons");
    for (RejectReason r : s.rejectReasons()) {
      reasons.addObject().put("reason", r.reason()).put("count", r.count());
    }
    return o;
  }

  /** The BEIR folder's corpus and queries as texts: documents with their titles, then queries. */
  private static List<Object[]> texts(BeirDataset data) {
    List<Object[]> t = new ArrayList<>();
    for (Passage p : data.corpus()) {
      t.add(new Object[] {"doc:" + p.id(), EmbedRequest.document(p.text()).withTitle(p.title())});
    }
    for (BeirDataset.Query q : data.queries()) {
      t.add(new Object[] {"query:" + q.id(), EmbedRequest.query(q.text())});
    }
    return t;
  }

  private static final StructType TEXTS = new StructType().add("id", DataTypes.StringType, false)
      .add("text", DataTypes.StringType, false).add("title", DataTypes.StringType, true).add("task", DataTypes.StringType, false);

  /** Embeds the BEIR folder's texts on Spark (documents and queries in their formats), in {@code partitions} partitions. */
  private static Map<String, float[]> sparkVectors(SparkSession spark, List<Object[]> texts, String model, int partitions,
      int threads) {
    List<Row> rows = new ArrayList<>();
    for (Object[] t : texts) {
      EmbedRequest r = (EmbedRequest) t[1];
      rows.add(RowFactory.create(t[0], r.text(), r.title(), r.taskType().name()));
    }
    Dataset<Row> df = spark.createDataFrame(JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, partitions), TEXTS);
    Map<String, float[]> out = new HashMap<>();
    for (String task : List.of(TaskType.RETRIEVAL_DOCUMENT.name(), TaskType.RETRIEVAL_QUERY.name())) {
      GeckoEmbeddings e = new GeckoEmbeddings().setModel(model).setTitleCol("title").setTaskType(task).setThreads(threads);
      for (Row r : e.transform(df.filter(df.col("task").equalTo(task))).select("id", "embedding").collectAsList()) {
        out.put(r.getString(0), floats(r.get(1)));
      }
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static float[] floats(Object cell) {
    if (cell instanceof float[] f) {
      return f;
    }
    scala.collection.Seq<Object> seq = (scala.collection.Seq<Object>) cell;
    float[] f = new float[seq.length()];
    for (int i = 0; i < f.length; i++) {
      f[i] = ((Number) seq.apply(i)).floatValue();
    }
    return f;
  }

  /** Spark's vectors against {@link GeckoEmbedder#embedRequests} for every text of a BEIR folder. */
  private ObjectNode checkEmbeddings(SparkSession spark) throws Exception {
    // an int8 graph quantises activations per batch, and partitions batch differently: the built-in
    // int8 models are known by name; a folder holding one needs --min-cosine 0.99
    double floor = options.containsKey("min-cosine") ? cosine("min-cosine", options.get("min-cosine"))
        : model().endsWith("-int8") ? 0.99 : 0.9999;
    BeirDataset data = BeirDataset.read(Path.of(required("data")));
    List<Object[]> texts = texts(data);
    List<EmbedRequest> requests = new ArrayList<>();
    for (Object[] t : texts) {
      requests.add((EmbedRequest) t[1]);
    }
    List<float[]> expected;
    try (GeckoEmbedder embedder = GeckoEmbedder.builder().model(model()).build()) {
      expected = embedder.embedRequests(requests, embedder.dimensions());
    }
    ObjectNode o = JSON.createObjectNode().put("command", "check-embeddings").put("model", model()).put("texts", texts.size())
        .put("min_cosine_required", floor);
    boolean ok = true;
    boolean first = true;
    for (String p : options.getOrDefault("partitions", "4,1").split(",")) {
      int partitions = number("partitions", p);
      // one partition is one task: let it use every core (vectors do not depend on threads)
      int threads = partitions == 1 ? spark.sparkContext().defaultParallelism() : 1;
      Map<String, float[]> spark1 = sparkVectors(spark, texts, model(), partitions, threads);
      double min = 1;
      double sum = 0;
      for (int i = 0; i < texts.size(); i++) {
        float[] a = spark1.get((String) texts.get(i)[0]);
        float[] e = expected.get(i);
        double dot = 0;
        for (int d = 0; d < e.length; d++) {
          dot += (double) a[d] * e[d];
        }
        min = Math.min(min, dot);
        sum += dot;
      }
      ok &= min >= floor;
      o.putObject("partitions_" + p.strip()).put("min_cosine", min).put("mean_cosine", sum / texts.size()).put("threads", threads);
      if (first && options.containsKey("topk")) { // the same vectors, searched: saves embedding them again
        ObjectNode t = topK(spark, data, spark1, number("topk", options.get("topk")));
        o.set("topk", t);
        ok &= t.path("ok").asBoolean();
      }
      first = false;
    }
    return o.put("ok", ok);
  }

  /** {@link DistributedTopK} over Spark's vectors of a BEIR folder against one {@link FlatIndex} over the same vectors. */
  private ObjectNode checkTopK(SparkSession spark) throws Exception {
    BeirDataset data = BeirDataset.read(Path.of(required("data")));
    return topK(spark, data, sparkVectors(spark, texts(data), model(), intOption("partitions", 8), 1), intOption("k", 100));
  }

  private ObjectNode topK(SparkSession spark, BeirDataset data, Map<String, float[]> vectors, int k) {
    StructType schema = new StructType().add("id", DataTypes.StringType, false)
        .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), false);
    List<Row> docs = new ArrayList<>();
    FlatIndex index = null;
    for (Passage p : data.corpus()) {
      float[] v = vectors.get("doc:" + p.id());
      docs.add(RowFactory.create(p.id(), v));
      if (index == null) {
        index = FlatIndex.builder(v.length).build();
      }
      index.add(v);
    }
    List<Row> queries = new ArrayList<>();
    for (BeirDataset.Query q : data.queries()) {
      queries.add(RowFactory.create(q.id(), vectors.get("query:" + q.id())));
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    long start = System.nanoTime();
    List<Row> hits = DistributedTopK.builder().k(k).shards(intOption("shards", 4)).queryBlocks(intOption("blocks", 8)).build()
        .search(spark.createDataFrame(jsc.parallelize(queries, 8), schema), spark.createDataFrame(jsc.parallelize(docs, 8), schema))
        .collectAsList();
    double seconds = (System.nanoTime() - start) / 1e9;
    Map<String, List<Row>> byQuery = new LinkedHashMap<>();
    for (Row h : hits) {
      byQuery.computeIfAbsent(h.getString(0), x -> new ArrayList<>()).add(h);
    }
    int equalQueries = 0;
    double maxScoreDiff = 0;
    for (BeirDataset.Query q : data.queries()) {
      List<SearchHit> expected = index.search(vectors.get("query:" + q.id()), k);
      List<Row> got = new ArrayList<>(byQuery.getOrDefault(q.id(), List.of()));
      got.sort((a, b) -> Integer.compare(a.getInt(1), b.getInt(1)));
      boolean same = got.size() == expected.size();
      for (int i = 0; same && i < expected.size(); i++) {
        same = got.get(i).getString(2).equals(data.corpus().get(expected.get(i).ordinal()).id());
        maxScoreDiff = Math.max(maxScoreDiff, Math.abs(got.get(i).getFloat(3) - expected.get(i).score()));
      }
      equalQueries += same ? 1 : 0;
    }
    boolean ok = equalQueries == data.queries().size() && maxScoreDiff <= 1e-6;
    return JSON.createObjectNode().put("command", "check-topk").put("model", model()).put("queries", data.queries().size())
        .put("documents", data.corpus().size()).put("k", k).put("queries_equal", equalQueries).put("max_score_diff", maxScoreDiff)
        .put("search_seconds", round(seconds)).put("ok", ok);
  }
}
