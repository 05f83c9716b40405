package dev.gecko.train.llm;

import java.time.Duration;
import java.util.Set;
import java.util.function.Supplier;

/** Retries retryable failures with exponential backoff, jitter and Retry-After. */
final class RetryingClient implements LlmClient {
  private static final System.Logger LOG = System.getLogger(RetryingClient.class.getName());
  private final LlmClient inner;
  private final RetryPolicy policy;

  RetryingClient(LlmClient inner, RetryPolicy policy) {
    this.inner = inner;
    this.policy = policy;
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

  private <T> T call(Supplier<T> attempt) {
    for (int retry = 1; ; retry++) {
      try {
        return attempt.get();
      } catch (LlmException e) {
        if (!e.retryable() || retry > policy.maxRetries()) {
          if (e.retryable()) {
            e.addSuppressed(new LlmException("gave up after " + policy.maxRetries() + " retries", null));
          }
          throw e;
        }
        Duration wait = policy.delay(retry, e);
        LOG.log(System.Logger.Level.WARNING, "LLM call failed ({0}); retry {1}/{2} in {3} ms", e.getMessage(), retry,
            policy.maxRetries(), wait.toMillis());
        try {
          policy.sleeper().sleep(wait);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          LlmException stop = new LlmException("interrupted while waiting to retry", ie);
          stop.addSuppressed(e);
          throw stop;
        }
      }
    }
  }

  @Override
  public String toString() {
    return "Retrying[" + inner + "]";
  }
}
