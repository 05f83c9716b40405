package dev.gecko.core.internal.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.EmbedderMetrics;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.GeckoException;
import dev.gecko.core.ModelLoadException;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.ModelSource;
import dev.gecko.core.ProgressListener;
import dev.gecko.core.adapter.Adapter;
import dev.gecko.tokenizer.GeckoTokenizer;
import dev.gecko.tokenizer.Encoding;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.ThreadPoolExecutor;

/**
 * The ONNX Runtime implementation of {@link GeckoEmbedder}: requests rendered with the package's
 * prompts, then run by a {@link BatchScheduler} on an {@link InferenceSession} (large calls) or
 * gathered with other calls' texts by the {@link Coalescer} (small calls); a {@link CallGate} keeps
 * {@link #close()} from freeing what a call in flight uses. Opening loads the tokenizer on a
 * helper thread while {@link SessionLoader} opens the graph. Internal: {@code
 * GeckoEmbedder.Builder} is the API.
 *
 * <p>Thread-safe. Owns the tokenizer, the session and the scheduler's threads.
 */
public final class OnnxEmbedder implements GeckoEmbedder {
  private static final System.Logger LOG = System.getLogger(OnnxEmbedder.class.getName());

  private final ModelPackage pkg;
  private final GeckoTokenizer tokenizer;
  private final InferenceSession session;
  private final BatchScheduler scheduler;
  private final int width;
  private final EmbedderSettings settings;
  private final CallGate gate = new CallGate();
  private final Stats stats;
  private final WorkspacePool workspaces = new WorkspacePool();
  /** Null when coalescing is off. */
  private final Coalescer coalescer;
  /** Runs coalesced batches of asynchronous calls; null when coalescing is off. */
  private final ThreadPoolExecutor coalescerThreads;
  /** Runs asynchronous calls that are not coalesced. */
  private final ThreadPoolExecutor asyncThreads;
  /** Completes the futures of asynchronous calls, off the batch runners; grows as callbacks block. */
  private final ThreadPoolExecutor callbacks = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
      new SynchronousQueue<>(), r -> new CallbackThread(this, r));
  private static final AtomicLong CALLBACK_IDS = new AtomicLong();

  /** A thread that completes this embedder's async futures (close() on it must not wait for itself). */
  private static final class CallbackThread extends Thread {
    final OnnxEmbedder owner;

    CallbackThread(OnnxEmbedder owner, Runnable r) {
      super(r, "gecko-callback-" + CALLBACK_IDS.incrementAndGet());
      this.owner = owner;
      setDaemon(true);
    }
  }

  private OnnxEmbedder(ModelPackage pkg, GeckoTokenizer tokenizer, InferenceSession session, Adapter adapter,
      EmbedderSettings settings, Stats stats) {
    this.pkg = pkg;
    this.stats = stats;
    this.tokenizer = tokenizer;
    this.session = session;
    this.width = session.width();
    this.settings = settings;
    this.scheduler = new BatchScheduler(tokenizer, session, adapter, settings, workspaces, stats);
    int runners = Math.max(1, settings.threads() / settings.intraOpThreads());
    this.asyncThreads = BatchScheduler.daemonPool(runners, "gecko-async-");
    if (settings.coalescing()) {
      this.coalescerThreads = BatchScheduler.daemonPool(runners, "gecko-coalesce-");
      this.coalescer = new Coalescer(tokenizer, session, adapter, settings, coalescerThreads, gate, workspaces, stats);
    } else {
      this.coalescerThreads = null;
      this.coalescer = null;
    }
  }

  /**
   * Opens a package.
   *
   * @throws ModelLoadException if it cannot be opened (the message names the model and file)
   * @throws IllegalArgumentException if the batch settings make batches too large for one buffer
   * @throws IllegalStateException if the JVM is shutting down
   */
  public static OnnxEmbedder open(ModelPackage pkg, EmbedderSettings settings) {
    return open(pkg, settings, new Stats());
  }

  /**
   * For tests: opens a package whose embedder counts into {@code stats} (a test's counters can
   * throw where a batch is counted); otherwise as {@link #open(ModelPackage, EmbedderSettings)}.
   */
  static OnnxEmbedder open(ModelPackage pkg, EmbedderSettings settings, Stats stats) {
    Objects.requireNonNull(pkg, "pkg is null");
    Objects.requireNonNull(settings, "settings is null");
    // The whole open is one native call for the shutdown gate: an exit waits for it to finish.
    OnnxEmbedder embedder;
    try (OrtRuntime.Call ignored = OrtRuntime.enter()) {
      embedder = openGated(pkg, settings, stats);
    }
    // a batch's padded tokens: at most the budget, or one text alone past it; at most maxBatchSize texts
    long maxCells = Math.min(Math.max(settings.maxBatchTokens(), pkg.maxTokens()),
        (long) settings.maxBatchSize() * pkg.maxTokens());
    long maxRows = Math.min(settings.maxBatchSize(), maxCells);
    String tooLarge = Workspace.tooLarge(maxCells, maxRows, embedder.width, embedder.session.firstTokenOnly(),
        pkg.pooling() == dev.gecko.core.Pooling.MEAN);
    if (tooLarge != null) { // the width is the graph's: known once it is open
      embedder.close();
      throw new IllegalArgumentException("maxBatchTokens " + settings.maxBatchTokens() + " and maxBatchSize "
          + settings.maxBatchSize() + " are too large for " + pkg.name() + ": " + tooLarge);
    }
    return embedder;
  }

  private static OnnxEmbedder openGated(ModelPackage pkg, EmbedderSettings settings, Stats stats) {
    long start = System.nanoTime();
    GeckoTokenizer tokenizer = null;
    InferenceSession session = null;
    // The tokenizer (its native library and JSON) loads on a helper thread while ONNX Runtime
    // loads and optimises the graph here: on two cores that takes about a quarter off the time
    // to the first vector.
    FutureTask<GeckoTokenizer> tokenizerLoad = new FutureTask<>(() -> {
      try (InputStream in = pkg.tokenizer().open()) {
        return GeckoTokenizer.builder()
            .tokenizerJson(in, pkg.tokenizer().toString())
            .maxLength(pkg.maxTokens())
            .build();
      }
    });
    Thread loader = new Thread(tokenizerLoad, "gecko-open-tokenizer");
    loader.setDaemon(true);
    loader.start();
    try {
      OrtEnvironment env = OrtRuntime.environment();
      // ONNX Runtime's telemetry events off. Not enough on its own: its Linux build's telemetry
      // client still resolves its collector's host name (a DNS query, seen under strace) unless
      // the process runs with ORT_DISABLE_TELEMETRY=1, which a library cannot set for its host
      // (the launcher, the build's test JVMs and CI set it; README "No network").
      env.setTelemetry(false);
      session = SessionLoader.open(env, pkg, settings);
      Adapter adapter = loadAdapter(pkg, session.width());
      tokenizer = awaitTokenizer(tokenizerLoad);
      OnnxEmbedder embedder = new OnnxEmbedder(pkg, tokenizer, session, adapter, settings, stats);
      LOG.log(System.Logger.Level.DEBUG, () -> String.format(java.util.Locale.ROOT,
          "opened %s (%d dims, %s pooling, %d threads, %d intra-op) in %d ms", pkg.name(), embedder.width,
          pkg.pooling(), settings.threads(), settings.intraOpThreads(), (System.nanoTime() - start) / 1_000_000));
      return embedder;
    } catch (IOException | OrtException | RuntimeException | Error e) { // LinkageError: native libraries
      if (session != null) {
        session.close();
      }
      if (tokenizer == null) {
        // it failed first, or ONNX Runtime did: wait for the tokenizer so that it can be freed too
        try {
          tokenizer = awaitTokenizer(tokenizerLoad);
        } catch (IOException | RuntimeException | Error second) {
          if (second != e) { // the tokenizer's own failure, reported first, comes back as itself
            e.addSuppressed(second); // the first failure is the one to report
          }
        }
      }
      if (tokenizer != null) {
        tokenizer.close();
      }
      if (e instanceof GeckoException || e instanceof IllegalStateException) {
        throw (RuntimeException) e;
      }
      if (e instanceof Error && !(e instanceof LinkageError)) {
        throw (Error) e; // out of memory, say: freed what was opened, and unchanged
      }
      throw new ModelLoadException("cannot open model " + pkg.name() + " (" + pkg.model() + "): " + e.getMessage(), e);
    }
  }

  private static Adapter loadAdapter(ModelPackage pkg, int width) throws IOException {
    if (pkg.adapter().isEmpty()) {
      return null;
    }
    ModelSource source = pkg.adapter().get();
    Adapter adapter;
    try (InputStream in = source.open()) {
      adapter = Adapter.read(in, source.toString());
    }
    if (adapter.dimensions() != width) {
      throw new ModelLoadException(source + ": the adapter maps " + adapter.dimensions()
          + " dimensions but the model outputs " + width);
    }
    return adapter;
  }

  /** Waits (uninterruptibly, so that nothing native is left behind) for the tokenizer's load. */
  private static GeckoTokenizer awaitTokenizer(FutureTask<GeckoTokenizer> load) throws IOException {
    try {
      return Futures.getUninterruptibly(load);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException) {
        throw (IOException) e.getCause();
      }
      throw Futures.unchecked(e, "loading the tokenizer");
    }
  }

  @Override
  public ModelPackage model() {
    return pkg;
  }

  @Override
  public int dimensions() {
    return width;
  }

  @Override
  public List<float[]> embedAll(List<String> texts, int dims) {
    Objects.requireNonNull(texts, "texts is null");
    List<EmbedRequest> requests = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      String text = texts.get(i);
      if (text == null) {
        throw new NullPointerException("texts[" + i + "] is null");
      }
      requests.add(EmbedRequest.of(text));
    }
    return embedRequests(requests, dims);
  }

  @Override
  public List<float[]> embedRequests(List<EmbedRequest> requests, int dims, ProgressListener progress) {
    Objects.requireNonNull(progress, "progress is null");
    List<String> rendered = render(requests, dims);
    gate.enterCall(); // on this thread: its listener may close the embedder
    try {
      stats.calls.increment();
      if (coalesces(rendered)) {
        progress.onProgress(BatchScheduler.report(0, rendered.size(), 0));
        List<Encoding> encodings = scheduler.encode(rendered);
        List<float[]> out = coalescer.embed(encodings, dims);
        long tokens = 0;
        for (Encoding e : encodings) {
          tokens += e.length();
        }
        progress.onProgress(BatchScheduler.report(rendered.size(), rendered.size(), tokens));
        return out;
      }
      return scheduler.embed(rendered, dims, progress);
    } finally {
      gate.exitCall();
    }
  }

  @Override
  public CompletableFuture<List<float[]>> embedRequestsAsync(List<EmbedRequest> requests, int dims) {
    List<String> rendered;
    try {
      rendered = render(requests, dims);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (!gate.tryEnter()) {
      return CompletableFuture.failedFuture(new IllegalStateException("embedder is closed"));
    }
    stats.calls.increment();
    CompletableFuture<List<float[]>> future;
    try {
      if (coalesces(rendered)) {
        future = coalescer.submit(scheduler.encode(rendered), dims);
      } else {
        CompletableFuture<List<float[]>> f = new CompletableFuture<>();
        asyncThreads.execute(() -> {
          // cancelled before it started: nothing runs; else the run holds the gate itself, so that a
          // cancel while it runs does not let close free what it uses
          if (f.isDone() || !gate.tryEnterForCallsInside()) {
            return;
          }
          try {
            f.complete(scheduler.embed(rendered, dims, ProgressListener.none()));
          } catch (RuntimeException | Error e) {
            f.completeExceptionally(e);
          } finally {
            gate.exit();
          }
        });
        future = f;
      }
    } catch (RuntimeException e) { // a null or too long text: this call's future fails, alone
      gate.exit();
      return CompletableFuture.failedFuture(e);
    } catch (Error e) { // out of memory, no thread: the gate is left all the same, or close() would hang
      gate.exit();
      throw e;
    }
    // The caller's future is another one, completed on a callback thread: the thread that completes
    // the internal future is a batch runner (a helper, or another caller running its batch), and a
    // callback run on it that calls the embedder (a nested embed, close()) would wait for itself.
    // The completion is handed over before the gate is left, so close() cannot stop the callback
    // threads under it. A call cancelled early leaves the gate at once (its texts are dropped from
    // the queue, and a helper that runs a batch holds the gate itself).
    CompletableFuture<List<float[]>> result = new CompletableFuture<>();
    future.whenComplete((v, e) -> {
      Runnable completion = () -> {
        if (e != null) {
          result.completeExceptionally(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
        } else {
          result.complete(v);
        }
      };
      try {
        callbacks.execute(completion);
      } catch (RejectedExecutionException | Error noThread) {
        completion.run(); // no callback thread could take it: completed here rather than never
      } finally {
        gate.exit();
      }
    });
    result.whenComplete((v, e) -> {
      if (!future.isDone()) {
        // cancelled, timed out (orTimeout) or completed by the caller: its texts leave the queue
        future.cancel(false);
      }
    });
    return result;
  }

  @Override
  public EmbedderMetrics metrics() {
    return stats.snapshot();
  }

  /** Whether a call of these texts goes through the coalescer: small calls, when coalescing is on. */
  private boolean coalesces(List<String> rendered) {
    return coalescer != null && !rendered.isEmpty() && rendered.size() <= settings.maxBatchSize();
  }

  /** Checks the arguments and renders the prompts. */
  private List<String> render(List<EmbedRequest> requests, int dims) {
    Objects.requireNonNull(requests, "requests is null");
    if (dims < 1 || dims > width) {
      throw new IllegalArgumentException("dims must be in [1, " + width + "] for " + pkg.name() + ", was " + dims);
    }
    List<String> rendered = new ArrayList<>(requests.size());
    for (int i = 0; i < requests.size(); i++) {
      EmbedRequest r = requests.get(i);
      if (r == null) {
        throw new NullPointerException("requests[" + i + "] is null");
      }
      rendered.add(pkg.render(r));
    }
    return rendered;
  }

  @Override
  public int countTokens(EmbedRequest request) {
    Objects.requireNonNull(request, "request is null");
    gate.enter();
    try {
      return tokenizer.countTokens(pkg.render(request));
    } finally {
      gate.exit();
    }
  }

  /**
   * Waits for every call accepted (synchronous and asynchronous) to finish, then frees the native
   * memory; later calls throw {@link IllegalStateException} (asynchronous ones fail their future).
   * Called from inside a synchronous call of this embedder (its progress listener), it does not
   * wait for that call: it refuses later calls and returns, and the last call to finish frees.
   */
  @Override
  public void close() {
    if (!gate.close(this::release)) {
      return; // from inside a call of this embedder: the last call out frees everything
    }
    // The futures of accepted asynchronous calls are completed on the callback threads, handed over
    // before their calls left the gate: wait for them too, unless this is such a thread, which would
    // wait for itself.
    if (!(Thread.currentThread() instanceof CallbackThread t && t.owner == this)) {
      boolean interrupted = false;
      while (!callbacks.isTerminated()) {
        try {
          callbacks.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void release() {
    callbacks.shutdown(); // completions already handed over still run
    scheduler.shutdown();
    asyncThreads.shutdownNow();
    if (coalescerThreads != null) {
      coalescerThreads.shutdownNow();
    }
    workspaces.clear();
    tokenizer.close();
    session.close();
  }

  @Override
  public String toString() {
    return "GeckoEmbedder[" + pkg.name() + ", " + width + " dims" + (gate.isClosed() ? ", closed" : "") + "]";
  }
}
