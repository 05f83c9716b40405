package dev.gecko.finetune.internal;

import dev.gecko.core.internal.onnx.OnnxModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Dynamic int8 quantisation of an fp32 BERT graph, in the shape of the int8 models shipped in the
 * LangChain4j jars (ONNX Runtime's {@code quantize_dynamic} with per-channel weights and a reduced
 * range), so that ONNX Runtime runs it as it runs those:
 *
 * <ul>
 *   <li>every MatMul with a constant {@code [K, N]} weight becomes {@code DynamicQuantizeLinear}
 *       of its activation (one per activation, shared), {@code MatMulInteger}, {@code Cast} to
 *       float and a {@code Mul} by the product of the activation's and the weight's scales; the
 *       weight is stored as {@code W_quantized} (int8, per output column n: scale {@code
 *       max_k |W[k, n]| / 64}, values {@code round_half_even(W / scale)} in [-64, 64]), {@code
 *       W_scale} ({@code [N]} float) and {@code W_zero_point} ({@code [N]} int8 zeros);
 *   <li>every embedding table read by a {@code Gather} is stored as {@code T_quantized} (uint8,
 *       one scale {@code max |T| / 127.5}, zero point 128) and the gathered rows are {@code
 *       DequantizeLinear}d.
 * </ul>
 *
 * Applied to the unmodified fp32 bge-small-en-v1.5 weights it reproduces the shipped int8
 * initializers byte for byte ({@code Int8QuantizerTest}). Stateless.
 */
public final class Int8Quantizer {
  private static final System.Logger LOG = System.getLogger(Int8Quantizer.class.getName());

  private Int8Quantizer() {}

  /**
   * Per-column symmetric int8 in [-64, 64] of a row-major {@code [k, n]} matrix: {@code {quantized,
   * scales}}. A column whose scale is 0 as a float (all zeros, or values too small for {@code max /
   * 64} to be a float) gets scale 1: its values quantise to 0.
   *
   * @param name the tensor's name, for the message
   * @throws IllegalArgumentException if a value is NaN or infinite
   */
  public static Object[] quantizeColumns(String name, float[] w, int k, int n) {
    requireFinite(name, w, n);
    float[] scales = new float[n];
    for (int c = 0; c < n; c++) {
      float max = 0;
      for (int r = 0; r < k; r++) {
        max = Math.max(max, Math.abs(w[r * n + c]));
      }
      scales[c] = scale(max, 128.0);
    }
    byte[] q = new byte[k * n];
    for (int r = 0; r < k; r++) {
      for (int c = 0; c < n; c++) {
        float v = (float) Math.rint(w[r * n + c] / scales[c]);
        q[r * n + c] = (byte) Math.max(-64, Math.min(64, v));
      }
    }
    return new Object[] {q, scales};
  }

  /**
   * uint8 with zero point 128 and one scale {@code max |t| / 127.5}: {@code {quantized, scale}};
   * scale 1 where that is 0 as a float (every value then quantises to the zero point).
   *
   * @param name the tensor's name, for the message
   * @param columns the table's row length, for the message
   * @throws IllegalArgumentException if a value is NaN or infinite
   */
  public static Object[] quantizeTable(String name, float[] t, int columns) {
    requireFinite(name, t, columns);
    float max = 0;
    for (float v : t) {
      max = Math.max(max, Math.abs(v));
    }
    float scale = scale(max, 255.0);
    byte[] q = new byte[t.length];
    for (int i = 0; i < t.length; i++) {
      float v = (float) Math.rint(t[i] / scale) + 128;
      q[i] = (byte) (int) Math.max(0, Math.min(255, v));
    }
    return new Object[] {q, scale};
  }

  /** {@code 2 max / levels} as a float, or 1 where that is 0 (a zero or subnormal maximum). */
  private static float scale(float max, double levels) {
    float s = (float) ((double) (2 * max) / levels);
    return s == 0 ? 1f : s;
  }

  private static void requireFinite(String name, float[] v, int columns) {
    for (int i = 0; i < v.length; i++) {
      if (!Float.isFinite(v[i])) {
        throw new IllegalArgumentException("cannot quantise " + name + ": its value at [" + i / columns + ", "
            + i % columns + "] is " + v[i] + " (the weights are not finite: the training diverged or the base "
            + "model is damaged)");
      }
    }
  }

