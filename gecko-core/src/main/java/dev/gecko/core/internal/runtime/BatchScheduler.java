package dev.gecko.core.internal.runtime;

import dev.gecko.core.InputTooLongException;
import dev.gecko.core.Progress;
import dev.gecko.core.ProgressListener;
import dev.gecko.core.adapter.Adapter;
import dev.gecko.core.vector.VectorOps;
import dev.gecko.tokenizer.Encoding;
import dev.gecko.tokenizer.GeckoTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How one call's texts are embedded: tokenised in windows (the next window on a helper thread
 * while the current one runs), sorted by length, cut into batches by {@link BatchCutter}, run up to
 * {@code threads / intraOpThreads} at a time (the caller's thread and helper threads, each with its
 * own {@link Workspace}), then adapted, truncated, normalised and put back in the caller's order.
 * Batches are cut before any runs, so vectors do not depend on the number of threads or on
 * scheduling. Internal.
 *
 * <p>Thread-safe: concurrent calls share the helper threads and the workspaces. Owns its thread
 * pools ({@link #shutdown()}); not the tokenizer or the session.
 */
final class BatchScheduler {
  private static final System.Logger LOG = System.getLogger(BatchScheduler.class.getName());
  private static final java.util.concurrent.atomic.AtomicBoolean HELPER_START_FAILED =
      new java.util.concurrent.atomic.AtomicBoolean();
  /**
   * Texts tokenised, sorted and batched together. Longer lists are cut into equal windows of at
   * most this many texts; the next window is tokenised on a helper thread while the current one
   * runs. (256 cost padding on mid-sized lists and gained nothing measurable: docs/performance.md.)
   */
  static final int WINDOW = 512;
  /**
   * Fewest texts per piece when the first window's tokenisation is split across threads: below
   * this the hand-off costs more than it saves.
   */
  static final int MIN_TOKENIZE_PIECE = 32;
  private static final String PHASE = "embedding";
  private static final String UNIT = "texts";
  /** The metric of the progress reports: tokens the model ran so far (after truncation, no padding). */
  static final String TOKENS = "tokens";
  private static final AtomicInteger THREAD_IDS = new AtomicInteger();

  private final GeckoTokenizer tokenizer;
  private final InferenceSession session;
  private final int width;
  private final int maxBatchTokens;
  private final int maxBatchSize;
  private final boolean failOnTruncation;
  private final boolean batchIndependent;
  /** Applied to each pooled vector before truncation and normalisation; null for none. */
  private final Adapter adapter;
  private final WorkspacePool workspaces;
  private final Stats stats;
  /** Threads a call may use: how many pieces the first window's tokenisation is cut into. */
  private final int callThreads;
  /** Tokenises the next window while the current one runs; threads end after 30 s idle. */
  private final ThreadPoolExecutor tokenizerThreads;
  /** Batches of one call that run at a time (caller's thread included). */
  private final int parallelBatches;
  /**
   * Runs a call's further batches beside the caller's thread; null when batches run one at a time.
   * Package-private: tests give it a thread factory that fails.
   */
  final ThreadPoolExecutor inferenceThreads;

  BatchScheduler(GeckoTokenizer tokenizer, InferenceSession session, Adapter adapter, EmbedderSettings s,
      WorkspacePool workspaces, Stats stats) {
    this.workspaces = workspaces;
    this.stats = stats;
    this.tokenizer = tokenizer;
    this.session = session;
    this.width = session.width();
    this.adapter = adapter;
    this.maxBatchTokens = s.maxBatchTokens();
    this.maxBatchSize = s.maxBatchSize();
    this.failOnTruncation = s.failOnTruncation();
    this.batchIndependent = s.batchIndependent();
    this.callThreads = Math.max(1, s.threads());
    // sized by the call's threads: a call never tokenises on more threads than it may use
    this.tokenizerThreads = daemonPool(callThreads, "gecko-tokenize-");
    this.parallelBatches = Math.max(1, s.threads() / s.intraOpThreads());
    this.inferenceThreads = parallelBatches > 1 ? daemonPool(parallelBatches - 1, "gecko-infer-") : null;
  }

  /**
   * Embeds rendered texts at width {@code dims}, in their order. The caller holds the embedder's
   * read lock (nothing of this call outlives it).
   */
  List<float[]> embed(List<String> texts, int dims, ProgressListener progress) {
    return embedWindows(texts, dims, progress);
  }

  /**
   * Tokenises texts on the calling thread, checking their length when truncation is refused.
   *
   * @throws dev.gecko.core.InputTooLongException naming the first text over the maximum
   * @throws IllegalArgumentException naming the first text that encodes to no tokens
   */
  List<Encoding> encode(List<String> texts) {
    return encodeWindow(texts, 0, texts.size());
  }

  /** Stops the helper threads (idle ones end; a call in flight has finished under the lock). */
  void shutdown() {
    tokenizerThreads.shutdownNow();
    if (inferenceThreads != null) {
      inferenceThreads.shutdownNow();
    }
    workspaces.clear();
  }

  /** A fixed pool of daemon threads that end after 30 s idle. */
  static ThreadPoolExecutor daemonPool(int threads, String namePrefix) {
    ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
        r -> {
          Thread t = new Thread(r, namePrefix + THREAD_IDS.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  private List<float[]> embedWindows(List<String> texts, int dims, ProgressListener progress) {
    int n = texts.size();
    float[][] out = new float[n][];
    progress.onProgress(report(0, n, 0));
    if (n == 0) {
      return Arrays.asList(out);
    }
    int windows = (n + WINDOW - 1) / WINDOW;
    int size = (n + windows - 1) / windows;
    Workspace ws = takeWorkspace();
    Future<List<Encoding>> next = null;
    try {
      List<Encoding> current = encodeFirstWindow(texts, Math.min(size, n));
      long tokens = 0;
      for (int from = 0; from < n; from += size) {
        int nextFrom = from + size;
        if (nextFrom < n) {
          int nextTo = Math.min(nextFrom + size, n);
          next = tokenizerThreads.submit(() -> encodeWindow(texts, nextFrom, nextTo));
        }
        embedWindow(current, from, dims, out, ws);
        for (Encoding e : current) {
          tokens += e.length();
        }
        progress.onProgress(report(Math.min(from + size, n), n, tokens));
        if (next != null) {
          current = join(next);
          next = null;
        }
      }
    } finally {
      if (next != null) {
        // An inference error left a tokenisation in flight: wait for it (not cancel: a cancelled
        // future's get() returns at once) so that nothing of this call outlives its read lock.
        try {
          Futures.getUninterruptibly(next);
        } catch (ExecutionException ignored) {
          // the inference error is the one to report
        }
      }
      giveBack(ws);
    }
    return Arrays.asList(out);
  }

  /** A progress report of the embedding phase with its tokens metric. */
  static Progress report(long done, long total, long tokens) {
    return new Progress(PHASE, UNIT, done, total, java.util.Map.of(TOKENS, (double) tokens));
  }

  /**
   * Tokenises the first window, which nothing overlaps: cut into up to {@code callThreads} pieces
   * of at least {@link #MIN_TOKENIZE_PIECE} texts, the first on the caller's thread and the
   * others on tokeniser threads (the cores would otherwise wait: tokenising is 2-3 % of a call's
   * CPU time, docs/performance.md). The encodings do not depend on how the window is cut.
   */
  private List<Encoding> encodeFirstWindow(List<String> texts, int to) {
    int pieces = Math.min(callThreads, to / MIN_TOKENIZE_PIECE);
    if (pieces <= 1) {
      return encodeWindow(texts, 0, to);
    }
    int size = (to + pieces - 1) / pieces;
    List<Future<List<Encoding>>> others = new ArrayList<>(pieces - 1);
    for (int from = size; from < to; from += size) {
      int pieceFrom = from;
      int pieceTo = Math.min(from + size, to);
      others.add(tokenizerThreads.submit(() -> encodeWindow(texts, pieceFrom, pieceTo)));
    }
    List<Encoding> all = new ArrayList<>(to);
    Throwable failure = null;
    try {
      all.addAll(encodeWindow(texts, 0, Math.min(size, to)));
    } catch (RuntimeException | Error e) {
      failure = e;
    }
    // Every piece is waited for, uninterruptibly and even after a failure, so that nothing of this
    // call outlives its read lock; the first failure in text order is the one reported.
    for (Future<List<Encoding>> piece : others) {
      try {
        List<Encoding> encodings = Futures.getUninterruptibly(piece);
        if (failure == null) {
          all.addAll(encodings);
        }
      } catch (ExecutionException e) {
        if (failure == null) {
          failure = e.getCause() instanceof Error ? e.getCause() : Futures.unchecked(e, "tokenising");
        }
      }
    }
    if (failure instanceof Error) {
      throw (Error) failure;
    }
    if (failure != null) {
      throw (RuntimeException) failure;
    }
    return all;
  }

  private List<Encoding> encodeWindow(List<String> texts, int from, int to) {
    List<Encoding> encodings = tokenizer.encodeAll(texts.subList(from, to));
    for (int i = 0; i < encodings.size(); i++) {
      Encoding e = encodings.get(i);
      if (e.length() == 0) { // pooling would divide by zero; a batch cut would refuse it for all
        throw new IllegalArgumentException("text " + (from + i) + " encodes to no tokens (an empty or blank text,"
            + " and a tokenizer that adds no special tokens): there is nothing to embed");
      }
      if (failOnTruncation && e.truncated()) {
        throw new InputTooLongException(from + i, e.originalLength(), tokenizer.maxLength());
      }
    }
    return encodings;
  }

  private static List<Encoding> join(Future<List<Encoding>> future) {
    try {
      return Futures.getUninterruptibly(future); // as every other wait of a call: an interrupt stays set
    } catch (ExecutionException e) {
      throw Futures.unchecked(e, "tokenising");
    }
  }



  /**
   * Sorts one window by length, cuts it into token-budget batches and runs them, up to {@code
   * parallelBatches} at a time (the caller's thread and helpers, each with its own workspace),
   * longest first so that no thread is left with a long batch at the end; writes results at
   * {@code offset + i}. Batches are cut before any runs, so vectors do not depend on scheduling.
   */
  private void embedWindow(List<Encoding> encodings, int offset, int dims, float[][] out, Workspace ws) {
    int n = encodings.size();
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (x, y) -> Integer.compare(encodings.get(x).length(), encodings.get(y).length()));
    int[] lengths = new int[n];
    for (int i = 0; i < n; i++) {
      lengths[i] = encodings.get(order[i]).length();
    }
    List<int[]> batches = ranges(BatchCutter.cut(lengths, maxBatchTokens, batchIndependent ? 1 : maxBatchSize));
    Collections.reverse(batches);
    BatchRun job = new BatchRun(batches, encodings, order, offset, dims, out);
    int helpers = Math.min(parallelBatches, batches.size()) - 1;
    for (int h = 0; h < helpers; h++) {
      try {
        inferenceThreads.execute(() -> {
          if (!job.enter()) {
            return; // the caller already finished the window: nothing left to do
          }
          Workspace own = null;
          try {
            own = takeWorkspace(); // inside: a helper that cannot get one must still leave the job
            job.runBatches(own);
          } catch (RuntimeException | Error e) {
            job.fail(e);
          } finally {
            if (own != null) {
              giveBack(own);
            }
            job.exit();
          }
        });
      } catch (Error e) {
        // no thread could be started ("unable to create native thread"): the caller and the
        // helpers already started run the batches, and the call waits for them as always
        if (HELPER_START_FAILED.compareAndSet(false, true)) { // once: it may recur at every call
          LOG.log(System.Logger.Level.ERROR, "could not start a helper thread for a call's batches; calls run"
              + " their batches on fewer threads while this lasts", e);
        }
        break;
      }
    }
    try {
      job.runBatches(ws);
    } catch (RuntimeException | Error e) {
      job.fail(e);
    }
    // Helpers still running use the session under this call's read lock: wait for them, and keep
    // those not yet started from starting. (Future.cancel cannot do this: it reports success for a
    // task that is already running.)
    job.sealAndAwait();
    Throwable failure = job.failure();
    if (failure instanceof RuntimeException) {
      throw (RuntimeException) failure;
    }
    if (failure instanceof Error) {
      throw (Error) failure;
    }
  }

  /** [start, end) pairs from ascending batch ends. */
  private static List<int[]> ranges(int[] ends) {
    List<int[]> batches = new ArrayList<>(ends.length);
    int start = 0;
    for (int end : ends) {
      batches.add(new int[] {start, end});
      start = end;
    }
    return batches;
  }

  /** One window's batches, taken one at a time by whichever thread is free, and the helpers on them. */
  private final class BatchRun {
    private final List<int[]> batches;
    private final List<Encoding> encodings;
    private final Integer[] order;
    private final int offset;
    private final int dims;
    private final float[][] out;
    private final AtomicInteger next = new AtomicInteger();
    /** The helper threads inside; sealed when the caller stops waiting for helpers. */
    private final CallGate helpers = new CallGate();
    private Throwable failure; // guarded by this

    BatchRun(List<int[]> batches, List<Encoding> encodings, Integer[] order, int offset, int dims, float[][] out) {
      this.batches = batches;
      this.encodings = encodings;
      this.order = order;
      this.offset = offset;
      this.dims = dims;
      this.out = out;
    }

    /** Registers a helper; false once the caller has stopped waiting for helpers. */
    boolean enter() {
      return helpers.tryEnter();
    }

    void exit() {
      helpers.exit();
    }

    /** Keeps the first failure; the other threads stop after their current batch. */
    synchronized void fail(Throwable t) {
      next.set(batches.size());
      if (failure == null) {
        failure = t;
      }
    }

    synchronized Throwable failure() {
      return failure;
    }

    /** Stops helpers from entering and waits, uninterruptibly, until those inside have left. */
    void sealAndAwait() {
      helpers.closeAndAwait();
    }

    void runBatches(Workspace ws) {
      int b;
      while ((b = next.getAndIncrement()) < batches.size()) {
        runBatch(batches.get(b)[0], batches.get(b)[1], ws);
      }
    }

    private void runBatch(int start, int end, Workspace ws) {
      List<Encoding> batch = new ArrayList<>(end - start);
      for (int i = start; i < end; i++) {
        batch.add(encodings.get(order[i]));
      }
      long started = System.nanoTime();
      float[] pooled = session.run(GeckoTokenizer.pad(batch, tokenizer.padId()), ws);
      stats.runTime(System.nanoTime() - started);
      long real = 0;
      for (Encoding e : batch) {
        real += e.length();
      }
      stats.batch(batch.size(), real, (long) batch.size() * batch.get(batch.size() - 1).length(), false);
      for (int r = 0; r < batch.size(); r++) {
        float[] vector;
        if (adapter != null) {
          float[] row = adapter.apply(Arrays.copyOfRange(pooled, r * width, r * width + width));
          vector = VectorOps.truncateAndNormalize(row, dims);
        } else {
          vector = VectorOps.truncateAndNormalize(pooled, r * width, width, dims);
        }
        out[offset + order[start + r]] = vector;
      }
    }
  }

  private Workspace takeWorkspace() {
    return workspaces.take();
  }

  private void giveBack(Workspace ws) {
    workspaces.giveBack(ws);
  }
}
