package dev.gecko.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.TaskType;
import dev.gecko.core.io.Passage;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkException;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad rows, failOnTruncation, params, saving and loading, shipped model folders. */
class GeckoEmbeddingsRowsTest {
  private static GeckoEmbedder fp32;
  private static List<Passage> passages;

  @BeforeAll
  static void open() {
    fp32 = GeckoEmbedder.builder().model(GeckoEmbeddingsTest.FP32).threads(2).build();
    passages = TestSpark.arguanaPassages(12);
  }

  @AfterAll
  static void close() {
    fp32.close();
  }

  /** Counts tasks that did not succeed while it is registered. */
  private static final class FailedTasks extends SparkListener implements AutoCloseable {
    final AtomicInteger failed = new AtomicInteger();

    FailedTasks() {
      TestSpark.session().sparkContext().addSparkListener(this);
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
      if (!end.reason().toString().equals("Success")) {
        failed.incrementAndGet();
      }
    }

    @Override
    public void close() {
      try {
        TestSpark.session().sparkContext().listenerBus().waitUntilEmpty(30_000); // the task events are in
      } catch (java.util.concurrent.TimeoutException e) {
        throw new AssertionError(e);
      } finally {
        TestSpark.session().sparkContext().removeSparkListener(this);
      }
    }
  }

  @Test
  void aPartitionOfBadRowsFinishesAndEachKindIsCounted(@TempDir Path dir) throws Exception {
    String loneHigh = "A claim \uD83D with a lone high surrogate and a " + passages.get(0).text().substring(0, 80);
    String replaced = "Bytes that were not UTF-8 \uFFFD\uFFFD arrive so: " + passages.get(1).text().substring(0, 80);
    StringBuilder mega = new StringBuilder();
    while (mega.length() < 1 << 20) {
      mega.append(passages.get(2).text()).append(' ');
    }
    String megabyte = mega.substring(0, 1 << 20);
    List<Row> rows = new ArrayList<>();
    // partition 0 (the first 6 rows): every kind of bad row among good ones; partition 1: good rows only
    rows.add(RowFactory.create("good-0", passages.get(3).text()));
    rows.add(RowFactory.create("null", null));
    rows.add(RowFactory.create("lone", loneHigh));
    rows.add(RowFactory.create("replaced", replaced));
    rows.add(RowFactory.create("megabyte", megabyte));
    rows.add(RowFactory.create("empty", ""));
    for (int i = 4; i < 10; i++) {
      rows.add(RowFactory.create("good-" + i, passages.get(i).text()));
    }
    Dataset<Row> in = TestSpark.rows(rows, new org.apache.spark.sql.types.StructType().add("id", DataTypes.StringType)
        .add("text", DataTypes.StringType), 2);
    assertThat(in.javaRDD().glom().collect().get(0)).hasSize(6);

    GeckoEmbeddings embed = new GeckoEmbeddings().setModel(GeckoEmbeddingsTest.FP32);
    Map<String, float[]> out;
    FailedTasks failures = new FailedTasks();
    try (failures) { // its close() waits for the task events: count them after it
      out = GeckoEmbeddingsTest.vectors(embed.transform(in), "embedding");
    }
    assertThat(failures.failed).as("tasks that failed or were retried").hasValue(0);
    EmbeddingCounters c = embed.lastCounters();
    assertThat(c.rows()).isEqualTo(12);
    assertThat(c.nullTexts()).isEqualTo(1);
    long overLong = 0; // the megabyte, and the passages longer than the model's maximum
    for (Row r : rows) {
      overLong += r.isNullAt(1) ? 0 : fp32.countTokens(EmbedRequest.of(r.getString(1))) > fp32.model().maxTokens() ? 1 : 0;
    }
    assertThat(overLong).isGreaterThanOrEqualTo(1);
    assertThat(c.truncated()).isEqualTo(overLong);
    // Spark stored the lone surrogate as '?' (UTF8String), so only the U+FFFD row shows broken Unicode
    assertThat(c.brokenUnicode()).isEqualTo(1);

    assertThat(out.get("null")).isNull();
    assertThat(TestSpark.dot(out.get("lone"), fp32.embed(loneHigh.replace('\uD83D', '?')))).isGreaterThan(0.9999);
    assertThat(TestSpark.dot(out.get("replaced"), fp32.embed(replaced))).isGreaterThan(0.9999);
    assertThat(TestSpark.dot(out.get("megabyte"), fp32.embed(megabyte))).isGreaterThan(0.9999); // its truncation
    assertThat(TestSpark.dot(out.get("empty"), fp32.embed(""))).isGreaterThan(0.9999);
    assertThat(TestSpark.dot(out.get("good-7"), fp32.embed(passages.get(7).text()))).isGreaterThan(0.9999);
    // the executor (this JVM, in local mode) lives on and runs the next job
    assertThat(TestSpark.session().range(5).count()).isEqualTo(5);

    // through gecko's corpus reader (Corpus, as every command reads corpora), a JSON escape's lone
    // surrogate becomes U+FFFD before Spark stores it: counted, and embedded as the single-JVM embedder
    // embeds the file's text
    Path file = dir.resolve("lone.jsonl");
    Files.writeString(file, "{\"_id\": \"a\", \"text\": \"claim \\ud83d alone\"}\n{\"_id\": \"b\", \"text\": \"fine text\"}\n");
    Dataset<Row> corpus = SparkCorpus.read(TestSpark.session(), file.toString());
    GeckoEmbeddings viaReader = new GeckoEmbeddings().setModel(GeckoEmbeddingsTest.FP32);
    Map<String, float[]> read = GeckoEmbeddingsTest.vectors(viaReader.transform(corpus), "embedding");
    assertThat(viaReader.lastCounters().brokenUnicode()).isEqualTo(1);
    Passage lone = dev.gecko.core.io.Corpus.read(file).get(0);
    assertThat(lone.text()).isEqualTo("claim \uFFFD alone");
    assertThat(TestSpark.dot(read.get("a"), fp32.embed(lone.text()))).isGreaterThan(0.9999);
  }

