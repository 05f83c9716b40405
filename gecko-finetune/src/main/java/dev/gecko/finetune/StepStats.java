package dev.gecko.finetune;

/**
 * One point of the training curve. Immutable and thread-safe.
 *
 * @param step the optimizer steps done
 * @param trainLoss the mean training loss since the previous point
 * @param validationScore the validation score at this step (x100, higher is better), or NaN when
 *     none was computed or the step could not be scored: a validation text's vector held NaN or an
 *     infinity (a warning names the step and counts such texts; such a step is never the best)
 */
public record StepStats(long step, double trainLoss, double validationScore) {}
