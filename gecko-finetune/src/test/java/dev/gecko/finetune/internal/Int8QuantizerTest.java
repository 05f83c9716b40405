package dev.gecko.finetune.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.ModelSource;
import dev.gecko.core.Pooling;
import dev.gecko.core.internal.onnx.OnnxModel;
import dev.gecko.core.vector.VectorOps;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quantisation rule, applied to the unmodified fp32 bge weights, reproduces the shipped int8
 * initializers; on small graphs written in code: shared weights quantised once, weights with other
 * readers left float, non-finite weights refused, all-but-zero columns kept finite.
 */
class Int8QuantizerTest {
  @Test
  void reproducesTheShippedInt8InitializersByteForByte() {
    OnnxModel fp32 = TestModels.graph(ModelPackage.builtIn("bge-small-en-v1.5"));
    OnnxModel shipped = TestModels.graph(ModelPackage.builtIn("bge-small-en-v1.5-int8"));
    OnnxModel ours = OnnxModel.parse(Int8Quantizer.quantize(fp32));
    int compared = 0;
    for (OnnxModel.Initializer s : shipped.initializers().values()) {
      OnnxModel.Initializer o = ours.initializers().get(s.name());
      assertThat(o).as("initializer " + s.name()).isNotNull();
      assertThat(o.dims()).as(s.name()).isEqualTo(s.dims());
      assertThat(o.dataType()).as(s.name()).isEqualTo(s.dataType());
      assertThat(bytes(o)).as(s.name()).isEqualTo(bytes(s));
      compared++;
    }
    assertThat(compared).isEqualTo(ours.initializers().size());
    // the same operators, as many of each
    assertThat(histogram(ours)).isEqualTo(histogram(shipped));
  }

  private static Map<String, Long> histogram(OnnxModel m) {
    return m.nodes().stream().filter(n -> !n.is("Constant"))
        .collect(java.util.stream.Collectors.groupingBy(OnnxModel.Node::opType, java.util.TreeMap::new,
            java.util.stream.Collectors.counting()));
  }

  private static byte[] bytes(OnnxModel.Initializer i) {
    byte[] raw = i.rawBytes();
    if (raw != null) {
      return raw;
    }
    if (i.dataType() == OnnxModel.FLOAT) {
      float[] f = i.floats();
      ByteBuffer b = ByteBuffer.allocate(4 * f.length).order(ByteOrder.LITTLE_ENDIAN);
      b.asFloatBuffer().put(f);
      return b.array();
    }
    long[] l = i.longs();
    byte[] out = new byte[l.length];
    for (int k = 0; k < l.length; k++) {
      out[k] = (byte) l[k];
    }
    return out;
  }

  @Test
  void quantisedGraphRunsAndAgreesWithFp32(@TempDir Path dir) throws Exception {
    ModelPackage fp32 = ModelPackage.builtIn("bge-small-en-v1.5");
    Files.write(dir.resolve("model.onnx"), Int8Quantizer.quantize(TestModels.graph(fp32)));
    ModelPackage q = ModelPackage.builder().name("q").pooling(Pooling.CLS).maxTokens(512)
        .model(ModelSource.of(dir.resolve("model.onnx"))).tokenizer(fp32.tokenizer()).build();
    List<String> texts = TestModels.golden("short.jsonl", 32);
    try (GeckoEmbedder a = GeckoEmbedder.builder().model(fp32).build();
        GeckoEmbedder b = GeckoEmbedder.builder().model(q).build()) {
      List<float[]> x = a.embedAll(texts, 384);
      List<float[]> y = b.embedAll(texts, 384);
      double worst = 1;
      for (int i = 0; i < texts.size(); i++) {
        worst = Math.min(worst, VectorOps.dot(x.get(i), y.get(i)));
      }
      assertThat(worst).isGreaterThanOrEqualTo(0.99);
    }
  }

  /** A [2, 4] x [4, 3] product, row-major. */
  private static float[] matMul(float[] x, float[] w) {
    float[] y = new float[6];
    for (int r = 0; r < 2; r++) {
      for (int c = 0; c < 3; c++) {
        for (int k = 0; k < 4; k++) {
          y[r * 3 + c] += x[r * 4 + k] * w[k * 3 + c];
        }
      }
    }
    return y;
  }

