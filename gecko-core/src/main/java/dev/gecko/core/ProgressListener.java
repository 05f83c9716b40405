package dev.gecko.core;

/**
 * Receives {@link Progress} reports of long operations: {@link
 * GeckoEmbedder#embedRequests(java.util.List, int, ProgressListener)}, the evaluators, FRet
 * generation, training.
 *
 * <p>Reports of one operation arrive one at a time, in order ({@code done} never decreases within
 * a phase), possibly from a thread other than the caller's. Implementations must be quick and must
 * not throw; what one throws is not caught by the operation.
 */
@FunctionalInterface
public interface ProgressListener {
  /** Receives one report. */
  void onProgress(Progress progress);

  /** A listener that ignores every report. */
  static ProgressListener none() {
    return p -> {};
  }
}
