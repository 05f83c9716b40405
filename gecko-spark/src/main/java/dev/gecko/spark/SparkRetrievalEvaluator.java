package dev.gecko.spark;

import dev.gecko.core.ModelPackage;
import dev.gecko.core.TaskType;
import dev.gecko.core.io.Passage;
import dev.gecko.core.vector.VectorOps;
import dev.gecko.eval.BeirDataset;
import dev.gecko.eval.EvalReport;
import dev.gecko.eval.RetrievalEvaluator;
import dev.gecko.eval.RetrievalMetrics;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code gecko eval retrieval} with Spark doing the work: BEIR-style retrieval scored as gecko-eval's
 * {@link RetrievalEvaluator} scores it (the same requests: queries as {@link
 * TaskType#RETRIEVAL_QUERY}, documents as {@link TaskType#RETRIEVAL_DOCUMENT} with their title,
 * joined as MTEB joins them ({@link RetrievalEvaluator#documentText}); the same exact top-k, through {@link DistributedTopK}; the same {@link
 * RetrievalMetrics}; the same {@link EvalReport}), with embedding and search distributed.
 *
 * <pre>{@code
 * EvalReport r = SparkRetrievalEvaluator.builder(new GeckoEmbeddings().setModel("bge-small-en-v1.5"))
 *     .ignoreIdenticalIds(true).shards(8).build().evaluate(spark, BeirDataset.read(Path.of("arguana")));
 * }</pre>
 *
 * <p>The queries, the qrels and the run (top {@code max(ks)} per query) are the driver's, as
 * metrics need them whole; the corpus is the driver's in {@link #evaluate(SparkSession,
 * BeirDataset)}, and a distributed dataset in {@link #evaluate(SparkSession, Dataset, List, Map,
 * String)}. An int8 model's vectors depend on the batch they were embedded in (docs/embedding.md),
 * so its scores can differ from the single-JVM evaluator's in the last digits; an fp32 model's
 * agree.
 *
 * <p>Immutable and thread-safe. Owns nothing.
 */
public final class SparkRetrievalEvaluator {
  private static final StructType CORPUS = new StructType().add("ordinal", DataTypes.LongType, false)
      .add("id", DataTypes.StringType, false).add("title", DataTypes.StringType, false)
      .add("text", DataTypes.StringType, false);
  private static final StructType QUERIES = new StructType().add("id", DataTypes.StringType, false)
      .add("text", DataTypes.StringType, false);

  private final GeckoEmbeddings embeddings;
  /** The widths to score; null for the model's full width, learned by {@link #evaluate}. */
  private final List<Integer> dims;
  private final List<Integer> ks;
  private final boolean ignoreIdenticalIds;
  private final int shards;
  private final int partitions;

  private SparkRetrievalEvaluator(Builder b) {
    this.embeddings = b.embeddings;
    this.dims = b.dims;
    this.ks = b.ks;
    this.ignoreIdenticalIds = b.ignoreIdenticalIds;
    this.shards = b.shards;
    this.partitions = b.partitions;
  }

  /**
   * Returns a builder; the model, threads and batch settings come from {@code embeddings} (its
   * columns, task type and width are set here).
   */
  public static Builder builder(GeckoEmbeddings embeddings) {
    return new Builder(embeddings);
  }

