package dev.gecko.train.adapter;

/**
 * One point of the training curve. Immutable and thread-safe.
 *
 * @param epoch the epoch (0 = the untrained adapter: its basis with a zero residual, the identity
 *     by default)
 * @param trainLoss the mean training loss over the epoch's steps (NaN for epoch 0)
 * @param validationScore the validation score after the epoch, x 100 as gecko-eval reports its
 *     scores (Spearman 0.8636 is 86.36; higher is better; see {@link Trainer})
 * @param learningRate the learning rate at the epoch's last step
 */
public record EpochStats(int epoch, double trainLoss, double validationScore, double learningRate) {}
