package dev.gecko.train.llm;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * Retries retryable failures with exponential backoff, jitter and Retry-After. Thread-safe; waits
 * and retries on the caller's thread.
 *
 * <p>A Retry-After hint (a 429's, a 503's) pauses the whole client, not only the call that met
 * it: until the wait it chose has passed, a new call waits before its first attempt (plus up to a
 * tenth, so that the waiting calls do not all return at one moment), so that the other threads of
 * a concurrent run stop adding to the limit instead of spending their retries on it. Calls already
 * waiting to retry keep their own waits, and calls already queued on a concurrency limit beneath
 * this client do not see the pause: put the limit above it, as {@link LlmClients#standard} does.
 *
 * <p>A failure it retries is not thrown on, so the tokens billed for it ({@link
 * LlmException#billedUsage()}) are handed to the metering decorators around it ({@link
 * MeteredClient#retried}); the failure it throws in the end carries only its own attempt's.
 */
final class RetryingClient extends ForwardingLlmClient {
  private static final System.Logger LOG = System.getLogger(RetryingClient.class.getName());
  private final RetryPolicy policy;
  /** System.nanoTime() before which new calls wait: the end of the latest rate-limit pause. */
  private final java.util.concurrent.atomic.AtomicLong pausedUntil;

  RetryingClient(LlmClient inner, RetryPolicy policy) {
    super("Retrying", inner);
    this.policy = policy;
    this.pausedUntil = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
  }

  @Override
  <T extends CallResult> T call(Supplier<T> attempt) {
    // another call met a rate limit: this one waits it out before adding to it, and again if the
    // pause was pushed later meanwhile (a few times at most)
    long waitedFor = System.nanoTime();
    for (int round = 0; round < 3; round++) {
      long until = pausedUntil.get();
      long left = until - System.nanoTime();
      if (left <= 0 || (round > 0 && until == waitedFor)) {
        break;
      }
      waitedFor = until;
      try { // plus up to a tenth, so that the calls waiting do not all come back at one moment
        policy.sleeper().sleep(Duration.ofNanos(left + (long) (left * policy.jitter() / 10)));
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        throw new LlmException("interrupted while waiting out the server's rate limit", ie);
      }
    }
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
        Duration hint = e.retryAfter().orElse(Duration.ZERO);
        if (hint.compareTo(policy.maxRetryAfter()) > 0) { // a daily quota, say: retrying sooner cannot help
          e.addSuppressed(new LlmException("gave up at once: the server asks to wait " + hint.toSeconds()
              + " s, longer than maxRetryAfter (" + policy.maxRetryAfter().toSeconds() + " s)", null));
          throw e;
        }
        MeteredClient.retried(e); // swallowed from here on: its billed tokens are counted now
        Duration wait = policy.delay(retry, e);
        if (e.retryAfter().isPresent()) { // the server said how long: every call should hear it
          long until = System.nanoTime() + wait.toNanos();
          pausedUntil.accumulateAndGet(until, (a, b) -> a - b > 0 ? a : b); // the later of the two (nanoTime order)
        }
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
}
