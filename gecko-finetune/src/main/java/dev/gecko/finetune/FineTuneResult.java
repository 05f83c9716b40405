package dev.gecko.finetune;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What {@link FineTuner#train()} produced. Immutable and thread-safe.
 *
 * @param modelDir the written model folder ({@code GeckoEmbedder.builder().model(dir)} loads it)
 * @param int8Dir the int8 model folder, when one was asked for
 * @param curve training loss and validation score by step; a step whose validation met vectors
 *     with NaN or an infinity (weights that diverged, or a text that overflows the model) is scored
 *     NaN, with a warning naming the step and the count of such texts, and training goes on
 * @param steps optimizer steps done
 * @param bestStep the step whose weights were kept (0: the base model); never a step scored NaN
 *     while another step, or the base, was scored
 * @param baseScore the validation score of the base model (NaN without validation; a base whose
 *     validation vectors are not finite, or that gives every STS pair the same cosine, fails the run)
 * @param bestScore the validation score of the kept weights (NaN without validation, or where no
 *     step was scored)
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
