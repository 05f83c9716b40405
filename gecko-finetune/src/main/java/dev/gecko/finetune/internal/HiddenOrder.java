package dev.gecko.finetune.internal;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Reorders the hidden coordinates (the residual stream) of a BERT encoder. Permuting them
 * consistently in every weight that reads or writes the residual stream is an exact symmetry of
 * the network: layer norms normalise over all coordinates, residual additions are per coordinate,
 * so the encoder computes the same function with its output coordinates permuted. Full-width
 * similarities do not change; what changes is which coordinates a Matryoshka prefix keeps.
 *
 * <p>{@link #byVariance} puts first the coordinates that vary most over a set of vectors, so that a
 * model about to be trained with Matryoshka widths starts from the most informative prefix
 * (bge-small-en-v1.5 on ArguAna, truncated and renormalised without training: nDCG@10 at 64
 * coordinates 42.97 as exported, 45.88 ordered by the corpus vectors' variance; docs/finetuning.md).
 *
 * <p>Stateless; thread-safe. {@link #apply} changes the encoder it is given.
 */
public final class HiddenOrder {
  private HiddenOrder() {}

  /**
   * The coordinates of {@code vectors} by decreasing variance (ties by index).
   *
   * @throws IllegalArgumentException if there are no vectors or their widths differ
   */
  public static int[] byVariance(float[][] vectors) {
    if (vectors.length == 0) {
      throw new IllegalArgumentException("no vectors to order the coordinates by");
    }
    int width = vectors[0].length;
    double[] mean = new double[width];
    for (float[] v : vectors) {
      if (v.length != width) {
        throw new IllegalArgumentException("vectors of widths " + width + " and " + v.length);
      }
      for (int i = 0; i < width; i++) {
        mean[i] += v[i];
      }
    }
    for (int i = 0; i < width; i++) {
      mean[i] /= vectors.length;
    }
    double[] variance = new double[width];
    for (float[] v : vectors) {
      for (int i = 0; i < width; i++) {
        double d = v[i] - mean[i];
        variance[i] += d * d;
      }
    }
    return IntStream.range(0, width).boxed()
        .sorted(Comparator.comparingDouble((Integer i) -> -variance[i]).thenComparingInt(i -> i))
        .mapToInt(Integer::intValue).toArray();
  }

  /**
   * Permutes {@code encoder}'s hidden coordinates: afterwards, coordinate {@code i} of every hidden
   * state (and so of the pooled output) is what coordinate {@code order[i]} was.
   *
   * @throws IllegalArgumentException if {@code order} is not a permutation of the hidden width
   */
  public static void apply(BertEncoder encoder, int[] order) {
    BertConfig config = encoder.config();
    int h = config.hidden();
    boolean[] seen = new boolean[h];
    if (order.length != h) {
      throw new IllegalArgumentException("an order of " + order.length + " coordinates for hidden width " + h);
    }
    for (int o : order) {
      if (o < 0 || o >= h || seen[o]) {
        throw new IllegalArgumentException("not a permutation of 0.." + (h - 1) + ": " + Arrays.toString(order));
      }
      seen[o] = true;
    }
    boolean exact64 = encoder.dataType() == ai.djl.ndarray.types.DataType.FLOAT64;
    for (String name : encoder.parameters().keySet()) {
      long[] shape = config.shape(name);
      // moved as doubles, so a float64 encoder (the gradient tests') keeps its values exactly
      double[] w = encoder.doubles(name);
      double[] p;
      // "output.dense" is both projections back into the residual stream: attention's and the FFN's
      if (name.contains("LayerNorm") || name.endsWith("output.dense.bias")) {
        p = vector(w, order);
      } else if (name.endsWith("_embeddings.weight") || name.endsWith("output.dense.weight")) {
        p = columns(w, (int) shape[0], (int) shape[1], order);
      } else if (name.endsWith("query.weight") || name.endsWith("key.weight") || name.endsWith("value.weight")
          || name.endsWith("intermediate.dense.weight")) {
        p = rows(w, (int) shape[0], (int) shape[1], order);
      } else if (name.endsWith("query.bias") || name.endsWith("key.bias") || name.endsWith("value.bias")
          || name.endsWith("intermediate.dense.bias")) {
        continue; // outside the residual stream
      } else {
        throw new IllegalStateException("no hidden-coordinate rule for parameter " + name);
      }
      if (exact64) {
        encoder.setDoubles(name, p);
      } else {
        float[] f = new float[p.length];
        for (int i = 0; i < f.length; i++) {
          f[i] = (float) p[i];
        }
        encoder.set(name, f);
      }
    }
  }

  private static double[] vector(double[] w, int[] order) {
    double[] p = new double[w.length];
    for (int i = 0; i < order.length; i++) {
      p[i] = w[order[i]];
    }
    return p;
  }

  /** {@code [rows, cols]} row-major, columns permuted. */
  private static double[] columns(double[] w, int rows, int cols, int[] order) {
    double[] p = new double[w.length];
    for (int r = 0; r < rows; r++) {
      int base = r * cols;
      for (int c = 0; c < cols; c++) {
        p[base + c] = w[base + order[c]];
      }
    }
    return p;
  }

  /** {@code [rows, cols]} row-major, rows permuted. */
  private static double[] rows(double[] w, int rows, int cols, int[] order) {
    double[] p = new double[w.length];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(w, order[r] * cols, p, r * cols, cols);
    }
    return p;
  }
}
