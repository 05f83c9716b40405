/**
 * Training a residual Matryoshka adapter over a frozen embedding model: {@link
 * dev.gecko.train.adapter.TrainingData} (FRet / sentence-transformers / scored-pair / corpus
 * readers and a deterministic split), {@link dev.gecko.train.adapter.Trainer} (cached frozen
 * embeddings, Gecko eq. 3, CoSENT and Matryoshka-Adaptor losses summed over widths with
 * hand-written gradients, AdamW, early stopping) and the model folder it writes. See {@code
 * docs/training.md}.
 */
package dev.gecko.train.adapter;
