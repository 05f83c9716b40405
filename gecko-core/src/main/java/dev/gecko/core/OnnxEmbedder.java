package dev.gecko.core;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.gecko.core.adapter.Adapter;
import dev.gecko.core.vector.VectorOps;
import dev.gecko.tokenizer.Encoding;
import dev.gecko.tokenizer.GeckoTokenizer;
import dev.gecko.tokenizer.TokenizedBatch;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/** The ONNX Runtime implementation of {@link GeckoEmbedder}. */
final class OnnxEmbedder implements GeckoEmbedder {
  private static final System.Logger LOG = System.getLogger(OnnxEmbedder.class.getName());
  private static final String INPUT_IDS = "input_ids";
  private static final String ATTENTION_MASK = "attention_mask";
  private static final String TOKEN_TYPE_IDS = "token_type_ids";
  private static final List<String> OUTPUT_NAMES = List.of("last_hidden_state", "token_embeddings");

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
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
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
    this.maxBatchTokens = b.maxBatchTokens;
    this.maxBatchSize = b.maxBatchSize;
    this.failOnTruncation = b.failOnTruncation;
    this.batchIndependent = b.batchIndependent;
  }

  static OnnxEmbedder open(ModelPackage pkg, Builder b) {
    long start = System.nanoTime();
    GeckoTokenizer tokenizer = null;
    OrtSession.SessionOptions options = null;
    OrtSession session = null;
    try {
      try (InputStream in = pkg.tokenizer().open()) {
        tokenizer = GeckoTokenizer.builder()
            .tokenizerJson(in, pkg.tokenizer().toString())
            .maxLength(pkg.maxTokens())
            .build();
      }
      OrtEnvironment env = OrtEnvironment.getEnvironment();
      options = new OrtSession.SessionOptions();
      options.setIntraOpNumThreads(b.intraOpThreads);
      options.setInterOpNumThreads(1);
      options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      // Shapes change with every batch: cached memory patterns would only grow memory.
      options.setMemoryPatternOptimization(false);
      if (pkg.model().path().isPresent()) {
        session = env.createSession(pkg.model().path().get().toString(), options);
      } else {
        session = env.createSession(pkg.model().readAllBytes(), options);
      }
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
      OnnxEmbedder embedder = new OnnxEmbedder(
          pkg, tokenizer, env, options, session, outputName, inputs.contains(TOKEN_TYPE_IDS), width, adapter, b);
      LOG.log(System.Logger.Level.DEBUG, () -> String.format("opened %s (%d dims, %s pooling, %d threads) in %d ms",
          pkg.name(), width, pkg.pooling(), b.intraOpThreads, (System.nanoTime() - start) / 1_000_000));
      return embedder;
    } catch (IOException | OrtException | RuntimeException e) {
      closeQuietly(session);
      if (options != null) {
        options.close();
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
    List<Encoding> encodings = tokenizer.encodeAll(texts);
    if (failOnTruncation) {
      for (int i = 0; i < n; i++) {
        Encoding e = encodings.get(i);
        if (e.truncated()) {
          throw new InputTooLongException(i, e.originalLength(), tokenizer.maxLength());
        }
      }
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (x, y) -> Integer.compare(encodings.get(x).length(), encodings.get(y).length()));
    float[][] out = new float[n][];
    int start = 0;
    while (start < n) {
      int end = start;
      int longest = 0;
      while (end < n && end - start < maxBatchSize) {
        int len = encodings.get(order[end]).length();
        int newLongest = Math.max(longest, len);
        if (end > start && ((long) (end - start + 1) * newLongest > maxBatchTokens || batchIndependent)) {
          break;
        }
        longest = newLongest;
        end++;
      }
      List<Encoding> batch = new ArrayList<>(end - start);
      for (int i = start; i < end; i++) {
        batch.add(encodings.get(order[i]));
      }
      float[] pooled = run(batch);
      for (int r = 0; r < batch.size(); r++) {
        if (adapter != null) {
          float[] row = adapter.apply(Arrays.copyOfRange(pooled, r * width, r * width + width));
          out[order[start + r]] = VectorOps.truncateAndNormalize(row, dims);
        } else {
          out[order[start + r]] = VectorOps.truncateAndNormalize(pooled, r * width, width, dims);
        }
      }
      start = end;
    }
    return Arrays.asList(out);
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

  /** Runs one batch and returns its pooled, unnormalised vectors as a flat [rows, width] array. */
  private float[] run(List<Encoding> rows) {
    TokenizedBatch batch = GeckoTokenizer.pad(rows, tokenizer.padId());
    long[] shape = batch.shape();
    Map<String, OnnxTensor> inputs = new HashMap<>();
    try {
      inputs.put(INPUT_IDS, OnnxTensor.createTensor(env, batch.inputIds(), shape));
      inputs.put(ATTENTION_MASK, OnnxTensor.createTensor(env, batch.attentionMask(), shape));
      if (takesTokenTypes) {
        inputs.put(TOKEN_TYPE_IDS, OnnxTensor.createTensor(env, batch.tokenTypeIds(), shape));
      }
      try (OrtSession.Result result = session.run(inputs, Set.of(outputName))) {
        OnnxValue value = result.get(outputName)
            .orElseThrow(() -> new IllegalStateException("model returned no " + outputName));
        float[] hidden = floats(((OnnxTensor) value).getFloatBuffer());
        int tokens = batch.sequenceLength();
        if (hidden.length != batch.rows() * tokens * width) {
          throw new IllegalStateException("model output has " + hidden.length + " floats, expected ["
              + batch.rows() + ", " + tokens + ", " + width + "]");
        }
        if (pkg.pooling() == Pooling.CLS) {
          return VectorOps.clsPool(hidden, batch.rows(), tokens, width);
        }
        long[] mask = new long[batch.rows() * tokens];
        batch.attentionMask().get(mask);
        return VectorOps.meanPool(hidden, mask, batch.rows(), tokens, width);
      }
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime failed on a batch of " + batch.rows() + " x "
          + batch.sequenceLength() + " tokens: " + e.getMessage(), e);
    } finally {
      for (OnnxTensor t : inputs.values()) {
        t.close();
      }
    }
  }

  private static float[] floats(FloatBuffer buffer) {
    if (buffer.hasArray() && buffer.arrayOffset() == 0 && buffer.position() == 0
        && buffer.remaining() == buffer.array().length) {
      return buffer.array();
    }
    float[] copy = new float[buffer.remaining()];
    buffer.get(copy);
    return copy;
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
      closeQuietly(session);
      options.close();
      tokenizer.close();
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
