/**
 * Evaluation that reproduces MTEB's numbers: semantic textual similarity ({@link
 * dev.gecko.eval.StsEvaluator}, cosine Spearman) and BEIR-layout retrieval ({@link
 * dev.gecko.eval.RetrievalEvaluator}, nDCG/MAP/Recall/P/MRR as pytrec_eval and MTEB define
 * them), each at several Matryoshka widths from one embedding pass.
 *
 * <p>Texts are embedded once at the model's full width, optionally through an on-disk {@link
 * dev.gecko.eval.EmbeddingCache}, then truncated and renormalised per width. Long runs
 * report progress to a {@link dev.gecko.core.ProgressListener}; nothing is printed.
 */
package dev.gecko.eval;
