package dev.gecko.train.llm;

import java.time.Duration;

/**
 * Waits; injectable so tests never sleep for real. Implementations must be thread-safe: a {@link
 * RetryPolicy} shares its sleeper (it does not own it) among all threads calling its clients.
 */
@FunctionalInterface
public interface Sleeper {
  /** Sleeps on the calling thread. */
  Sleeper SYSTEM = d -> Thread.sleep(d.toMillis());

  /**
   * Waits for {@code duration}.
   *
   * @throws InterruptedException if interrupted while waiting
   */
  void sleep(Duration duration) throws InterruptedException;
}
