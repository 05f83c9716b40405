package dev.gecko.train.llm;

/**
 * Token counts of one call, from the response's usage fields (0 when the server reports none).
 * Immutable and thread-safe.
 *
 * @param promptTokens input tokens
 * @param completionTokens generated tokens
 */
public record Usage(long promptTokens, long completionTokens) {
  /** No tokens. */
  public static final Usage ZERO = new Usage(0, 0);
  /** The most tokens a reported count is taken to hold for one call: more is a broken report. */
  public static final long MAX_REPORTED_TOKENS = 1_000_000_000L;

  /**
   * The usage a server or framework reported for one call, each count read between 0 and {@link
   * #MAX_REPORTED_TOKENS}, so that a broken report (a negative count, 9e18 tokens) cannot turn a
   * run's totals and cost negative or overflow them.
   */
  public static Usage reported(long promptTokens, long completionTokens) {
    return new Usage(bounded(promptTokens), bounded(completionTokens));
  }

  /** A reported count between 0 and {@link #MAX_REPORTED_TOKENS}. */
  static long bounded(long n) {
    return Math.max(0, Math.min(n, MAX_REPORTED_TOKENS));
  }

  /** Returns prompt plus completion tokens. */
  public long totalTokens() {
    return promptTokens + completionTokens;
  }
}
