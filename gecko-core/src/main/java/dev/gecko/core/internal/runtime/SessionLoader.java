package dev.gecko.core.internal.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.gecko.core.ModelLoadException;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.Pooling;
import dev.gecko.core.internal.cache.ResourceCache;
import dev.gecko.core.internal.model.BuiltInModels;
import dev.gecko.core.internal.onnx.ModelRewriter;
import dev.gecko.core.internal.onnx.PositionTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Opens a model package's ONNX Runtime session: the session options chosen by measurement, the
 * graph rewrites asked for with their fallbacks, the rewritten-graph cache, the maximum-tokens
 * check against the graph's position table, and the checks on the graph's inputs and output.
 * Internal. Stateless and thread-safe; the caller runs it inside the shutdown gate.
 */
final class SessionLoader {
  private static final System.Logger LOG = System.getLogger(SessionLoader.class.getName());
  static final String INPUT_IDS = "input_ids";
  static final String ATTENTION_MASK = "attention_mask";
  static final String TOKEN_TYPE_IDS = "token_type_ids";
  private static final List<String> OUTPUT_NAMES = List.of("last_hidden_state", "token_embeddings");
  /** Models larger than this load as shipped: one Java array holds at most 2 GB. */
  private static final long MAX_FUSED_MODEL_BYTES = Integer.MAX_VALUE - 64;

  private SessionLoader() {}

  /** A session, and whether its graph's output holds the first token of each text only. */
  static final class Loaded {
    final OrtSession session;
    final boolean firstTokenOnly;

    Loaded(OrtSession session, boolean firstTokenOnly) {
      this.session = session;
      this.firstTokenOnly = firstTokenOnly;
    }
  }

  /** The options every session gets. The caller closes them (after the session). */
  private static OrtSession.SessionOptions options(int intraOpThreads) throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    try {
      options.setIntraOpNumThreads(intraOpThreads);
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
      return options;
    } catch (OrtException | RuntimeException e) {
      options.close();
      throw e;
    }
  }

  /**
   * Opens {@code pkg} and returns its session, checked against the package.
   *
   * @throws ModelLoadException if the graph does not fit the package (inputs, output, width,
   *     position table)
   * @throws IOException if the model cannot be read
   * @throws OrtException if ONNX Runtime refuses the graph
   */
  static InferenceSession open(OrtEnvironment env, ModelPackage pkg, EmbedderSettings settings)
      throws IOException, OrtException {
    OrtSession.SessionOptions options = options(settings.intraOpThreads());
    OrtSession session = null;
    try {
      Loaded loaded = createSession(env, pkg, options, settings.fuseLayerNorm(),
          settings.firstTokenOnly() && pkg.pooling() == Pooling.CLS);
      session = loaded.session;
      Set<String> inputs = session.getInputNames();
      if (!inputs.contains(INPUT_IDS) || !inputs.contains(ATTENTION_MASK)) {
        throw new ModelLoadException(pkg.model() + ": the graph's inputs " + inputs + " lack input_ids or attention_mask");
      }
      for (String input : inputs) {
        if (!input.equals(INPUT_IDS) && !input.equals(ATTENTION_MASK) && !input.equals(TOKEN_TYPE_IDS)) {
          throw new ModelLoadException(pkg.model() + ": unsupported graph input '" + input + "'");
        }
      }
      Map<String, NodeInfo> outputs = session.getOutputInfo();
      String outputName = OUTPUT_NAMES.stream().filter(outputs::containsKey).findFirst()
          .orElseThrow(() -> new ModelLoadException(pkg.model() + ": the graph has no output named "
              + OUTPUT_NAMES + "; its outputs are " + outputs.keySet()));
      long[] shape = ((TensorInfo) outputs.get(outputName).getInfo()).getShape();
      int width = shape.length == 3 && shape[2] > 0 ? (int) shape[2] : pkg.dimensions();
      if (width <= 0) {
        throw new ModelLoadException(pkg.model() + ": cannot tell the hidden width from output shape "
            + Arrays.toString(shape) + " and the package declares none");
      }
      if (pkg.dimensions() > 0 && pkg.dimensions() != width) {
        throw new ModelLoadException(pkg.name() + ": package declares " + pkg.dimensions()
            + " dimensions but the graph outputs " + width);
      }
      for (int d : pkg.matryoshkaDims()) { // checked by the package's builder only where it declares its width
        if (d > width) {
          throw new ModelLoadException(pkg.name() + ": package declares Matryoshka width " + d
              + " but the graph outputs " + width);
        }
      }
      return new InferenceSession(env, options, session, outputName, inputs.contains(TOKEN_TYPE_IDS), width,
          loaded.firstTokenOnly, pkg.pooling());
    } catch (IOException | OrtException | RuntimeException | Error e) {
      closeQuietly(session);
      options.close();
      throw e;
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
  static Loaded createSession(OrtEnvironment env, ModelPackage pkg, OrtSession.SessionOptions options,
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
        OrtSession session = null;
        try {
          session = env.createSession(cached.get().toString(), options);
          // only graphs that passed the check below are stored, so three positions out mean a
          // last layer left whole (no match); anything but one or three is not used
          int out = outputTokens(env, session);
          if (out == 3 || (out == 1 && firstTokenOnly)) {
            return new Loaded(session, out == 1);
          }
          OrtSession failed = session;
          session = null;
          failed.close();
          LOG.log(System.Logger.Level.WARNING, () -> pkg.name() + ": the cached rewritten graph " + cached.get()
              + " failed its check; rewriting it again");
        } catch (OrtException e) {
          closeQuietly(session); // the check's run failed: the session it ran on is not kept
          LOG.log(System.Logger.Level.WARNING, () -> pkg.name() + ": ONNX Runtime refused the cached rewritten graph "
              + cached.get() + " (" + e.getMessage() + "); rewriting it again");
        } catch (RuntimeException | Error e) { // out of memory, say: nothing opened here is left open
          closeQuietly(session);
          throw e;
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
          OrtSession failed = session;
          session = null;
          failed.close();
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
        } catch (RuntimeException | Error e) { // out of memory, say: nothing opened here is left open
          closeQuietly(session);
          throw e;
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
   * @throws ModelLoadException naming where the maximum was set, its value, the graph and the
   *     table's size
   */
  private static void checkMaxTokens(ModelPackage pkg, long positions, String table) {
    if (pkg.maxTokens() > positions) {
      throw new ModelLoadException(pkg.maxTokensOrigin() + " is " + pkg.maxTokens() + ", but the graph "
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

  static void closeQuietly(OrtSession session) {
    if (session == null) {
      return;
    }
    try {
      session.close();
    } catch (OrtException e) {
      LOG.log(System.Logger.Level.WARNING, "closing the ONNX Runtime session failed", e);
    }
  }
}