  @Test
  void failOnTruncationFailsTheTaskNotTheExecutor() {
    String tooLong = (passages.get(0).text() + " ").repeat(8);
    List<Row> rows = List.of(RowFactory.create("ok", "short text"), RowFactory.create("long", tooLong));
    Dataset<Row> in = TestSpark.rows(rows, new org.apache.spark.sql.types.StructType().add("id", DataTypes.StringType)
        .add("text", DataTypes.StringType), 1);
    GeckoEmbeddings embed = new GeckoEmbeddings().setModel(GeckoEmbeddingsTest.FP32).setFailOnTruncation(true);
    assertThatThrownBy(() -> embed.transform(in).collectAsList()).isInstanceOf(SparkException.class)
        .hasMessageContaining("InputTooLongException").hasMessageContaining("text at index 1 has");
    assertThat(TestSpark.session().range(5).count()).isEqualTo(5);
    // without it, the text is truncated and counted
    GeckoEmbeddings lenient = embed.copy(new org.apache.spark.ml.param.ParamMap()).setFailOnTruncation(false);
    assertThat(lenient.transform(in).collectAsList()).hasSize(2);
    assertThat(lenient.lastCounters().truncated()).isEqualTo(1);
  }

  @Test
  void dimsTaskTypeAndVectorOutput() {
    List<Row> rows = List.of(RowFactory.create("q1", "who owns a value in rust?"), RowFactory.create("q2", "do bees dance?"));
    Dataset<Row> in = TestSpark.rows(rows, new org.apache.spark.sql.types.StructType().add("id", DataTypes.StringType)
        .add("text", DataTypes.StringType), 1);
    GeckoEmbeddings embed = new GeckoEmbeddings().setModel("bge-small-en-v1.5").setTaskType("retrieval_query").setDims(64)
        .setVectorOutput(true).setOutputCol("v");
    Dataset<Row> out = embed.transform(in);
    assertThat(out.schema().apply("v").dataType()).isInstanceOf(VectorUDT.class);
    Map<String, float[]> v = GeckoEmbeddingsTest.vectors(out, "v");
    GeckoEmbedder bge = GeckoEmbedder.builder().model("bge-small-en-v1.5").threads(2).build();
    float[] expected = bge.embed(EmbedRequest.query("who owns a value in rust?"), 64);
    float[] plain = bge.embed("who owns a value in rust?", 64);
    bge.close();
    assertThat(v.get("q1")).hasSize(64);
    assertThat(TestSpark.dot(v.get("q1"), expected)).isGreaterThan(0.9999);
    // the default prompt differs from the query prompt (bge's instruction), so the vectors differ
    assertThat(TestSpark.dot(v.get("q1"), plain)).isLessThan(0.999);

    assertThatThrownBy(() -> embed.setTaskType("retrieval")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown task type 'retrieval'");
    assertThatThrownBy(() -> embed.setInputCol("nope").transform(in)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no column 'nope'");
    assertThatThrownBy(() -> new GeckoEmbeddings().setInputCol("id").setOutputCol("text").transformSchema(in.schema()))
        .hasMessageContaining("output column 'text' exists already");
    // values that bypass the setters (a ParamMap, Spark's own set) are refused too, on the driver
    GeckoEmbeddings fresh = new GeckoEmbeddings();
    assertThatThrownBy(() -> fresh.set(fresh.threads(), 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("threads");
    org.apache.spark.ml.param.ParamMap blankModel = new org.apache.spark.ml.param.ParamMap().put(fresh.model(), " ");
    assertThatThrownBy(() -> fresh.transform(in, blankModel)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("model must not be blank");
  }

  /**
   * A width above the model's is refused by transformSchema, on the driver, from the model's
   * manifest. Before, it was accepted there, and every task attempt failed after loading the model.
   */
  @Test
  void dimsAboveTheModelsWidthAreRefusedOnTheDriver() {
    org.apache.spark.sql.types.StructType schema = new org.apache.spark.sql.types.StructType().add("text", DataTypes.StringType);
    GeckoEmbeddings wide = new GeckoEmbeddings().setModel(GeckoEmbeddingsTest.FP32).setDims(385);
    assertThatThrownBy(() -> wide.transformSchema(schema)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("param dims is 385, above the width of model all-MiniLM-L6-v2 (384): set 1 to 384, or 0 for the full width");
    assertThat(wide.setDims(384).transformSchema(schema).fieldNames()).containsExactly("text", "embedding");
    // a model the driver does not find (shipped to the executors only, say) is left to the tasks
    assertThat(new GeckoEmbeddings().setModel("no-such-model.zip").setDims(9999).transformSchema(schema).fieldNames())
        .containsExactly("text", "embedding");
  }

  @Test
  void aPipelineHoldingItSavesAndLoads(@TempDir Path dir) throws Exception {
    Dataset<Row> in = TestSpark.passages(passages, 2);
    GeckoEmbeddings embed = new GeckoEmbeddings().setTitleCol("title").setOutputCol("vec").setTaskType(TaskType.RETRIEVAL_DOCUMENT)
        .setDims(128).setMaxBatchTokens(1024).setThreads(2).setFailOnTruncation(false);
    PipelineModel model = new Pipeline().setStages(new PipelineStage[] {embed}).fit(in);
    model.write().overwrite().save(dir.resolve("pipeline").toString());
    PipelineModel loaded = PipelineModel.load(dir.resolve("pipeline").toString());
    GeckoEmbeddings back = (GeckoEmbeddings) loaded.stages()[0];
    assertThat(back.uid()).isEqualTo(embed.uid());
    assertThat(back.getTitleCol()).isEqualTo("title");
    assertThat(back.getOutputCol()).isEqualTo("vec");
    assertThat(back.getTaskType()).isEqualTo("RETRIEVAL_DOCUMENT");
    assertThat(back.getDims()).isEqualTo(128);
    assertThat(back.getMaxBatchTokens()).isEqualTo(1024);
    assertThat(back.getThreads()).isEqualTo(2);
    assertThat(back.getModel()).isEqualTo(GeckoEmbedder.Builder.DEFAULT_MODEL);
    Map<String, float[]> a = GeckoEmbeddingsTest.vectors(model.transform(in), "vec");
    Map<String, float[]> b = GeckoEmbeddingsTest.vectors(loaded.transform(in), "vec");
    // identical, bit for bit, with the int8 default: the tasks share one embedder, which never puts
    // one task's texts into another's batch (ExecutorEmbeddersTest)
    assertThat(b).hasSameSizeAs(a).allSatisfy((id, v) -> assertThat(v).containsExactly(a.get(id)));

    embed.write().overwrite().save(dir.resolve("alone").toString());
    GeckoEmbeddings alone = GeckoEmbeddings.load(dir.resolve("alone").toString());
    assertThat(alone.extractParamMap().toString()).isEqualTo(embed.extractParamMap().toString());
  }

  /**
   * A collated string column (Spark 4: {@code collate(text, 'UTF8_LCASE')}) is text: embedded as
   * the same column uncollated, its type kept in the output. Before, its type (a StringType of its
   * collation, not equal to {@code DataTypes.StringType}) was refused as "not a string".
   */
  @Test
  void collatedStringColumnsAreEmbeddedAsText() {
    Dataset<Row> in = TestSpark.passages(passages.subList(0, 4), 2);
    Dataset<Row> collated = in.select(org.apache.spark.sql.functions.col("id"),
        org.apache.spark.sql.functions.collate(org.apache.spark.sql.functions.col("title"), "UTF8_LCASE").as("title"),
        org.apache.spark.sql.functions.collate(org.apache.spark.sql.functions.col("text"), "UNICODE_CI").as("text"));
    org.apache.spark.sql.types.DataType textType = collated.schema().apply("text").dataType();
    assertThat(textType).isInstanceOf(org.apache.spark.sql.types.StringType.class).isNotEqualTo(DataTypes.StringType);
    assertThat(collated.schema().apply("title").dataType()).isNotEqualTo(DataTypes.StringType);

    GeckoEmbeddings embed = new GeckoEmbeddings().setModel(GeckoEmbeddingsTest.FP32).setTitleCol("title")
        .setTaskType(TaskType.RETRIEVAL_DOCUMENT);
    Dataset<Row> out = embed.transform(collated);
    // the input's columns as they were, collations included (Spark's row encoder drops them: cast back)
    assertThat(out.schema().apply("text").dataType()).isEqualTo(textType);
    assertThat(out.schema().apply("title").dataType()).isEqualTo(collated.schema().apply("title").dataType());
    assertThat(out.schema().fieldNames()).containsExactly("id", "title", "text", "embedding");
    Map<String, float[]> got = GeckoEmbeddingsTest.vectors(out, "embedding");
    Map<String, float[]> plain = GeckoEmbeddingsTest.vectors(embed.transform(in), "embedding");
    assertThat(got).hasSize(4);
    // the same texts, titles and batches (an fp32 model): the same vectors, bit for bit
    got.forEach((id, v) -> assertThat(v).as(id).containsExactly(plain.get(id)));
    // still refused: a column that is no string
    assertThatThrownBy(() -> embed.transform(in.withColumn("text", org.apache.spark.sql.functions.length(
        org.apache.spark.sql.functions.col("text"))))).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("inputCol: column 'text' is int, not a string");
  }

  /**
   * The input's columns keep their metadata (the ML attributes a {@code StringIndexer} writes and a
   * decision tree reads): Spark's row encoder drops every column's metadata, and the output came
   * back without it whenever no column was collated.
   */
  @Test
  void theInputColumnsKeepTheirMetadata() {
    Dataset<Row> in = TestSpark.passages(passages.subList(0, 3), 2);
    org.apache.spark.sql.types.Metadata meta = new org.apache.spark.sql.types.MetadataBuilder()
        .putString("k", "v").putLong("levels", 3).build();
    Dataset<Row> tagged = in.withColumn("id", org.apache.spark.sql.functions.col("id").as("id", meta));
    assertThat(tagged.schema().apply("id").metadata()).isEqualTo(meta);
    Dataset<Row> out = new GeckoEmbeddings().setModel(GeckoEmbeddingsTest.FP32).transform(tagged);
    assertThat(out.schema().apply("id").metadata()).isEqualTo(meta);
    assertThat(out.schema().apply("text").metadata()).isEqualTo(tagged.schema().apply("text").metadata());
    assertThat(GeckoEmbeddingsTest.vectors(out, "embedding")).hasSize(3);
  }

  /**
   * A partition without rows never fetches the executor's embedder, so it loads no model: with a
   * model no node has, empty partitions finish and only a partition with a row fails, naming the
   * model. Before, each task fetched the embedder (a model load, and a hash of its files) before
   * reading its first row, and an empty partition failed on a model it would never use.
   */
  @Test
  void anEmptyPartitionOpensNoModel() {
    GeckoEmbeddings missing = new GeckoEmbeddings().setModel("no-such-model-" + System.nanoTime());
    Dataset<Row> empty = TestSpark.rows(List.of(), TestSpark.PASSAGES, 3);
    assertThat(missing.transform(empty).collectAsList()).isEmpty();
    assertThat(missing.lastCounters().rows()).isZero();

    // two empty partitions and one with a row: that one's task fails, naming the model
    Dataset<Row> one = TestSpark.rows(List.of(RowFactory.create("d1", null, "some text")), TestSpark.PASSAGES, 3);
    assertThatThrownBy(() -> missing.transform(one).collectAsList()).isInstanceOf(SparkException.class)
        .hasMessageContaining("model '" + missing.getModel() + "' is not a built-in name");
  }

  @Test
  void aModelFolderShippedWithTheJobLoadsOnTheExecutors(@TempDir Path dir) throws Exception {
    ModelPackage builtIn = ModelPackage.builtIn(GeckoEmbedder.Builder.DEFAULT_MODEL);
    Path folder = Files.createDirectories(dir.resolve("bge-int8-copy-" + System.nanoTime()));
    try (InputStream m = builtIn.model().open(); InputStream t = builtIn.tokenizer().open()) {
      Files.copy(m, folder.resolve("model.onnx"));
      Files.copy(t, folder.resolve("tokenizer.json"));
    }
    Files.writeString(folder.resolve(ModelPackage.MANIFEST), "{\"name\": \"bge-int8-copy\", \"pooling\": \"cls\", \"maxTokens\": 512}");
    String name = GeckoEmbeddings.shipModelFolder(TestSpark.session().sparkContext(), folder);
    assertThat(name).matches(java.util.regex.Pattern.quote(folder.getFileName().toString()) + "-[0-9a-f]{12}\\.zip");
    assertThat(Path.of(name)).doesNotExist(); // found through SparkFiles, not as a local path

    Dataset<Row> in = TestSpark.passages(passages.subList(0, 4), 2);
    Map<String, float[]> shipped = GeckoEmbeddingsTest.vectors(new GeckoEmbeddings().setModel(name).transform(in), "embedding");
    Map<String, float[]> builtInVectors = GeckoEmbeddingsTest.vectors(new GeckoEmbeddings().transform(in), "embedding");
    assertThat(shipped).hasSize(4);
    // the same graph, tokenizer and batches: the same vectors, bit for bit
    shipped.forEach((id, v) -> assertThat(v).as(id).containsExactly(builtInVectors.get(id)));
    assertThatThrownBy(() -> new GeckoEmbeddings().setModel("no-such-model.zip").transform(in).collectAsList())
        .hasMessageContaining("model 'no-such-model.zip' is not a built-in name");
  }

  /**
   * A folder retrained in place and shipped again in the same Spark context gets a new name, whose
   * tasks embed with the new files; the same content shipped again gets the same name. With one
   * name per folder, Spark kept the first archive (or refused the second file of that name).
   */
  @Test
  void aFolderRetrainedAndShippedAgainGetsANewNameAndItsNewFiles(@TempDir Path dir) throws Exception {
    Path folder = Files.createDirectories(dir.resolve("retrained-" + System.nanoTime()));
    writeModel(folder, ModelPackage.builtIn(GeckoEmbedder.Builder.DEFAULT_MODEL), "cls", 512);
    org.apache.spark.SparkContext sc = TestSpark.session().sparkContext();
    String first = GeckoEmbeddings.shipModelFolder(sc, folder);
    assertThat(GeckoEmbeddings.shipModelFolder(sc, folder)).as("the same content shipped again").isEqualTo(first);

    Dataset<Row> in = TestSpark.passages(passages.subList(0, 3), 1);
    Map<String, float[]> before = GeckoEmbeddingsTest.vectors(new GeckoEmbeddings().setModel(first).transform(in), "embedding");
    writeModel(folder, ModelPackage.builtIn("all-MiniLM-L6-v2"), "mean", 256); // retrained in place
    String second = GeckoEmbeddings.shipModelFolder(sc, folder);
    assertThat(second).isNotEqualTo(first);
    Map<String, float[]> after = GeckoEmbeddingsTest.vectors(new GeckoEmbeddings().setModel(second).transform(in), "embedding");
    Map<String, float[]> mini = GeckoEmbeddingsTest.vectors(new GeckoEmbeddings().setModel("all-MiniLM-L6-v2").transform(in), "embedding");
    after.forEach((id, v) -> {
      assertThat(v).as(id).containsExactly(mini.get(id));
      assertThat(v).as(id).isNotEqualTo(before.get(id));
    });
  }

  private static void writeModel(Path folder, ModelPackage source, String pooling, int maxTokens) throws Exception {
    try (InputStream m = source.model().open(); InputStream t = source.tokenizer().open()) {
      Files.copy(m, folder.resolve("model.onnx"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      Files.copy(t, folder.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    Files.writeString(folder.resolve(ModelPackage.MANIFEST),
        "{\"name\": \"retrained\", \"pooling\": \"" + pooling + "\", \"maxTokens\": " + maxTokens + "}");
  }
}
