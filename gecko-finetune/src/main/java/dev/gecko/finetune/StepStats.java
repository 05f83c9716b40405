package dev.gecko.finetune;

/**
 * One point of the training curve. Immutable and thread-safe.
 *
 * @param step the optimizer steps done
 * @param trainLoss the mean training loss since the previous point
 * @param validationScore the validation score at this step (x100, higher is better), or NaN when
 *     none was computed
 */
public record StepStats(long step, double trainLoss, double validationScore) {}
