package dev.gecko.train.llm;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Adds each successful call's usage to a {@link UsageMeter}, and counts each failed call, adding
 * the tokens its failure says were billed ({@link LlmException#billedUsage()}: a 2xx answer that
 * was then rejected).
 *
 * <p>A failed attempt that a {@link RetryingClient} inside this decorator swallows and retries
 * never reaches it as an exception, yet it may have been billed: the retrying client hands its
 * {@link LlmException#billedUsage()} to {@link #retried}, which adds the tokens to the meter of
 * every metering decorator whose call is under way on the calling thread (those around the
 * retrying client; one inside it has already counted that attempt, and has returned). So each
 * billed attempt is counted once per meter, however the two decorators are stacked: outside the
 * retries (as {@link LlmClients#standard} puts them) a call counts once as a call or a failure and
 * every attempt's billed tokens count; inside them every attempt counts as a call or a failure.
 * This relies on the retries running on the calling thread, as {@link RetryingClient}'s do.
 *
 * <p>Thread-safe: the meter is; the calls under way are kept per thread.
 */
final class MeteredClient extends ForwardingLlmClient {
  /** The meters of this thread's metering decorators whose calls are under way, outermost first. */
  private static final ThreadLocal<List<UsageMeter>> OPEN = new ThreadLocal<>();

  private final UsageMeter meter;

  MeteredClient(LlmClient inner, UsageMeter meter) {
    super("Metered", inner);
    this.meter = meter;
  }

  @Override
  <T extends CallResult> T call(Supplier<T> call) {
    List<UsageMeter> open = OPEN.get();
    if (open == null) {
      open = new ArrayList<>(2);
      OPEN.set(open);
    }
    open.add(meter);
    T r;
    try {
      r = call.get();
    } catch (LlmException e) {
      meter.recordFailure(e.billedUsage());
      throw e;
    } finally {
      open.remove(open.size() - 1);
      if (open.isEmpty()) {
        OPEN.remove();
      }
    }
    meter.recordCall(r.usage());
    return r;
  }

  /**
   * Counts the tokens billed for an attempt that failed with {@code failure} and that a retrying
   * client called on this thread is about to retry (it will not throw {@code failure} on): they go
   * to the meters of the metering decorators around it. Does nothing if nothing was billed or none
   * is around it.
   */
  static void retried(LlmException failure) {
    Usage billed = failure.billedUsage();
    List<UsageMeter> open = OPEN.get();
    if (open == null || billed.totalTokens() == 0) {
      return;
    }
    for (UsageMeter m : open) {
      m.recordBilled(billed);
    }
  }
}
