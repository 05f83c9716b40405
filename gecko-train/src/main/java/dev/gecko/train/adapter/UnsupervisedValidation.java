package dev.gecko.train.adapter;

/**
 * What an {@link Objective#UNSUPERVISED} adapter is validated on after each epoch, which decides
 * the epoch kept and early stopping. Both need no labels and use up to {@code maxValidation}
 * held-out texts; they answer different questions, and they can disagree: a residual that brings
 * truncated cosines closer to the full-width ones can at the same time lose more of each text's
 * nearest neighbours. Immutable and thread-safe.
 */
public enum UnsupervisedValidation {
  /**
   * Minus the similarity-preservation loss (the trained loss without the reconstruction term;
   * reported x 100, as every validation score):
   * how close each width's cosines stay to the full-width ones. For uses that read the cosine
   * itself, such as semantic similarity scores.
   */
  SIMILARITIES,
  /**
   * Neighbour recall: the share of each text's top-k full-width base-model neighbours (among the
   * validation texts) that are still its top-k at each width, weighted mean over the widths. For
   * retrieval, where only the order of the nearest documents counts.
   */
  NEIGHBOURS
}
