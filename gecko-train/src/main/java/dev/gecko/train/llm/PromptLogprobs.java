package dev.gecko.train.llm;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Log-probabilities of a prompt's own tokens (teacher-forced), from {@link
 * LlmClient#promptLogprobs(String)}. Immutable and thread-safe: it holds its own unmodifiable
 * copies of the lists.
 *
 * @param prompt the prompt that was scored
 * @param tokens the tokens the server echoed, in order: the prompt's, possibly after a BOS token
 *     (vLLM) and before the generated token(s)
 * @param logprobs each token's log-probability given the tokens before it; {@link Double#NaN} for
 *     the first token (servers return null there)
 * @param offsets each token's start offset as the server reported it ({@code text_offset}); kept for
 *     inspection, not used to align the tokens with the prompt (vLLM counts it from a BOS token it
 *     echoes first): see {@link #suffixLogLikelihood(int)}
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
   * <p>The tokens are aligned with the prompt from its end, by their text, never by the server's
   * {@link #offsets()}: servers such as vLLM echo a decoded BOS token first ({@code
   * <|begin_of_text|>}, {@code <s>}) and count {@code text_offset} from it, and the echo ends with
   * the generated token(s) (as many as {@link Usage#completionTokens()}). The prompt's tokens are
   * those before the generated ones; their text from the token holding {@code from} to the end
   * must equal the prompt's, or the answer is refused.
   *
   * @throws IllegalArgumentException if {@code from} is outside the prompt, or the suffix would
   *     start in the first token (which has no log-probability)
   * @throws MalformedResponseException if the echoed tokens cannot be aligned with the prompt's
   *     end, or a token of the suffix has no log-probability
   */
  public double suffixLogLikelihood(int from) {
    if (from < 0 || from >= prompt.length()) {
      throw new IllegalArgumentException("suffix start " + from + " outside the prompt (length " + prompt.length() + ")");
    }
    int n = tokens.size();
    int[] ends = new int[n + 1]; // ends[i]: chars of tokens 0..i-1 joined
    StringBuilder joined = new StringBuilder();
    for (int i = 0; i < n; i++) {
      joined.append(tokens.get(i));
      ends[i + 1] = joined.length();
    }
    for (int promptEnd : promptEndCandidates(n)) {
      Double sum = sumIfAligned(promptEnd, from, joined, ends);
      if (sum != null) {
        return sum;
      }
    }
    throw new MalformedResponseException("cannot align the echoed prompt log-probabilities with the prompt: the "
        + n + " echoed tokens (ending " + quoteTail(joined, 40) + ") do not end, before the generated token(s), with the "
        + "prompt's text from offset " + from + " (the prompt ends " + quoteTail(prompt, 40) + "); the server may "
        + "not echo the prompt verbatim", 0, null, null, null, null);
  }

  /**
   * Where the prompt's tokens may end (the index of the first generated token), most likely first:
   * from the usage counts, then after all tokens but one (max_tokens 1), then after all of them.
   */
  private List<Integer> promptEndCandidates(int n) {
    LinkedHashSet<Integer> c = new LinkedHashSet<>();
    long generated = usage.completionTokens();
    long prompted = usage.promptTokens();
    if (generated > 0 && generated < n) {
      c.add((int) (n - generated));
    }
    if (prompted > 0 && prompted <= n) {
      c.add((int) prompted);
    }
    if (n > 1) {
      c.add(n - 1);
    }
    c.add(n);
    return List.copyOf(c);
  }

  /**
   * The suffix's log-likelihood when tokens {@code [0, promptEnd)} end with the prompt's text from
   * the token holding {@code from}, else null.
   */
  private Double sumIfAligned(int promptEnd, int from, StringBuilder joined, int[] ends) {
    int shift = ends[promptEnd] - prompt.length(); // joined offset of the prompt's first char
    if (shift < 0) {
      return null;
    }
    int first = -1;
    for (int i = 0; i < promptEnd; i++) {
      if (ends[i + 1] - shift > from) {
        first = i;
        break;
      }
    }
    if (first < 0) {
      return null;
    }
    int start = ends[first] - shift;
    if (start < 0 || !joined.substring(ends[first], ends[promptEnd]).equals(prompt.substring(start))) {
      return null;
    }
    double sum = 0;
    int counted = 0;
    for (int i = first; i < promptEnd; i++) {
      if (ends[i] - shift >= prompt.length()) {
        break; // an empty token at the prompt's end
      }
      double lp = logprobs.get(i);
      if (Double.isNaN(lp)) {
        if (i == 0) {
          throw new IllegalArgumentException("the first prompt token has no log-probability; the suffix must not start it");
        }
        throw new MalformedResponseException("echoed prompt token " + i + " (" + quoteTail(tokens.get(i), 40)
            + ") of the scored suffix has no log-probability", 0, null, null, null, null);
      }
      sum += lp;
      counted++;
    }
    if (counted == 0) {
      throw new IllegalArgumentException("no token covers the prompt from offset " + from);
    }
    return sum;
  }

  /** The last {@code max} chars of {@code s}, quoted with Java-style escapes for control characters. */
  private static String quoteTail(CharSequence s, int max) {
    String t = s.length() > max ? "..." + s.subSequence(s.length() - max, s.length()) : s.toString();
    StringBuilder b = new StringBuilder("'");
    t.codePoints().forEach(cp -> {
      if (cp == '\n') {
        b.append("\\n");
      } else if (Character.isISOControl(cp)) {
        b.append(String.format(Locale.ROOT, "\\u%04x", cp));
      } else {
        b.appendCodePoint(cp);
      }
    });
    return b.append('\'').toString();
  }
}
