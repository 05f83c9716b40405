/**
 * Evaluation as MTEB scores it: STS (cosine Spearman) and BEIR retrieval (nDCG, MAP, recall,
 * precision, MRR), at several Matryoshka widths from one embedding pass, with an on-disk
 * embedding cache. Depends on gecko-core only.
 */
module dev.gecko.eval {
  requires transitive dev.gecko.core;
  requires com.fasterxml.jackson.databind;

  exports dev.gecko.eval;
}
