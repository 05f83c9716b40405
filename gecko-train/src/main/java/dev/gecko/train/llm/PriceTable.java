package dev.gecko.train.llm;

/**
 * Prices per one million tokens, in any currency (the docs use US dollars), for cost accounting.
 * Immutable and thread-safe; a {@link UsageMeter} keeps the table it is given.
 *
 * @param inputPerMillion price of 1M prompt tokens, {@code >= 0}
 * @param outputPerMillion price of 1M generated tokens, {@code >= 0}
 */
public record PriceTable(double inputPerMillion, double outputPerMillion) {
  /** Free (self-hosted endpoints). */
  public static final PriceTable FREE = new PriceTable(0, 0);

  /**
   * Validates the prices.
   *
   * @throws IllegalArgumentException if a price is negative or not finite
   */
  public PriceTable {
    if (!(inputPerMillion >= 0) || !(outputPerMillion >= 0) || Double.isInfinite(inputPerMillion)
        || Double.isInfinite(outputPerMillion)) {
      throw new IllegalArgumentException("prices must be finite and >= 0, were " + inputPerMillion + ", " + outputPerMillion);
    }
  }

  /** Returns the cost of the given usage. */
  public double cost(Usage usage) {
    return usage.promptTokens() / 1e6 * inputPerMillion + usage.completionTokens() / 1e6 * outputPerMillion;
  }
}
