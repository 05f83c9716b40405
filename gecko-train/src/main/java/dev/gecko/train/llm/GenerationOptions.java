package dev.gecko.train.llm;

/**
 * Sampling options for one generation. Immutable and thread-safe; one instance may serve any number
 * of requests.
 *
 * @param temperature sampling temperature, {@code >= 0}
 * @param maxTokens the most tokens to generate, {@code >= 1}
 * @param jsonOutput ask for a JSON object (JSON mode where the server has it; the prompt should
 *     say so too)
 * @param topLogprobs how many alternatives per generated token to return with log-probabilities,
 *     0 for none; needs {@link Capability#TOP_LOGPROBS}; at most 20
 */
public record GenerationOptions(double temperature, int maxTokens, boolean jsonOutput, int topLogprobs) {
  /** Greedy decoding, 256 tokens, plain text, no log-probabilities. */
  public static final GenerationOptions DEFAULT = new GenerationOptions(0.0, 256, false, 0);

  /**
   * Validates the fields.
   *
   * @throws IllegalArgumentException if a value is out of range
   */
  public GenerationOptions {
    if (!(temperature >= 0.0) || temperature > 2.0) {
      throw new IllegalArgumentException("temperature must be in [0, 2], was " + temperature);
    }
    if (maxTokens < 1) {
      throw new IllegalArgumentException("maxTokens must be >= 1, was " + maxTokens);
    }
    if (topLogprobs < 0 || topLogprobs > 20) {
      throw new IllegalArgumentException("topLogprobs must be in [0, 20], was " + topLogprobs);
    }
  }

  /** Returns a copy with another temperature. */
  public GenerationOptions withTemperature(double t) {
    return new GenerationOptions(t, maxTokens, jsonOutput, topLogprobs);
  }

  /** Returns a copy with another token limit. */
  public GenerationOptions withMaxTokens(int n) {
    return new GenerationOptions(temperature, n, jsonOutput, topLogprobs);
  }

  /** Returns a copy with JSON output on or off. */
  public GenerationOptions withJsonOutput(boolean json) {
    return new GenerationOptions(temperature, maxTokens, json, topLogprobs);
  }

  /** Returns a copy asking for {@code n} top log-probabilities per generated token. */
  public GenerationOptions withTopLogprobs(int n) {
    return new GenerationOptions(temperature, maxTokens, jsonOutput, n);
  }
}
