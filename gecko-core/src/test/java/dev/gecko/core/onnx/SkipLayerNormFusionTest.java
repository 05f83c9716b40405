package dev.gecko.core.onnx;

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
  private static byte[] shipped(String name) throws IOException {
    return ModelPackage.builtIn(name).model().readAllBytes();
  }

  private static float[][][] run(byte[] model, long[][] ids, long[][] mask) throws OrtException {
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
    assertThat(r.fused()).isEqualTo(2 * layers);
    assertThat(after).containsEntry("com.microsoft.SkipLayerNormalization", 2 * layers);
    // 11 nodes per block become one; the embedding layer norm (2 ReduceMean) stays
    assertThat(after.get("ReduceMean")).isEqualTo(2);
    assertThat(before.get("ReduceMean")).isEqualTo(2 + 4 * layers);
    assertThat(after.get("Add")).isEqualTo(before.get("Add") - 4 * 2 * layers);
    // a fused graph has nothing left to fuse, and is returned as is
    // rewritten in place, the freed tail filled with one unknown field
    assertThat(r.model()).isSameAs(model);
    byte[] copy = r.model().clone();
    SkipLayerNormFusion.Result again = SkipLayerNormFusion.apply(copy);
    assertThat(again.fused()).isZero();
    assertThat(again.model()).isSameAs(copy).isEqualTo(model);
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
      byte[] f = SkipLayerNormFusion.filler(size);
      assertThat(f).as("size %d", size).hasSize(size);
      assertThat(Protobuf.parse(f, 0, f.length)).isNotEmpty()
          .allSatisfy(field -> assertThat(field.number).isEqualTo(SkipLayerNormFusion.FILLER_FIELD));
    }
    assertThat(SkipLayerNormFusion.filler(3)).isNull();
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
}
