package dev.gecko.core.internal.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtException;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.vector.VectorOps;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ClsTokenPruningTest {
  private static byte[] shipped(String name) throws IOException {
    return SkipLayerNormFusionTest.shipped(name);
  }

  private static float[][][] run(byte[] model, long[][] ids, long[][] mask) throws OrtException {
    return SkipLayerNormFusionTest.run(model, ids, mask);
  }

  /** Three texts of 37 tokens, the second and third padded by 6 and 12. */
  private static long[][][] batch() {
    Random random = new Random(11);
    long[][] ids = new long[3][37];
    long[][] mask = new long[3][37];
    for (int b = 0; b < 3; b++) {
      for (int s = 0; s < 37; s++) {
        boolean token = s < 37 - 6 * b;
        ids[b][s] = s == 0 ? 101 : token ? 1000 + random.nextInt(20000) : 0;
        mask[b][s] = token ? 1 : 0;
      }
    }
    return new long[][][] {ids, mask};
  }

  @ParameterizedTest
  @ValueSource(strings = {"bge-small-en-v1.5", "bge-small-en-v1.5-int8", "all-MiniLM-L6-v2", "e5-small-v2"})
  void theLastLayerOfEveryShippedBertGraphIsCutToTheFirstToken(String name) throws IOException {
    byte[] model = shipped(name);
    Map<String, Integer> before = SkipLayerNormFusion.operatorCounts(model.clone());
    ModelRewriter.Result r = ModelRewriter.rewrite(model, true, true);
    assertThat(r.firstTokenOnly()).isTrue();
    assertThat(r.fusedBlocks()).isEqualTo(2 * (name.startsWith("all-MiniLM") ? 6 : 12) + 1);
    assertThat(r.model()).as("rewritten in place").isSameAs(model);
    Map<String, Integer> after = SkipLayerNormFusion.operatorCounts(r.model());
    // one slice of the layer input, and one of its quantised copy in int8 graphs
    assertThat(after.get("Slice") - before.getOrDefault("Slice", 0)).isEqualTo(name.endsWith("int8") ? 2 : 1);
  }

  @ParameterizedTest
  @CsvSource({"true", "false"})
  void theFirstTokenComesOutAsTheWholeGraphComputesIt(boolean fuse) throws Exception {
    byte[] model = shipped("bge-small-en-v1.5");
    byte[] cut = ModelRewriter.rewrite(model.clone(), fuse, true).model();
    long[][][] in = batch();
    float[][][] whole = run(model, in[0], in[1]);
    float[][][] first = run(cut, in[0], in[1]);
    assertThat(first.length).isEqualTo(3);
    double worst = 0;
    for (int b = 0; b < 3; b++) {
      assertThat(first[b]).hasNumberOfRows(1);
      for (int h = 0; h < whole[b][0].length; h++) {
        worst = Math.max(worst, Math.abs(whole[b][0][h] - first[b][0][h]));
      }
    }
    assertThat(worst).isLessThan(2e-5);
  }

  @Test
  void int8FirstTokenStaysWithinQuantisationNoise() throws Exception {
    byte[] model = shipped("bge-small-en-v1.5-int8");
    byte[] cut = ModelRewriter.rewrite(model.clone(), true, true).model();
    long[][][] in = batch();
    float[][][] whole = run(model, in[0], in[1]);
    float[][][] first = run(cut, in[0], in[1]);
    for (int b = 0; b < 3; b++) {
      assertThat(first[b]).hasNumberOfRows(1);
      assertThat(VectorOps.cosine(whole[b][0], first[b][0])).isGreaterThan(0.99f);
    }
  }

  @Test
  void embedderVectorsWithAndWithoutTheCutAgree() {
    List<String> texts = List.of("A man is playing a guitar.", "The stock market fell sharply on Monday morning.",
        "Three dogs run through the snow.", "what is the capital of france");
    for (String name : List.of("bge-small-en-v1.5", "bge-small-en-v1.5-int8", "all-MiniLM-L6-v2")) {
      try (GeckoEmbedder cut = GeckoEmbedder.builder().model(name).build();
          GeckoEmbedder whole = GeckoEmbedder.builder().model(name).firstTokenOnly(false).build()) {
        List<float[]> a = cut.embedAll(texts, cut.dimensions());
        List<float[]> b = whole.embedAll(texts, whole.dimensions());
        for (int i = 0; i < texts.size(); i++) {
          if (name.startsWith("all-MiniLM")) {
            // mean pooling reads every token: the option does not apply
            assertThat(a.get(i)).isEqualTo(b.get(i));
          } else {
            assertThat(VectorOps.cosine(a.get(i), b.get(i))).isGreaterThan(name.endsWith("int8") ? 0.99f : 0.99999f);
          }
        }
      }
    }
  }

  @Test
  void aGraphWithoutAttentionIsNotCut() throws IOException {
    // the fusion tests' hand-written residual block has no Softmax
    byte[] model = SkipLayerNormFusionTest.block("plain");
    ModelRewriter.Result r = ModelRewriter.rewrite(model, false, true);
    assertThat(r.firstTokenOnly()).isFalse();
    assertThat(r.changed()).isFalse();
    assertThat(r.model()).isSameAs(model);
  }
}
