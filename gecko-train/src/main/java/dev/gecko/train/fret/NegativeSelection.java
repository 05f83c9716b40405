package dev.gecko.train.fret;

/** Which relabeled candidate becomes the hard negative. Immutable and thread-safe. */
public enum NegativeSelection {
  /** The lowest fused rank, p_N (the paper's best setting, Fig. 4). */
  LAST,
  /** Uniformly random from {@code P \ {p+}}, reproducible per seed id and run seed. */
  RANDOM
}
