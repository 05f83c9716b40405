package dev.gecko.core;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.gecko.core.adapter.Adapter;
import dev.gecko.core.onnx.ModelRewriter;
import dev.gecko.core.onnx.PositionTable;
import dev.gecko.core.vector.VectorOps;
import dev.gecko.tokenizer.Encoding;
import dev.gecko.tokenizer.GeckoTokenizer;
import dev.gecko.tokenizer.TokenizedBatch;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/** The ONNX Runtime implementation of {@link GeckoEmbedder}. */
final class OnnxEmbedder implements GeckoEmbedder {
  private static final System.Logger LOG = System.getLogger(OnnxEmbedder.class.getName());
  private static final String INPUT_IDS = "input_ids";
  private static final String ATTENTION_MASK = "attention_mask";
  private static final String TOKEN_TYPE_IDS = "token_type_ids";
  private static final List<String> OUTPUT_NAMES = List.of("last_hidden_state", "token_embeddings");
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
  /** Models larger than this load as shipped: one Java array holds at most 2 GB. */
  private static final long MAX_FUSED_MODEL_BYTES = Integer.MAX_VALUE - 64;
  /** Workspaces (reusable native buffers) kept between calls; more concurrent batches make their own. */
  private static final int KEPT_WORKSPACES = 2 * Math.max(2, Runtime.getRuntime().availableProcessors());
  private static final AtomicInteger THREAD_IDS = new AtomicInteger();

  private final ModelPackage pkg;
  private final GeckoTokenizer tokenizer;
  private final OrtEnvironment env;
  private final OrtSession.SessionOptions options;
  private final OrtSession session;
  private final String outputName;
  private final boolean takesTokenTypes;
  private final int width;
  private final int maxBatchTokens;
  private final int maxBatchSize;
  private final boolean failOnTruncation;
  private final boolean batchIndependent;
  /** Applied to each pooled vector before truncation and normalisation; null for none. */
  private final Adapter adapter;
  /** Whether the graph outputs each text's first token only ({@code [rows, 1, width]}). */
  private final boolean firstTokenOnly;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final ConcurrentLinkedDeque<Workspace> workspaces = new ConcurrentLinkedDeque<>();
  /** Tokenises the next window while the current one runs; threads end after 30 s idle. */
  private final ThreadPoolExecutor tokenizerThreads;
  /** Batches of one call that run at a time (caller's thread included). */
  private final int parallelBatches;
  /** Threads a call may use: how many pieces the first window's tokenisation is cut into. */
  private final int callThreads;
  /** Runs a call's further batches beside the caller's thread; null when batches run one at a time. */
  private final ThreadPoolExecutor inferenceThreads;
  private volatile boolean closed;

  private OnnxEmbedder(
      ModelPackage pkg,
      GeckoTokenizer tokenizer,
      OrtEnvironment env,
      OrtSession.SessionOptions options,
      OrtSession session,
      String outputName,
      boolean takesTokenTypes,
      int width,
      Adapter adapter,
      boolean firstTokenOnly,
      Builder b) {
    this.pkg = pkg;
    this.tokenizer = tokenizer;
    this.env = env;
    this.options = options;
    this.session = session;
    this.outputName = outputName;
    this.takesTokenTypes = takesTokenTypes;
    this.width = width;
    this.adapter = adapter;
    this.firstTokenOnly = firstTokenOnly;
    this.maxBatchTokens = b.maxBatchTokens;
    this.maxBatchSize = b.maxBatchSize;
    this.failOnTruncation = b.failOnTruncation;
    this.batchIndependent = b.batchIndependent;
    this.tokenizerThreads = daemonPool(Math.max(1, Runtime.getRuntime().availableProcessors()), "gecko-tokenize-");
    this.parallelBatches = Math.max(1, b.threads / b.intraOpThreads);
    this.callThreads = Math.max(1, b.threads);
    this.inferenceThreads = parallelBatches > 1 ? daemonPool(parallelBatches - 1, "gecko-infer-") : null;
  }

