package dev.gecko.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.internal.io.AtomicFiles;
import dev.gecko.core.internal.io.Hashes;
import dev.gecko.core.io.Passage;
import dev.gecko.train.fret.FretExamples;
import dev.gecko.train.fret.FretPipeline;
import dev.gecko.train.fret.FretSettings;
import dev.gecko.train.fret.NoExamplesException;
import dev.gecko.train.fret.Relabeler;
import dev.gecko.train.fret.RejectReason;
import dev.gecko.train.fret.ResumeConflictException;
import dev.gecko.train.fret.RunFolderInUseException;
import dev.gecko.train.fret.RunSummary;
import dev.gecko.train.fret.TooManyRejectsException;
import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmException;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.DoubleAccumulator;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple2;

/**
 * FRet (gecko-train's {@link FretPipeline}) as a Spark job: the same steps, prompts, client stack and
 * output lines, with the seeds spread over the executors and retrieval through {@link
 * DistributedTopK}, so that neither the LLM calls nor the corpus index are bounded by one JVM.
 *
 * <pre>{@code
 * LlmSpec llm = LlmSpec.builder(LlmSpec.Provider.OPENAI, "Qwen/Qwen2.5-7B-Instruct")
 *     .baseUrl("http://vllm:8000/v1").build();
 * FretSparkSummary s = FretSparkJob.builder().llm(llm).output(Path.of("/shared/fret-run"))
 *     .settings(FretSettings.builder().limit(100_000).concurrency(16).build()).build()
 *     .run(spark, SparkCorpus.read(spark, "hdfs://nn/corpus/"));
 * }</pre>
 *
 * <h2>Steps</h2>
 * The corpus (rows {@code ordinal}, {@code id}, {@code title}, {@code text}: {@link SparkCorpus}'s;
 * without {@code ordinal}, the rows' order) is embedded once as documents ({@link GeckoEmbeddings})
 * and packed into shards. The seeds are its first {@link FretSettings#limit() limit} passages by ordinal, less those the
 * folder already holds; they are done in waves (the first {@code earlyStop} seeds in waves of at
 * most {@code waveSize}, then waves of {@link Builder#waveSize(int) waveSize}), each wave in three stages: tasks of {@link
 * Builder#seedsPerTask(int) seedsPerTask} seeds generate a task and query per seed ({@link
 * dev.gecko.train.fret.QueryGenerator}, up to {@code concurrency} seeds at once); each query is
 * embedded alone in the embedder's query format ({@link dev.gecko.train.fret.Retriever#queryRequest})
 * and searched in every shard; the same tasks then relabel each seed's candidates and write its
 * line ({@link dev.gecko.train.fret.FretExamples}). Each executor opens one embedder and one LLM
 * client stack (the retries of the {@link LlmSpec} under a concurrency limit of {@code concurrency}
 * calls in flight per executor, retry waits included), shared by its tasks; each task meters its calls and reads and
 * writes the response cache ({@code DIR/cache} by default: put it on the shared folder so that a
 * retried or re-run task pays for nothing twice).
 *
 * <h2>Output: exactly once per seed</h2>
 * {@code DIR} must be a folder every executor and the driver see at the same path (local in local
 * mode, a shared mount on a cluster). Each relabel task writes its seeds' lines into a folder of its
 * own attempt under {@code DIR/_attempts}, then renames that folder to {@code
 * DIR/parts/part-<first seed's ordinal>-<digest of its seed ids>}, an atomic rename that only the
 * first attempt to finish can make: a retried, killed or speculative attempt of the same task finds
 * the part there and writes nothing. A part holds {@code examples.jsonl} and {@code rejects.jsonl}
 * (the lines of {@code gecko generate}), {@code seeds.txt} (its seed ids) and {@code part.json}
 * (counts). A run starts by listing the parts' seeds, so a job re-run over its own folder does only
 * the seeds that are missing; an interrupted run loses at most the parts not yet renamed.
 *
 * <p>A generate task commits its seeds' tasks and queries the same way, to {@code
 * DIR/_generated/gen-<first seed's ordinal>-<digest of its seed ids>} (the wave's scratch, cleared
 * after the wave and when a run starts): a computation of the same seeds that follows (Spark
 * recomputing a lost cached partition, a retry, a speculative copy) reads them there instead of
 * asking the LLM again, so the query a seed's candidates were retrieved for is the query they are
 * relabelled against, with the response cache off too.
 *
 * <p>The driver holds {@code DIR/run.lock} (one job per folder) and writes {@code DIR/manifest.json}:
 * configuration and digest (a re-run with another configuration is refused, naming the fields that
 * differ; the embedder is known by its model's name, width (its manifest's, or where that declares
 * none, its graph's, read by opening the model once on the driver) and {@link ModelPackage#fingerprint()
 * fingerprint}, so a model folder retrained in place is another configuration), the LLM servers that
 * answered ({@code llmEndpoints}, provenance outside the digest), status, counts.
 * sentence-transformers reads {@code DIR/parts/*}{@code /examples.jsonl}.
 *
 * <p>An LLM failure that retries cannot fix fails its task; once Spark's task retries are spent the
 * run stops ({@link LlmException}; the manifest says {@code stopped}) with the parts already
 * renamed kept. A file a task or the driver cannot write or read (the run folder, the cache) stops
 * it the same way with an {@link IOException}, and any other task failure (Spark's own I/O failures,
 * such as a shuffle file, and a class that does not serialize, included) with Spark's own {@code
 * SparkException} (checked, though {@link #run} does not declare it: Spark's Java API throws it so);
 * an interrupt of the driver's thread is rethrown as it came.
 * Their message, also the manifest's {@code error}, says how many examples the run wrote and why it
 * stopped. When the first {@code earlyStop} seeds the run finished are all rejected, it stops
 * with {@link TooManyRejectsException}, as {@link FretPipeline} does.
 *
 * <p>A job is immutable and may run several times (one at a time per folder). It owns nothing but
 * the lock it holds while running; it does not stop the Spark session.
 */