  /**
   * Scores a data set read on the driver.
   *
   * @throws IllegalArgumentException if a width exceeds the model's
   */
  public EvalReport evaluate(SparkSession spark, BeirDataset data) {
    // ordinals by id descending: equal scores at the top-k cut keep the larger id, as the
    // single-JVM evaluator, MTEB and trec_eval do
    List<Passage> byId = new ArrayList<>(data.corpus());
    byId.sort((a, b) -> java.util.Arrays.compare(b.id().codePoints().toArray(), a.id().codePoints().toArray()));
    List<Row> rows = new ArrayList<>(byId.size());
    long ordinal = 0;
    for (Passage p : byId) {
      rows.add(RowFactory.create(ordinal++, p.id(), p.title(), p.text()));
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Dataset<Row> corpus = spark.createDataFrame(jsc.parallelize(rows, partitions), CORPUS);
    List<String[]> queries = new ArrayList<>();
    for (BeirDataset.Query q : data.queries()) {
      queries.add(new String[] {q.id(), q.text()});
    }
    return evaluate(spark, corpus, queries, data.qrels(), data.name());
  }

  /**
   * Scores a distributed corpus ({@code ordinal} long, {@code id}, {@code title}, {@code text}:
   * {@link SparkCorpus}'s rows) against queries ({@code {id, text}} pairs) and qrels (query id to
   * document id to grade).
   *
   * <p>The corpus's {@code ordinal} ({@code bigint}) orders it, as in {@link DistributedTopK}: ties
   * between equal scores go to the lower ordinal, so ordinals must be unique and not null; a row
   * without one or two rows with one fail the job (Spark's exception, whose cause names the row's
   * id, or the ordinal and its ids). Ordinals given by id descending make the cut keep the larger
   * id of equal scores, as MTEB and trec_eval do (the driver-side {@code evaluate} numbers them so).
   *
   * @throws IllegalArgumentException if a width exceeds the model's, no query is in the qrels, a
   *     query or document id is repeated (the message names it), the corpus is empty, or one of its
   *     columns has another type (the message names it: {@code ordinal bigint}, {@code id string,
   *     int or bigint}, {@code title} and {@code text string})
   * @throws dev.gecko.core.ModelLoadException if the model's manifest declares no width and the
   *     model does not load on the driver, where its width is read from its graph
   */
  public EvalReport evaluate(SparkSession spark, Dataset<Row> corpus, List<String[]> queries,
      Map<String, Map<String, Integer>> qrels, String name) {
    long start = System.nanoTime();
    ModelPackage model = ModelPackage.resolve(ExecutorEmbedders.resolve(embeddings.getModel()));
    // the manifest's width, or where it declares none, the graph's (the model opened here once)
    int width = ExecutorEmbedders.width(model);
    List<Integer> dims = this.dims != null ? this.dims : List.of(width);
    for (int d : dims) {
      if (d < 1 || d > width) {
        throw new IllegalArgumentException("width " + d + " is not in [1, " + width + "] for model " + model.name());
      }
    }
    List<Row> qrows = new ArrayList<>();
    Map<String, Integer> queryIndex = new HashMap<>();
    for (int i = 0; i < queries.size(); i++) {
      String[] q = queries.get(i);
      if (q == null || q.length < 2 || q[0] == null || q[1] == null) {
        throw new IllegalArgumentException("queries[" + i + "] must be {id, text}, neither null");
      }
      Integer before = queryIndex.putIfAbsent(q[0], i);
      if (before != null) { // one run entry per query id: a second query would take the first one's hits
        throw new IllegalArgumentException("duplicate query id '" + q[0] + "' (queries[" + before + "] and queries[" + i + "])");
      }
      qrows.add(RowFactory.create(q[0], q[1]));
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Dataset<Row> qdf = spark.createDataFrame(jsc.parallelize(qrows, Math.max(1, Math.min(partitions, qrows.size()))), QUERIES);
    Dataset<Row> docs = documents(spark, corpus);
    // one run entry per document id: a second document of an id would take one of its top-k places unseen
    FretSparkJob.checkUniqueIds(docs.javaRDD().map(r -> r.getString(1)), "document");
    GeckoEmbeddings embed = embeddings.copy(new org.apache.spark.ml.param.ParamMap()).setDims(0).setVectorOutput(false)
        .setOutputCol("embedding").setInputCol("text");
    // queries and documents embedded with the model read above (its fingerprint), or the job fails
    String fingerprint = model.fingerprint();
    GeckoEmbeddings embedQueries = embed.copy(new org.apache.spark.ml.param.ParamMap()).setTitleCol("")
        .setTaskType(TaskType.RETRIEVAL_QUERY);
    Dataset<Row> qvec = embedQueries.transform(qdf, EmbeddingCounters.register(spark.sparkContext(), embedQueries.uid()),
        fingerprint).cache();
    GeckoEmbeddings embedDocuments = embed.copy(new org.apache.spark.ml.param.ParamMap()).setTitleCol("title")
        .setTaskType(TaskType.RETRIEVAL_DOCUMENT);
    Dataset<Row> dvec = embedDocuments.transform(docs, EmbeddingCounters.register(spark.sparkContext(),
        embedDocuments.uid()), fingerprint).select("ordinal", "id", "embedding").cache();
    Map<Integer, Double> scores = new LinkedHashMap<>();
    Map<Integer, Map<String, Double>> metrics = new LinkedHashMap<>();
    long documents;
    try {
      documents = dvec.count();
      if (documents == 0) {
        throw new IllegalArgumentException("the corpus of " + name + " is empty: there is nothing to retrieve");
      }
      int topK = (int) Math.min(Collections.max(ks), documents);
      for (int d : dims) {
        Dataset<Row> q = truncated(spark, qvec.select("id", "embedding"), d, false);
        Dataset<Row> c = truncated(spark, dvec, d, true);
        List<Row> hits = DistributedTopK.builder().k(topK).shards(shards).queryBlocks(partitions).ordinalCol("ordinal")
            .build().search(q, c).collectAsList();
        Map<String, Map<String, Double>> run = new HashMap<>();
        for (String[] query : queries) {
          run.put(query[0], new HashMap<>());
        }
        for (Row h : hits) {
          run.get(h.getString(0)).put(h.getString(2), (double) h.getFloat(3));
        }
        if (ignoreIdenticalIds) {
          run.forEach((qid, ranked) -> ranked.remove(qid));
        }
        Map<String, Double> m = new LinkedHashMap<>();
        RetrievalMetrics.evaluate(qrels, run, ks).forEach((metric, v) -> m.put(metric, 100 * v));
        metrics.put(d, m);
        scores.put(d, m.getOrDefault(RetrievalEvaluator.MAIN_METRIC, Double.NaN));
      }
    } finally {
      qvec.unpersist();
      dvec.unpersist();
    }
    Map<String, String> prompts = new LinkedHashMap<>();
    prompts.put("query", model.promptTemplate(TaskType.RETRIEVAL_QUERY).orElse("{text}"));
    prompts.put("document", model.promptTemplate(TaskType.RETRIEVAL_DOCUMENT).orElse("{text}"));
    Map<String, Integer> sizes = new LinkedHashMap<>();
    sizes.put("queries", queries.size());
    sizes.put("documents", (int) documents);
    return new EvalReport(model.name(), name, "retrieval", RetrievalEvaluator.MAIN_METRIC, scores, metrics, prompts, sizes,
        (System.nanoTime() - start) / 1e9);
  }

  /**
   * The corpus rows as they are embedded: a null title as empty, the text as {@link
   * RetrievalEvaluator#documentText} gives it, so that joined with its title by the model's prompt
   * it is MTEB's {@code (title + " " + text).strip()} on the raw text, as in the single-JVM
   * evaluator. A null ordinal fails the job naming the row's id (its position where the id is null
   * too), a null id or text naming the row's ordinal; an ordinal column that is not {@code bigint},
   * or a title or text column that is not {@code string}, is refused here, as an id column that is
   * none of {@code string}, {@code int} and {@code bigint} (a number is read as its decimal digits).
   */
  static Dataset<Row> documents(SparkSession spark, Dataset<Row> corpus) {
    StructType schema = corpus.schema();
    if (java.util.Arrays.asList(schema.fieldNames()).contains("ordinal")
        && !schema.apply("ordinal").dataType().equals(DataTypes.LongType)) {
      throw new IllegalArgumentException("corpus: column 'ordinal' is " + schema.apply("ordinal").dataType().simpleString()
          + ", not bigint");
    }
    List<String> names = java.util.Arrays.asList(schema.fieldNames());
    for (String c : List.of("id", "title", "text")) { // else each task fails with a ClassCastException
      org.apache.spark.sql.types.DataType t = names.contains(c) ? schema.apply(c).dataType() : DataTypes.StringType;
      boolean numericId = c.equals("id") && (t.equals(DataTypes.IntegerType) || t.equals(DataTypes.LongType));
      if (!(t instanceof org.apache.spark.sql.types.StringType) && !numericId) { // collated strings are strings
        throw new IllegalArgumentException("corpus: column '" + c + "' is " + t.simpleString() + ", not string"
            + (c.equals("id") ? " (nor int or bigint)" : ""));
      }
    }
    // a numeric id as the qrels name it: its decimal digits
    org.apache.spark.api.java.JavaRDD<Row> rows = corpus.select(org.apache.spark.sql.functions.col("ordinal"),
        org.apache.spark.sql.functions.col("id").cast(DataTypes.StringType).as("id"),
        org.apache.spark.sql.functions.col("title"), org.apache.spark.sql.functions.col("text")).javaRDD();
    int partitions = rows.getNumPartitions();
    // zipWithUniqueId runs no job (zipWithIndex would): row i of partition p is numbered i * partitions + p
    return spark.createDataFrame(rows.zipWithUniqueId()
        .map(t -> {
          Row r = t._1();
          if (r.isNullAt(0)) { // else Spark's bare "Value at index 0 is null"
            throw new IllegalArgumentException("corpus: column 'ordinal' is null in " + (r.isNullAt(1)
                ? "row " + t._2() / partitions + " (from 0) of partition " + t._2() % partitions + " (its id is null too)"
                : "the row of id '" + r.get(1) + "'"));
          }
          if (r.isNullAt(1) || r.isNullAt(3)) {
            throw new IllegalArgumentException("corpus row " + r.getLong(0) + ": " + (r.isNullAt(1) ? "id" : "text")
                + " is null");
          }
          String title = r.isNullAt(2) ? "" : r.getString(2);
          return RowFactory.create(r.getLong(0), r.getString(1), title, RetrievalEvaluator.documentText(title, r.getString(3)));
        }), CORPUS);
  }

  /** The vectors cut to {@code d} and normalised again, as the single-JVM evaluator cuts them. */
  private static Dataset<Row> truncated(SparkSession spark, Dataset<Row> in, int d, boolean withOrdinal) {
    StructType schema = in.schema();
    int v = schema.fieldIndex("embedding");
    return spark.createDataFrame(in.javaRDD().map(r -> {
      Object[] values = new Object[r.length()];
      for (int i = 0; i < r.length(); i++) {
        values[i] = r.get(i);
      }
      if (!r.isNullAt(v)) {
        values[v] = VectorOps.truncateAndNormalize(DistributedTopK.floats(r.get(v)), d);
      }
      return RowFactory.create(values);
    }), schema);
  }

  /** Builds a {@link SparkRetrievalEvaluator}. Setters validate at once. Reusable; not thread-safe. */
  public static final class Builder {
    private final GeckoEmbeddings embeddings;
    private List<Integer> dims;
    private List<Integer> ks = RetrievalMetrics.DEFAULT_KS;
    private boolean ignoreIdenticalIds;
    private int shards = 4;
    private int partitions = 8;

    private Builder(GeckoEmbeddings embeddings) {
      this.embeddings = Objects.requireNonNull(embeddings, "embeddings is null");
    }

    /**
     * Sets the widths to score (default: the model's full width); a width repeated is scored once.
     * Each is checked against the model's width by {@link #evaluate} (its manifest's, or where the
     * manifest declares none, its graph's).
     *
     * @throws NullPointerException if the list or a width is null
     * @throws IllegalArgumentException if empty or a width is below 1
     */
    public Builder dims(List<Integer> widths) {
      Objects.requireNonNull(widths, "dims is null");
      if (widths.isEmpty()) {
        throw new IllegalArgumentException("dims must not be empty");
      }
      for (int i = 0; i < widths.size(); i++) {
        Integer d = widths.get(i);
        Objects.requireNonNull(d, "dims[" + i + "] is null");
        if (d < 1) {
          throw new IllegalArgumentException("every width must be >= 1, got " + d + " in " + widths);
        }
      }
      this.dims = List.copyOf(new java.util.LinkedHashSet<>(widths));
      return this;
    }

    /**
     * Sets the cutoffs (default {@link RetrievalMetrics#DEFAULT_KS}).
     *
     * @throws IllegalArgumentException if empty or a cutoff is below 1 (10, the main score's cutoff,
     *     is added where it is not among them)
     */
    public Builder ks(List<Integer> cutoffs) {
      if (cutoffs.isEmpty() || cutoffs.stream().anyMatch(k -> k == null || k < 1)) {
        throw new IllegalArgumentException("every cutoff must be >= 1, got " + cutoffs);
      }
      this.ks = RetrievalMetrics.withMainCutoff(cutoffs);
      return this;
    }

    /** When true, a retrieved document whose id equals the query's is dropped (ArguAna), as MTEB does. */
    public Builder ignoreIdenticalIds(boolean ignore) {
      this.ignoreIdenticalIds = ignore;
      return this;
    }

    /**
     * Sets the corpus shards of the top-k ({@link DistributedTopK.Builder#shards}). Default 4.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder shards(int n) {
      this.shards = Args.positive(n, "shards");
      return this;
    }

    /**
     * Sets the partitions the driver's corpus and queries are cut into for embedding, and the
     * query blocks of the top-k. Default 8.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder partitions(int n) {
      this.partitions = Args.positive(n, "partitions");
      return this;
    }

    /**
     * Builds the evaluator. Without {@link #dims(List)}, it scores the model's full width, which {@link
     * #evaluate} reads from the model's manifest, or, where the manifest declares none, from its
     * graph (opening the model once on the driver).
     */
    public SparkRetrievalEvaluator build() {
      return new SparkRetrievalEvaluator(this);
    }
  }
}
