package dev.gecko.finetune;

/** What a {@link FineTuner} trains the encoder for; every loss is summed over the Matryoshka widths. Thread-safe (an enum). */
public enum FineTuneObjective {
  /**
   * Gecko's in-batch contrastive loss (Lee et al. 2024, eq. 3) on (query, positive[, hard
   * negative]) rows: FRet {@code examples.jsonl}, sentence-transformers triplets, or scored pairs
   * at or above the positive threshold.
   */
  GECKO,
  /** CoSENT on scored pairs (STS): the order of the pairs' cosines follows the order of their scores. */
  COSENT,
  /**
   * Matryoshka self-distillation on unlabelled texts: at each width, the in-batch similarity
   * distribution matches the frozen base model's full-width one.
   */
  MRL_DISTILL
}