public final class FretSparkJob {
  private static final System.Logger LOG = System.getLogger(FretSparkJob.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The manifest's format tag. */
  public static final String FORMAT = "gecko-fret-spark/1";
  static final String PARTS = "parts";
  static final String ATTEMPTS = "_attempts";
  static final String GENERATED = "_generated";
  static final String MANIFEST = "manifest.json";

  private final Builder b;

  private FretSparkJob(Builder b) {
    this.b = b;
  }

  /** Returns a new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Runs (or resumes) the job over {@code corpus}.
   *
   * @throws RunFolderInUseException if another run holds the folder
   * @throws ResumeConflictException if the folder holds a run with another configuration that
   *     committed parts (one that committed none is replaced)
   * @throws TooManyRejectsException if the first {@code earlyStop} seeds it finished were all rejected (the run
   *     stopped)
   * @throws NoExamplesException if the run ends with no example in the folder (none written now or
   *     by earlier runs; the manifest says {@code stopped}, {@link NoExamplesException#summary()}
   *     holds the counts, its examples file the folder of parts)
   * @throws LlmException if LLM calls failed beyond the retries of every task attempt (the run stopped)
   * @throws IllegalArgumentException if the corpus lacks a column, has a null text or repeats an id
   * @throws IOException if the folder cannot be used or written, or a task could not read or write
   *     a file beyond its retries (the run stopped)
   */
  public FretSparkSummary run(SparkSession spark, Dataset<Row> corpus) throws IOException {
    Objects.requireNonNull(spark, "spark is null");
    Path out = b.output.toAbsolutePath().normalize();
    Files.createDirectories(out);
    try (FileChannel lockFile = FileChannel.open(out.resolve("run.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      FileLock lock;
      try {
        lock = lockFile.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        throw new RunFolderInUseException(out + " is in use by another run (it holds " + out.resolve("run.lock")
            + "): one job per run folder");
      }
      try {
        return runLocked(spark, corpus, out);
      } finally {
        lock.release();
      }
    }
  }

  private FretSparkSummary runLocked(SparkSession spark, Dataset<Row> corpus, Path out) throws IOException {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    deleteTree(out.resolve(ATTEMPTS)); // attempts of earlier runs never renamed: nobody else writes here now
    deleteTree(out.resolve(GENERATED)); // an earlier run's queries: this run asks (or reads its cache) afresh
    // the model and the LLM client first: a mistyped model name or a missing API key is told before
    // any pass over the corpus (on a large corpus, hours of reading and shuffling)
    ModelPackage model = ModelPackage.resolve(ExecutorEmbedders.resolve(b.model));
    // the manifest's width, or where it declares none, the graph's (the model opened here once):
    // the shards are planned and the configuration recorded with the width the tasks embed at
    int width = ExecutorEmbedders.width(model);
    LlmClient driverClient = b.llm.http(System.getenv());
    Relabeler relabeler = b.settings.relabeler(driverClient);
    JavaRDD<SeedText> passages = passages(corpus).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      checkUniqueIds(passages);
      long size = passages.count();
      if (size == 0) {
        throw new IllegalArgumentException("the corpus is empty");
      }
      ObjectNode config = config(relabeler, model, width, size, corpusDigest(passages));
      String digest = Hashes.sha256Hex(config.toString());
      ObjectNode previous = readManifest(out);
      Set<String> done = doneSeeds(out);
      if (previous != null && !digest.equals(previous.path("digest").asText())) {
        List<String> diffs = FretExamples.configDifferences(previous.path("config"), config);
        String conflict = out + " holds a run with a different configuration (digest "
            + previous.path("digest").asText().substring(0, Math.min(12, previous.path("digest").asText().length())) + ", now "
            + digest.substring(0, 12) + "); differs in: " + (diffs.isEmpty() ? "format" : String.join(", ", diffs));
        if (!done.isEmpty()) {
          throw new ResumeConflictException(conflict + "; use a new output folder or restore the old settings");
        }
        // that run committed no part (it stopped before its first seed was done): nothing to protect
        LOG.log(System.Logger.Level.INFO, "{0}; that run wrote nothing, so this one starts afresh there", conflict);
        previous = null;
      }
      String created = previous != null ? previous.path("created").asText() : b.clock.instant().toString();
      List<String> endpoints = endpoints(out, previous, driverClient.endpoint());
      List<Tuple2<Long, String>> seeds = seeds(passages.map(p -> new Tuple2<>(p.ordinal, p.id)), b.settings.limit(), size);
      List<Long> todo = new ArrayList<>();
      for (Tuple2<Long, String> s : seeds) {
        if (!done.contains(s._2())) {
          todo.add(s._1());
        }
      }
      int skipped = seeds.size() - todo.size();
      Counts counts = new Counts(jsc);
      writeManifest(out, config, digest, endpoints, created, "running", null, seeds.size(), skipped, 0, 0, counts);
      int written = 0;
      int rejected = 0;
      List<Path> newParts = new ArrayList<>();
      JavaRDD<TopKParts.Shard> shards = null;
      String packId = java.util.UUID.randomUUID().toString();
      JavaPairRDD<Long, SeedText> byOrdinal = null;
      try {
        if (!todo.isEmpty()) {
          byOrdinal = passages.mapToPair(p -> new Tuple2<>(p.ordinal, p))
              .partitionBy(new HashPartitioner(Math.max(1, passages.getNumPartitions())))
              .persist(StorageLevel.MEMORY_AND_DISK());
          shards = DistributedTopK.pack(corpusVectors(spark, passages, model.fingerprint()),
              shardsFor(size, width, b.shards), packId);
        }
        int from = 0;
        int finished = 0; // seeds this run finished: the early stop watches its first earlyStop, over waves
        while (from < todo.size()) {
          int earlyStop = b.settings.earlyStop();
          boolean watching = earlyStop > 0 && finished < earlyStop;
          int wave = watching ? Math.min(earlyStop - finished, b.waveSize) : b.waveSize;
          List<Long> ordinals = todo.subList(from, Math.min(todo.size(), from + wave));
          List<Path> parts = runWave(jsc, ordinals, byOrdinal, shards, relabeler, out, counts, model.fingerprint());
          newParts.addAll(parts);
          int[] wr = partCounts(parts);
          written += wr[0];
          rejected += wr[1];
          finished += ordinals.size();
          if (watching && finished >= earlyStop && written == 0) {
            List<RejectReason> reasons = reasons(newParts);
            String msg = "run stopped early: the first " + finished + " seeds it finished were all rejected, so the "
                + "LLM's answers do not fit what the pipeline asks (" + rejected + " seeds rejected; rejects in "
                + out.resolve(PARTS) + "). Most common reasons:\n" + RejectReason.describe(reasons, 3)
                + "\nFix the cause, then use another folder: rejected seeds count as done.";
            try {
              writeManifest(out, config, digest, endpoints, created, "stopped", msg, seeds.size(), skipped, written,
                  rejected, counts);
            } catch (IOException x) {
              throw RunFileException.of(x); // a file of the job's: the run stops as any such failure does
            }
            throw new TooManyRejectsException(msg, reasons);
          }
          from += ordinals.size();
        }
      } catch (TooManyRejectsException e) {
        throw e; // the manifest says why
      } catch (Exception e) {
        // A failed task reaches here as Spark's SparkException: a checked exception that Java does
        // not see thrown (Scala declares none), so only a catch of Exception stops the run here.
        LlmException llm = cause(e, LlmException.class);
        // a task or the driver that could not write or read a file of the job's (the run folder, the
        // cache), marked so where it failed: its own words, not Spark's stage report with the stack
        // traces. Any other I/O failure (Spark's shuffle or local disk, a class that does not
        // serialize, a jar mismatch) is no file of the job's: Spark's exception, as it came. An
        // interrupt (InterruptedException, ClosedByInterruptException) is never marked: rethrown as is.
        RunFileException io = llm == null ? cause(e, RunFileException.class) : null;
        String why = llm != null ? llm.getMessage() : io != null ? "I/O failure: " + io.getMessage() : firstLine(e);
        String msg = "run stopped after " + written + " new examples: " + why + ". Run the job again to resume.";
        Exception thrown = llm != null ? new LlmException(msg, e) : io != null ? new IOException(msg, e) : e;
        try {
          writeManifest(out, config, digest, endpoints, created, "stopped", msg, seeds.size(), skipped, written, rejected, counts);
        } catch (IOException | RuntimeException m) {
          thrown.addSuppressed(m); // the folder is not writable: the run's own failure comes first
        }
        if (thrown instanceof IOException x) {
          throw x;
        }
        if (thrown instanceof RuntimeException x) {
          throw x;
        }
        throw e; // SparkException (a task's failure of another kind), or an interrupt, rethrown as it came
      } finally {
        if (shards != null) {
          shards.unpersist(false);
          ExecutorIndexes.releaseIfOpen(packId); // this JVM's (local mode); executors' are evicted or expire
        }
        if (byOrdinal != null) {
          byOrdinal.unpersist(false);
        }
      }
      long total = totalExamples(out);
      if (total == 0 && !seeds.isEmpty()) {
        // as the local pipeline: a run that leaves no dataset is not a success, whatever the cause
        List<RejectReason> reasons = reasons(newParts);
        String msg = "no examples in " + out.resolve(PARTS) + ": this run rejected " + rejected + " of its "
            + todo.size() + " seeds and earlier runs of the folder wrote none (" + skipped + " seeds done before)"
            + (reasons.isEmpty() ? "" : ". Most common reasons:\n" + RejectReason.describe(reasons, 3))
            + "\nFix the cause, then use another folder: rejected seeds count as done.";
        writeManifest(out, config, digest, endpoints, created, "stopped", msg, seeds.size(), skipped, written, rejected,
            counts);
        throw new NoExamplesException(msg, new RunSummary(out.resolve(PARTS), out.resolve(MANIFEST), seeds.size(),
            skipped, written, rejected, 0, digest, reasons));
      }
      writeManifest(out, config, digest, endpoints, created, "complete", null, seeds.size(), skipped, written, rejected, counts);
      return new FretSparkSummary(out, seeds.size(), skipped, written, rejected, total, digest, counts.calls.value(),
          counts.cacheHits.value(), counts.promptTokens.value(), counts.completionTokens.value(), counts.cost.value(),
          reasons(newParts));
    } finally {
      passages.unpersist(false);
    }
  }

  // ------------------------------------------------------------------ one wave

  private List<Path> runWave(JavaSparkContext jsc, List<Long> ordinals, JavaPairRDD<Long, SeedText> byOrdinal,
      JavaRDD<TopKParts.Shard> shards, Relabeler relabeler, Path out, Counts counts, String modelFingerprint) {
    int tasks = Math.max(1, (ordinals.size() + b.seedsPerTask - 1) / b.seedsPerTask);
    WavePartitioner partitioner = new WavePartitioner(b.seedsPerTask, tasks);
    List<Tuple2<Long, Integer>> indexed = new ArrayList<>();
    for (int i = 0; i < ordinals.size(); i++) {
      indexed.add(new Tuple2<>(ordinals.get(i), i));
    }
    JavaPairRDD<Integer, SeedText> seeds = jsc.parallelizePairs(indexed, tasks).join(byOrdinal)
        .mapToPair(t -> new Tuple2<>(t._2()._1(), t._2()._2())).partitionBy(partitioner);
    Settings s = settings(relabeler, out, modelFingerprint);
    JavaPairRDD<Integer, Generated> generated = seeds.mapPartitionsToPair(new FretTasks.GenerateTask(s, counts), true)
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      JavaRDD<TopKParts.Query> queries = generated.filter(t -> t._2().reject == null).mapPartitions(new FretTasks.EmbedQueries(s));
      JavaPairRDD<Long, TopKParts.Hits> hits = DistributedTopK.search(queries, shards, b.settings.candidates(), tasks,
          dev.gecko.core.index.FlatIndex.Precision.FLOAT32, dev.gecko.core.index.FlatIndex.Metric.DOT);
      JavaPairRDD<Long, Candidate> byCandidate = hits.flatMapToPair(t -> {
        List<Tuple2<Long, Candidate>> c = new ArrayList<>();
        for (int i = 0; i < t._2().size(); i++) {
          c.add(new Tuple2<>(t._2().ordinals[i], new Candidate(t._1().intValue(), i + 1, t._2().scores[i], null)));
        }
        return c.iterator();
      });
      JavaPairRDD<Integer, Candidate> candidates = byCandidate.join(byOrdinal)
          .mapToPair(t -> new Tuple2<>(t._2()._1().seed, t._2()._1().with(t._2()._2())));
      List<String> parts = generated.cogroup(candidates, partitioner).mapPartitions(new FretTasks.RelabelTask(s, counts)).collect();
      List<Path> paths = new ArrayList<>();
      for (String p : parts) {
        paths.add(out.resolve(PARTS).resolve(p));
      }
      try {
        deleteTree(out.resolve(GENERATED)); // the wave's queries are in its parts now
      } catch (IOException | UncheckedIOException e) { // a straggling task attempt writing there: the next run clears it
        LOG.log(System.Logger.Level.DEBUG, "could not clear " + out.resolve(GENERATED) + ": " + e);
      }
      return paths;
    } finally {
      generated.unpersist(false);
    }
  }

  private Settings settings(Relabeler relabeler, Path out, String modelFingerprint) {
    // the driver's scorers, forced: every task relabels as the configuration digest says
    FretSettings fret = b.settings.toBuilder().scorers(relabeler.qlScorer(), relabeler.rcScorer()).build();
    return new Settings(b.llm, fret, b.model, modelFingerprint, b.threads, b.maxBatchTokens, out.toString(),
        b.cacheDir == null ? null : b.cacheDir.toAbsolutePath().toString(), b.hook);
  }

  /**
   * Everything a task needs, serializable. {@code modelFingerprint}: the embedder model's, as the
   * driver read it for the run's configuration; the tasks embed with a model of those files or fail
   * ({@link ExecutorEmbedders#get}).
   */
  record Settings(LlmSpec llm, FretSettings fret, String model, String modelFingerprint, int threads, int maxBatchTokens,
      String output, String cacheDir, TaskHook hook) implements Serializable {}

  /** A passage and its corpus ordinal, serializable ({@link Passage} is not). */
  static final class SeedText implements Serializable {
    private static final long serialVersionUID = 1L;
    final long ordinal;
    final String id;
    final String title;
    final String text;

    SeedText(long ordinal, String id, String title, String text) {
      this.ordinal = ordinal;
      this.id = id;
      this.title = title;
      this.text = text;
    }

    Passage passage() {
      return new Passage(id, title, text);
    }
  }

  /** A seed after step 1: its task and query, or its reject line. */
  static final class Generated implements Serializable {
    private static final long serialVersionUID = 1L;
    final SeedText seed;
    final String task;
    final String query;
    final LinkedHashMap<String, String> extra;
    final String reject;

    Generated(SeedText seed, String task, String query, Map<String, String> extra, String reject) {
      this.seed = seed;
      this.task = task;
      this.query = query;
      this.extra = extra == null ? null : new LinkedHashMap<>(extra);
      this.reject = reject;
    }
  }

  /** One retrieved passage of a seed (its index in the wave), with its rank and score. */
  static final class Candidate implements Serializable {
    private static final long serialVersionUID = 1L;
    final int seed;
    final int rank;
    final float score;
    final SeedText passage;

    Candidate(int seed, int rank, float score, SeedText passage) {
      this.seed = seed;
      this.rank = rank;
      this.score = score;
      this.passage = passage;
    }

    Candidate with(SeedText p) {
      return new Candidate(seed, rank, score, p);
    }
  }

  /** A wave's seeds by their index: task t holds seeds [t * perTask, (t + 1) * perTask). */
  static final class WavePartitioner extends org.apache.spark.Partitioner {
    private static final long serialVersionUID = 1L;
    private final int perTask;
    private final int tasks;

    WavePartitioner(int perTask, int tasks) {
      this.perTask = perTask;
      this.tasks = tasks;
    }

    @Override
    public int numPartitions() {
      return tasks;
    }

    @Override
    public int getPartition(Object key) {
      return Math.min(tasks - 1, (Integer) key / perTask);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof WavePartitioner w && w.perTask == perTask && w.tasks == tasks;
    }

    @Override
    public int hashCode() {
      return perTask * 31 + tasks;
    }
  }

  /** Orders (ordinal, id) pairs by ordinal. */
  static final class OrdinalOrder implements Comparator<Tuple2<Long, String>>, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public int compare(Tuple2<Long, String> a, Tuple2<Long, String> b) {
      return Long.compare(a._1(), b._1());
    }
  }

