package dev.gecko.finetune.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** A batch whose gradient is not finite is skipped and leaves nothing behind: later steps train normally. */
class OptimizerTest {
  private static final String W = "encoder.layer.0.attention.self.query.weight";

  @Test
  void aNonFiniteGradientSkipsTheStepAndLaterStepsStayFinite() {
    try (TinyTraining t = new TinyTraining()) {
      BertEncoder enc = t.enc;
      Optimizer opt = t.opt;
      Function<NDArray, NDArray> loss = TinyTraining::tinyGeckoLoss;

      double l = t.gradients(loss);
      assertThat(opt.step(1e-3)).isTrue();
      assertThat(l).isFinite();

      float[] before = enc.values(W);
      double nan = t.gradients(e -> loss.apply(e).mul(Float.NaN));
      assertThat(nan).isNaN();
      assertThat(opt.gradNorm()).isNaN();
      assertThat(opt.step(1e-3)).as("a step with a NaN gradient").isFalse();
      assertThat(opt.lastSkipReason()).as("the reason names the parameters").contains("NaN")
          .contains(opt.m.size() + " of " + opt.m.size() + " parameters' gradients")
          .endsWith("nearest the output " + new java.util.ArrayList<>(opt.m.keySet()).get(opt.m.size() - 1)
              + " (no parameter above it)");
      assertThat(enc.values(W)).as("weights after the skipped step").containsExactly(before);
      assertThat(opt.gradNorm()).as("the gradients are zeroed, NaN included").isZero();
      assertThat(opt.t).as("Adam's step count").isEqualTo(1);
      // a loss that is not finite skips its step whatever its gradient
      t.gradients(loss);
      assertThat(opt.gradNorm()).isFinite().isPositive();
      assertThat(opt.step(1e-3, Double.POSITIVE_INFINITY)).as("a step with an infinite loss").isFalse();
      assertThat(opt.lastSkipReason()).isEqualTo("the loss is Infinity");
      assertThat(enc.values(W)).containsExactly(before);
      assertThat(opt.gradNorm()).isZero();
      assertThat(opt.t).isEqualTo(1);

      for (int i = 0; i < 3; i++) {
        t.gradients(loss);
        assertThat(opt.step(1e-3)).isTrue();
      }
      float[] after = enc.values(W);
      double moved = 0;
      for (int i = 0; i < after.length; i++) {
        assertThat(after[i]).isFinite();
        moved = Math.max(moved, Math.abs(after[i] - before[i]));
      }
      assertThat(moved).as("the weights train on after the skipped step").isGreaterThan(1e-4);
      for (NDArray m : opt.m.values()) {
        assertThat(m.isNaN().any().getBoolean()).isFalse();
      }
    }
  }

  /**
   * A gradient that is not finite in one parameter only: the reason names it, and the largest
   * finite gradient magnitude among the parameters above it (nearer the output), which tells a
   * gradient that grew on its way down from a value that overflowed where the NaN shows.
   */
  @Test
  void theReasonGivesTheLargestFiniteGradientAboveTheFirstNonFiniteOne() {
    try (TinyTraining t = new TinyTraining()) {
      BertEncoder enc = t.enc;
      Optimizer opt = t.opt;
      t.gradients(TinyTraining::tinyGeckoLoss);
      List<String> names = new java.util.ArrayList<>(opt.m.keySet());
      assertThat(names).contains(W);
      try (NDArray g = enc.parameters().get(W).getGradient()) {
        g.muli(Float.NaN); // in place: the parameter's own gradient
      }
      // what the reason should name: the largest |gradient| among the parameters after W
      String largest = null;
      double largestValue = -1;
      for (String name : names.subList(names.indexOf(W) + 1, names.size())) {
        try (NDArray g = enc.parameters().get(name).getGradient()) {
          float[] v = g.toFloatArray();
          for (float x : v) {
            if (Math.abs(x) > largestValue) {
              largestValue = Math.abs(x);
              largest = name;
            }
          }
        }
      }
      assertThat(largestValue).isPositive();
      assertThat(opt.step(1e-3)).isFalse();
      assertThat(opt.lastSkipReason()).startsWith("1 of " + names.size() + " parameters' gradients hold ")
          .endsWith("nearest the output " + W + " (the largest finite gradient above it: "
              + String.format(java.util.Locale.ROOT, "%.3g", largestValue) + " in " + largest + ")");
    }
  }
}
