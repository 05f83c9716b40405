/**
 * Text embeddings in-process on ONNX Runtime: {@link dev.gecko.core.GeckoEmbedder} and the
 * {@link dev.gecko.core.ModelPackage model packages} it runs.
 *
 * <p>The embedding path: prompt (task type, title) → tokenizer → length-sorted, token-budgeted
 * batches padded to their longest row → ONNX Runtime → pooling (mean over the attention mask, or
 * CLS) → optional adapter → truncation to the requested Matryoshka width → L2 normalisation, with
 * results returned in the caller's order.
 */
package dev.gecko.core;
