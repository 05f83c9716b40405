package dev.gecko.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.io.Passage;
import dev.gecko.eval.BeirDataset;
import dev.gecko.eval.EvalReport;
import dev.gecko.eval.RetrievalEvaluator;
import dev.gecko.eval.RetrievalMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gecko eval retrieval} on a real ArguAna slice against the same evaluation with Spark doing
 * the embedding and the search; the whole of ArguAna is the example's eval-retrieval command (docs/spark.md).
 */
class SparkRetrievalEvaluatorTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int PASSAGES = 200;

  /** A BEIR folder: the first {@code n} passages, and the queries whose relevant passages are among them. */
  static Path slice(Path dir, int n) throws Exception {
    List<Passage> corpus = TestSpark.arguanaPassages(n);
    Set<String> ids = new HashSet<>();
    StringBuilder c = new StringBuilder();
    for (Passage p : corpus) {
      ids.add(p.id());
      c.append(JSON.createObjectNode().put("_id", p.id()).put("title", p.title()).put("text", p.text())).append('\n');
    }
    BeirDataset all = BeirDataset.read(TestSpark.arguana());
    StringBuilder q = new StringBuilder();
    StringBuilder qrels = new StringBuilder("query-id\tcorpus-id\tscore\n");
    for (BeirDataset.Query query : all.queries()) {
      Map<String, Integer> rel = all.qrels().get(query.id());
      if (ids.containsAll(rel.keySet())) {
        q.append(JSON.createObjectNode().put("_id", query.id()).put("text", query.text())).append('\n');
        rel.forEach((doc, grade) -> qrels.append(query.id()).append('\t').append(doc).append('\t').append(grade).append('\n'));
      }
    }
    Files.createDirectories(dir.resolve("qrels"));
    Files.writeString(dir.resolve("corpus.jsonl"), c);
    Files.writeString(dir.resolve("queries.jsonl"), q);
    Files.writeString(dir.resolve("qrels/test.tsv"), qrels);
    return dir;
  }

  @Test
  void aQueryWithoutItsTextIsRefusedNamingIt() {
    SparkRetrievalEvaluator e = SparkRetrievalEvaluator.builder(new GeckoEmbeddings().setModel(GeckoEmbeddingsTest.FP32))
        .build();
    org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> corpus = TestSpark.session().emptyDataFrame();
    List<String[]> queries = List.of(new String[] {"q1", "a query"}, new String[] {"q2", null});
    assertThatThrownBy(() -> e.evaluate(TestSpark.session(), corpus, queries, Map.of("q1", Map.of("d1", 1)), "x"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("queries[1]");
  }

  private static final org.apache.spark.sql.types.StructType CORPUS = new org.apache.spark.sql.types.StructType()
      .add("ordinal", org.apache.spark.sql.types.DataTypes.LongType).add("id", org.apache.spark.sql.types.DataTypes.StringType)
      .add("title", org.apache.spark.sql.types.DataTypes.StringType).add("text", org.apache.spark.sql.types.DataTypes.StringType);

  private static org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> corpus(Object[]... rows) {
    List<org.apache.spark.sql.Row> r = new java.util.ArrayList<>();
    for (Object[] row : rows) {
      r.add(org.apache.spark.sql.RowFactory.create(row));
    }
    return TestSpark.rows(r, CORPUS, 1);
  }

  /**
   * Widths are checked when set; a repeated query or document id and an empty corpus are refused,
   * naming them. Before, dims(0) and a null width failed only in evaluate(), repeated ids were
   * merged (the last hit of a document id kept, two top-k places for one id; a query id's hits
   * pooled), and an empty corpus failed with "k must be >= 1, was 0".
   */
  @Test
  void repeatedIdsAnEmptyCorpusAndBadWidthsAreRefusedNamingThem() {
    GeckoEmbeddings fp32 = new GeckoEmbeddings().setModel(GeckoEmbeddingsTest.FP32);
    assertThatThrownBy(() -> SparkRetrievalEvaluator.builder(fp32).dims(List.of(64, 0)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("every width must be >= 1, got 0 in [64, 0]");
    assertThatThrownBy(() -> SparkRetrievalEvaluator.builder(fp32).dims(java.util.Arrays.asList(64, null)))
        .isInstanceOf(NullPointerException.class).hasMessage("dims[1] is null");
    SparkRetrievalEvaluator e = SparkRetrievalEvaluator.builder(fp32).dims(List.of(64)).shards(1).partitions(1).build();
    Map<String, Map<String, Integer>> qrels = Map.of("q1", Map.of("d1", 1));
    List<String[]> queries = List.<String[]>of(new String[] {"q1", "who owns a value?"});
    assertThatThrownBy(() -> e.evaluate(TestSpark.session(), corpus(new Object[] {0L, "d1", "", "a"}),
        List.of(new String[] {"q1", "one"}, new String[] {"q2", "two"}, new String[] {"q1", "three"}), qrels, "x"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("duplicate query id 'q1' (queries[0] and queries[2])");
    assertThatThrownBy(() -> e.evaluate(TestSpark.session(), corpus(new Object[] {0L, "d1", "", "a value is owned"},
        new Object[] {1L, "d2", "", "bees"}, new Object[] {2L, "d1", "", "owners own values"}), queries, qrels, "x"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("duplicate document id 'd1' (2 rows)");
    assertThatThrownBy(() -> e.evaluate(TestSpark.session(), corpus(), queries, qrels, "x"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("the corpus of x is empty: there is nothing to retrieve");
  }

  /**
   * Documents are embedded as MTEB joins them, {@code (title + " " + text).strip()} on the raw text:
   * the text keeps its leading line break and spaces next to a title. Before, it was stripped first.
   */
  @Test
  void documentsKeepTheirTextAsMtebJoinsItWithTheTitle() {
    List<org.apache.spark.sql.Row> docs = SparkRetrievalEvaluator.documents(TestSpark.session(), corpus(
        new Object[] {0L, "d1", "Title", "\n  Body text "}, new Object[] {1L, "d2", null, " \n Untitled body\n"},
        new Object[] {2L, "d3", "  ", "\tbody\n"})).collectAsList();
    dev.gecko.core.ModelPackage bge = dev.gecko.core.ModelPackage.resolve("bge-small-en-v1.5");
    List<String> seen = docs.stream().map(r -> bge.render(dev.gecko.core.EmbedRequest.document(r.getString(3))
        .withTitle(r.getString(2)))).toList();
    // Python's (title + " " + text).strip() of each
    assertThat(seen).containsExactly("Title \n  Body text", "Untitled body", "body");
  }

  /**
   * A model folder whose manifest leaves out {@code dimensions} (optional: the width is the graph's)
   * is scored at its graph's width by default, and widths are checked against it. Before,
   * {@code ModelPackage.dimensions()} gave 0 for it: the default widths were [0], and evaluate
   * failed with "width 0 is not in [1, 0]" (and every width set, with "[1, 0]").
   */
  @Test
  void aModelWhoseManifestDeclaresNoWidthIsScoredAtItsGraphsWidth(@TempDir Path dir) throws Exception {
    Path folder = writeModelWithoutWidth(dir.resolve("no-width-" + System.nanoTime()), GeckoEmbeddingsTest.FP32);
    dev.gecko.core.ModelPackage pkg = dev.gecko.core.ModelPackage.resolve(folder.toString());
    assertThat(pkg.dimensions()).as("the manifest declares no width").isZero();
    assertThat(ExecutorEmbedders.width(pkg)).as("the graph's").isEqualTo(384);

    org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> docs = corpus(new Object[] {0L, "d1", "Rust", "Each value has an owner."},
        new Object[] {1L, "d2", "Bees", "Bees make honey in hives."}, new Object[] {2L, "d3", "", "The owner drops the value."});
    List<String[]> queries = List.of(new String[] {"q1", "who owns a value?"}, new String[] {"q2", "where is honey made"});
    Map<String, Map<String, Integer>> qrels = Map.of("q1", Map.of("d1", 1), "q2", Map.of("d2", 1));
    EvalReport folderReport = SparkRetrievalEvaluator.builder(new GeckoEmbeddings().setModel(folder.toString())).shards(2)
        .partitions(2).ks(List.of(1, 10)).build().evaluate(TestSpark.session(), docs, queries, qrels, "tiny");
    EvalReport builtIn = SparkRetrievalEvaluator.builder(new GeckoEmbeddings().setModel(GeckoEmbeddingsTest.FP32)).shards(2)
        .partitions(2).ks(List.of(1, 10)).build().evaluate(TestSpark.session(), docs, queries, qrels, "tiny");
    assertThat(folderReport.scores()).containsOnlyKeys(384);
    // the same graph, tokenizer and batches: the same metrics
    assertThat(folderReport.metrics()).isEqualTo(builtIn.metrics());
    assertThat(folderReport.scores()).isEqualTo(builtIn.scores());
    assertThat(folderReport.scores().get(384)).isGreaterThan(50.0); // nDCG@10: not NaN, not 0

    EvalReport narrow = SparkRetrievalEvaluator.builder(new GeckoEmbeddings().setModel(folder.toString())).dims(List.of(384, 64))
        .shards(1).partitions(1).ks(List.of(1)).build().evaluate(TestSpark.session(), docs, queries, qrels, "tiny");
    assertThat(narrow.scores()).containsOnlyKeys(384, 64);
    assertThat(narrow.scores().get(384)).as("ks [1]: the main score's cutoff 10 is added, not NaN").isGreaterThan(50.0);
    assertThatThrownBy(() -> SparkRetrievalEvaluator.builder(new GeckoEmbeddings().setModel(folder.toString()))
        .dims(List.of(385)).build().evaluate(TestSpark.session(), docs, queries, qrels, "tiny"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("width 385 is not in [1, 384] for model "
            + GeckoEmbeddingsTest.FP32);
  }

  /**
   * {@code builtIn}'s graph and tokenizer in {@code folder}, with a manifest that declares no
   * width (as a hand-written or older one may: the field is optional).
   */
  static Path writeModelWithoutWidth(Path folder, String builtIn) throws Exception {
    dev.gecko.core.ModelPackage source = dev.gecko.core.ModelPackage.builtIn(builtIn);
    GeckoEmbeddingsModelFilesTest.writeModel(source, folder);
    dev.gecko.core.ModelManifest m = dev.gecko.core.ModelManifest.describing(source);
    new dev.gecko.core.ModelManifest(m.name(), m.pooling(), m.maxTokens(), null, m.model(), m.tokenizer(), m.promptFormat(),
        m.prompts(), m.defaultPrompt(), m.matryoshkaDims(), null, null).write(folder.resolve(dev.gecko.core.ModelPackage.MANIFEST));
    assertThat(Files.readString(folder.resolve(dev.gecko.core.ModelPackage.MANIFEST))).doesNotContain("dimensions");
    return folder;
  }

  /**
   * A null ordinal is refused naming the column and the row's id (its position where the id is
   * null too), and two documents of one ordinal naming the ordinal and their ids. Before, a null
   * ordinal failed with Spark's bare "Value at index 0 is null", and two rows of one ordinal tied
   * in whatever order the shuffle delivered them.
   */
  @Test
  void aNullOrRepeatedOrdinalIsRefusedNamingTheRow() {
    assertThat(TestSpark.refusal(() -> SparkRetrievalEvaluator.documents(TestSpark.session(), corpus(
        new Object[] {0L, "d1", "", "a"}, new Object[] {null, "d2", "", "b"})).collectAsList()))
        .isEqualTo("corpus: column 'ordinal' is null in the row of id 'd2'");
    assertThat(TestSpark.refusal(() -> SparkRetrievalEvaluator.documents(TestSpark.session(), corpus(
        new Object[] {0L, "d1", "", "a"}, new Object[] {null, null, "", "b"})).collectAsList()))
        .isEqualTo("corpus: column 'ordinal' is null in row 1 (from 0) of partition 0 (its id is null too)");
    org.apache.spark.sql.types.StructType ints = new org.apache.spark.sql.types.StructType()
        .add("ordinal", org.apache.spark.sql.types.DataTypes.IntegerType).add("id", org.apache.spark.sql.types.DataTypes.StringType)
        .add("title", org.apache.spark.sql.types.DataTypes.StringType).add("text", org.apache.spark.sql.types.DataTypes.StringType);
    assertThatThrownBy(() -> SparkRetrievalEvaluator.documents(TestSpark.session(), TestSpark.rows(
        List.of(org.apache.spark.sql.RowFactory.create(0, "d1", "", "a")), ints, 1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("corpus: column 'ordinal' is int, not bigint");

    SparkRetrievalEvaluator e = SparkRetrievalEvaluator.builder(new GeckoEmbeddings().setModel(GeckoEmbeddingsTest.FP32))
        .dims(List.of(32)).shards(2).partitions(1).build();
    assertThat(TestSpark.refusal(() -> e.evaluate(TestSpark.session(), corpus(new Object[] {0L, "d1", "", "a value is owned"},
        new Object[] {7L, "d2", "", "bees"}, new Object[] {7L, "d3", "", "owners own values"}),
        List.<String[]>of(new String[] {"q1", "who owns a value?"}), Map.of("q1", Map.of("d1", 1)), "x")))
        .startsWith("duplicate corpus ordinal 7: 2 rows have it (ids 'd2', 'd3')");
  }

  /**
   * A numeric id column is read as its digits, as the qrels name documents; a title or text column
   * that is not a string is refused naming it. Before, every task failed with a ClassCastException
   * ("Integer cannot be cast to String") that named no column.
   */
  @Test
  void aNumericIdIsReadAsItsDigitsAndAColumnOfAnotherTypeIsNamed() {
    org.apache.spark.sql.types.StructType intIds = new org.apache.spark.sql.types.StructType()
        .add("ordinal", org.apache.spark.sql.types.DataTypes.LongType).add("id", org.apache.spark.sql.types.DataTypes.IntegerType)
        .add("title", org.apache.spark.sql.types.DataTypes.StringType).add("text", org.apache.spark.sql.types.DataTypes.StringType);
    List<org.apache.spark.sql.Row> docs = SparkRetrievalEvaluator.documents(TestSpark.session(), TestSpark.rows(
        List.of(org.apache.spark.sql.RowFactory.create(0L, 17, "", "a")), intIds, 1)).collectAsList();
    assertThat(docs).singleElement().satisfies(r -> assertThat(r.getString(1)).isEqualTo("17"));
    org.apache.spark.sql.types.StructType intTitles = new org.apache.spark.sql.types.StructType()
        .add("ordinal", org.apache.spark.sql.types.DataTypes.LongType).add("id", org.apache.spark.sql.types.DataTypes.StringType)
        .add("title", org.apache.spark.sql.types.DataTypes.IntegerType).add("text", org.apache.spark.sql.types.DataTypes.StringType);
    assertThatThrownBy(() -> SparkRetrievalEvaluator.documents(TestSpark.session(), TestSpark.rows(
        List.of(org.apache.spark.sql.RowFactory.create(0L, "d1", 3, "a")), intTitles, 1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("corpus: column 'title' is int, not string");
    org.apache.spark.sql.types.StructType doubleIds = new org.apache.spark.sql.types.StructType()
        .add("ordinal", org.apache.spark.sql.types.DataTypes.LongType).add("id", org.apache.spark.sql.types.DataTypes.DoubleType)
        .add("title", org.apache.spark.sql.types.DataTypes.StringType).add("text", org.apache.spark.sql.types.DataTypes.StringType);
    assertThatThrownBy(() -> SparkRetrievalEvaluator.documents(TestSpark.session(), TestSpark.rows(
        List.of(org.apache.spark.sql.RowFactory.create(0L, 1.5, "", "a")), doubleIds, 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("corpus: column 'id' is double, not string (nor int or bigint)");
    // a collated string column is a string, as GeckoEmbeddings and FretSparkJob read it (it was
    // refused as "string collate UTF8_LCASE, not string")
    org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> plain = TestSpark.rows(
        List.of(org.apache.spark.sql.RowFactory.create(0L, "d1", "T", "a")), new org.apache.spark.sql.types.StructType()
            .add("ordinal", "bigint").add("id", "string").add("title", "string").add("text", "string"), 1);
    org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> collated = plain.select(org.apache.spark.sql.functions.col("ordinal"),
        org.apache.spark.sql.functions.collate(org.apache.spark.sql.functions.col("id"), "UTF8_LCASE").as("id"),
        org.apache.spark.sql.functions.collate(org.apache.spark.sql.functions.col("title"), "UTF8_LCASE").as("title"),
        org.apache.spark.sql.functions.collate(org.apache.spark.sql.functions.col("text"), "UNICODE_CI").as("text"));
    assertThat(SparkRetrievalEvaluator.documents(TestSpark.session(), collated).collectAsList())
        .singleElement().satisfies(r -> assertThat(r.getString(1)).isEqualTo("d1"));
  }

  @Test
  void geckoEvalRetrievalNumbersReproduceThroughSpark(@TempDir Path dir) throws Exception {
    Path data = slice(dir.resolve("arguana-slice"), PASSAGES);
    BeirDataset slice = BeirDataset.read(data);
    // the single-JVM evaluator that gecko eval retrieval runs (--model FP32 --dims 384,128 --ignore-identical-ids --no-cache)
    JsonNode cli;
    try (GeckoEmbedder embedder = GeckoEmbedder.builder().model(GeckoEmbeddingsTest.FP32).build()) {
      cli = JSON.readTree(RetrievalEvaluator.builder(embedder).dims(List.of(384, 128)).ignoreIdenticalIds(true).build()
          .evaluate(slice).toJson());
    }
    assertThat(slice.queries().size()).isGreaterThan(40);
    EvalReport spark = SparkRetrievalEvaluator.builder(new GeckoEmbeddings().setModel(GeckoEmbeddingsTest.FP32)).dims(List.of(384, 128))
        .ignoreIdenticalIds(true).shards(3).partitions(4).build().evaluate(TestSpark.session(), slice);
    ObjectNode sparkJson = (ObjectNode) JSON.readTree(spark.toJson());
    for (String field : List.of("model", "task", "metric", "prompts", "sizes")) {
      assertThat(sparkJson.get(field)).as(field).isEqualTo(cli.get(field));
    }
    int compared = 0;
    for (String width : List.of("384", "128")) {
      for (Iterator<Map.Entry<String, JsonNode>> it = cli.path("metrics").path(width).fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> m = it.next();
        assertThat(sparkJson.path("metrics").path(width).path(m.getKey()).asDouble()).as("%s at %s", m.getKey(), width)
            .isCloseTo(m.getValue().asDouble(), within(1e-9));
        compared++;
      }
    }
    assertThat(compared).isEqualTo(2 * 5 * RetrievalMetrics.DEFAULT_KS.size());
    assertThat(sparkJson.path("scores").path("384").asDouble()).isGreaterThan(20);
  }

  @Test
  void equalScoresAtTheCutKeepTheLargerIdAsTheSingleJvmEvaluatorDoes() throws Exception {
    // twelve copies of one passage and a top-10 cut: which ten are kept is decided by id alone
    List<Passage> docs = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      docs.add(new Passage(String.format("d%02d", i), "", "the same passage about tides"));
    }
    BeirDataset copies = new BeirDataset("copies", docs, List.of(new BeirDataset.Query("q1", "tides"),
        new BeirDataset.Query("q2", "tides again"), new BeirDataset.Query("q3", "tides once more")),
        Map.of("q1", Map.of("d00", 1), "q2", Map.of("d01", 1), "q3", Map.of("d11", 1)));
    EvalReport r = SparkRetrievalEvaluator.builder(new GeckoEmbeddings().setModel(GeckoEmbeddingsTest.FP32))
        .dims(List.of(64)).ks(List.of(1, 10)).shards(2).partitions(1).build().evaluate(TestSpark.session(), copies);
    // d00 and d01, the smallest ids, fall past the cut; d11, the largest, ranks first
    assertThat(r.metrics().get(64).get("recall_at_10")).isCloseTo(100.0 / 3, within(1e-9));
    assertThat(r.metrics().get(64).get("ndcg_at_1")).isCloseTo(100.0 / 3, within(1e-9));
  }
}
