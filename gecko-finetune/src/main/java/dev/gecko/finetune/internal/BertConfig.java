package dev.gecko.finetune.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * The shape of a BERT encoder as the exported graph computes it: widths, layers, heads, the
 * layer norm epsilon and the additive attention-mask value the graph uses. Immutable.
 */
public record BertConfig(int hidden, int layers, int heads, int intermediate, int vocab, int positions,
    int typeVocab, float layerNormEps, float maskValue) {
  /** Validates. */
  public BertConfig {
    if (hidden < 1 || layers < 1 || heads < 1 || hidden % heads != 0 || intermediate < 1 || vocab < 1
        || positions < 2 || typeVocab < 1 || !(layerNormEps > 0)) {
      throw new IllegalArgumentException("not a valid BERT configuration: " + hidden + " hidden, " + layers
          + " layers, " + heads + " heads, " + intermediate + " intermediate, vocab " + vocab + ", positions "
          + positions + ", eps " + layerNormEps);
    }
  }

  /** The canonical parameter names in order ({@code [in, out]} weights, as the graph stores them). */
  public static List<String> parameterNames(int layers) {
    List<String> names = new ArrayList<>();
    names.add("embeddings.word_embeddings.weight");
    names.add("embeddings.position_embeddings.weight");
    names.add("embeddings.token_type_embeddings.weight");
    names.add("embeddings.LayerNorm.weight");
    names.add("embeddings.LayerNorm.bias");
    for (int l = 0; l < layers; l++) {
      String p = "encoder.layer." + l + ".";
      for (String lin : List.of("attention.self.query", "attention.self.key", "attention.self.value",
          "attention.output.dense")) {
        names.add(p + lin + ".weight");
        names.add(p + lin + ".bias");
      }
      names.add(p + "attention.output.LayerNorm.weight");
      names.add(p + "attention.output.LayerNorm.bias");
      names.add(p + "intermediate.dense.weight");
      names.add(p + "intermediate.dense.bias");
      names.add(p + "output.dense.weight");
      names.add(p + "output.dense.bias");
      names.add(p + "output.LayerNorm.weight");
      names.add(p + "output.LayerNorm.bias");
    }
    return names;
  }

  /** The shape of a parameter. */
  public long[] shape(String name) {
    if (name.endsWith("word_embeddings.weight")) {
      return new long[] {vocab, hidden};
    }
    if (name.endsWith("position_embeddings.weight")) {
      return new long[] {positions, hidden};
    }
    if (name.endsWith("token_type_embeddings.weight")) {
      return new long[] {typeVocab, hidden};
    }
    if (name.endsWith("intermediate.dense.weight")) {
      return new long[] {hidden, intermediate};
    }
    if (name.endsWith("intermediate.dense.bias")) {
      return new long[] {intermediate};
    }
    if (name.endsWith("output.dense.weight") && !name.contains("attention")) {
      return new long[] {intermediate, hidden};
    }
    if (name.endsWith(".weight") && !name.contains("LayerNorm")) {
      return new long[] {hidden, hidden};
    }
    return new long[] {hidden};
  }

  /** Whether AdamW leaves this parameter out of weight decay (biases and layer norms). */
  public static boolean noDecay(String name) {
    return name.endsWith(".bias") || name.contains("LayerNorm");
  }

  /** Whether the parameter belongs to the embedding layer (frozen by {@code freezeEmbeddings}). */
  public static boolean isEmbedding(String name) {
    return name.startsWith("embeddings.");
  }
}
