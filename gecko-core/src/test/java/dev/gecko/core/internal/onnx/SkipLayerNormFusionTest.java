package dev.gecko.core.internal.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.vector.VectorOps;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class SkipLayerNormFusionTest {
  static byte[] shipped(String name) throws IOException {
    return ModelPackage.builtIn(name).model().readAllBytes();
  }

  /** Runs a BERT graph on token ids and mask (token types 0) with one thread; returns its output. */
  static float[][][] run(byte[] model, long[][] ids, long[][] mask) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(1);
      try (OrtSession s = env.createSession(model, o);
          OnnxTensor i = OnnxTensor.createTensor(env, ids);
          OnnxTensor m = OnnxTensor.createTensor(env, mask);
          OnnxTensor t = OnnxTensor.createTensor(env, new long[ids.length][ids[0].length]);
          OrtSession.Result r = s.run(Map.of("input_ids", i, "attention_mask", m, "token_type_ids", t))) {
        return (float[][][]) r.get(0).getValue();
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"bge-small-en-v1.5", "bge-small-en-v1.5-int8", "all-MiniLM-L6-v2", "e5-small-v2"})
  void everyResidualBlockOfTheShippedBertGraphsIsFused(String name) throws IOException {
    byte[] model = shipped(name);
    Map<String, Integer> before = SkipLayerNormFusion.operatorCounts(model.clone());
    SkipLayerNormFusion.Result r = SkipLayerNormFusion.apply(model);
    Map<String, Integer> after = SkipLayerNormFusion.operatorCounts(r.model());
    int layers = name.startsWith("all-MiniLM") ? 6 : 12;
    // two residual blocks per layer, and the embedding layer's norm
    assertThat(r.fused()).isEqualTo(2 * layers + 1);
    assertThat(after).containsEntry("com.microsoft.SkipLayerNormalization", 2 * layers + 1);
    // 11 nodes per block become one, 10 in the embedding layer (no bias there)
    assertThat(after).doesNotContainKey("ReduceMean");
    assertThat(before.get("ReduceMean")).isEqualTo(2 + 4 * layers);
    assertThat(after.get("Add")).isEqualTo(before.get("Add") - 4 * 2 * layers - 3);
    // a fused graph has nothing left to fuse, and is returned as is
    // rewritten in place, the freed tail filled with one unknown field
    assertThat(r.model()).isSameAs(model);
    byte[] copy = r.model().clone();
    SkipLayerNormFusion.Result again = SkipLayerNormFusion.apply(copy);
    assertThat(again.fused()).isZero();
    assertThat(again.model()).isSameAs(copy);
  }

  @Test
  void fusedFp32GraphComputesTheSameHiddenStates() throws Exception {
    byte[] model = shipped("bge-small-en-v1.5");
    byte[] fused = SkipLayerNormFusion.apply(model.clone()).model();
    Random random = new Random(7);
    long[][] ids = new long[3][37];
    long[][] mask = new long[3][37];
    for (int b = 0; b < 3; b++) {
      for (int s = 0; s < 37; s++) {
        ids[b][s] = s == 0 ? 101 : 1000 + random.nextInt(20000);
        mask[b][s] = s < 37 - 6 * b ? 1 : 0;
      }
    }
    float[][][] a = run(model, ids, mask);
    float[][][] b = run(fused, ids, mask);
    double worst = 0;
    for (int i = 0; i < a.length; i++) {
      for (int s = 0; s < a[i].length; s++) {
        for (int h = 0; h < a[i][s].length; h++) {
          worst = Math.max(worst, Math.abs(a[i][s][h] - b[i][s][h]));
        }
      }
    }
    assertThat(worst).isLessThan(2e-5).isGreaterThan(0); // a different kernel: other rounding
  }

  @Test
  void embedderVectorsWithAndWithoutFusionAgree() {
    List<String> texts = List.of("A man is playing a guitar.", "The stock market fell sharply on Monday morning.",
        "Three dogs run through the snow.");
    for (String name : List.of("bge-small-en-v1.5", "bge-small-en-v1.5-int8")) {
      try (GeckoEmbedder fused = GeckoEmbedder.builder().model(name).intraOpThreads(1).build();
          GeckoEmbedder plain = GeckoEmbedder.builder().model(name).intraOpThreads(1).fuseLayerNorm(false).build()) {
        List<float[]> a = fused.embedAll(texts, 384);
        List<float[]> b = plain.embedAll(texts, 384);
        for (int i = 0; i < texts.size(); i++) {
          // fp32: rounding only; int8: one quantisation step flips here and there
          assertThat(VectorOps.cosine(a.get(i), b.get(i))).isGreaterThan(name.endsWith("int8") ? 0.99f : 0.99999f);
        }
      }
    }
  }

  @Test
  void fillerIsOneSkippableFieldOfExactlyTheRequestedSize() {
    for (int size = 4; size < 70_000; size += size < 20_000 ? 1 : 97) {
      byte[] f = GraphRewrite.filler(size);
      assertThat(f).as("size %d", size).hasSize(size);
      assertThat(Protobuf.parse(f, 0, f.length)).isNotEmpty()
          .allSatisfy(field -> assertThat(field.number).isEqualTo(GraphRewrite.FILLER_FIELD));
    }
    assertThat(GraphRewrite.filler(3)).isNull();
  }

  @Test
  void aGraphWithoutThePatternIsReturnedUnchangedAndBadBytesAreRefused() {
    // a one-node graph Y = MatMul(A, B)
    Protobuf.Writer node = new Protobuf.Writer().string(1, "A").string(1, "B").string(2, "Y").string(4, "MatMul");
    Protobuf.Writer graph = new Protobuf.Writer().message(1, node).string(2, "g");
    byte[] model = new Protobuf.Writer().varint(1, 8).message(7, graph)
        .message(8, new Protobuf.Writer().string(1, "").varint(2, 17)).toByteArray();
    SkipLayerNormFusion.Result r = SkipLayerNormFusion.apply(model);
    assertThat(r.fused()).isZero();
    assertThat(r.model()).isSameAs(model);
    assertThatThrownBy(() -> SkipLayerNormFusion.apply(Arrays.copyOf(model, model.length - 3)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("runs past");
    assertThatThrownBy(() -> SkipLayerNormFusion.apply(new Protobuf.Writer().varint(1, 8).toByteArray()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no graph");
  }

  // --- a small hand-written residual block, and variants that must not be fused ---

  private static Protobuf.Writer tensor(String name, long[] dims, float... values) {
    Protobuf.Writer t = new Protobuf.Writer();
    for (long d : dims) {
      t.varint(Graph.TENSOR_DIMS, d);
    }
    java.nio.ByteBuffer raw = java.nio.ByteBuffer.allocate(4 * values.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      raw.putFloat(v);
    }
    return t.varint(Graph.TENSOR_DATA_TYPE, 1).string(Graph.TENSOR_NAME, name).bytes(Graph.TENSOR_RAW_DATA, raw.array());
  }

  private static Protobuf.Writer valueInfo(String name, long... dims) {
    Protobuf.Writer shape = new Protobuf.Writer();
    for (long d : dims) {
      shape.message(1, new Protobuf.Writer().varint(1, d));
    }
    return new Protobuf.Writer().string(1, name)
        .message(2, new Protobuf.Writer().message(1, new Protobuf.Writer().varint(1, 1).message(2, shape)));
  }

  private static Protobuf.Writer node(String op, List<String> in, String out, Protobuf.Writer... attributes) {
    Protobuf.Writer n = new Protobuf.Writer();
    for (String i : in) {
      n.string(Graph.NODE_INPUT, i);
    }
    n.string(Graph.NODE_OUTPUT, out).string(Graph.NODE_OP_TYPE, op);
    for (Protobuf.Writer a : attributes) {
      n.message(Graph.NODE_ATTRIBUTE, a);
    }
    return n;
  }

  private static Protobuf.Writer ints(String name, long... values) {
    Protobuf.Writer a = new Protobuf.Writer().string(Graph.ATTR_NAME, name);
    for (long v : values) {
      a.varint(Graph.ATTR_INTS, v);
    }
    return a.varint(Graph.ATTR_TYPE, 7);
  }

  private static Protobuf.Writer intAttr(String name, long value) {
    return new Protobuf.Writer().string(Graph.ATTR_NAME, name).varint(Graph.ATTR_I, value).varint(Graph.ATTR_TYPE, 2);
  }

  /** y = LayerNorm(X W + bias + R) spelled as a BERT export spells it; {@code variant} breaks one thing. */
  static byte[] block(String variant) {
    int h = 8;
    Random r = new Random(3);
    float[] w = new float[h * h];
    float[] bias = new float[h];
    float[] gamma = new float[h];
    float[] beta = new float[h];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) r.nextGaussian();
    }
    for (int i = 0; i < h; i++) {
      bias[i] = (float) r.nextGaussian();
      gamma[i] = 1 + 0.1f * (float) r.nextGaussian();
      beta[i] = 0.1f * (float) r.nextGaussian();
    }
    String residual = variant.equals("constant-residual") ? "Rc" : "R";
    Protobuf.Writer g = new Protobuf.Writer()
        .message(1, node("MatMul", List.of("X", "W"), "mm"))
        .message(1, node("Add", List.of("bias", "mm"), "ba"))
        .message(1, node("Add", List.of("ba", residual), "x"))
        .message(1, variant.equals("keepdims0")
            ? node("ReduceMean", List.of("x"), "m", ints("axes", -1), intAttr("keepdims", 0))
            : node("ReduceMean", List.of("x"), "m", ints("axes", variant.equals("axis1") ? 1 : -1)))
        .message(1, node("Sub", List.of("x", "m"), "d"))
        .message(1, node("Pow", List.of("d", "two"), "p"))
        .message(1, node("ReduceMean", List.of("p"), "v", ints("axes", -1)))
        .message(1, node("Add", List.of("v", "eps"), "e"))
        .message(1, node("Sqrt", List.of("e"), "s"))
        .message(1, node("Div", List.of("d", "s"), "n"))
        .message(1, node("Mul", List.of("n", "gamma"), "gm"))
        .message(1, node("Add", List.of("gm", "beta"), "y"))
        .string(2, "block")
        .message(5, tensor("W", new long[] {h, h}, w))
        .message(5, tensor("bias", new long[] {h}, bias))
        .message(5, tensor("gamma", new long[] {h}, gamma))
        .message(5, tensor("beta", new long[] {h}, beta))
        .message(5, tensor("two", new long[0], variant.equals("pow3") ? 3f : 2f))
        .message(5, variant.equals("eps-rank3") ? tensor("eps", new long[] {1, 1, 1}, 1e-12f)
            : tensor("eps", new long[0], 1e-12f))
        .message(5, tensor("Rc", new long[] {1, 4, h}, new float[4 * h]))
        .message(11, valueInfo("X", 1, 4, h))
        .message(11, valueInfo("R", 1, 4, h))
        .message(12, valueInfo("y", 1, 4, h));
    if (variant.equals("extra-consumer")) {
      g.message(12, valueInfo("d", 1, 4, h));
    }
    Protobuf.Writer m = new Protobuf.Writer().varint(1, 8).message(7, g)
        .message(8, new Protobuf.Writer().string(1, "").varint(2, 14));
    if (variant.equals("ms-opset")) {
      m.message(8, new Protobuf.Writer().string(1, "com.microsoft").varint(2, 1));
    }
    return m.toByteArray();
  }

  private static float[] runBlock(byte[] model, float[] x, float[] residual) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(1);
      try (OrtSession s = env.createSession(model, o);
          OnnxTensor tx = OnnxTensor.createTensor(env, java.nio.FloatBuffer.wrap(x), new long[] {1, 4, 8});
          OnnxTensor tr = OnnxTensor.createTensor(env, java.nio.FloatBuffer.wrap(residual), new long[] {1, 4, 8});
          OrtSession.Result r = s.run(Map.of("X", tx, "R", tr))) {
        return ((OnnxTensor) r.get(0)).getFloatBuffer().array();
      }
    }
  }

  @Test
  void aHandWrittenBlockIsFusedAndComputesTheSame() throws Exception {
    for (String variant : List.of("plain", "ms-opset")) {
      byte[] model = block(variant);
      byte[] shipped = model.clone();
      SkipLayerNormFusion.Result r = SkipLayerNormFusion.apply(model);
      assertThat(r.fused()).as(variant).isEqualTo(1);
      Map<String, Integer> ops = SkipLayerNormFusion.operatorCounts(r.model().clone());
      assertThat(ops).as(variant).containsOnly(Map.entry("MatMul", 1), Map.entry("com.microsoft.SkipLayerNormalization", 1));
      // exactly one com.microsoft opset import, whether or not the model had one
      long msImports = Protobuf.parse(r.model(), 0, r.model().length).stream()
          .filter(f -> f.number == Graph.MODEL_OPSET_IMPORT)
          .filter(f -> new String(r.model(), f.offset, f.length, java.nio.charset.StandardCharsets.ISO_8859_1)
              .contains("com.microsoft"))
          .count();
      assertThat(msImports).as(variant).isEqualTo(1);
      Random random = new Random(5);
      float[] x = new float[32];
      float[] res = new float[32];
      for (int i = 0; i < 32; i++) {
        x[i] = (float) random.nextGaussian();
        res[i] = (float) random.nextGaussian();
      }
      float[] expected = runBlock(shipped, x, res);
      float[] got = runBlock(r.model(), x, res);
      for (int i = 0; i < expected.length; i++) {
        assertThat((double) got[i]).as(variant + " " + i).isCloseTo(expected[i], org.assertj.core.api.Assertions.within(1e-4));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"keepdims0", "axis1", "pow3", "eps-rank3", "extra-consumer", "constant-residual"})
  void blocksThatAreNotExactlyAResidualLayerNormAreLeftAlone(String variant) {
    byte[] model = block(variant);
    byte[] copy = model.clone();
    SkipLayerNormFusion.Result r = SkipLayerNormFusion.apply(model);
    assertThat(r.fused()).isZero();
    assertThat(r.model()).isSameAs(model).isEqualTo(copy);
  }
}