  /**
   * Called by a task after each seed it finished (for tests: a hook that blocks lets a test kill
   * the task mid-run). Stage 0 generates, stage 1 relabels and writes.
   */
  interface TaskHook extends Serializable {
    void afterSeed(int stage, int partition, int attempt, long taskAttemptId, int seedsDone);
  }

  /** The job's counters: LLM usage, summed from every task attempt. */
  static final class Counts implements Serializable {
    private static final long serialVersionUID = 1L;
    final LongAccumulator calls;
    final LongAccumulator cacheHits;
    final LongAccumulator promptTokens;
    final LongAccumulator completionTokens;
    final DoubleAccumulator cost;

    Counts(JavaSparkContext jsc) {
      calls = jsc.sc().longAccumulator("gecko fret: LLM calls");
      cacheHits = jsc.sc().longAccumulator("gecko fret: LLM cache hits");
      promptTokens = jsc.sc().longAccumulator("gecko fret: prompt tokens");
      completionTokens = jsc.sc().longAccumulator("gecko fret: completion tokens");
      cost = jsc.sc().doubleAccumulator("gecko fret: cost");
    }

    void add(dev.gecko.train.llm.UsageMeter.Snapshot u) {
      calls.add(u.calls());
      cacheHits.add(u.cacheHits());
      promptTokens.add(u.promptTokens());
      completionTokens.add(u.completionTokens());
      cost.add(u.cost());
    }
  }

