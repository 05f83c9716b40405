package dev.gecko.finetune.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Training steps free every native array they make: the count of live arrays stays flat; and they move the weights. */
class NativeMemoryTest {
  @Test
  void liveArraysStayFlatOver200StepsAndWeightsMove() {
    try (TinyTraining t = new TinyTraining()) {
      float[] before = t.enc.values("encoder.layer.0.attention.self.query.weight");
      int[] counts = new int[201];
      for (int step = 0; step < 200; step++) {
        // mini-batch 2 of 4 texts: the gradient-caching path, the one with the most arrays
        t.gradients(TinyTraining::tinyGeckoLoss);
        t.opt.step(1e-3);
        counts[step + 1] = t.root.getManagedArrays().size();
      }
      assertThat(counts[200]).as("live arrays after 200 steps vs after 1").isEqualTo(counts[1]);
      assertThat(counts[100]).isEqualTo(counts[1]);
      float[] after = t.enc.values("encoder.layer.0.attention.self.query.weight");
      double moved = 0;
      for (int i = 0; i < before.length; i++) {
        moved = Math.max(moved, Math.abs(after[i] - before[i]));
      }
      assertThat(moved).as("largest weight change after 200 steps").isGreaterThan(1e-3);
    }
  }
}
