package dev.gecko.bench.peers;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One BERT self-attention block (bge-small's shape: width 384, 12 heads) written in code two ways
 * and timed on ONNX Runtime's CPU kernels with one intra-op thread: as a BERT export spells it
 * ({@code MatMul + Add} for Q, K and V, reshapes, transposes, scaled {@code QK^T}, additive mask,
 * {@code Softmax}, {@code MatMul} with V, transpose back), and as one {@code com.microsoft.Attention}
 * node over the packed {@code [384, 1152]} projection. Decides whether fusing attention is worth
 * it (docs/performance.md). A tool, not library API.
 *
 * <pre>java -cp ... dev.gecko.bench.peers.AttentionProbe [BATCH SEQ ...]</pre>
 */
public final class AttentionProbe {
  private static final int W = 384;
  private static final int HEADS = 12;
  private static final int HEAD = W / HEADS;
  private static final int FLOAT = 1;
  private static final int INT32 = 6;
  private static final int INT64 = 7;

  private AttentionProbe() {}

  private static PeakProbe.Proto node(String op, String domain, String[] in, String... out) {
    PeakProbe.Proto n = new PeakProbe.Proto();
    for (String i : in) {
      n.string(1, i);
    }
    for (String o : out) {
      n.string(2, o);
    }
    n.string(3, out[0] + "_node").string(4, op);
    if (domain != null) {
      n.string(7, domain);
    }
    return n;
  }

  private static PeakProbe.Proto intAttr(String name, long v) {
    return new PeakProbe.Proto().string(1, name).varint(3, v).varint(20, 2);
  }

  private static PeakProbe.Proto intsAttr(String name, long... v) {
    PeakProbe.Proto a = new PeakProbe.Proto().string(1, name);
    for (long x : v) {
      a.varint(8, x);
    }
    return a.varint(20, 7);
  }

  private static PeakProbe.Proto floatInit(String name, float[] v, long... dims) {
    PeakProbe.Proto t = new PeakProbe.Proto();
    for (long d : dims) {
      t.varint(1, d);
    }
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      b.putFloat(x);
    }
    return t.varint(2, FLOAT).string(8, name).bytesField(9, b.array());
  }

  private static PeakProbe.Proto longInit(String name, long... v) {
    PeakProbe.Proto t = new PeakProbe.Proto().varint(1, v.length);
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      b.putLong(x);
    }
    return t.varint(2, INT64).string(8, name).bytesField(9, b.array());
  }

  private static float[] random(SplittableRandom r, int n, double scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextGaussian() * scale);
    }
    return v;
  }

  private static byte[] model(PeakProbe.Proto graph) {
    return new PeakProbe.Proto().varint(1, 8).string(2, "gecko-attention-probe").message(7, graph)
        .message(8, new PeakProbe.Proto().string(1, "").varint(2, 17))
        .message(8, new PeakProbe.Proto().string(1, "com.microsoft").varint(2, 1)).bytes();
  }

  /** The export's spelling; inputs X [B,S,W] float and M [B,1,1,S] float (0 or -10000). */
  public static byte[] decomposed(float[][] w, float[][] b) {
    PeakProbe.Proto g = new PeakProbe.Proto().string(2, "attention_decomposed");
    String[] qkv = {"q", "k", "v"};
    g.message(5, longInit("shape4", 0, 0, HEADS, HEAD));
    g.message(5, longInit("shape3", 0, 0, W));
    g.message(5, floatInit("scale", new float[] {(float) Math.sqrt(HEAD)}));
    for (int i = 0; i < 3; i++) {
      String p = qkv[i];
      g.message(5, floatInit("W" + p, w[i], W, W));
      g.message(5, floatInit("b" + p, b[i], W));
      g.message(1, node("MatMul", null, new String[] {"X", "W" + p}, p + "_mm"));
      g.message(1, node("Add", null, new String[] {"b" + p, p + "_mm"}, p + "_add"));
      g.message(1, node("Reshape", null, new String[] {p + "_add", "shape4"}, p + "_r"));
      long[] perm = p.equals("k") ? new long[] {0, 2, 3, 1} : new long[] {0, 2, 1, 3};
      g.message(1, node("Transpose", null, new String[] {p + "_r"}, p + "_t").message(5, intsAttr("perm", perm)));
    }
    g.message(1, node("MatMul", null, new String[] {"q_t", "k_t"}, "s"));
    g.message(1, node("Div", null, new String[] {"s", "scale"}, "s_scaled"));
    g.message(1, node("Add", null, new String[] {"s_scaled", "M"}, "s_masked"));
    g.message(1, node("Softmax", null, new String[] {"s_masked"}, "p").message(5, intAttr("axis", -1)));
    g.message(1, node("MatMul", null, new String[] {"p", "v_t"}, "c"));
    g.message(1, node("Transpose", null, new String[] {"c"}, "c_t").message(5, intsAttr("perm", 0, 2, 1, 3)));
    g.message(1, node("Reshape", null, new String[] {"c_t", "shape3"}, "Y"));
    g.message(11, PeakProbe.valueInfo("X", FLOAT, -1, -1, W));
    g.message(11, PeakProbe.valueInfo("M", FLOAT, -1, 1, 1, -1));
    g.message(12, PeakProbe.valueInfo("Y", FLOAT, -1, -1, W));
    return model(g);
  }

  /** One com.microsoft.Attention; inputs X [B,S,W] float and I [B,S] int32 (1 = token). */
  static byte[] fused(float[][] w, float[][] b) {
    float[] packed = new float[W * 3 * W];
    float[] bias = new float[3 * W];
    for (int p = 0; p < 3; p++) {
      for (int r = 0; r < W; r++) {
        System.arraycopy(w[p], r * W, packed, r * 3 * W + p * W, W);
      }
      System.arraycopy(b[p], 0, bias, p * W, W);
    }
    PeakProbe.Proto g = new PeakProbe.Proto().string(2, "attention_fused");
    g.message(5, floatInit("Wqkv", packed, W, 3 * W));
    g.message(5, floatInit("bqkv", bias, 3 * W));
    g.message(1, node("Attention", "com.microsoft", new String[] {"X", "Wqkv", "bqkv", "I"}, "Y")
        .message(5, intAttr("num_heads", HEADS)));
    g.message(11, PeakProbe.valueInfo("X", FLOAT, -1, -1, W));
    g.message(11, PeakProbe.valueInfo("I", INT32, -1, -1));
    g.message(12, PeakProbe.valueInfo("Y", FLOAT, -1, -1, W));
    return model(g);
  }

  /** One MatMul over Q|K|V, then com.microsoft.MultiHeadAttention: split (q, k, v) or packed [B,S,N,3,H]. */
  static byte[] mha(float[][] w, float[][] b, boolean packed) {
    float[] wp = new float[W * 3 * W];
    float[] bias = new float[3 * W];
    for (int p = 0; p < 3; p++) {
      for (int r = 0; r < W; r++) {
        for (int c = 0; c < W; c++) {
          // split: columns [q | k | v]; packed: per head h, [q_h | k_h | v_h]
          int col = packed ? (c / HEAD) * 3 * HEAD + p * HEAD + c % HEAD : p * W + c;
          wp[r * 3 * W + col] = w[p][r * W + c];
          if (r == 0) {
            bias[col] = b[p][c];
          }
        }
      }
    }
    PeakProbe.Proto g = new PeakProbe.Proto().string(2, "attention_mha");
    g.message(5, floatInit("Wqkv", wp, W, 3 * W));
    g.message(5, floatInit("bqkv", bias, 3 * W));
    g.message(1, node("MatMul", null, new String[] {"X", "Wqkv"}, "qkv_mm"));
    g.message(1, node("Add", null, new String[] {"qkv_mm", "bqkv"}, "qkv"));
    if (packed) {
      g.message(5, longInit("shape5", 0, 0, HEADS, 3, HEAD));
      g.message(1, node("Reshape", null, new String[] {"qkv", "shape5"}, "qkv5"));
      g.message(1, node("MultiHeadAttention", "com.microsoft", new String[] {"qkv5", "", "", "", "I"}, "Y")
          .message(5, intAttr("num_heads", HEADS)));
    } else {
      g.message(1, node("Split", null, new String[] {"qkv"}, "q", "k", "v").message(5, intAttr("axis", -1)));
      g.message(1, node("MultiHeadAttention", "com.microsoft", new String[] {"q", "k", "v", "", "I"}, "Y")
          .message(5, intAttr("num_heads", HEADS)));
    }
    g.message(11, PeakProbe.valueInfo("X", FLOAT, -1, -1, W));
    g.message(11, PeakProbe.valueInfo("I", INT32, -1, -1));
    g.message(12, PeakProbe.valueInfo("Y", FLOAT, -1, -1, W));
    return model(g);
  }


  /** Prints both spellings' median times per shape, and how far their outputs differ. */
  public static void main(String[] args) throws OrtException {
    int[] shapes = args.length > 0 ? Arrays.stream(args).mapToInt(Integer::parseInt).toArray()
        : new int[] {4, 256, 8, 128, 48, 21};
    SplittableRandom r = new SplittableRandom(7);
    float[][] w = new float[3][];
    float[][] b = new float[3][];
    for (int i = 0; i < 3; i++) {
      w[i] = random(r, W * W, 1 / Math.sqrt(W));
      b[i] = random(r, W, 0.1);
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(1);
      o.setInterOpNumThreads(1);
      o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      o.addConfigEntry("session.intra_op.allow_spinning", "0");
      try (OrtSession dec = env.createSession(decomposed(w, b), o);
          OrtSession fus = env.createSession(fused(w, b), o);
          OrtSession mhaSplit = env.createSession(mha(w, b, false), o)) {
        for (int round = 0; round < 2; round++) {
          for (int s = 0; s + 1 < shapes.length; s += 2) {
            int batch = shapes[s];
            int seq = shapes[s + 1];
            FloatBuffer x = ByteBuffer.allocateDirect(4 * batch * seq * W).order(ByteOrder.nativeOrder()).asFloatBuffer();
            x.put(random(r, batch * seq * W, 1)).flip();
            // every other row loses its last quarter to padding
            FloatBuffer m = ByteBuffer.allocateDirect(4 * batch * seq).order(ByteOrder.nativeOrder()).asFloatBuffer();
            IntBuffer idx = ByteBuffer.allocateDirect(4 * batch * seq).order(ByteOrder.nativeOrder()).asIntBuffer();
            for (int i = 0; i < batch; i++) {
              for (int j = 0; j < seq; j++) {
                boolean token = i % 2 == 0 || j < seq * 3 / 4;
                m.put(token ? 0f : -10000f);
                idx.put(token ? 1 : 0);
              }
            }
            m.flip();
            idx.flip();
            try (OnnxTensor xt = OnnxTensor.createTensor(env, x, new long[] {batch, seq, W});
                OnnxTensor mt = OnnxTensor.createTensor(env, m, new long[] {batch, 1, 1, seq});
                OnnxTensor it = OnnxTensor.createTensor(env, idx, new long[] {batch, seq})) {
              Map<String, OnnxTensor> din = new HashMap<>(Map.of("X", xt, "M", mt));
              Map<String, OnnxTensor> fin = new HashMap<>(Map.of("X", xt, "I", it));
              double diff = maxDiff(dec, din, fus, fin, batch, seq);
              int runs = Math.max(20, 4000 / seq);
              double td = LayerNormProbe.medianMillis(dec, din, 5, runs);
              double tf = LayerNormProbe.medianMillis(fus, fin, 5, runs);
              double tm = LayerNormProbe.medianMillis(mhaSplit, fin, 5, runs);
              double dm = maxDiff(dec, din, mhaSplit, fin, batch, seq);
              System.out.printf(Locale.ROOT, "  MultiHeadAttention after one QKV MatMul: %.3f ms (%.2fx), max |diff| %.2g%n",
                  tm, td / tm, dm);
              System.out.printf(Locale.ROOT, "[%d, %d]: decomposed %.3f ms, Attention %.3f ms (%.2fx), max |diff| %.2g%n",
                  batch, seq, td, tf, td / tf, diff);
            }
          }
        }
      }
    }
  }

  /** The largest difference between two sessions' outputs over the unpadded rows. */
  private static double maxDiff(OrtSession a, Map<String, OnnxTensor> inA, OrtSession b, Map<String, OnnxTensor> inB,
      int batch, int seq) throws OrtException {
    double diff = 0;
    try (OrtSession.Result ra = a.run(inA); OrtSession.Result rb = b.run(inB)) {
      float[] ya = flat((OnnxTensor) ra.get(0));
      float[] yb = flat((OnnxTensor) rb.get(0));
      for (int i = 0; i < batch; i++) {
        int valid = i % 2 == 0 ? seq : seq * 3 / 4;
        for (int j = 0; j < valid * W; j++) {
          int k = i * seq * W + j;
          diff = Math.max(diff, Math.abs(ya[k] - yb[k]));
        }
      }
    }
    return diff;
  }

  private static float[] flat(OnnxTensor t) {
    FloatBuffer fb = t.getFloatBuffer();
    float[] v = new float[fb.remaining()];
    fb.get(v);
    return v;
  }
}