  /** Runs a model on ONNX Runtime with input X ([2, 4] float) and, if given, I (int64 indices); returns every output flattened. */
  private static Map<String, float[]> run(byte[] model, float[] x, long[] indices) throws Exception {
    ai.onnxruntime.OrtEnvironment env = ai.onnxruntime.OrtEnvironment.getEnvironment();
    Map<String, float[]> out = new java.util.LinkedHashMap<>();
    try (ai.onnxruntime.OrtSession.SessionOptions options = new ai.onnxruntime.OrtSession.SessionOptions();
        ai.onnxruntime.OrtSession session = env.createSession(model, options);
        ai.onnxruntime.OnnxTensor tx = ai.onnxruntime.OnnxTensor.createTensor(env, java.nio.FloatBuffer.wrap(x),
            new long[] {2, 4});
        ai.onnxruntime.OnnxTensor ti = ai.onnxruntime.OnnxTensor.createTensor(env,
            java.nio.LongBuffer.wrap(indices == null ? new long[] {0} : indices),
            new long[] {indices == null ? 1 : indices.length})) {
      Map<String, ai.onnxruntime.OnnxTensor> feeds = new java.util.HashMap<>();
      feeds.put("X", tx);
      if (indices != null) {
        feeds.put("I", ti);
      }
      try (ai.onnxruntime.OrtSession.Result r = session.run(feeds)) {
        for (Map.Entry<String, ai.onnxruntime.OnnxValue> e : r) {
          java.nio.FloatBuffer b = ((ai.onnxruntime.OnnxTensor) e.getValue()).getFloatBuffer();
          float[] v = new float[b.remaining()];
          b.get(v);
          out.put(e.getKey(), v);
        }
      }
    }
    return out;
  }

  @Test
  void aWeightReadByTwoNodesOfItsKindIsQuantisedOnce() throws Exception {
    float[] w = TinyOnnx.random(12, 1);
    float[] table = TinyOnnx.random(20, 2);
    byte[] model = new TinyOnnx().input("X", false, 2, 4).input("I", true, 2)
        .floats("W", new long[] {4, 3}, w).floats("E", new long[] {5, 4}, table)
        .node("mm1", "MatMul", List.of("X", "W"), List.of("Y1"))
        .node("mm2", "MatMul", List.of("X", "W"), List.of("Y2"))
        .node("g1", "Gather", List.of("E", "I"), List.of("G1"))
        .node("g2", "Gather", List.of("E", "I"), List.of("G2"))
        .output("Y1").output("Y2").output("G1").output("G2").bytes();
    byte[] q = Int8Quantizer.quantize(OnnxModel.parse(model));
    assertThat(TinyOnnx.initializerNames(q)).containsExactlyInAnyOrder("W_quantized", "W_scale", "W_zero_point",
        "E_quantized", "E_scale", "E_zero_point");
    assertThat(histogram(OnnxModel.parse(q))).containsEntry("MatMulInteger", 2L).containsEntry("Gather", 2L)
        .containsEntry("DynamicQuantizeLinear", 1L).doesNotContainKey("MatMul");
    // ONNX Runtime loads it (it refuses an initializer defined twice) and computes the products
    float[] x = TinyOnnx.random(8, 3);
    Map<String, float[]> out = run(q, x, new long[] {4, 1});
    float[] y = matMul(x, w);
    for (String name : List.of("Y1", "Y2")) {
      for (int i = 0; i < y.length; i++) {
        assertThat(out.get(name)[i]).as(name + "[" + i + "]").isCloseTo(y[i], org.assertj.core.data.Offset.offset(0.1f));
      }
    }
    for (String name : List.of("G1", "G2")) {
      for (int k = 0; k < 4; k++) {
        assertThat(out.get(name)[k]).isCloseTo(table[16 + k], org.assertj.core.data.Offset.offset(0.01f));
        assertThat(out.get(name)[4 + k]).isCloseTo(table[4 + k], org.assertj.core.data.Offset.offset(0.01f));
      }
    }
  }

