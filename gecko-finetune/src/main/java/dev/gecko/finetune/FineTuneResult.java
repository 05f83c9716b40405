package dev.gecko.finetune;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What {@link FineTuner#train()} produced. Immutable and thread-safe.
 *
 * @param modelDir the written model folder ({@code GeckoEmbedder.builder().model(dir)} loads it)
 * @param int8Dir the int8 model folder, when one was asked for
 * @param curve training loss and validation score by step
 * @param steps optimizer steps done
 * @param bestStep the step whose weights were kept (0: the base model)
 * @param baseScore the validation score of the base model (NaN without validation)
 * @param bestScore the validation score of the kept weights (NaN without validation)
 * @param stoppedEarly whether early stopping ended training
 * @param skippedSteps steps whose loss or gradient was not finite, skipped with the weights
 *     unchanged (each logged as a warning; ten in a row fail the run as diverged)
 */
public record FineTuneResult(Path modelDir, Optional<Path> int8Dir, List<StepStats> curve, long steps,
    long bestStep, double baseScore, double bestScore, boolean stoppedEarly, long skippedSteps) {
  /** Copies the curve. */
  public FineTuneResult {
    curve = List.copyOf(curve);
  }
}
