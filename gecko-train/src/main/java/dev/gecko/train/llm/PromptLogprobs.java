package dev.gecko.train.llm;

import java.util.List;
import java.util.Objects;

/**
 * Log-probabilities of a prompt's own tokens (teacher-forced), from {@link
 * LlmClient#promptLogprobs(String)}. Immutable and thread-safe: it holds its own unmodifiable
 * copies of the lists.
 *
 * @param prompt the prompt that was scored
 * @param tokens the prompt's tokens in order
 * @param logprobs each token's log-probability given the tokens before it; {@link Double#NaN} for
 *     the first token (servers return null there)
 * @param offsets each token's start offset in {@code prompt} (chars)
 * @param usage token counts
 */
public record PromptLogprobs(String prompt, List<String> tokens, List<Double> logprobs, List<Integer> offsets, Usage usage)
    implements CallResult {
  /**
   * Validates and copies the fields.
   *
   * @throws IllegalArgumentException if the lists differ in length
   */
  public PromptLogprobs {
    Objects.requireNonNull(prompt, "prompt is null");
    tokens = List.copyOf(tokens);
    logprobs = List.copyOf(logprobs);
    offsets = List.copyOf(offsets);
    usage = usage == null ? Usage.ZERO : usage;
    if (tokens.size() != logprobs.size() || tokens.size() != offsets.size()) {
      throw new IllegalArgumentException("tokens, logprobs and offsets differ in length: " + tokens.size() + ", "
          + logprobs.size() + ", " + offsets.size());
    }
  }

  /**
   * Returns the summed log-probability of the tokens that overlap {@code prompt[from, prompt.length())}:
   * the log-likelihood of a suffix (the query) given everything before it.
   *
   * @throws IllegalArgumentException if {@code from} is outside the prompt or no token covers it
   */
  public double suffixLogLikelihood(int from) {
    if (from < 0 || from >= prompt.length()) {
      throw new IllegalArgumentException("suffix start " + from + " outside the prompt (length " + prompt.length() + ")");
    }
    double sum = 0;
    int counted = 0;
    for (int i = 0; i < tokens.size(); i++) {
      int start = offsets.get(i);
      int end = start + tokens.get(i).length();
      if (start >= prompt.length()) {
        break; // generated tail after the echoed prompt
      }
      if (end > from) {
        double lp = logprobs.get(i);
        if (Double.isNaN(lp)) {
          throw new IllegalArgumentException("the first prompt token has no log-probability; the suffix must not start it");
        }
        sum += lp;
        counted++;
      }
    }
    if (counted == 0) {
      throw new IllegalArgumentException("no token covers the prompt from offset " + from);
    }
    return sum;
  }
}
