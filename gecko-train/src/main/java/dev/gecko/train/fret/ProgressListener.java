package dev.gecko.train.fret;

/**
 * Receives progress reports; called from worker threads, one call at a time. Must be quick and
 * must not throw.
 */
@FunctionalInterface
public interface ProgressListener {
  /** Ignores all reports. */
  ProgressListener NONE = p -> {};

  /** Called once at the start and after every seed. */
  void onProgress(Progress progress);
}
