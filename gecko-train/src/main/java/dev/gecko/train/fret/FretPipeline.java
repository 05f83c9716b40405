package dev.gecko.train.fret;

import dev.gecko.core.internal.io.Hashes;
import dev.gecko.core.Progress;
import dev.gecko.core.ProgressListener;
import java.util.LinkedHashMap;
import java.util.Map;
import dev.gecko.core.io.Corpus;
import dev.gecko.core.io.Passage;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.index.SearchHit;
import dev.gecko.train.llm.BadRequestException;
import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmException;
import dev.gecko.train.llm.UsageMeter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The whole FRet distillation over a corpus, into a resumable run folder.
 *
 * <pre>{@code
 * try (GeckoEmbedder embedder = GeckoEmbedder.builder().coalescingWindow(Duration.ZERO).build()) {
 *   RunSummary s = FretPipeline.builder()
 *       .llm(llm).embedder(embedder)
 *       .corpus(Corpus.read(Path.of("corpus.jsonl"), Integer.MAX_VALUE))
 *       .output(Path.of("fret-run"))
 *       .build().run();
 * }
 * }</pre>
 *
 * <p>For each seed passage (the first {@code limit} passages of the corpus, in order): generate a
 * task and query ({@link QueryGenerator}); retrieve the top N from the whole corpus ({@link
 * Retriever}); relabel them ({@link Relabeler}); positive = fused rank 1, hard negative = fused
 * rank N (or random, {@link NegativeSelection}). Seeds whose answers stay invalid go to {@code
 * rejects.jsonl}, and so do seeds whose request the server refuses as invalid ({@link
 * BadRequestException}: HTTP 400, 413, 422, such as a content filter or a passage too long for the
 * model; stage {@code request}); any other LLM failure that retries cannot fix (authentication, an
 * unknown model, a server that stays down) stops the run (what was written stays), and so do a
 * failure to write the output and a start where every seed is rejected ({@link
 * FretSettings.Builder#earlyStop(int)}, {@link TooManyRejectsException}). A failure that stops the
 * run names the seed and the stage it happened in ({@code generate}, {@code retrieve}, {@code
 * relabel}, {@code write}). A run that ends with no example in its folder fails too ({@link
 * NoExamplesException}): its seeds were all rejected and no earlier run wrote one; a run whose
 * own seeds were all rejected while the folder holds examples from earlier runs succeeds (the
 * dataset is there; its summary counts the rejects). The summary counts the rejects by reason ({@link
 * RunSummary#rejectReasons()}).
 *
 * <h2>Output folder</h2>
 * {@code examples.jsonl}: one JSON object per line with {@code anchor} (the query), {@code
 * positive}, {@code negative} (passage texts: the sentence-transformers triplet columns), {@code
 * task}, {@code query}, {@code extra} (only when the generation answer had keys besides task and
 * query: their names and values, bounded; provenance, never used), {@code seed_id}, {@code
 * positive_id}, {@code negative_id}, {@code positive_changed}, {@code seed_rank} (the seed's fused
 * rank, or null when not retrieved), {@code scorer} ({@code {ql, rc}} scorer ids) and {@code
 * candidates} (every candidate's id, retrieval rank and score, QL and RC scores and ranks, RRF and
 * final rank; a score is null where the LLM's grade stayed invalid, which ranks the candidate last
 * under that scorer). {@code rejects.jsonl}: {@code
 * seed_id}, {@code stage}, {@code reason}, {@code answer}. {@code manifest.json}: format, digest,
 * configuration (model, scorers, embedder: its name, width and {@link
 * dev.gecko.core.ModelPackage#fingerprint() fingerprint}, parameters, prompts, corpus digest),
 * counts, status.
 * {@code run.lock}: held (an OS file lock) by the run writing the folder: a second writer, in this
 * process or another, is refused at once with {@link RunFolderInUseException}; the lock goes when
 * the run ends or its process dies.
 *
 * <h2>Resuming</h2>
 * Lines are appended, flushed and fsynced one by one. On start, a torn last line is cut off (a
 * whole record missing only its newline is kept and ended), and seeds present in either file are
 * skipped, so a restart after a crash or {@code kill -9} loses nothing finished and writes no
 * duplicates. If the manifest's digest differs from this configuration's (a model folder retrained
 * in place included: its fingerprint changed) and the folder holds examples or rejects, {@link
 * #run()} throws {@link ResumeConflictException}, naming the fields that differ, unless {@link
 * Builder#newRun(boolean)} is set, which archives the old files; a run that wrote neither leaves
 * nothing to protect, and this one starts there afresh. {@code limit} and {@code
 * concurrency} are not part of the digest (raising the limit extends a run).
 *
 * <p>Thread-safe: a pipeline keeps a private copy of its builder's settings, so it may be shared,
 * and {@link #run()} may be called from any thread, one run per output folder at a time (a second
 * run started while one is under way, on this pipeline or any other writing the same folder, fails
 * at once with {@link RunFolderInUseException}). Each run starts its own worker threads and stops
 * them before it returns. It does not own the LLM client or the embedder: the caller closes them.
 */
public final class FretPipeline {
  /**
   * The phase of this pipeline's {@link Progress} reports: unit {@code "seeds"}, metrics {@code
   * skipped}, {@code examples}, {@code rejected} and, with a usage meter, {@code tokens} and {@code
   * cost}.
   */
  public static final String PHASE = "generating";
  /**
   * How long an interrupted {@link #run()} waits for its workers in flight to end before it
   * closes the folder and releases its lock.
   */
  public static final java.time.Duration WORKER_GRACE = java.time.Duration.ofSeconds(10);
  private static final System.Logger LOG = System.getLogger(FretPipeline.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Builder b;

  private FretPipeline(Builder b) {
    this.b = b;
  }

  /** Returns a new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Runs (or resumes) the distillation.
   *
   * @throws RunFolderInUseException if another run (in this process or another) writes to the folder
   * @throws ResumeConflictException if the folder holds another configuration's run
   * @throws TooManyRejectsException if the first seeds this run finished were all rejected (see
   *     {@link FretSettings.Builder#earlyStop(int)}; the run stopped)
   * @throws NoExamplesException if the run ended with no example in the folder: every seed it
   *     tried was rejected and no earlier run wrote an example, or it had nothing left to do in a
   *     folder without examples (the manifest says {@code stopped})
   * @throws LlmException if an LLM call failed beyond retries (the message names the seed and the
   *     stage), or the calling thread was interrupted: then the workers are interrupted and waited
   *     for, up to {@link #WORKER_GRACE}, before the folder is closed and its lock released, and
   *     the thread's interrupt flag is set again when this returns (the run stopped; rerun to
   *     resume)
   * @throws IOException if the output folder cannot be used or written
   */
  public RunSummary run() throws IOException {
    FretSettings s = b.settings;
    Relabeler relabeler = s.relabeler(b.llm);
    QueryGenerator generator = s.queryGenerator(b.llm);
    RunManifest.Config config = config(relabeler);
    String digest = sha256(JSON.writeValueAsString(config));
    List<Passage> seeds = b.corpus.subList(0, Math.min(s.limit(), b.corpus.size()));
    boolean interrupted = false;
    try (OutputStore store = OutputStore.open(b.output, config, b.llm.endpoint(), digest, b.newRun, b.clock, b.appender)) {
      List<Passage> todo = new ArrayList<>();
      for (Passage p : seeds) {
        if (!store.done().contains(p.id())) {
          todo.add(p);
        }
      }
      int skipped = seeds.size() - todo.size();
      store.writeManifest("running", null, null, seeds.size());
      AtomicInteger written = new AtomicInteger();
      AtomicInteger rejected = new AtomicInteger();
      AtomicInteger finished = new AtomicInteger(skipped);
      AtomicInteger earlyRejects = new AtomicInteger(); // rejects among the first earlyStop seeds this run finishes
      AtomicBoolean stopEarly = new AtomicBoolean();
      RejectTally tally = new RejectTally();
      Object progressLock = new Object();
      Runnable report = () -> {
        synchronized (progressLock) {
          Map<String, Double> metrics = new LinkedHashMap<>();
          metrics.put("skipped", (double) skipped);
          metrics.put("examples", (double) written.get());
          metrics.put("rejected", (double) rejected.get());
          if (b.meter != null) {
            UsageMeter.Snapshot u = b.meter.snapshot();
            metrics.put("tokens", (double) u.totalTokens());
            metrics.put("cost", u.cost());
          }
          b.progress.onProgress(new Progress(PHASE, "seeds", finished.get(), seeds.size(), metrics));
        }
      };
      report.run();
      AtomicReference<Failure> failure = new AtomicReference<>();
      Retriever retriever = null;
      if (!todo.isEmpty()) {
        try { // embeds the whole corpus: a failure here stops the run as a worker's does, manifest and all
          retriever = b.retriever != null ? b.retriever : new Retriever(b.embedder, b.corpus);
        } catch (RuntimeException e) {
          failure.set(new Failure(null, "embedding the corpus", e));
        } catch (Error e) {
          failure.set(new Failure(null, "embedding the corpus", new IllegalStateException(e.toString(), e)));
        }
      }
      if (retriever != null) {
        Retriever searcher = retriever;
        ExecutorService pool = Executors.newFixedThreadPool(s.concurrency(), r -> {
          Thread t = new Thread(r, "fret-worker");
          t.setDaemon(true);
          return t;
        });
        try {
          for (Passage seed : todo) {
            pool.execute(() -> {
              if (failure.get() != null || stopEarly.get() || Thread.currentThread().isInterrupted()) {
                return;
              }
              FretExample example = null;
              RejectedAnswerException reject = null;
              String[] stage = {"generate"};
              try {
                example = process(seed, generator, searcher, relabeler, stage);
              } catch (RejectedAnswerException e) {
                reject = e;
              } catch (BadRequestException e) {
                reject = FretExamples.requestRefused(e); // this seed's request (its passage, say): the next seed's may pass
              } catch (RuntimeException e) {
                failure.compareAndSet(null, new Failure(seed.id(), stage[0], e));
                return;
              } catch (Error e) { // out of memory, say: the run stops as "stopped", never "complete" without this seed
                failure.compareAndSet(null, new Failure(seed.id(), stage[0], new IllegalStateException(e.toString(), e)));
                return;
              }
              try {
                if (reject == null) {
                  store.writeExample(example); // even while the run is stopping: it is paid for and valid
                  written.incrementAndGet();
                } else {
                  store.writeReject(FretExamples.reject(seed.id(), reject));
                  tally.add(reject);
                  rejected.incrementAndGet();
                }
              } catch (RuntimeException e) { // the append failed: the run stops, the seed is in neither file
                failure.compareAndSet(null, new Failure(seed.id(), "write", e));
                return;
              }
              boolean isReject = reject != null;
              // the order in which seeds finish decides which are "the first": a seed's own index, taken once
              int index = finished.incrementAndGet() - skipped;
              if (isReject && index <= s.earlyStop() && earlyRejects.incrementAndGet() == s.earlyStop()) {
                stopEarly.set(true); // the first earlyStop seeds were all rejected
              }
              try {
                report.run();
              } catch (RuntimeException e) { // a listener's failure stops the run, as on the calling thread
                failure.compareAndSet(null, new Failure(seed.id(), "progress", e));
              }
            });
          }
        } finally {
          pool.shutdown();
          try {
            while (!pool.awaitTermination(1, TimeUnit.SECONDS)) {
              // waiting for the workers in flight
            }
          } catch (InterruptedException e) {
            failure.compareAndSet(null, new Failure(null, null, new LlmException("interrupted", e)));
            interrupted = true;
            stopWorkers(pool);
          }
        }
      }
      UsageMeter.Snapshot usage = b.meter == null ? null : b.meter.snapshot();
      List<RejectReason> reasons = tally.reasons();
      Failure stop = failure.get();
      if (stop != null) {
        RuntimeException f = stop.error();
        String where = stop.seedId() != null ? "seed " + stop.seedId() + ", stage " + stop.stage() + ": "
            : stop.stage() != null ? stop.stage() + ": " : "";
        String msg = "run stopped after " + written.get() + " new examples (" + store.exampleCount() + " in "
            + b.output.resolve(OutputStore.EXAMPLES) + "): " + where + describe(f) + ". Rerun the same command to resume.";
        Exception stopped = f instanceof LlmException ? new LlmException(msg, f)
            : f instanceof UncheckedIOException u ? new IOException(msg, u.getCause()) : new IllegalStateException(msg, f);
        recordStop(store, msg, usage, seeds.size(), stopped); // a full disk may refuse the manifest too
        if (stopped instanceof IOException io) {
          throw io;
        }
        throw (RuntimeException) stopped;
      }
      if (stopEarly.get()) {
        int earlier = store.exampleCount() - written.get(); // what earlier runs left in the folder
        String msg = "run stopped early: the first " + s.earlyStop() + " seeds it finished were all rejected, so the LLM's answers "
            + "do not fit what the pipeline asks (this run: " + written.get() + " examples written, " + rejected.get()
            + " seeds rejected; " + store.exampleCount() + " examples in " + b.output.resolve(OutputStore.EXAMPLES) + ", rejects in "
            + b.output.resolve(OutputStore.REJECTS) + "). Most common reasons:\n" + RejectReason.describe(reasons, 3)
            + "\n" + (earlier > 0
                ? FIX_THE_CAUSE + "remove this run's lines (the last " + rejected.get() + ") from " + OutputStore.REJECTS
                    + " and rerun: rejected seeds count as done, so a plain rerun skips them. A new run (--new-run /"
                    + " newRun(true)) would archive the " + earlier + " examples of earlier runs too."
                : FIX_THE_CAUSE + START_OVER);
        TooManyRejectsException stopped = new TooManyRejectsException(msg, reasons);
        recordStop(store, msg, usage, seeds.size(), stopped);
        throw stopped;
      }
      RunSummary summary = new RunSummary(b.output.resolve(OutputStore.EXAMPLES), b.output.resolve(OutputStore.MANIFEST),
          seeds.size(), skipped, written.get(), rejected.get(), store.exampleCount(), digest, reasons);
      if (summary.totalExamples() == 0) {
        // nothing failed part-way, and yet no dataset: never "complete"
        int tried = seeds.size() - skipped;
        String msg = "run ended with no examples in " + b.output.resolve(OutputStore.EXAMPLES) + ": "
            + (tried == 0 ? "this run had no seed left to do" : "this run tried " + tried + (tried == 1 ? " seed" : " seeds")
                + " and rejected " + rejected.get())
            + (skipped == 0 ? "" : "; the other " + skipped + (skipped == 1 ? " seed was" : " seeds were")
                + " done by earlier runs, which wrote no example either")
            + " (rejects in " + b.output.resolve(OutputStore.REJECTS) + ")."
            + (reasons.isEmpty() ? " " : " Most common reasons:\n" + RejectReason.describe(reasons, 3) + "\n")
            + FIX_THE_CAUSE + START_OVER;
        NoExamplesException stopped = new NoExamplesException(msg, summary);
        recordStop(store, msg, usage, seeds.size(), stopped);
        throw stopped;
      }
      store.writeManifest("complete", null, usage, seeds.size());
      return summary;
    } catch (UncheckedIOException e) { // a worker's append failed
      throw new IOException("cannot write to the output folder " + b.output + ": " + e.getCause().getMessage(),
          e.getCause());
    } finally {
      if (interrupted) { // set again once the folder is written and closed (an interruptible channel would refuse it)
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Interrupts the workers of an interrupted run ({@code shutdownNow}) and waits up to {@link
   * #WORKER_GRACE} for those in flight to end (an interrupted LLM call or backoff ends at once; an
   * embedder call finishes its batch), so that the store is closed and {@code run.lock} released
   * with no worker still writing. Workers that outlast the wait are left to end on their own (a
   * line already being written is finished before the store closes, which waits for it; a later
   * write of theirs fails on the closed store); another interrupt cuts the wait short. The caller
   * sets its interrupt flag again once the folder is closed.
   */
  private static void stopWorkers(ExecutorService pool) {
    pool.shutdownNow();
    try {
      if (!pool.awaitTermination(WORKER_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.log(System.Logger.Level.WARNING, "FRet workers still running {0} s after the interrupt; closing the run anyway",
            WORKER_GRACE.toSeconds());
      }
    } catch (InterruptedException again) {
      // interrupted once more: stop waiting
    }
  }

  /** The advice of a run stopped for its rejects, before what to do next. */
  private static final String FIX_THE_CAUSE =
      "Fix the cause (the model, its server's options such as logprobs or JSON mode, the prompts), then ";
  /** What to do next where the folder holds no example worth keeping. */
  private static final String START_OVER = "start a new run (--new-run / newRun(true)) or use another folder:"
      + " rejected seeds count as done, so a plain rerun skips them.";

  /**
   * Writes a stopping run's manifest; a failure to write it (the disk that failed the run, full)
   * is added to {@code stopped} as suppressed, so that the run's own failure is what is reported.
   */
  private static void recordStop(OutputStore store, String msg, UsageMeter.Snapshot usage, int seeds, Exception stopped) {
    try {
      store.writeManifest("stopped", msg, usage, seeds);
    } catch (UncheckedIOException e) {
      stopped.addSuppressed(e);
    }
  }

  /** A failure that stops the run: the seed and stage it happened in (null for none, as for an interrupt). */
  private record Failure(String seedId, String stage, RuntimeException error) {}

  /** Runs a seed's stages, setting {@code stage[0]} to each as it starts, so that a failure can name it. */
  private FretExample process(Passage seed, QueryGenerator generator, Retriever retriever, Relabeler relabeler, String[] stage) {
    stage[0] = "generate";
    GeneratedQuery g = generator.generate(seed);
    stage[0] = "retrieve";
    List<SearchHit> hits = retriever.search(g.task(), g.query(), b.settings.candidates());
    List<Passage> cands = new ArrayList<>();
    float[] scores = new float[hits.size()];
    for (int i = 0; i < hits.size(); i++) {
      cands.add(retriever.passages().get(hits.get(i).ordinal()));
      scores[i] = hits.get(i).score();
    }
    stage[0] = "relabel";
    return FretExamples.example(seed, g, cands, scores, relabeler, b.settings.negatives(), b.settings.randomSeed());
  }

  private RunManifest.Config config(Relabeler relabeler) {
    FretSettings s = b.settings;
    return new RunManifest.Config(new RunManifest.Llm(b.llm.model()),
        new RunManifest.Scorers(relabeler.qlScorer().id(), relabeler.rcScorer().id()),
        new RunManifest.Embedder(b.embedder.model().name(), b.embedder.dimensions(), b.embedder.model().fingerprint()),
        new RunManifest.Parameters(s.candidates(), s.negatives().name().toLowerCase(java.util.Locale.ROOT), s.randomSeed(),
            s.generationTemperature(), s.attempts()),
        s.prompts().toJson(), new RunManifest.Corpus(b.corpus.size(), corpusDigest(b.corpus)));
  }

  static String corpusDigest(List<Passage> corpus) {
    MessageDigest md = Hashes.sha256();
    for (Passage p : corpus) {
      md.update(p.id().getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      md.update(p.title().getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      md.update(p.text().getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
    }
    return Hashes.hex(md);
  }

  static String sha256(String s) {
    return Hashes.sha256Hex(s);
  }

  /**
   * Builds a {@link FretPipeline}. Setters validate at once. Not thread-safe; reusable. It keeps
   * references to the LLM client, embedder and listener it is given, not ownership: the caller
   * closes the embedder.
   */
  public static final class Builder {
    private LlmClient llm;
    private GeckoEmbedder embedder;
    private List<Passage> corpus;
    private Path output;
    private Retriever retriever;
    private FretSettings settings = FretSettings.defaults();
    private boolean newRun;
    private ProgressListener progress = ProgressListener.none();
    private UsageMeter meter;
    private Clock clock = Clock.systemUTC();
    private OutputStore.Appender appender = OutputStore.APPEND;

    Builder() {}

    private Builder copy() {
      Builder c = new Builder();
      c.llm = llm;
      c.embedder = embedder;
      c.corpus = corpus;
      c.output = output;
      c.retriever = retriever;
      c.settings = settings;
      c.newRun = newRun;
      c.progress = progress;
      c.meter = meter;
      c.clock = clock;
      c.appender = appender;
      return c;
    }

    /** Sets the LLM (usually decorated: see {@link dev.gecko.train.llm.LlmClients#standard}). Required. */
    public Builder llm(LlmClient llm) {
      this.llm = Objects.requireNonNull(llm, "llm is null");
      return this;
    }

    /**
     * Sets the embedder used for retrieval (not closed by the pipeline). Required. The run's
     * concurrent seeds query it at once: with an int8 model, give one built with {@code
     * coalescingWindow(Duration.ZERO)} so that a query's vector, and so its candidates, never
     * depend on which other queries shared its batch (an int8 graph quantises activations per
     * batch); {@code gecko generate} does.
     */
    public Builder embedder(GeckoEmbedder embedder) {
      this.embedder = Objects.requireNonNull(embedder, "embedder is null");
      this.retriever = null;
      return this;
    }

    /**
     * Sets the corpus: every passage is a retrieval candidate; the first {@code limit} are seeds.
     * Required.
     *
     * @throws IllegalArgumentException if empty or an id repeats
     */
    public Builder corpus(List<Passage> passages) {
      List<Passage> copy = List.copyOf(passages);
      if (copy.isEmpty()) {
        throw new IllegalArgumentException("the corpus is empty");
      }
      java.util.Set<String> ids = new java.util.HashSet<>();
      for (Passage p : copy) {
        if (!ids.add(p.id())) {
          throw new IllegalArgumentException("duplicate passage id '" + p.id() + "'");
        }
      }
      this.corpus = copy;
      if (retriever != null && !retriever.passages().equals(copy)) {
        this.retriever = null; // another corpus: the pipeline builds its own index
      }
      return this;
    }

    /**
     * Sets a prebuilt retriever (its embedder and passages become the embedder and corpus), so
     * that several runs over one corpus embed it once.
     */
    public Builder retriever(Retriever r) {
      this.retriever = Objects.requireNonNull(r, "retriever is null");
      this.embedder = r.embedder();
      corpus(r.passages());
      return this;
    }

    /** Sets the run folder. Required. */
    public Builder output(Path dir) {
      this.output = Objects.requireNonNull(dir, "output is null");
      return this;
    }

    /** Sets what the run asks of the LLM and how it picks examples (default {@link FretSettings#defaults()}). */
    public Builder settings(FretSettings settings) {
      this.settings = Objects.requireNonNull(settings, "settings is null");
      return this;
    }

    /** When true, an existing run in the folder is archived and a new one starts. Default false. */
    public Builder newRun(boolean newRun) {
      this.newRun = newRun;
      return this;
    }

    /** Sets the progress listener. */
    public Builder progress(ProgressListener listener) {
      this.progress = Objects.requireNonNull(listener, "listener is null");
      return this;
    }

    /** Sets the meter whose totals go into progress reports and the manifest. */
    public Builder usageMeter(UsageMeter meter) {
      this.meter = meter;
      return this;
    }

    /** Sets the clock for manifest timestamps. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock is null");
      return this;
    }

    /** Sets how the output files are opened for appending (tests: one whose writes fail). */
    Builder appender(OutputStore.Appender a) {
      this.appender = Objects.requireNonNull(a, "appender is null");
      return this;
    }

    /**
     * Builds the pipeline.
     *
     * @throws IllegalStateException if the LLM, embedder, corpus or output is missing
     */
    public FretPipeline build() {
      if (llm == null || embedder == null || corpus == null || output == null) {
        throw new IllegalStateException("llm, embedder, corpus and output are required; not set: " + String.join(", ",
            java.util.stream.Stream.of(llm == null ? "llm" : null, embedder == null ? "embedder" : null,
                corpus == null ? "corpus" : null, output == null ? "output" : null)
                .filter(java.util.Objects::nonNull).toList()));
      }
      return new FretPipeline(copy());
    }
  }

  /**
   * A worker's failure as the run's message gives it: the message of the failures that explain
   * themselves (an LLM's, an I/O error, a refused value), the type too for anything else (a
   * {@code NullPointerException}'s message may be null, an index's says nothing of what failed).
   */
  static String describe(RuntimeException f) {
    boolean explains = f instanceof LlmException || f instanceof UncheckedIOException
        || f instanceof IllegalArgumentException || f instanceof IllegalStateException
        || f instanceof dev.gecko.core.GeckoException;
    return explains && f.getMessage() != null ? f.getMessage() : f.toString();
  }
}