  /** A fixed pool of daemon threads that end after 30 s idle. */
  private static ThreadPoolExecutor daemonPool(int threads, String namePrefix) {
    ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
        r -> {
          Thread t = new Thread(r, namePrefix + THREAD_IDS.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  /** A session, and whether its graph's output holds the first token of each text only. */
  private static final class Loaded {
    final OrtSession session;
    final boolean firstTokenOnly;

    Loaded(OrtSession session, boolean firstTokenOnly) {
      this.session = session;
      this.firstTokenOnly = firstTokenOnly;
    }
  }

  /**
   * Creates the session on the graph rewritten by {@link ModelRewriter} as asked: residual blocks
   * fused into {@code SkipLayerNormalization}, and the last layer computed for the first token
   * only (then checked on a small input). Whenever a rewrite does not apply (no match, weights in
   * external files, a graph it cannot read, a file too large for one array), ONNX Runtime refuses
   * the rewritten graph, or the first-token graph fails its check, the model loads as it would
   * without that rewrite: in the end as shipped, from its path when it has one (so external-data
   * files resolve), else from its bytes. Each fallback other than "no match" is logged as a
   * warning.
   *
   * <p>A rewritten graph of a model in a jar (the built-in ones) that loaded and passed its check
   * is kept in the {@link ResourceCache}, named by the model's CRC, the rewrites asked for and
   * {@link ModelRewriter#codeFingerprint()}: later JVMs hand ONNX Runtime that file's path, which
   * skips inflating, rewriting and copying the graph through the Java heap (about 0.4 s of the 0.8
   * s these steps take for the default model).
   *
   * <p>Before any session is created, the package's maximum tokens are checked against the
   * positions the graph embeds ({@link #checkMaxTokens}): for a built-in graph against its known
   * table (nothing read), else on the graph the rewrite parses anyway, or, when no rewrite runs,
   * on the model file read for this alone. Not checked: a graph too large for one array, a
   * classpath model that is not built in when no rewrite reads its graph (rewrites off, or its
   * rewritten graph cached), and a graph with no recognisable table.
   */
  private static Loaded createSession(OrtEnvironment env, ModelPackage pkg, OrtSession.SessionOptions options,
      boolean fuse, boolean firstTokenOnly) throws IOException, OrtException {
    Optional<Path> path = pkg.model().path();
    OptionalInt builtInPositions = BuiltInModels.positions(pkg.model());
    if (builtInPositions.isPresent()) {
      checkMaxTokens(pkg, builtInPositions.getAsInt(), "its built-in position table");
    }
    boolean checked = builtInPositions.isPresent();
    boolean tooLarge = path.isPresent() && Files.size(path.get()) > MAX_FUSED_MODEL_BYTES;
    if ((fuse || firstTokenOnly) && !tooLarge) {
      Optional<ResourceCache.Derived> cache = rewrittenGraphCache(pkg, fuse, firstTokenOnly);
      Optional<Path> cached = cache.flatMap(ResourceCache.Derived::find);
      if (cached.isPresent()) {
        try {
          OrtSession session = env.createSession(cached.get().toString(), options);
          // only graphs that passed the check below are stored, so three positions out mean a
          // last layer left whole (no match); anything but one or three is not used
          int out = outputTokens(env, session);
          if (out == 3 || (out == 1 && firstTokenOnly)) {
            return new Loaded(session, out == 1);
          }
          session.close();
          LOG.log(System.Logger.Level.WARNING, () -> pkg.name() + ": the cached rewritten graph " + cached.get()
              + " failed its check; rewriting it again");
        } catch (OrtException e) {
          LOG.log(System.Logger.Level.WARNING, () -> pkg.name() + ": ONNX Runtime refused the cached rewritten graph "
              + cached.get() + " (" + e.getMessage() + "); rewriting it again");
        }
      }
      byte[] bytes = pkg.model().readAllBytes();
      ModelRewriter.Result rewritten = null;
      try {
        rewritten = ModelRewriter.rewrite(bytes, fuse, firstTokenOnly); // in place: no second copy
      } catch (IllegalArgumentException e) {
        LOG.log(System.Logger.Level.WARNING, () -> pkg.model() + ": graph not rewritten (" + e.getMessage()
            + "); loading it as shipped");
      }
      checked = true; // a graph the rewriter cannot parse is left to ONNX Runtime
      if (rewritten != null && builtInPositions.isEmpty()) {
        rewritten.positionTable().ifPresent(t -> checkMaxTokens(pkg, t.positions(), "its position table " + t.name()));
      }
      if (rewritten != null && rewritten.changed()) {
        OrtSession session = null;
        try {
          session = env.createSession(rewritten.model(), options);
          if (!rewritten.firstTokenOnly() || outputTokens(env, session) == 1) {
            ModelRewriter.Result r = rewritten;
            LOG.log(System.Logger.Level.DEBUG, () -> pkg.name() + ": " + r.fusedBlocks()
                + " residual blocks run as SkipLayerNormalization; last layer for the first token only: "
                + r.firstTokenOnly());
            cache.ifPresent(c -> c.store(r.model()));
            return new Loaded(session, rewritten.firstTokenOnly());
          }
          session.close();
          LOG.log(System.Logger.Level.WARNING, () -> pkg.name() + ": the graph with its last layer cut to the first"
              + " token failed its check; running the last layer whole");
          return createSession(env, pkg, options, fuse, false);
        } catch (OrtException e) {
          closeQuietly(session);
          LOG.log(System.Logger.Level.WARNING, () -> pkg.name() + ": ONNX Runtime refused the rewritten graph ("
              + e.getMessage() + "); loading it " + (firstTokenOnly && fuse ? "with fused layer norms only" : "as shipped"));
          if (firstTokenOnly && fuse) {
            return createSession(env, pkg, options, true, false);
          }
        }
      } else if (rewritten != null && path.isEmpty()) {
        return new Loaded(env.createSession(bytes, options), false); // untouched: no need to read it twice
      }
    }
    if (!checked && path.isPresent() && !tooLarge) {
      // no rewrite asked for: the graph is read for the check alone (folder models only)
      try {
        PositionTable.find(Files.readAllBytes(path.get()))
            .ifPresent(t -> checkMaxTokens(pkg, t.positions(), "its position table " + t.name()));
      } catch (IllegalArgumentException e) {
        // not a graph this reader understands: ONNX Runtime will say what is wrong with it
      }
    }
    if (path.isEmpty()) { // a resource: from a copy in the cache where there is one
      Optional<java.net.URL> url = pkg.model().resourceUrl();
      path = url.flatMap(u -> ResourceCache.configured().flatMap(cache -> cache.file(u)));
    }
    return new Loaded(path.isPresent()
        ? env.createSession(path.get().toString(), options)
        : env.createSession(pkg.model().readAllBytes(), options), false);
  }

  /**
   * Refuses a package whose maximum tokens exceed the positions its graph embeds: such a text
   * would fail inside ONNX Runtime at run time (a shape mismatch in the embedding layer).
   *
   * @throws IllegalStateException naming where the maximum was set, its value, the graph and the
   *     table's size
   */
  private static void checkMaxTokens(ModelPackage pkg, long positions, String table) {
    if (pkg.maxTokens() > positions) {
      throw new IllegalStateException(pkg.maxTokensSource() + " is " + pkg.maxTokens() + ", but the graph "
          + pkg.model() + " embeds at most " + positions + " positions (" + table + "); set it to " + positions
          + " or less");
    }
  }

  /** Where a rewritten graph of a model in a jar is kept; empty when there is nowhere to keep it. */
  private static Optional<ResourceCache.Derived> rewrittenGraphCache(ModelPackage pkg, boolean fuse, boolean first) {
    Optional<String> code = ModelRewriter.codeFingerprint();
    Optional<java.net.URL> url = pkg.model().resourceUrl();
    Optional<ResourceCache> cache = ResourceCache.configured();
    if (code.isEmpty() || url.isEmpty() || cache.isEmpty()) {
      return Optional.empty();
    }
    return cache.get().derived(url.get(), fuse ? first ? "fused-first" : "fused" : "first", code.get());
  }

  /**
   * How many positions the session's output has for one text of three tokens (the output must
   * be {@code [1, positions, width]}), or -1 where it cannot run it or the shape is otherwise. A
   * graph whose last layer computes the first token only must give 1.
   */
  private static int outputTokens(OrtEnvironment env, OrtSession session) {
    Map<String, OnnxTensor> inputs = new HashMap<>();
    try {
      for (String name : session.getInputNames()) {
        long[][] value = new long[1][3];
        if (name.equals(ATTENTION_MASK)) {
          Arrays.fill(value[0], 1);
        }
        inputs.put(name, OnnxTensor.createTensor(env, value));
      }
      Optional<String> output = OUTPUT_NAMES.stream().filter(session.getOutputNames()::contains).findFirst();
      if (output.isEmpty()) {
        return -1;
      }
      try (OrtSession.Result r = session.run(inputs, Set.of(output.get()))) {
        long[] shape = ((TensorInfo) r.get(0).getInfo()).getShape();
        return shape.length == 3 && shape[0] == 1 && shape[1] >= 1 && shape[1] <= 3 ? (int) shape[1] : -1;
      }
    } catch (OrtException | RuntimeException e) {
      return -1;
    } finally {
      for (OnnxTensor t : inputs.values()) {
        t.close();
      }
    }
  }

  static OnnxEmbedder open(ModelPackage pkg, Builder b) {
    // The whole open is one native call for the shutdown gate: an exit waits for it to finish.
    try (OrtRuntime.Call ignored = OrtRuntime.enter()) {
      return openGated(pkg, b);
    }
  }

  private static OnnxEmbedder openGated(ModelPackage pkg, Builder b) {
    long start = System.nanoTime();
    GeckoTokenizer tokenizer = null;
    OrtSession.SessionOptions options = null;
    OrtSession session = null;
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
      options = new OrtSession.SessionOptions();
      options.setIntraOpNumThreads(b.intraOpThreads);
      options.setInterOpNumThreads(1);
      options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      // Shapes change with every batch: cached memory patterns would only grow memory.
      options.setMemoryPatternOptimization(false);
      // Chosen by measurement (docs/performance.md): the CPU arena stays on (without it every
      // run maps and zeroes fresh pages: half the speed); intra-op threads do not spin while
      // waiting (spinning threads that share cores with other work, or with each other's
      // callers, burn the slices the working thread needs: 2.9x slower under load).
      options.setCPUArenaAllocator(true);
      options.addConfigEntry("session.intra_op.allow_spinning", "0");
      // ONNX Runtime's own warnings go to the process's stderr from native code, bypassing the
      // application's logging; errors still surface as OrtExceptions. (Two native crashes seen
      // under heavy load were inside ONNX Runtime's log-sink call during run(): this also keeps
      // that path cold.)
      options.setSessionLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
      Loaded loaded = createSession(env, pkg, options, b.fuseLayerNorm, b.firstTokenOnly && pkg.pooling() == Pooling.CLS);
      session = loaded.session;
      Set<String> inputs = session.getInputNames();
      if (!inputs.contains(INPUT_IDS) || !inputs.contains(ATTENTION_MASK)) {
        throw new IllegalStateException(pkg.model() + ": the graph's inputs " + inputs + " lack input_ids or attention_mask");
      }
      for (String input : inputs) {
        if (!input.equals(INPUT_IDS) && !input.equals(ATTENTION_MASK) && !input.equals(TOKEN_TYPE_IDS)) {
          throw new IllegalStateException(pkg.model() + ": unsupported graph input '" + input + "'");
        }
      }
      Map<String, NodeInfo> outputs = session.getOutputInfo();
      String outputName = OUTPUT_NAMES.stream().filter(outputs::containsKey).findFirst()
          .orElseThrow(() -> new IllegalStateException(pkg.model() + ": the graph has no output named "
              + OUTPUT_NAMES + "; its outputs are " + outputs.keySet()));
      long[] shape = ((TensorInfo) outputs.get(outputName).getInfo()).getShape();
      int width = shape.length == 3 && shape[2] > 0 ? (int) shape[2] : pkg.dimensions();
      if (width <= 0) {
        throw new IllegalStateException(pkg.model() + ": cannot tell the hidden width from output shape "
            + Arrays.toString(shape) + " and the package declares none");
      }
      if (pkg.dimensions() > 0 && pkg.dimensions() != width) {
        throw new IllegalStateException(pkg.name() + ": package declares " + pkg.dimensions()
            + " dimensions but the graph outputs " + width);
      }
      Adapter adapter = loadAdapter(pkg, width);
      tokenizer = awaitTokenizer(tokenizerLoad);
      OnnxEmbedder embedder = new OnnxEmbedder(
          pkg, tokenizer, env, options, session, outputName, inputs.contains(TOKEN_TYPE_IDS), width, adapter,
          loaded.firstTokenOnly, b);
      LOG.log(System.Logger.Level.DEBUG, () -> String.format(
          "opened %s (%d dims, %s pooling, %d threads, %d intra-op) in %d ms", pkg.name(), width, pkg.pooling(),
          b.threads, b.intraOpThreads, (System.nanoTime() - start) / 1_000_000));
      return embedder;
    } catch (IOException | OrtException | RuntimeException | LinkageError e) { // LinkageError: native libraries
      closeQuietly(session);
      if (options != null) {
        options.close();
      }
      if (tokenizer == null) {
        // ONNX Runtime failed first: wait for the tokenizer so that it can be freed too
        try {
          tokenizer = awaitTokenizer(tokenizerLoad);
        } catch (IOException | RuntimeException ignored) {
          // the first failure is the one to report
        }
      }
      if (tokenizer != null) {
        tokenizer.close();
      }
      if (e instanceof IllegalStateException) {
        throw (IllegalStateException) e;
      }
      throw new IllegalStateException("cannot open model " + pkg.name() + " (" + pkg.model() + "): " + e.getMessage(), e);
    }
  }

  /** Waits (uninterruptibly, so that nothing native is left behind) for the tokenizer's load. */
  private static GeckoTokenizer awaitTokenizer(FutureTask<GeckoTokenizer> load) throws IOException {
    try {
      return getUninterruptibly(load);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException) {
        throw (IOException) e.getCause();
      }
      throw unchecked(e, "loading the tokenizer");
    }
  }

  /**
   * Waits for a task without giving up on interrupts (work of a call must not outlive it); an
   * interrupt that arrived meanwhile is restored for the caller.
   */
  private static <T> T getUninterruptibly(Future<T> future) throws ExecutionException {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return future.get();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
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
  public List<float[]> embedRequests(List<EmbedRequest> requests, int dims) {
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
    ReentrantReadWriteLock.ReadLock read = acquire();
    try {
      return embedOpen(rendered, dims);
    } finally {
      read.unlock();
    }
  }

  @Override
  public int countTokens(EmbedRequest request) {
    Objects.requireNonNull(request, "request is null");
    ReentrantReadWriteLock.ReadLock read = acquire();
    try {
      return tokenizer.countTokens(pkg.render(request));
    } finally {
      read.unlock();
    }
  }

  private List<float[]> embedOpen(List<String> texts, int dims) {
    int n = texts.size();
    float[][] out = new float[n][];
    if (n == 0) {
      return Arrays.asList(out);
    }
    int windows = (n + WINDOW - 1) / WINDOW;
    int size = (n + windows - 1) / windows;
    Workspace ws = takeWorkspace();
    Future<List<Encoding>> next = null;
    try {
      List<Encoding> current = encodeFirstWindow(texts, Math.min(size, n));
      for (int from = 0; from < n; from += size) {
        int nextFrom = from + size;
        if (nextFrom < n) {
          int nextTo = Math.min(nextFrom + size, n);
          next = tokenizerThreads.submit(() -> encodeWindow(texts, nextFrom, nextTo));
        }
        embedWindow(current, from, dims, out, ws);
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
          getUninterruptibly(next);
        } catch (ExecutionException ignored) {
          // the inference error is the one to report
        }
      }
      giveBack(ws);
    }
    return Arrays.asList(out);
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
        List<Encoding> encodings = getUninterruptibly(piece);
        if (failure == null) {
          all.addAll(encodings);
        }
      } catch (ExecutionException e) {
        if (failure == null) {
          failure = e.getCause() instanceof Error ? e.getCause() : unchecked(e, "tokenising");
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
    if (failOnTruncation) {
      for (int i = 0; i < encodings.size(); i++) {
        Encoding e = encodings.get(i);
        if (e.truncated()) {
          throw new InputTooLongException(from + i, e.originalLength(), tokenizer.maxLength());
        }
      }
    }
    return encodings;
  }

  private static List<Encoding> join(Future<List<Encoding>> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while tokenising", e);
    } catch (ExecutionException e) {
      throw unchecked(e, "tokenising");
    }
  }

  /** The task's own unchecked exception or error, else the checked cause wrapped. */
  private static RuntimeException unchecked(ExecutionException e, String what) {
    Throwable cause = e.getCause();
    if (cause instanceof Error) {
      throw (Error) cause;
    }
    if (cause instanceof RuntimeException) {
      return (RuntimeException) cause;
    }
    return new IllegalStateException(what + " failed: " + cause, cause);
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
      inferenceThreads.execute(() -> {
        if (!job.enter()) {
          return; // the caller already finished the window: nothing left to do
        }
        Workspace own = takeWorkspace();
        try {
          job.runBatches(own);
        } catch (RuntimeException | Error e) {
          job.fail(e);
        } finally {
          giveBack(own);
          job.exit();
        }
      });
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

  /**
   * One window's batches, taken one at a time by whichever thread is free, and the count of
   * helper threads working on them.
   */
  private final class BatchRun {
    private final List<int[]> batches;
    private final List<Encoding> encodings;
    private final Integer[] order;
    private final int offset;
    private final int dims;
    private final float[][] out;
    private final AtomicInteger next = new AtomicInteger();
    private int helpersRunning; // guarded by this
    private boolean sealed; // guarded by this
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
    synchronized boolean enter() {
      if (sealed) {
        return false;
      }
      helpersRunning++;
      return true;
    }

    synchronized void exit() {
      helpersRunning--;
      notifyAll();
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
    synchronized void sealAndAwait() {
      sealed = true;
      boolean interrupted = false;
      while (helpersRunning > 0) {
        try {
          wait();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
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
      float[] pooled = run(batch, ws);
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

  private static Adapter loadAdapter(ModelPackage pkg, int width) throws IOException {
    if (pkg.adapter().isEmpty()) {
      return null;
    }
    ModelPackage.Source source = pkg.adapter().get();
    Adapter adapter;
    try (InputStream in = source.open()) {
      adapter = Adapter.read(in, source.toString());
    }
    if (adapter.dimensions() != width) {
      throw new IllegalStateException(source + ": the adapter maps " + adapter.dimensions()
          + " dimensions but the model outputs " + width);
    }
    return adapter;
  }

  /**
   * Runs one batch and returns its pooled, unnormalised vectors as a flat [rows, width] array.
   * Inputs and the output live in the workspace's native buffers (no per-batch tensor copies).
   */
  private float[] run(List<Encoding> rows, Workspace ws) {
    TokenizedBatch batch = GeckoTokenizer.pad(rows, tokenizer.padId());
    long[] shape = batch.shape();
    int tokens = batch.sequenceLength();
    int cells = batch.rows() * tokens;
    int outputTokens = firstTokenOnly ? 1 : tokens;
    ws.ensure(cells, batch.rows() * outputTokens, width, pkg.pooling() == Pooling.MEAN);
    Map<String, OnnxTensor> inputs = new HashMap<>();
    OnnxTensor output = null;
    OrtRuntime.Call call = OrtRuntime.enter(); // tensors are created, run and freed inside the gate
    try {
      inputs.put(INPUT_IDS, OnnxTensor.createTensor(env, ws.fill(ws.ids, batch.inputIds(), cells), shape));
      inputs.put(ATTENTION_MASK, OnnxTensor.createTensor(env, ws.fill(ws.mask, batch.attentionMask(), cells), shape));
      if (takesTokenTypes) {
        inputs.put(TOKEN_TYPE_IDS, OnnxTensor.createTensor(env, ws.fill(ws.types, batch.tokenTypeIds(), cells), shape));
      }
      FloatBuffer hidden = ws.hidden.duplicate().clear().limit(batch.rows() * outputTokens * width);
      output = OnnxTensor.createTensor(env, hidden, new long[] {batch.rows(), outputTokens, width});
      session.run(inputs, Map.of(outputName, output)).close();
      return pool(hidden, batch, ws);
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime failed on a batch of " + batch.rows() + " x "
          + batch.sequenceLength() + " tokens: " + e.getMessage(), e);
    } finally {
      for (OnnxTensor t : inputs.values()) {
        t.close();
      }
      if (output != null) {
        output.close();
      }
      call.close();
    }
  }

  /**
   * Pools {@code [rows, tokens, width]} hidden states (or {@code [rows, 1, width]} from a
   * first-token-only graph) straight from the output buffer.
   */
  private float[] pool(FloatBuffer hidden, TokenizedBatch batch, Workspace ws) {
    int rows = batch.rows();
    int tokens = batch.sequenceLength();
    float[] pooled = new float[rows * width];
    if (pkg.pooling() == Pooling.CLS) {
      int stride = firstTokenOnly ? width : tokens * width;
      for (int r = 0; r < rows; r++) {
        hidden.get(r * stride, pooled, r * width, width);
      }
      return pooled;
    }
    // Mean over the attention mask with the VectorOps kernel (SIMD when enabled), on heap copies
    // kept in the workspace: one bulk copy out of the native output buffer.
    int cells = rows * tokens;
    hidden.get(0, ws.hiddenHeap, 0, cells * width);
    batch.attentionMask().get(ws.maskHeap, 0, cells);
    VectorOps.meanPoolInto(ws.hiddenHeap, ws.maskHeap, rows, tokens, width, pooled);
    return pooled;
  }

  private Workspace takeWorkspace() {
    Workspace ws = workspaces.pollFirst();
    return ws != null ? ws : new Workspace();
  }

  private void giveBack(Workspace ws) {
    if (workspaces.size() < KEPT_WORKSPACES) {
      workspaces.offerFirst(ws);
    }
  }

  /**
   * Native (direct) buffers for one call's tensors, grown to the largest batch seen and reused:
   * ONNX Runtime reads inputs from and writes the output into them without copies. Used by one
   * thread at a time.
   */
  private static final class Workspace {
    LongBuffer ids = LongBuffer.allocate(0);
    LongBuffer mask = LongBuffer.allocate(0);
    LongBuffer types = LongBuffer.allocate(0);
    FloatBuffer hidden = FloatBuffer.allocate(0);
    /** Heap copies of the output and the mask for mean pooling (unused for CLS pooling). */
    float[] hiddenHeap = new float[0];
    long[] maskHeap = new long[0];

    /** Grows the buffers for {@code cells} input tokens and {@code outputCells} output rows. */
    void ensure(int cells, int outputCells, int width, boolean meanPooling) {
      if (ids.capacity() < cells) {
        int grown = Math.max(cells, ids.capacity() + ids.capacity() / 2);
        ids = longs(grown);
        mask = longs(grown);
        types = longs(grown);
      }
      int floats = ids.capacity() * width;
      if (hidden.capacity() < outputCells * width) {
        int grown = Math.max(outputCells, hidden.capacity() / width + hidden.capacity() / width / 2) * width;
        hidden = ByteBuffer.allocateDirect(grown * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
      }
      if (meanPooling && hiddenHeap.length < cells * width) {
        hiddenHeap = new float[floats];
        maskHeap = new long[ids.capacity()];
      }
    }

    LongBuffer fill(LongBuffer target, LongBuffer source, int cells) {
      LongBuffer view = target.duplicate().clear();
      view.put(source);
      return view.flip().limit(cells);
    }

    private static LongBuffer longs(int n) {
      return ByteBuffer.allocateDirect(n * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
    }
  }

  private ReentrantReadWriteLock.ReadLock acquire() {
    ReentrantReadWriteLock.ReadLock read = lock.readLock();
    read.lock();
    if (closed) {
      read.unlock();
      throw new IllegalStateException("embedder is closed");
    }
    return read;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    lock.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      tokenizerThreads.shutdownNow();
      if (inferenceThreads != null) {
        inferenceThreads.shutdownNow();
      }
      workspaces.clear();
      tokenizer.close();
      if (OrtRuntime.shuttingDown()) {
        return; // the process is ending: its native memory goes with it, and ONNX Runtime's gate is shut
      }
      try (OrtRuntime.Call ignored = OrtRuntime.enter()) {
        closeQuietly(session);
        options.close();
      } catch (IllegalStateException shuttingDown) {
        // lost the race with the JVM's shutdown: as above
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  private static void closeQuietly(OrtSession session) {
    if (session == null) {
      return;
    }
    try {
      session.close();
    } catch (OrtException e) {
      LOG.log(System.Logger.Level.WARNING, "closing the ONNX Runtime session failed", e);
    }
  }

  @Override
  public String toString() {
    return "GeckoEmbedder[" + pkg.name() + ", " + width + " dims" + (closed ? ", closed" : "") + "]";
  }
}
