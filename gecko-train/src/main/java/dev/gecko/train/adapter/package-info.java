/**
 * Training a residual Matryoshka adapter over a frozen embedding model: {@link
 * dev.gecko.train.adapter.TrainingData} (FRet / sentence-transformers / scored-pair / corpus
 * readers and a deterministic split), {@link dev.gecko.train.adapter.Trainer} (cached frozen
 * embeddings, Gecko eq. 3, CoSENT and Matryoshka-Adaptor losses summed over widths with
 * hand-written gradients, AdamW, early stopping), configured by a {@link
 * dev.gecko.train.adapter.TrainerConfig} record, and the model folder it writes. Validation scores
 * are reported x 100, as gecko-eval reports its scores. See {@code docs/training.md}.
 */
package dev.gecko.train.adapter;
