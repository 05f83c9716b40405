package dev.gecko.finetune.internal;

import static org.assertj.core.api.Assertions.assertThat;

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

/** The quantisation rule, applied to the unmodified fp32 bge weights, reproduces the shipped int8 initializers. */
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
}
