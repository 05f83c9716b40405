package dev.gecko.train.fret;

import dev.gecko.train.llm.LlmException;

import java.util.List;
import java.util.Objects;

/**
 * One reason seeds were rejected in a run, with how many and one of the refused answers. Immutable.
 *
 * @param reason the stage and the reason, e.g. {@code generate: no JSON object in the answer (after
 *     3 attempts)} (what is particular to one seed, such as counts, is left out so that seeds
 *     rejected for one cause share it)
 * @param count seeds rejected for it
 * @param example the last refused answer of one of them, cut to {@link #MAX_EXAMPLE_CHARS} chars
 *     (empty when the stage had no answer, as for {@code retrieve})
 */
public record RejectReason(String reason, int count, String example) {
  /** Longest example answer kept. */
  public static final int MAX_EXAMPLE_CHARS = 200;
  /** Stands for the reasons past the distinct ones a run keeps apart. */
  public static final String OTHER = "(other reasons)";

  /**
   * Validates and cuts the example.
   *
   * @throws IllegalArgumentException if {@code count < 1}
   */
  public RejectReason {
    Objects.requireNonNull(reason, "reason is null");
    Objects.requireNonNull(example, "example is null");
    if (count < 1) {
      throw new IllegalArgumentException("count must be >= 1, was " + count);
    }
    if (example.length() > MAX_EXAMPLE_CHARS) {
      example = example.substring(0, MAX_EXAMPLE_CHARS);
    }
  }

  /**
   * One line: {@code 20 seeds: generate: no JSON object in the answer (after 3 attempts); e.g.
   * answer: "I cannot help with that."} (the answer on one line, cut to 100 chars).
   */
  public String describe() {
    // untrusted text (an LLM's answer, a server's error body) on its way to a terminal: control
    // characters and bidirectional overrides shown as U+XXXX, never sent to it
    StringBuilder s = new StringBuilder().append(count).append(count == 1 ? " seed: " : " seeds: ")
        .append(LlmException.oneLine(reason));
    if (!example.isEmpty()) {
      // cut to 100 characters before escaping, never between the halves of a pair or inside a U+XXXX
      String flat = example.strip().replaceAll("\\s+", " ");
      int cut = flat.length() <= 100 ? flat.length() : Character.isHighSurrogate(flat.charAt(99)) ? 99 : 100;
      s.append("; e.g. answer: \"").append(LlmException.oneLine(flat.substring(0, cut)))
          .append(cut < flat.length() ? "..." : "").append('"');
    }
    return s.toString();
  }

  /**
   * The first {@code max} reasons of a list (most common first), one {@link #describe()} per line,
   * each indented by two spaces, and a last line counting the rest; empty for an empty list.
   */
  public static String describe(List<RejectReason> reasons, int max) {
    StringBuilder s = new StringBuilder();
    int rest = 0;
    int restSeeds = 0;
    for (int i = 0; i < reasons.size(); i++) {
      if (i < max) {
        s.append(s.length() == 0 ? "" : "\n").append("  ").append(reasons.get(i).describe());
      } else {
        rest++;
        restSeeds += reasons.get(i).count();
      }
    }
    if (rest > 0) {
      s.append("\n  and ").append(rest).append(rest == 1 ? " other reason (" : " other reasons (").append(restSeeds)
          .append(restSeeds == 1 ? " seed)" : " seeds)");
    }
    return s.toString();
  }
}
