package dev.gecko.finetune.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.Pooling;
import dev.gecko.tokenizer.Encoding;
import dev.gecko.tokenizer.GeckoTokenizer;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** A batch whose gradient is not finite is skipped and leaves nothing behind: later steps train normally. */
class OptimizerTest {
  private static final String W = "encoder.layer.0.attention.self.query.weight";

  @Test
  void aNonFiniteGradientSkipsTheStepAndLaterStepsStayFinite() {
    Torch.engine();
    try (NDManager root = NDManager.newBaseManager();
        GeckoTokenizer tok = TestModels.tokenizer(ModelPackage.builtIn("bge-small-en-v1.5"))) {
      List<Encoding> texts = TestModels.fourShortTexts(tok);
      BertEncoder enc = BertEncoder.random(GradientTest.TINY, 3, root, DataType.FLOAT32);
      Optimizer opt = new Optimizer(enc, NativeMemoryTest.config(1.0), root);
      Function<NDArray, NDArray> loss = NativeMemoryTest::tinyGeckoLoss;

      double l = GradCache.run(enc, root, texts, tok.padId(), Pooling.CLS, 2, loss, new double[1]);
      assertThat(opt.step(1e-3)).isTrue();
      assertThat(l).isFinite();

      float[] before = enc.values(W);
      double nan = GradCache.run(enc, root, texts, tok.padId(), Pooling.CLS, 2, e -> loss.apply(e).mul(Float.NaN),
          new double[1]);
      assertThat(nan).isNaN();
      assertThat(opt.gradNorm()).isNaN();
      assertThat(opt.step(1e-3)).as("a step with a NaN gradient").isFalse();
      assertThat(opt.lastSkipReason()).as("the reason names the parameters").contains("NaN")
          .contains(opt.m.size() + " of " + opt.m.size() + " parameters' gradients")
          .endsWith("nearest the output " + new java.util.ArrayList<>(opt.m.keySet()).get(opt.m.size() - 1));
      assertThat(enc.values(W)).as("weights after the skipped step").containsExactly(before);
      assertThat(opt.gradNorm()).as("the gradients are zeroed, NaN included").isZero();
      assertThat(opt.t).as("Adam's step count").isEqualTo(1);

      for (int i = 0; i < 3; i++) {
        GradCache.run(enc, root, texts, tok.padId(), Pooling.CLS, 2, loss, new double[1]);
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
      enc.close();
    }
  }
}