  // ------------------------------------------------------------------ corpus

  /**
   * The first {@code limit} of {@code size} (ordinal, id) pairs by ordinal. Never asks Spark for
   * more than the corpus holds: {@code takeOrdered(k)} gives each task a buffer of 2k entries
   * (Guava's {@code leastOf}) for k below 2^30, so an explicit limit far above the corpus (say
   * 1,000,000,000 for "all") failed every task with OutOfMemoryError. When the limit covers the
   * corpus (the default, {@link Integer#MAX_VALUE}), every pair is collected and sorted here.
   */
  static List<Tuple2<Long, String>> seeds(JavaRDD<Tuple2<Long, String>> ids, int limit, long size) {
    if (limit >= size) {
      List<Tuple2<Long, String>> all = new ArrayList<>(ids.collect());
      all.sort(new OrdinalOrder());
      return all;
    }
    return ids.takeOrdered(limit, new OrdinalOrder());
  }

  private static JavaRDD<SeedText> passages(Dataset<Row> corpus) {
    StructType schema = corpus.schema();
    List<String> names = List.of(schema.fieldNames());
    for (String c : List.of("id", "text")) {
      if (!names.contains(c)) {
        throw new IllegalArgumentException("corpus: no column '" + c + "' in " + schema.simpleString()
            + " (expected ordinal, id, title, text: SparkCorpus's rows)");
      }
    }
    int id = schema.fieldIndex("id");
    int text = schema.fieldIndex("text");
    int title = names.contains("title") ? schema.fieldIndex("title") : -1;
    org.apache.spark.sql.types.DataType idType = schema.apply("id").dataType();
    // instanceof: a collated string (Spark 4: collate(id, 'UTF8_LCASE')) is a StringType not equal to DataTypes.StringType
    if (!(idType instanceof StringType) && !idType.equals(DataTypes.LongType) && !idType.equals(DataTypes.IntegerType)) {
      throw new IllegalArgumentException("corpus: column 'id' must be string, int or bigint, was " + idType.simpleString());
    }
    for (String c : List.of("text", "title")) {
      if (names.contains(c) && !(schema.apply(c).dataType() instanceof StringType)) {
        throw new IllegalArgumentException("corpus: column '" + c + "' must be string, was "
            + schema.apply(c).dataType().simpleString());
      }
    }
    if (names.contains("ordinal")) {
      if (!schema.apply("ordinal").dataType().equals(DataTypes.LongType)) {
        throw new IllegalArgumentException("corpus: column 'ordinal' must be bigint");
      }
      int ord = schema.fieldIndex("ordinal");
      return corpus.javaRDD().map(r -> {
        if (r.isNullAt(ord)) {
          throw new IllegalArgumentException("corpus row with id '" + r.get(id) + "': ordinal is null");
        }
        return seedText(r.getLong(ord), r, id, title, text);
      });
    }
    return corpus.javaRDD().zipWithIndex().map(t -> seedText(t._2(), t._1(), id, title, text));
  }

