package dev.gecko.core.internal.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MaskRemovalTest {
  /** Two unpadded texts of 29 tokens, or, with {@code padded}, the second cut to 20 and padded. */
  private static long[][][] batch(boolean padded) {
    Random random = new Random(5);
    long[][] ids = new long[2][29];
    long[][] mask = new long[2][29];
    for (int b = 0; b < 2; b++) {
      for (int s = 0; s < 29; s++) {
        boolean token = !padded || b == 0 || s < 20;
        ids[b][s] = s == 0 ? 101 : token ? 1000 + random.nextInt(20000) : 0;
        mask[b][s] = token ? 1 : 0;
      }
    }
    return new long[][][] {ids, mask};
  }

  @ParameterizedTest
  @ValueSource(strings = {"bge-small-en-v1.5", "bge-small-en-v1.5-int8", "all-MiniLM-L6-v2", "e5-small-v2"})
  void everyMaskAdditionGoesAndUnpaddedBatchesComeOutTheSame(String name) throws Exception {
    byte[] model = SkipLayerNormFusionTest.shipped(name);
    int layers = name.startsWith("all-MiniLM") ? 6 : 12;
    byte[] masked = ModelRewriter.rewrite(model.clone(), true, true).model();
    ModelRewriter.Result r = ModelRewriter.rewrite(model.clone(), true, true, true);
    assertThat(r.maskDropped()).isTrue();
    Map<String, Integer> before = SkipLayerNormFusion.operatorCounts(masked.clone());
    Map<String, Integer> after = SkipLayerNormFusion.operatorCounts(r.model().clone());
    assertThat(before.get("Add") - after.get("Add")).as("one mask addition per layer").isEqualTo(layers);
    assertThat(new Graph(r.model().clone()).consumers.get(MaskRemoval.MASK_INPUT)).as("the mask's arithmetic went too")
        .isNull();

    long[][][] unpadded = batch(false);
    float[][][] a = SkipLayerNormFusionTest.run(masked, unpadded[0], unpadded[1]);
    float[][][] b = SkipLayerNormFusionTest.run(r.model(), unpadded[0], unpadded[1]);
    double worst = 0;
    for (int row = 0; row < a.length; row++) {
      for (int t = 0; t < a[row].length; t++) {
        for (int h = 0; h < a[row][t].length; h++) {
          worst = Math.max(worst, Math.abs(a[row][t][h] - b[row][t][h]));
        }
      }
    }
    assertThat(worst).as("no padding: the mask added zero").isEqualTo(0.0);

    // with padding the mask matters: the padded row differs (so the rewrite did remove it)
    long[][][] padded = batch(true);
    float[][][] c = SkipLayerNormFusionTest.run(masked, padded[0], padded[1]);
    float[][][] d = SkipLayerNormFusionTest.run(r.model(), padded[0], padded[1]);
    double diff = 0;
    for (int h = 0; h < c[1][0].length; h++) {
      diff = Math.max(diff, Math.abs(c[1][0][h] - d[1][0][h]));
    }
    assertThat(diff).isGreaterThan(1e-3);
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aGraphWithoutAttentionIsLeftAlone(boolean fuse) throws IOException {
    byte[] model = SkipLayerNormFusionTest.block("plain");
    ModelRewriter.Result r = ModelRewriter.rewrite(model, fuse, false, true);
    assertThat(r.maskDropped()).isFalse();
  }
}
