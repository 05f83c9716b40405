package dev.gecko.core;

/**
 * Receives {@link Progress} reports of long operations: {@link
 * GeckoEmbedder#embedRequests(java.util.List, int, ProgressListener)}, the evaluators, FRet
 * generation, training.
 *
 * <p>Reports of one operation arrive one at a time, in order ({@code done} never decreases within
 * a phase), possibly from a thread other than the caller's. Implementations must be quick and must
 * not throw; what one throws is not caught by the operation. A listener may close the {@link
 * GeckoEmbedder} whose call reports to it: the call completes, and the embedder frees its native
 * memory when its last call has finished ({@link GeckoEmbedder#close()}).
 *
 * <p>Thread-safety: a listener used by one operation at a time need not be thread-safe (its
 * reports never overlap, even when the operation's worker threads send them, as in FRet
 * generation); one shared by operations that run at once (an evaluator run from several threads,
 * say) must be.
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
