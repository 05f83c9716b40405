package dev.gecko.train.llm;

import java.util.concurrent.atomic.LongAdder;

/**
 * Running totals of calls and tokens, filled by {@link LlmClients#metered(LlmClient, UsageMeter)}
 * and {@link LlmClients#caching(LlmClient, java.nio.file.Path, UsageMeter)}.
 *
 * <p>Thread-safe: any number of clients and threads may add to one meter while others take {@link
 * #snapshot()}s. The caller creates and owns it; the decorators only add to it (the standard stack
 * gives the same meter to the cache and to the metering decorator).
 */
public final class UsageMeter {
  private final PriceTable prices;
  private final LongAdder calls = new LongAdder();
  private final LongAdder failures = new LongAdder();
  private final LongAdder cacheHits = new LongAdder();
  private final LongAdder promptTokens = new LongAdder();
  private final LongAdder completionTokens = new LongAdder();

  /** Creates a meter that prices usage with {@code prices}. */
  public UsageMeter(PriceTable prices) {
    this.prices = java.util.Objects.requireNonNull(prices, "prices is null");
  }

  /**
   * A snapshot of the totals. Immutable and thread-safe.
   *
   * @param calls successful calls that reached the server
   * @param failures calls that failed, as the metering decorator saw them: in {@link
   *     LlmClients#standard} it sits outside the retries, so a failed call counts once, however
   *     many attempts it took
   * @param cacheHits calls answered from the on-disk cache (free)
   * @param promptTokens prompt tokens billed: those of the successful calls, and those of every
   *     attempt that was billed but failed (a 2xx answer rejected as unusable, {@link
   *     LlmException#billedUsage()}), whether it was retried or ended the call; each attempt once
   * @param completionTokens completion tokens billed, counted as the prompt tokens
   * @param cost the price of those tokens
   */
  public record Snapshot(long calls, long failures, long cacheHits, long promptTokens, long completionTokens, double cost) {
    /** Returns prompt plus completion tokens. */
    public long totalTokens() {
      return promptTokens + completionTokens;
    }
  }

  void recordCall(Usage usage) {
    calls.increment();
    promptTokens.add(usage.promptTokens());
    completionTokens.add(usage.completionTokens());
  }

  /** Counts a failed call, and the tokens billed for its last attempt ({@link LlmException#billedUsage()}). */
  void recordFailure(Usage billed) {
    failures.increment();
    recordBilled(billed);
  }

  /** Adds tokens billed for an attempt that gave no answer; counts no call. */
  void recordBilled(Usage billed) {
    promptTokens.add(billed.promptTokens());
    completionTokens.add(billed.completionTokens());
  }

  void recordCacheHit() {
    cacheHits.increment();
  }

  /** Returns the price table. */
  public PriceTable prices() {
    return prices;
  }

  /** Returns the current totals. */
  public Snapshot snapshot() {
    long p = promptTokens.sum();
    long c = completionTokens.sum();
    return new Snapshot(calls.sum(), failures.sum(), cacheHits.sum(), p, c, prices.cost(new Usage(p, c)));
  }
}
