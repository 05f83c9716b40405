package dev.gecko.train.adapter;

/**
 * A progress report from {@link Trainer#train()}, delivered on the training thread. Immutable and
 * thread-safe.
 *
 * @param stage what is being done
 * @param done units done in this stage (texts embedded, or steps of the current epoch)
 * @param total units in this stage
 * @param epoch the current epoch (1-based; 0 while embedding and for the baseline validation)
 * @param loss the mean training loss of the epoch so far (NaN while embedding)
 * @param validationScore the latest validation score, x 100 like {@link EpochStats#validationScore()}
 *     (NaN until the first one)
 */
public record TrainingProgress(Stage stage, int done, int total, int epoch, double loss, double validationScore) {
  /** Stages of training. Immutable and thread-safe. */
  public enum Stage {
    /** The frozen encoder embeds the texts (cached on disk). */
    EMBEDDING,
    /** Optimisation steps of an epoch. */
    TRAINING,
    /** A validation score was computed (once before training, then after each epoch). */
    VALIDATED
  }
}
