package dev.gecko.train.fret;

import dev.gecko.train.llm.Capability;
import java.util.Set;

/**
 * How a relabeling score was produced. Each example records the pair used. {@link #forQl(Set)} and
 * {@link #forRc(Set)} pick the most faithful one a client's capabilities allow. Immutable and
 * thread-safe.
 */
public enum Scorer {
  /**
   * The paper's QL: {@code log P(query | passage, P_QL)}, the summed log-probabilities of the query's
   * tokens teacher-forced after the few-shot prompt and passage. Needs {@link
   * Capability#PROMPT_LOGPROBS} (vLLM completions with echo).
   */
  QL_PROMPT_LOGPROBS("ql-prompt-logprobs", true),
  /**
   * QL fallback: the LLM grades 0-3 how likely a reader of the passage would write the query, as one
   * token; score = expected grade under the label tokens' probabilities (from top log-probs).
   */
  QL_JUDGED_TOP_LOGPROBS("ql-judged-top-logprobs", true),
  /** QL fallback without log-probabilities: the same 0-3 grade, parsed from the answer text. */
  QL_JUDGED_TEXT("ql-judged-text", true),
  /**
   * The paper's RC (with graded labels as in Zhuang et al. 2023): the LLM grades relevance 0-3 as one
   * token; score = expected grade {@code sum_k k * p(k)} over the label tokens' renormalised
   * probabilities (from top log-probs).
   */
  RC_TOP_LOGPROBS("rc-top-logprobs", false),
  /** RC fallback without log-probabilities: the 0-3 grade parsed from the answer text (many ties). */
  RC_TEXT("rc-text", false);

  private final String id;
  private final boolean ql;

  Scorer(String id, boolean ql) {
    this.id = id;
    this.ql = ql;
  }

  /** Returns the id written to examples and manifests. */
  public String id() {
    return id;
  }

  /** Returns true for query likelihood scorers, false for relevance classification. */
  public boolean isQueryLikelihood() {
    return ql;
  }

  /** Returns the required capability, or null. */
  Capability requires() {
    switch (this) {
      case QL_PROMPT_LOGPROBS:
        return Capability.PROMPT_LOGPROBS;
      case QL_JUDGED_TOP_LOGPROBS:
      case RC_TOP_LOGPROBS:
        return Capability.TOP_LOGPROBS;
      default:
        return null;
    }
  }

  /** The best QL scorer for these capabilities. */
  public static Scorer forQl(Set<Capability> caps) {
    if (caps.contains(Capability.PROMPT_LOGPROBS)) {
      return QL_PROMPT_LOGPROBS;
    }
    return caps.contains(Capability.TOP_LOGPROBS) ? QL_JUDGED_TOP_LOGPROBS : QL_JUDGED_TEXT;
  }

  /** The best RC scorer for these capabilities. */
  public static Scorer forRc(Set<Capability> caps) {
    return caps.contains(Capability.TOP_LOGPROBS) ? RC_TOP_LOGPROBS : RC_TEXT;
  }
}
