package dev.gecko.finetune.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.internal.NDArrayEx;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import dev.gecko.core.Pooling;
import dev.gecko.core.internal.onnx.OnnxModel;
import dev.gecko.tokenizer.TokenizedBatch;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * A BERT encoder whose forward is written for the exported graph's own layout: weights as the
 * graph stores them ({@code [in, out]} MatMul weights, separate Q/K/V, post-residual layer norms
 * with the graph's epsilon, exact erf GELU, the graph's additive mask value), so that reading
 * them from the ONNX graph and writing them back are copies.
 *
 * <p>Ownership: the parameters live in a manager of their own, a child of the manager given at
 * creation; {@link #close()} frees them. Every array a forward creates is attached to the
 * manager of its input batch (the caller's per-step sub-manager), never to the parameters'
 * manager, so closing that sub-manager frees a step's arrays. Not thread-safe: one training loop
 * uses one encoder.
 */
public final class BertEncoder implements AutoCloseable {
  private final BertConfig config;
  private final DataType dtype;
  private final NDManager manager;
  private final Map<String, NDArray> params = new LinkedHashMap<>();

  private BertEncoder(BertConfig config, DataType dtype, NDManager parent) {
    this.config = config;
    this.dtype = dtype;
    this.manager = parent.newSubManager();
  }

  /** Loads the weights of a mapped graph. */
  public static BertEncoder load(OnnxModel model, BertLayout.Mapping mapping, NDManager parent, DataType dtype) {
    BertEncoder e = new BertEncoder(mapping.config(), dtype, parent);
    mapping.parameters().forEach((param, init) -> {
      float[] values = model.initializers().get(init).floats();
      e.put(param, values);
    });
    return e;
  }

  /** A randomly initialised encoder (tests: N(0, 0.2) weights, layer norms near 1). */
  public static BertEncoder random(BertConfig config, long seed, NDManager parent, DataType dtype) {
    BertEncoder e = new BertEncoder(config, dtype, parent);
    Random rnd = new Random(seed);
    for (String name : BertConfig.parameterNames(config.layers())) {
      long[] shape = config.shape(name);
      int n = (int) new Shape(shape).size();
      float[] v = new float[n];
      for (int i = 0; i < n; i++) {
        v[i] = (float) (name.contains("LayerNorm.weight") ? 1 + 0.1 * rnd.nextGaussian() : 0.2 * rnd.nextGaussian());
      }
      e.put(name, v);
    }
    return e;
  }

  private void put(String name, float[] values) {
    NDArray a = manager.create(values, new Shape(config.shape(name)));
    if (dtype != DataType.FLOAT32) {
      NDArray b = a.toType(dtype, false);
      a.close();
      a = b;
    }
    a.setName(name);
    params.put(name, a);
  }

  public BertConfig config() {
    return config;
  }

  public DataType dataType() {
    return dtype;
  }

  /** The parameters by canonical name, in canonical order (live arrays: do not close). */
  public Map<String, NDArray> parameters() {
    return params;
  }

  /** Copies a parameter's values out as floats. */
  public float[] values(String name) {
    NDArray p = params.get(name);
    if (dtype == DataType.FLOAT32) {
      return p.toFloatArray();
    }
    try (NDArray f = p.toType(DataType.FLOAT32, true)) {
      return f.toFloatArray();
    }
  }

  /** Copies a parameter's values out as doubles (float64 encoders: exactly). */
  public double[] doubles(String name) {
    try (NDArray d = params.get(name).toType(DataType.FLOAT64, true)) {
      return d.toDoubleArray();
    }
  }

  /** Overwrites a parameter of a float64 encoder with {@code values}. */
  public void setDoubles(String name, double[] values) {
    if (dtype != DataType.FLOAT64) {
      throw new IllegalStateException("not a float64 encoder");
    }
    params.get(name).set(values);
  }

  /** Overwrites a parameter with {@code values} (no gradient is recorded). */
  public void set(String name, float[] values) {
    NDArray p = params.get(name);
    if (dtype == DataType.FLOAT32) {
      p.set(values);
    } else {
      double[] d = new double[values.length];
      for (int i = 0; i < d.length; i++) {
        d[i] = values[i];
      }
      p.set(d);
    }
  }

  /**
   * The pooled vectors {@code [rows, hidden]} of a tokenized batch (not normalised), attached to
   * {@code sm}. Records the autograd graph when called inside a gradient collector.
   */
  public NDArray encode(NDManager sm, TokenizedBatch batch, Pooling pooling) {
    int rows = batch.rows();
    int seq = batch.sequenceLength();
    if (seq > config.positions()) {
      throw new IllegalArgumentException(seq + " tokens exceed the model's " + config.positions() + " positions");
    }
    long[] ids = new long[rows * seq];
    long[] mask = new long[rows * seq];
    long[] types = new long[rows * seq];
    batch.inputIds().duplicate().get(ids);
    batch.attentionMask().duplicate().get(mask);
    batch.tokenTypeIds().duplicate().get(types);
    NDArray hidden = hidden(sm, ids, mask, types, rows, seq);
    return pool(sm, hidden, mask, rows, seq, pooling);
  }

  /** The last hidden state {@code [rows, seq, hidden]}. */
  public NDArray hidden(NDManager sm, long[] ids, long[] mask, long[] types, int rows, int seq) {
    int h = config.hidden();
    int heads = config.heads();
    int d = h / heads;
    NDArray idsA = sm.create(ids, new Shape(rows, seq));
    NDArray typesA = sm.create(types, new Shape(rows, seq));
    long[] pos = new long[seq];
    for (int i = 0; i < seq; i++) {
      pos[i] = i;
    }
    NDArray posA = sm.create(pos, new Shape(seq));
    NDArrayEx ex = idsA.getNDArrayInternal();
    NDArray x = ex.embedding(idsA, p("embeddings.word_embeddings.weight"), SparseFormat.DENSE).singletonOrThrow();
    x = x.add(typesA.getNDArrayInternal().embedding(typesA, p("embeddings.token_type_embeddings.weight"),
        SparseFormat.DENSE).singletonOrThrow());
    x = x.add(posA.getNDArrayInternal().embedding(posA, p("embeddings.position_embeddings.weight"),
        SparseFormat.DENSE).singletonOrThrow());
    x = norm(x, "embeddings.LayerNorm");
    double[] add = new double[rows * seq];
    for (int i = 0; i < add.length; i++) {
      add[i] = (1 - mask[i]) * (double) config.maskValue();
    }
    NDArray maskAdd = sm.create(add, new Shape(rows, 1, 1, seq)).toType(dtype, false);
    double scale = Math.sqrt(d);
    for (int l = 0; l < config.layers(); l++) {
      String p = "encoder.layer." + l + ".";
      NDArray q = linear(x, p + "attention.self.query").reshape(rows, seq, heads, d).transpose(0, 2, 1, 3);
      NDArray k = linear(x, p + "attention.self.key").reshape(rows, seq, heads, d).transpose(0, 2, 3, 1);
      NDArray v = linear(x, p + "attention.self.value").reshape(rows, seq, heads, d).transpose(0, 2, 1, 3);
      NDArray scores = q.matMul(k).div(scale).add(maskAdd);
      NDArray ctx = scores.softmax(-1).matMul(v).transpose(0, 2, 1, 3).reshape(rows, seq, h);
      x = norm(linear(ctx, p + "attention.output.dense").add(x), p + "attention.output.LayerNorm");
      NDArray inter = Activation.gelu(linear(x, p + "intermediate.dense"));
      x = norm(linear(inter, p + "output.dense").add(x), p + "output.LayerNorm");
    }
    return x;
  }

  /** Pools {@code [rows, seq, hidden]} as the embedder does: the first token, or the mean over the mask. */
  public NDArray pool(NDManager sm, NDArray hidden, long[] mask, int rows, int seq, Pooling pooling) {
    if (pooling == Pooling.CLS) {
      return hidden.get(":, 0, :");
    }
    double[] m = new double[rows * seq];
    double[] counts = new double[rows];
    for (int i = 0; i < m.length; i++) {
      m[i] = mask[i];
      counts[i / seq] += mask[i];
    }
    for (int r = 0; r < rows; r++) {
      counts[r] = Math.max(counts[r], 1e-9);
    }
    NDArray maskA = sm.create(m, new Shape(rows, seq, 1)).toType(dtype, false);
    NDArray countA = sm.create(counts, new Shape(rows, 1)).toType(dtype, false);
    return hidden.mul(maskA).sum(new int[] {1}).div(countA);
  }

  private NDArray linear(NDArray x, String name) {
    return x.matMul(p(name + ".weight")).add(p(name + ".bias"));
  }

  private NDArray norm(NDArray x, String name) {
    NDList out = x.getNDArrayInternal().layerNorm(x, new Shape(config.hidden()), p(name + ".weight"),
        p(name + ".bias"), config.layerNormEps());
    return out.singletonOrThrow();
  }

  private NDArray p(String name) {
    NDArray a = params.get(name);
    if (a == null) {
      throw new IllegalStateException("no parameter " + name);
    }
    return a;
  }

  @Override
  public void close() {
    manager.close();
  }
}
