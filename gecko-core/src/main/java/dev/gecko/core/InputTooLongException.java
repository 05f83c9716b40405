package dev.gecko.core;

/**
 * Thrown when truncation is disabled ({@link GeckoEmbedder.Builder#failOnTruncation(boolean)})
 * and a text has more tokens than the model accepts.
 *
 * <p>Immutable once thrown; safe to hand to another thread.
 */
public final class InputTooLongException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;
  private final int index;
  private final int tokenCount;
  private final int maxTokens;

  /** Creates the exception for the text at {@code index} of a call. */
  public InputTooLongException(int index, int tokenCount, int maxTokens) {
    super("text at index " + index + " has " + tokenCount + " tokens, more than the model's maximum of " + maxTokens
        + " (truncation is disabled)");
    this.index = index;
    this.tokenCount = tokenCount;
    this.maxTokens = maxTokens;
  }

  /** Returns the index of the offending text in the call's input list. */
  public int index() {
    return index;
  }

  /** Returns the text's token count, special tokens and prompt included. */
  public int tokenCount() {
    return tokenCount;
  }

  /** Returns the model's maximum token count. */
  public int maxTokens() {
    return maxTokens;
  }
}
