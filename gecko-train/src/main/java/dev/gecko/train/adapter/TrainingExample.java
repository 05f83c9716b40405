package dev.gecko.train.adapter;

import java.util.Objects;

/**
 * One training row. Which fields are set depends on the source format:
 *
 * <ul>
 *   <li>a text alone (unlabelled corpus, for the unsupervised objective): {@code anchor};
 *   <li>a pair (sentence-transformers anchor/positive): {@code anchor}, {@code positive};
 *   <li>a triplet (FRet: query, positive, hard negative): plus {@code negative};
 *   <li>a scored pair (sentence1/sentence2/score, STS): {@code anchor}, {@code positive}, {@code
 *       score}.
 * </ul>
 *
 * <p>Immutable and thread-safe; it holds only strings and a score.
 *
 * @param task the task description (FRet's {@code task}, for example "Given a query, find a
 *     passage that has the answer to the query."), or null
 * @param anchor the query or first sentence; never null
 * @param positive the positive passage or second sentence, or null
 * @param negative the hard negative, or null
 * @param score the graded similarity of a scored pair, or null
 * @param source where the row came from ({@code file:line}), for error messages; may be null
 */
public record TrainingExample(String task, String anchor, String positive, String negative, Double score,
    String source) {
  /**
   * Validates the fields.
   *
   * @throws NullPointerException if {@code anchor} is null
   * @throws IllegalArgumentException if a negative is given without a positive, or the score is
   *     not finite
   */
  public TrainingExample {
    Objects.requireNonNull(anchor, "anchor is null");
    if (negative != null && positive == null) {
      throw new IllegalArgumentException(where(source) + "a negative needs a positive");
    }
    if (score != null && (!Double.isFinite(score) || positive == null)) {
      throw new IllegalArgumentException(where(source) + "a score must be finite and belong to a pair");
    }
  }

  /** An unlabelled text. */
  public static TrainingExample text(String text) {
    return new TrainingExample(null, text, null, null, null, null);
  }

  /** A pair with an optional hard negative (null for none). */
  public static TrainingExample triplet(String task, String anchor, String positive, String negative) {
    return new TrainingExample(task, anchor, Objects.requireNonNull(positive, "positive is null"), negative, null, null);
  }

  /** A scored pair. */
  public static TrainingExample scored(String sentence1, String sentence2, double score) {
    return new TrainingExample(null, sentence1, Objects.requireNonNull(sentence2, "sentence2 is null"), null, score, null);
  }

  /** Returns a copy with another hard negative. */
  public TrainingExample withNegative(String newNegative) {
    return new TrainingExample(task, anchor, positive, newNegative, score, source);
  }

  static String where(String source) {
    return source == null ? "" : source + ": ";
  }
}
