package dev.gecko.eval;

/**
 * Receives progress of a long evaluation step, for example "embedding corpus" 2048 of 8674.
 * Called from the evaluating thread, in order; {@code done} never decreases within a phase and
 * equals {@code total} on its last call. Implementations must be cheap and must not throw.
 */
@FunctionalInterface
public interface ProgressListener {
  /**
   * Reports progress.
   *
   * @param phase what is being done, a short human-readable label
   * @param done units finished so far
   * @param total units in the phase
   */
  void onProgress(String phase, long done, long total);

  /** A listener that ignores everything. */
  static ProgressListener none() {
    return (phase, done, total) -> {};
  }
}
