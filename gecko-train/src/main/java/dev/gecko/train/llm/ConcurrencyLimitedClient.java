package dev.gecko.train.llm;

import java.util.concurrent.Semaphore;
import java.util.function.Supplier;

/** At most {@code permits} calls in flight; the rest wait (fairly). Thread-safe. */
final class ConcurrencyLimitedClient extends ForwardingLlmClient {
  private final Semaphore permits;

  ConcurrencyLimitedClient(LlmClient inner, int permits) {
    super("ConcurrencyLimited", inner);
    this.permits = new Semaphore(permits, true);
  }

  @Override
  <T extends CallResult> T call(Supplier<T> call) {
    try {
      permits.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LlmException("interrupted while waiting for a concurrency permit", e);
    }
    try {
      return call.get();
    } finally {
      permits.release();
    }
  }
}