  /**
   * Quantises a graph. A weight is quantised once however many nodes of its kind read it, and only
   * where every reader is one: a float initializer that another node also reads, that is a graph
   * input (a caller may feed it) or a graph output stays float, with its nodes as they were.
   *
   * @throws IllegalArgumentException if it has nothing to quantise, or a weight it quantises is
   *     not finite (the message names it)
   */
  public static byte[] quantize(OnnxModel g) {
    OnnxModel.Editor edit = g.edit();
    Set<String> quantizedActivations = new HashSet<>();
    Set<String> quantizedWeights = new HashSet<>();
    Set<String> leftFloat = new TreeSet<>();
    int done = 0;
    for (OnnxModel.Node n : g.nodes()) {
      if (n.is("MatMul") && n.inputs().size() == 2) {
        OnnxModel.Initializer w = g.initializers().get(n.inputs().get(1));
        if (w == null || w.dataType() != OnnxModel.FLOAT || w.dims().length != 2) {
          continue;
        }
        if (!onlyReadAs(g, w.name(), "MatMul", 1)) {
          leftFloat.add(w.name());
          continue;
        }
        int k = (int) w.dims()[0];
        int cols = (int) w.dims()[1];
        String wn = w.name();
        if (quantizedWeights.add(wn)) {
          Object[] q = quantizeColumns(wn, w.floats(), k, cols);
          edit.remove(wn);
          edit.add(wn + "_quantized", OnnxModel.INT8, w.dims(), (byte[]) q[0]);
          edit.add(wn + "_scale", OnnxModel.FLOAT, new long[] {cols}, floats((float[]) q[1]));
          edit.add(wn + "_zero_point", OnnxModel.INT8, new long[] {cols}, new byte[cols]);
        }
        String a = n.inputs().get(0);
        String out = n.outputs().get(0);
        String base = n.name().isEmpty() ? out : n.name();
        List<OnnxModel.NewNode> nodes = new ArrayList<>();
        if (quantizedActivations.add(a)) {
          nodes.add(new OnnxModel.NewNode(a + "_QuantizeLinear", "DynamicQuantizeLinear", "", List.of(a),
              List.of(a + "_quantized", a + "_scale", a + "_zero_point")));
        }
        nodes.add(new OnnxModel.NewNode(base + "_quant_scales_mul", "Mul", "", List.of(a + "_scale", wn + "_scale"),
            List.of(base + "_quant_scales_mul:0")));
        nodes.add(new OnnxModel.NewNode(base + "_quant", "MatMulInteger", "",
            List.of(a + "_quantized", wn + "_quantized", a + "_zero_point", wn + "_zero_point"),
            List.of(out + "_output_quantized")));
        nodes.add(new OnnxModel.NewNode(out + "_output_quantized_cast", "Cast", "", List.of(out + "_output_quantized"),
            List.of(out + "_output_quantized_cast_output")).attribute("to", 1L));
        nodes.add(new OnnxModel.NewNode(base + "_quant_output_scale_mul", "Mul", "",
            List.of(out + "_output_quantized_cast_output", base + "_quant_scales_mul:0"), List.of(out)));
        edit.replaceNode(n.index(), nodes);
        done++;
      } else if (n.is("Gather") && n.inputs().size() == 2) {
        OnnxModel.Initializer t = g.initializers().get(n.inputs().get(0));
        if (t == null || t.dataType() != OnnxModel.FLOAT || t.dims().length != 2) {
          continue;
        }
        if (!onlyReadAs(g, t.name(), "Gather", 0)) {
          leftFloat.add(t.name());
          continue;
        }
        String tn = t.name();
        if (quantizedWeights.add(tn)) {
          Object[] q = quantizeTable(tn, t.floats(), (int) t.dims()[1]);
          edit.remove(tn);
          edit.add(tn + "_quantized", OnnxModel.UINT8, t.dims(), (byte[]) q[0]);
          edit.add(tn + "_scale", OnnxModel.FLOAT, new long[0], floats(new float[] {(Float) q[1]}));
          edit.add(tn + "_zero_point", OnnxModel.UINT8, new long[0], new byte[] {(byte) 128});
        }
        String out = n.outputs().get(0);
        edit.replaceNode(n.index(), List.of(
            new OnnxModel.NewNode(n.name(), "Gather", "", List.of(tn + "_quantized", n.inputs().get(1)),
                List.of(out + "_quantized")).attribute("axis", n.intAttribute("axis", 0)),
            new OnnxModel.NewNode(out + "_DequantizeLinear", "DequantizeLinear", "",
                List.of(out + "_quantized", tn + "_scale", tn + "_zero_point"), List.of(out))));
        done++;
      }
    }
    if (done == 0) {
      throw new IllegalArgumentException("nothing to quantise: no MatMul with a constant weight, no embedding table"
          + (leftFloat.isEmpty() ? "" : " that only such nodes read (left float: " + leftFloat + ")"));
    }
    if (!leftFloat.isEmpty()) {
      LOG.log(System.Logger.Level.INFO, "int8: {0} weights left float (read by other nodes too, or graph inputs or "
          + "outputs): {1}", leftFloat.size(), leftFloat);
    }
    return edit.write();
  }

  /**
   * Whether every reader of initializer {@code name} is an {@code op} node reading it as input
   * {@code slot} only, and it is neither a graph input nor a graph output.
   */
  private static boolean onlyReadAs(OnnxModel g, String name, String op, int slot) {
    if (g.graphInputs().contains(name) || g.graphOutputs().contains(name)) {
      return false;
    }
    for (OnnxModel.Node reader : g.consumers(name)) {
      if (!reader.is(op) || reader.inputs().size() != 2) {
        return false;
      }
      for (int i = 0; i < reader.inputs().size(); i++) {
        if (reader.inputs().get(i).equals(name) != (i == slot)) {
          return false;
        }
      }
    }
    return true;
  }

  private static byte[] floats(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    return b.array();
  }
}