  @Test
  void aWeightWithOtherReadersOrListedAsAGraphInputStaysFloat() throws Exception {
    float[] w = TinyOnnx.random(12, 1);
    float[] v = TinyOnnx.random(12, 2);
    float[] u = TinyOnnx.random(12, 3);
    float[] table = TinyOnnx.random(20, 4);
    byte[] model = new TinyOnnx().input("X", false, 2, 4).input("V", false, 4, 3).input("I", true, 2)
        .floats("W", new long[] {4, 3}, w).floats("V", new long[] {4, 3}, v).floats("U", new long[] {4, 3}, u)
        .floats("E", new long[] {5, 4}, table).floats("W2", new long[] {4, 3}, TinyOnnx.random(12, 6))
        .node("mm1", "MatMul", List.of("X", "W"), List.of("Y1"))
        .node("copy", "Identity", List.of("W"), List.of("WCopy")) // another reader of W
        .node("mm2", "MatMul", List.of("X", "V"), List.of("Y2")) // V: an input a caller may feed
        .node("mm3", "MatMul", List.of("X", "U"), List.of("Y3"))
        .node("g1", "Gather", List.of("E", "I"), List.of("G1"))
        .node("mm4", "MatMul", List.of("E", "W2"), List.of("Y4")) // E read as a table and as an activation
        .output("Y1").output("WCopy").output("Y2").output("Y3").output("G1").output("Y4").bytes();
    byte[] q = Int8Quantizer.quantize(OnnxModel.parse(model));
    OnnxModel parsed = OnnxModel.parse(q);
    for (String name : List.of("W", "V", "E")) {
      assertThat(parsed.initializers().get(name)).as(name).isNotNull();
      assertThat(parsed.initializers().get(name).dataType()).as(name).isEqualTo(OnnxModel.FLOAT);
      assertThat(parsed.initializers()).as(name).doesNotContainKey(name + "_quantized");
    }
    assertThat(parsed.initializers()).doesNotContainKeys("U", "W2").containsKeys("U_quantized", "W2_quantized");
    assertThat(histogram(parsed)).containsEntry("MatMul", 2L).containsEntry("MatMulInteger", 2L)
        .containsEntry("Gather", 1L).doesNotContainKey("DequantizeLinear");
    // every value read is defined: ONNX Runtime loads and runs it, the float product as float
    float[] x = TinyOnnx.random(8, 5);
    Map<String, float[]> out = run(q, x, new long[] {0, 2});
    assertThat(out.get("WCopy")).containsExactly(w);
    float[] y1 = matMul(x, w);
    for (int i = 0; i < y1.length; i++) {
      assertThat(out.get("Y1")[i]).isCloseTo(y1[i], org.assertj.core.data.Offset.offset(1e-5f));
    }
    float[] y3 = matMul(x, u);
    for (int i = 0; i < y3.length; i++) {
      assertThat(out.get("Y3")[i]).isCloseTo(y3[i], org.assertj.core.data.Offset.offset(0.1f));
    }
  }

  @Test
  void aNonFiniteWeightIsRefusedNamingTheTensor() {
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
      float[] w = TinyOnnx.random(12, 1);
      w[7] = bad;
      OnnxModel matrix = OnnxModel.parse(new TinyOnnx().input("X", false, 2, 4).floats("layer.7.W", new long[] {4, 3}, w)
          .node("mm", "MatMul", List.of("X", "layer.7.W"), List.of("Y")).output("Y").bytes());
      assertThatThrownBy(() -> Int8Quantizer.quantize(matrix)).as("%s", bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("layer.7.W")
          .hasMessageContaining(String.valueOf(bad));
      float[] t = TinyOnnx.random(20, 2);
      t[13] = bad;
      OnnxModel table = OnnxModel.parse(new TinyOnnx().input("I", true, 2).floats("word_embeddings", new long[] {5, 4}, t)
          .node("g", "Gather", List.of("word_embeddings", "I"), List.of("G")).output("G").bytes());
      assertThatThrownBy(() -> Int8Quantizer.quantize(table)).as("%s", bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("word_embeddings")
          .hasMessageContaining(String.valueOf(bad));
    }
  }

  @Test
  void aColumnOfValuesTooSmallForAFloatScaleQuantisesToZeroWithScale1() throws Exception {
    // column 0 holds the smallest positive float: max / 64 is 0 as a float, and values / 0 would be infinite
    float[] w = {Float.MIN_VALUE, 0.5f, -1f, -Float.MIN_VALUE, 0.25f, 1f, 0, -0.5f, 0.5f, Float.MIN_VALUE, 0, 0};
    byte[] q = Int8Quantizer.quantize(OnnxModel.parse(new TinyOnnx().input("X", false, 2, 4)
        .floats("W", new long[] {4, 3}, w).node("mm", "MatMul", List.of("X", "W"), List.of("Y")).output("Y").bytes()));
    OnnxModel parsed = OnnxModel.parse(q);
    assertThat(parsed.initializers().get("W_scale").floats()).containsExactly(1f, 1f / 128, 1f / 64);
    assertThat(bytes(parsed.initializers().get("W_quantized")))
        .containsExactly(0, 64, -64, 0, 32, 64, 0, -64, 32, 0, 0, 0);
    // and the graph gives finite products
    for (float y : run(q, new float[] {1, 2, 3, 4, -1, -2, -3, -4}, null).get("Y")) {
      assertThat(Float.isFinite(y)).isTrue();
    }
  }
}