  private static SeedText seedText(long ordinal, Row r, int id, int title, int text) {
    if (r.isNullAt(id) || r.isNullAt(text)) {
      throw new IllegalArgumentException("corpus row " + ordinal + ": " + (r.isNullAt(id) ? "id" : "text")
          + " is null" + (r.isNullAt(id) ? "" : " (id '" + r.get(id) + "')"));
    }
    String t = title < 0 || r.isNullAt(title) ? "" : r.getString(title);
    String idText = String.valueOf(r.get(id));
    if (idText.indexOf('\n') >= 0 || idText.indexOf('\r') >= 0) { // a part's seeds.txt holds one id per line
      throw new IllegalArgumentException("corpus row " + ordinal + ": id '" + idText.replace("\n", "\\n")
          .replace("\r", "\\r") + "' holds a line break");
    }
    return new SeedText(ordinal, idText, t, r.getString(text));
  }

  private static void checkUniqueIds(JavaRDD<SeedText> passages) {
    checkUniqueIds(passages.map(p -> p.id), "passage");
    // a given ordinal column must number the passages once each: a seed is found, named and
    // written by its ordinal
    List<Tuple2<Long, Integer>> dupOrdinal = passages.mapToPair(p -> new Tuple2<>(p.ordinal, 1))
        .reduceByKey(Integer::sum).filter(t -> t._2() > 1).take(1);
    if (!dupOrdinal.isEmpty()) {
      throw new IllegalArgumentException("duplicate ordinal " + dupOrdinal.get(0)._1() + " (" + dupOrdinal.get(0)._2()
          + " rows): column 'ordinal' must number the passages once each");
    }
  }

