package dev.gecko.finetune.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.Pooling;
import dev.gecko.finetune.FineTuneConfig;
import dev.gecko.finetune.FineTuneObjective;
import dev.gecko.finetune.PromptStyle;
import dev.gecko.tokenizer.Encoding;
import dev.gecko.tokenizer.GeckoTokenizer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Training steps free every native array they make: the count of live arrays stays flat; and they move the weights. */
class NativeMemoryTest {
  static FineTuneConfig config(double maxGradNorm) {
    return new FineTuneConfig(FineTuneObjective.GECKO, List.of(8, 4), List.of(1.0, 1.0), 1, 4, 2, 32, 1e-3, 0, 0.01,
        maxGradNorm, 0.5, 20, 4, false, PromptStyle.MODEL, false, 0, 1, 100, true, 0, 0, false, Path.of("unused"), false,
        null, 0, false, dev.gecko.train.adapter.Basis.IDENTITY, null, false);
  }

  /**
   * Gecko's loss over {@link TestModels#fourShortTexts}: texts 0 and 1 the queries, 2 and 3 their
   * positives, no hard negatives, widths 8 and 4 of the tiny model.
   */
  static NDArray tinyGeckoLoss(NDArray embeddings) {
    return Objectives.gecko(embeddings, new int[] {0, 1}, new int[] {2, 3}, new int[] {-1, -1}, new int[] {8, 4},
        new double[] {1, 1}, 0.5, false);
  }

  @Test
  void liveArraysStayFlatOver200StepsAndWeightsMove() {
    Torch.engine();
    try (NDManager root = NDManager.newBaseManager();
        GeckoTokenizer tok = TestModels.tokenizer(ModelPackage.builtIn("bge-small-en-v1.5"))) {
      List<Encoding> texts = TestModels.fourShortTexts(tok);
      BertEncoder enc = BertEncoder.random(GradientTest.TINY, 3, root, DataType.FLOAT32);
      Optimizer opt = new Optimizer(enc, config(1.0), root);
      float[] before = enc.values("encoder.layer.0.attention.self.query.weight");
      int[] counts = new int[201];
      for (int step = 0; step < 200; step++) {
        // mini-batch 2 of 4 texts: the gradient-caching path, the one with the most arrays
        GradCache.run(enc, root, texts, tok.padId(), Pooling.CLS, 2, NativeMemoryTest::tinyGeckoLoss, new double[1]);
        opt.step(1e-3);
        counts[step + 1] = root.getManagedArrays().size();
      }
      assertThat(counts[200]).as("live arrays after 200 steps vs after 1").isEqualTo(counts[1]);
      assertThat(counts[100]).isEqualTo(counts[1]);
      float[] after = enc.values("encoder.layer.0.attention.self.query.weight");
      double moved = 0;
      for (int i = 0; i < before.length; i++) {
        moved = Math.max(moved, Math.abs(after[i] - before[i]));
      }
      assertThat(moved).as("largest weight change after 200 steps").isGreaterThan(1e-3);
      enc.close();
    }
  }
}
