/**
 * Fine-tuning of the whole encoder on the JVM: {@link dev.gecko.finetune.FineTuner} trains a
 * BERT-family model package with Gecko's contrastive loss, CoSENT or Matryoshka
 * self-distillation, summed over Matryoshka widths, on DJL's PyTorch engine (CPU natives from
 * Maven Central; nothing is downloaded), and writes a model folder that {@code GeckoEmbedder}
 * loads: the package's own ONNX graph with the trained weights, optionally an int8 twin.
 * The {@code internal} package is not API.
 */
package dev.gecko.finetune;
