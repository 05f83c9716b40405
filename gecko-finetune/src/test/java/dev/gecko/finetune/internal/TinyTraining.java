package dev.gecko.finetune.internal;

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
import java.util.function.Function;

/**
 * The optimiser tests' training setup: the tiny random encoder ({@link GradientTest#TINY}, seed
 * 3, float32) in its own base manager, bge's tokenizer, {@link TestModels#fourShortTexts} and an
 * {@link Optimizer} with gradient clipping at 1. Owns its native memory: close it. Not thread-safe.
 */
final class TinyTraining implements AutoCloseable {
  final NDManager root;
  final GeckoTokenizer tok;
  final List<Encoding> texts;
  final BertEncoder enc;
  final Optimizer opt;

  TinyTraining() {
    Torch.engine();
    root = NDManager.newBaseManager();
    tok = TestModels.tokenizer(ModelPackage.builtIn("bge-small-en-v1.5"));
    texts = TestModels.fourShortTexts(tok);
    enc = BertEncoder.random(GradientTest.TINY, 3, root, DataType.FLOAT32);
    opt = new Optimizer(enc, config(1.0), root);
  }

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

  /**
   * The gradients of {@code loss} over the four texts in mini-batches of 2 (the gradient-caching
   * path, the one with the most arrays); returns the loss.
   */
  double gradients(Function<NDArray, NDArray> loss) {
    return GradCache.run(enc, root, texts, tok.padId(), Pooling.CLS, 2, loss, new double[1]);
  }

  @Override
  public void close() {
    try (NDManager r = root; GeckoTokenizer t = tok) {
      enc.close();
    }
  }
}
