package dev.gecko.train.llm;

import java.util.List;
import java.util.Objects;

/**
 * One generated token with its log-probability and the most likely alternatives at its position.
 * Immutable and thread-safe: it holds its own unmodifiable copy of the alternatives.
 *
 * @param token the token text
 * @param logprob its natural-log probability
 * @param top the alternatives, most likely first (may be empty)
 */
public record TokenLogprob(String token, double logprob, List<Alternative> top) {
  /**
   * One alternative token. Immutable and thread-safe.
   *
   * @param token the token text
   * @param logprob its natural-log probability
   */
  public record Alternative(String token, double logprob) {
    /** Validates the token. */
    public Alternative {
      Objects.requireNonNull(token, "token is null");
    }
  }

  /** Validates and copies the fields. */
  public TokenLogprob {
    Objects.requireNonNull(token, "token is null");
    top = List.copyOf(top == null ? List.of() : top);
  }
}
