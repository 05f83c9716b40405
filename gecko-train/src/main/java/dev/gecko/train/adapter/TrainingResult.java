package dev.gecko.train.adapter;

import dev.gecko.core.ModelPackage;
import dev.gecko.core.adapter.Adapter;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@link Trainer#train()} produced. Immutable and thread-safe (the curve is copied); the
 * model folder it names belongs to the caller, and nothing in it is held open.
 *
 * @param modelDir the written model folder ({@code gecko-model.json}, {@code model.onnx}, {@code
 *     tokenizer.json}, {@code adapter.safetensors}); {@code GeckoEmbedder.builder().model(dir)}
 *     loads it
 * @param model the package read back from {@code modelDir}
 * @param adapter the adapter of the best epoch (its basis with a zero residual if no epoch beat
 *     epoch 0)
 * @param curve epoch 0 (the basis alone: the base model itself with {@link Basis#IDENTITY}) then
 *     one entry per epoch run; validation scores x 100
 * @param bestEpoch the epoch whose adapter was kept (0 = no trained epoch improved on epoch 0)
 * @param stoppedEarly whether early stopping ended training before the last epoch
 */
public record TrainingResult(Path modelDir, ModelPackage model, Adapter adapter, List<EpochStats> curve,
    int bestEpoch, boolean stoppedEarly) {
  /** Validates and copies. */
  public TrainingResult {
    curve = List.copyOf(curve);
  }

  /** Returns the validation score of the kept adapter (x 100), the highest of the curve. */
  public double bestValidationScore() {
    return curve.get(bestEpoch).validationScore();
  }

  /** Whether a trained epoch beat epoch 0 (when not, the written model is the basis alone). */
  public boolean improved() {
    return bestEpoch > 0;
  }

  /**
   * Returns the validation score (x 100) of epoch 0: the basis with a zero residual (the base model
   * itself with {@link Basis#IDENTITY}).
   */
  public double baseValidationScore() {
    return curve.get(0).validationScore();
  }
}
