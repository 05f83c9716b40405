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

  /** Returns prompt plus completion tokens. */
  public long totalTokens() {
    return promptTokens + completionTokens;
  }
}
