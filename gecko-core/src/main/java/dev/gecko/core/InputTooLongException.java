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
    this(index, "text at index " + index, tokenCount, maxTokens);
  }

  private InputTooLongException(int index, String description, int tokenCount, int maxTokens) {
    super(description + " has " + tokenCount + " tokens, more than the model's maximum of " + maxTokens
        + " (truncation is disabled)");
    this.index = index;
    this.tokenCount = tokenCount;
    this.maxTokens = maxTokens;
  }

  /**
   * Returns an exception for the same text, with the same counts and this one as its cause, whose
   * message names the text as {@code description} (for example {@code "document d12 of arguana"},
   * never the text itself): for code that embeds on behalf of its own caller and knows the text
   * by a name that means more than an index into a call it made.
   *
   * @param index the text's index as that caller counts ({@link #index()} of the result)
   */
  public InputTooLongException describedAs(int index, String description) {
    InputTooLongException named = new InputTooLongException(index,
        java.util.Objects.requireNonNull(description, "description is null"), tokenCount, maxTokens);
    named.initCause(this);
    return named;
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
