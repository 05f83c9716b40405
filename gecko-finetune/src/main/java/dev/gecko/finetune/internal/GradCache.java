package dev.gecko.finetune.internal;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import dev.gecko.core.Pooling;
import dev.gecko.tokenizer.Encoding;
import dev.gecko.tokenizer.GeckoTokenizer;
import dev.gecko.tokenizer.TokenizedBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One batch's loss and parameter gradients, with gradient caching (Gao et al. 2021, as
 * sentence-transformers' CachedMultipleNegativesRankingLoss) when the batch has more texts than a
 * forward pass takes. Gradients accumulate into the parameters' {@code .grad} (the caller's
 * optimizer reads and zeroes them). Every array made here lives in a sub-manager closed before
 * returning. Stateless.
 */
final class GradCache {
  private GradCache() {}

  /**
   * Runs the batch and returns its loss.
   *
   * @param texts the batch's distinct texts, tokenized; row i of the loss's input is text i
   * @param tokens receives the number of non-padding tokens encoded with autograd
   */
  static double run(BertEncoder encoder, NDManager manager, List<Encoding> texts, long padId, Pooling pooling,
      int miniBatch, Function<NDArray, NDArray> loss, double[] tokens) {
    for (Encoding e : texts) {
      tokens[0] += e.length();
    }
    try (NDManager sm = manager.newSubManager()) {
      if (texts.size() <= miniBatch) {
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
          NDArray emb = encoder.encode(sm, GeckoTokenizer.pad(texts, padId), pooling);
          NDArray l = loss.apply(emb);
          gc.backward(l);
          return scalar(l);
        }
      }
      List<int[]> chunks = new ArrayList<>();
      for (int s = 0; s < texts.size(); s += miniBatch) {
        chunks.add(new int[] {s, Math.min(s + miniBatch, texts.size())});
      }
      // 1. the vectors, without autograd: each mini-batch's intermediates are freed with its own
      //    manager (kept in the step's manager they held every mini-batch's activations at once)
      List<NDArray> parts = new ArrayList<>();
      for (int[] c : chunks) {
        parts.add(detached(encoder, sm, batch(texts, c, padId), pooling));
      }
      NDArray emb = NDArrays.concat(new NDList(parts));
      emb.setRequiresGradient(true);
      // 2. the loss and its gradient with respect to the vectors
      double value;
      NDArray cached;
      try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
        NDArray l = loss.apply(emb);
        gc.backward(l);
        value = scalar(l);
      }
      try (NDArray g = emb.getGradient()) {
        cached = g.duplicate();
        cached.attach(sm);
      }
      // 3. each mini-batch again, with autograd, back-propagating sum(vectors * cached gradient)
      for (int[] c : chunks) {
        try (NDManager cm = sm.newSubManager();
            GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
          NDArray part = encoder.encode(cm, batch(texts, c, padId), pooling);
          NDArray surrogate = part.mul(cached.get(new NDIndex(c[0] + ":" + c[1]))).sum();
          gc.backward(surrogate);
        }
      }
      return value;
    }
  }

  /**
   * Encodes a mini-batch in a manager of its own and returns its vectors, cut from autograd's
   * graph and attached to {@code sm}; everything else the encoder made is freed.
   */
  static NDArray detached(BertEncoder encoder, NDManager sm, TokenizedBatch batch, Pooling pooling) {
    try (NDManager cm = sm.newSubManager()) {
      NDArray out = encoder.encode(cm, batch, pooling).stopGradient();
      out.attach(sm);
      return out;
    }
  }

  /** A scalar's value, whatever its float type. */
  static double scalar(NDArray a) {
    try (NDArray d = a.toType(ai.djl.ndarray.types.DataType.FLOAT64, true)) {
      return d.getDouble();
    }
  }

  private static TokenizedBatch batch(List<Encoding> texts, int[] c, long padId) {
    return GeckoTokenizer.pad(texts.subList(c[0], c[1]), padId);
  }
}
