package dev.gecko.train.llm;

import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;

/** At most {@code permits} calls in flight; the rest wait (fairly). */
final class ConcurrencyLimitedClient implements LlmClient {
  private final LlmClient inner;
  private final Semaphore permits;

  ConcurrencyLimitedClient(LlmClient inner, int permits) {
    this.inner = inner;
    this.permits = new Semaphore(permits, true);
  }

  @Override
  public String model() {
    return inner.model();
  }

  @Override
  public Set<Capability> capabilities() {
    return inner.capabilities();
  }

  @Override
  public LlmResponse generate(LlmRequest request) {
    return call(() -> inner.generate(request));
  }

  @Override
  public PromptLogprobs promptLogprobs(String prompt) {
    return call(() -> inner.promptLogprobs(prompt));
  }

  private <T> T call(Supplier<T> s) {
    try {
      permits.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LlmException("interrupted while waiting for a concurrency permit", e);
    }
    try {
      return s.get();
    } finally {
      permits.release();
    }
  }

  @Override
  public String toString() {
    return "ConcurrencyLimited[" + inner + "]";
  }
}
