package dev.gecko.train.adapter;

/** What the adapter is trained to do. Immutable and thread-safe. */
public enum Objective {
  /**
   * Matryoshka-Adaptor, unsupervised (Yoon et al. 2024): from the texts alone, keep every
   * truncated width's cosine similarities close to the base model's full-width ones, over all
   * pairs of a batch and each text's top-k full-width neighbours, plus an L1 reconstruction
   * regulariser.
   */
  UNSUPERVISED,
  /**
   * Gecko's eq. 3 (Lee et al. 2024): softmax over in-batch positives, same-tower query negatives
   * and the row's own hard negative, cosine with temperature, at every Matryoshka width. Needs
   * pairs or triplets (scored pairs above a threshold become pairs).
   */
  CONTRASTIVE,
  /** CoSENT (Su 2022) on scored pairs: ranks pairs by their graded score, at every width. */
  COSENT
}