  /**
   * Refuses a repeated id (one shuffle of the ids), naming it: {@code duplicate <what> id 'x' (2
   * rows)}. {@link SparkRetrievalEvaluator}'s documents are checked by this too.
   */
  static void checkUniqueIds(JavaRDD<String> ids, String what) {
    List<Tuple2<String, Integer>> dup = ids.mapToPair(id -> new Tuple2<>(id, 1)).reduceByKey(Integer::sum)
        .filter(t -> t._2() > 1).take(1);
    if (!dup.isEmpty()) {
      throw new IllegalArgumentException("duplicate " + what + " id '" + dup.get(0)._1() + "' (" + dup.get(0)._2() + " rows)");
    }
  }

  /** SHA-256 of (ordinal, id, title, text) summed over the passages mod 2^256: order-aware, partition-blind. */
  private static String corpusDigest(JavaRDD<SeedText> passages) {
    BigInteger mod = BigInteger.ONE.shiftLeft(256);
    BigInteger sum = passages.map(p -> {
      java.security.MessageDigest md = Hashes.sha256();
      for (String s : List.of(Long.toString(p.ordinal), p.id, p.title, p.text)) {
        md.update(s.getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
      }
      return new BigInteger(1, md.digest());
    }).fold(BigInteger.ZERO, (a, c) -> a.add(c).mod(mod));
    return String.format(Locale.ROOT, "%064x", sum);
  }

  /** The corpus embedded as the single-JVM retriever embeds it: documents, with their title when not blank. */
  /**
   * At least {@code asked} shards, and enough that each holds its vectors in one Java array (at
   * most 2^30 floats, 4 GiB: 2.8M passages at 384 dimensions), so that a corpus of any size is
   * searched without an overflow after it has been embedded.
   */
  static int shardsFor(long passages, int dims, int asked) {
    if (dims < 1) {
      throw new IllegalArgumentException("dims must be >= 1 to plan the shards, was " + dims);
    }
    long needed = (passages * dims + (1L << 30) - 1) >> 30;
    if (needed > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(passages + " passages of " + dims + " dimensions are too many to shard");
    }
    return Math.max(asked, (int) needed);
  }

  /** The corpus embedded as documents, with the model of the run's configuration ({@code fingerprint}). */
  private JavaRDD<TopKParts.Entry> corpusVectors(SparkSession spark, JavaRDD<SeedText> passages, String fingerprint) {
    StructType schema = new StructType().add("ordinal", DataTypes.LongType, false).add("id", DataTypes.StringType, false)
        .add("title", DataTypes.StringType, true).add("text", DataTypes.StringType, false);
    Dataset<Row> rows = spark.createDataFrame(passages.map(p -> RowFactory.create(p.ordinal, p.id,
        p.title.isBlank() ? null : p.title, p.text)), schema);
    GeckoEmbeddings embed = new GeckoEmbeddings().setModel(b.model).setThreads(b.threads).setMaxBatchTokens(b.maxBatchTokens)
        .setTaskType(dev.gecko.core.TaskType.RETRIEVAL_DOCUMENT).setTitleCol("title").setInputCol("text");
    EmbeddingCounters counters = EmbeddingCounters.register(spark.sparkContext(), embed.uid());
    return embed.transform(rows, counters, fingerprint).javaRDD()
        .map(r -> new TopKParts.Entry(r.getLong(0), r.getString(1), DistributedTopK.floats(r.get(4))));
  }

  // ------------------------------------------------------------------ the folder

  /** The run's configuration; {@code width} is the model's full width ({@link ExecutorEmbedders#width}). */
  private ObjectNode config(Relabeler relabeler, ModelPackage model, int width, long passages, String corpusDigest) {
    ObjectNode c = JSON.createObjectNode();
    c.put("runner", "spark");
    c.putObject("llm").put("model", b.llm.model());
    c.putObject("scorers").put("ql", relabeler.qlScorer().id()).put("rc", relabeler.rcScorer().id());
    // the fingerprint (graph, tokenizer, adapter, settings): a model folder retrained in place keeps its name and width
    c.putObject("embedder").put("model", model.name()).put("dimensions", width)
        .put("fingerprint", model.fingerprint());
    FretSettings s = b.settings;
    c.putObject("parameters").put("candidates", s.candidates()).put("negatives", s.negatives().name().toLowerCase(Locale.ROOT))
        .put("randomSeed", s.randomSeed()).put("generationTemperature", s.generationTemperature()).put("attempts", s.attempts());
    c.set("prompts", s.prompts().toJson());
    c.putObject("corpus").put("passages", passages).put("digest", corpusDigest);
    return c;
  }

  /**
   * The LLM servers of the run so far: the previous manifest's, then this run's (as the driver
   * resolves the spec: {@code LlmClient.endpoint()}, never a key), by {@link
   * FretExamples#endpointsWith}'s rule, as in {@link FretPipeline}'s manifest.
   */
  static List<String> endpoints(Path out, ObjectNode previous, String endpoint) {
    List<String> before = new ArrayList<>();
    if (previous != null) {
      previous.path("llmEndpoints").forEach(e -> before.add(e.asText()));
    }
    return FretExamples.endpointsWith(out, before, endpoint);
  }

  private void writeManifest(Path out, ObjectNode config, String digest, List<String> endpoints, String created, String status,
      String error, int seeds, int skipped, int written, int rejected, Counts counts) throws IOException {
    ObjectNode m = JSON.createObjectNode();
    m.put("format", FORMAT).put("digest", digest).put("status", status);
    if (error != null) {
      m.put("error", error);
    }
    m.set("config", config);
    endpoints.forEach(m.putArray("llmEndpoints")::add);
    ObjectNode c = m.putObject("counts").put("seeds", seeds).put("skipped", skipped).put("written", written)
        .put("rejected", rejected);
    try {
      c.put("totalExamples", totalExamples(out));
    } catch (IOException e) {
      if (!"stopped".equals(status)) {
        throw e;
      }
      c.putNull("totalExamples"); // a part that cannot be read may be why the run stopped: say so, not "running"
    }
    m.putObject("usageLastRun").put("calls", counts.calls.value()).put("cacheHits", counts.cacheHits.value())
        .put("promptTokens", counts.promptTokens.value()).put("completionTokens", counts.completionTokens.value())
        .put("cost", counts.cost.value());
    m.put("created", created).put("updated", b.clock.instant().toString());
    AtomicFiles.write(out.resolve(MANIFEST), (JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n")
        .getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Reads a run file that holds one JSON object (the manifest, a part's record).
   *
   * @throws IOException naming the file and line, if it is not one (a damaged or hand-edited
   *     folder: an empty part record would count as no examples); mid-run, as any failure to read a
   *     part, it stops the run
   */
  private static JsonNode readObject(Path f) throws IOException {
    JsonNode n;
    try {
      n = JSON.readTree(f.toFile());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw damaged(f, e.getLocation() == null ? 0 : e.getLocation().getLineNr(), e);
    }
    if (n == null || !n.isObject()) {
      throw new IOException(f + ": not a JSON object; the run folder is damaged");
    }
    return n;
  }

  private static IOException damaged(Path f, int line, com.fasterxml.jackson.core.JsonProcessingException e) {
    String why = e.getOriginalMessage() == null ? "" : e.getOriginalMessage().lines().findFirst().orElse("");
    return new IOException(f + (line > 0 ? ":" + line : "") + ": not valid JSON (" + why
        + "); the run folder is damaged", e);
  }

  private static ObjectNode readManifest(Path out) throws IOException {
    Path f = out.resolve(MANIFEST);
    if (!Files.exists(f)) {
      return null;
    }
    JsonNode n = readObject(f);
    if (!(n instanceof ObjectNode o) || !FORMAT.equals(o.path("format").asText())) {
      throw new ResumeConflictException(f + " is not a " + FORMAT + " manifest; use a new output folder");
    }
    return o;
  }

  /** The committed parts (folders under {@code parts/}), sorted by name. */
  static List<Path> parts(Path out) throws IOException {
    Path dir = out.resolve(PARTS);
    List<Path> parts = new ArrayList<>();
    if (Files.isDirectory(dir)) {
      try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "part-*")) {
        s.forEach(parts::add);
      }
    }
    Collections.sort(parts);
    return parts;
  }

  private static Set<String> doneSeeds(Path out) throws IOException {
    Set<String> done = new HashSet<>();
    for (Path p : parts(out)) {
      done.addAll(Files.readAllLines(p.resolve("seeds.txt"), StandardCharsets.UTF_8));
    }
    return done;
  }

  private static long totalExamples(Path out) throws IOException {
    long n = 0;
    for (Path p : parts(out)) {
      n += readObject(p.resolve("part.json")).path("examples").asLong();
    }
    return n;
  }

  /** The examples and rejects of {@code parts}; a part that cannot be read is a {@link RunFileException}. */
  private static int[] partCounts(List<Path> parts) throws IOException {
    int[] c = new int[2];
    try {
      for (Path p : parts) {
        JsonNode n = readObject(p.resolve("part.json"));
        c[0] += n.path("examples").asInt();
        c[1] += n.path("rejects").asInt();
      }
    } catch (IOException e) {
      throw RunFileException.of(e);
    }
    return c;
  }

  /** The reject reasons of {@code parts}; a part that cannot be read is a {@link RunFileException}. */
  private static List<RejectReason> reasons(List<Path> parts) throws IOException {
    Map<String, int[]> counts = new LinkedHashMap<>();
    Map<String, String> examples = new LinkedHashMap<>();
    try {
      for (Path p : parts) {
        Path file = p.resolve("rejects.jsonl");
        int number = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          number++;
          if (line.isBlank()) {
            continue;
          }
          JsonNode r;
          try {
            r = JSON.readTree(line);
          } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw damaged(file, number, e);
          }
          String reason = r.path("reason").asText();
          counts.computeIfAbsent(reason, k -> new int[1])[0]++;
          examples.putIfAbsent(reason, r.path("answer").asText());
        }
      }
    } catch (IOException e) {
      throw RunFileException.of(e);
    }
    List<RejectReason> out = new ArrayList<>();
    counts.forEach((reason, n) -> out.add(new RejectReason(reason, n[0], examples.get(reason))));
    out.sort(Comparator.comparingInt(RejectReason::count).reversed());
    return out;
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /** The first line of an exception's message (Spark's reports go on with stack traces), or its class. */
  private static String firstLine(Throwable e) {
    String m = e.getMessage();
    if (m == null || m.isBlank()) {
      return e.getClass().getName();
    }
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  private static <T extends Throwable> T cause(Throwable e, Class<T> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  /** Builds a {@link FretSparkJob}. Setters validate at once. Reusable; not thread-safe. */
  public static final class Builder {
    private LlmSpec llm;
    private Path output;
    private Path cacheDir;
    private boolean cacheSet;
    private String model = dev.gecko.core.GeckoEmbedder.Builder.DEFAULT_MODEL;
    private int threads = 1;
    private int maxBatchTokens = dev.gecko.core.GeckoEmbedder.Builder.DEFAULT_MAX_BATCH_TOKENS;
    private FretSettings settings = FretSettings.defaults();
    private int waveSize = 10_000;
    private int seedsPerTask = 50;
    private int shards = 4;
    private Clock clock = Clock.systemUTC();
    private TaskHook hook;

    private Builder() {}

    /** Sets the LLM every executor calls. Required. */
    public Builder llm(LlmSpec spec) {
      this.llm = Objects.requireNonNull(spec, "llm is null");
      return this;
    }

    /** Sets the run folder: a path the driver and every executor see (see the class comment). Required. */
    public Builder output(Path dir) {
      this.output = Objects.requireNonNull(dir, "output is null");
      return this;
    }

    /**
     * Sets the response cache folder, null for none (default {@code DIR/cache}); like the run
     * folder, a path every executor sees.
     */
    public Builder cache(Path dir) {
      this.cacheDir = dir;
      this.cacheSet = true;
      return this;
    }

    /** Sets the embedder's model (as {@link GeckoEmbeddings#setModel}). Default {@value dev.gecko.core.GeckoEmbedder.Builder#DEFAULT_MODEL}. */
    public Builder model(String nameOrFolder) {
      if (nameOrFolder == null || nameOrFolder.isBlank()) {
        throw new IllegalArgumentException("model must not be blank");
      }
      this.model = nameOrFolder;
      return this;
    }

    /**
     * Sets the threads of each executor's embedder (as {@link GeckoEmbeddings#setThreads}). Default 1.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder threads(int n) {
      this.threads = Args.positive(n, "threads");
      return this;
    }

    /**
     * Sets the padded tokens per inference batch. Default 512.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder maxBatchTokens(int n) {
      this.maxBatchTokens = Args.positive(n, "maxBatchTokens");
      return this;
    }

    /**
     * Sets what the run asks of the LLM and how it picks examples (default {@link
     * FretSettings#defaults()}): the same settings give the same examples as {@code FretPipeline}.
     * Here {@link FretSettings#concurrency()} is the seeds each task works on at once, and the
     * LLM calls in flight per executor, retry waits included (its tasks share one client); {@link
     * FretSettings#earlyStop()} seeds are done first (in waves of at most {@code waveSize}), and
     * the run stops there if all were rejected.
     */
    public Builder settings(FretSettings s) {
      this.settings = Objects.requireNonNull(s, "settings is null");
      return this;
    }

    /**
     * Sets the seeds of one wave (one pass of the three stages; what an interruption can lose).
     * Default 10,000.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder waveSize(int n) {
      this.waveSize = Args.positive(n, "waveSize");
      return this;
    }

    /**
     * Sets the seeds of one task (and of one output part). Default 50.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder seedsPerTask(int n) {
      this.seedsPerTask = Args.positive(n, "seedsPerTask");
      return this;
    }

    /**
     * Sets the corpus shards of the retrieval ({@link DistributedTopK.Builder#shards}). Default 4;
     * a corpus too large for that many (over about 2.8M passages per shard at 384 dimensions) gets
     * as many as it needs.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder shards(int n) {
      this.shards = Args.positive(n, "shards");
      return this;
    }

    /** Sets the clock of the manifest's timestamps. */
    public Builder clock(Clock c) {
      this.clock = Objects.requireNonNull(c, "clock is null");
      return this;
    }

    /** For tests: called by tasks after each seed (see {@link TaskHook}). */
    Builder hook(TaskHook h) {
      this.hook = h;
      return this;
    }

    /**
     * Builds the job.
     *
     * @throws IllegalStateException if the LLM or the output folder is missing
     */
    public FretSparkJob build() {
      if (llm == null || output == null) {
        throw new IllegalStateException("llm and output are required; not set: " + String.join(", ",
            java.util.stream.Stream.of(llm == null ? "llm" : null, output == null ? "output" : null)
                .filter(java.util.Objects::nonNull).toList()));
      }
      Builder c = new Builder();
      c.llm = llm;
      c.output = output;
      c.cacheDir = cacheSet ? cacheDir : output.resolve("cache");
      c.cacheSet = true;
      c.model = model;
      c.threads = threads;
      c.maxBatchTokens = maxBatchTokens;
      c.settings = settings;
      c.waveSize = waveSize;
      c.seedsPerTask = seedsPerTask;
      c.shards = shards;
      c.clock = clock;
      c.hook = hook;
      return new FretSparkJob(c);
    }
  }
}
