package dev.gecko.train.adapter;

import dev.gecko.core.vector.VectorOps;
import java.util.Arrays;
import java.util.List;

/**
 * The trainer's one exact top-k: the most similar texts by dot product of the base model's
 * full-width vectors (unit length, so cosine), most similar first, equal similarities in
 * ascending order of position (the order candidates are offered in). It serves the neighbours of
 * the unsupervised loss, its validation and the structure regulariser ({@link #among}) and
 * hard-negative mining ({@link #nearest}); keep any other top-k out of the trainer. Stateless.
 */
final class TopK {
  private TopK() {}

  /**
   * Each text's full-width nearest neighbours among the others.
   *
   * @param ids vector ids for the texts, each row of the result is one of them
   * @param sims the neighbours' similarities, row by row, most similar first
   */
  record Neighbours(int[][] ids, double[][] sims) {}

  /**
   * Returns each of {@code items}' {@code k} most similar other items (vector ids), ties to the
   * earlier item. Each pair's similarity is computed once.
   */
  static Neighbours among(int[] items, List<float[]> vectors, int k) {
    int m = items.length;
    int[][] idx = new int[m][k];
    double[][] sim = new double[m][k];
    int[] count = new int[m];
    for (int i = 0; i < m; i++) {
      float[] vi = vectors.get(items[i]);
      for (int j = i + 1; j < m; j++) {
        double s = VectorOps.dot(vi, vectors.get(items[j]));
        insert(idx[i], sim[i], count, i, j, s, k);
        insert(idx[j], sim[j], count, j, i, s, k);
      }
    }
    int[][] outIdx = new int[m][];
    double[][] outSim = new double[m][];
    for (int i = 0; i < m; i++) {
      outIdx[i] = new int[count[i]];
      outSim[i] = Arrays.copyOf(sim[i], count[i]);
      for (int j = 0; j < count[i]; j++) {
        outIdx[i][j] = items[idx[i][j]];
      }
    }
    return new Neighbours(outIdx, outSim);
  }

  /**
   * Returns the {@code min(k, candidates.length)} candidates (vector ids) most similar to {@code
   * query}, most similar first, ties to the lower id.
   */
  static int[] nearest(float[] query, int[] candidates, List<float[]> vectors, int k) {
    int[] sorted = candidates.clone();
    Arrays.sort(sorted);
    int n = Math.min(k, sorted.length);
    int[] idx = new int[n];
    double[] sim = new double[n];
    int[] count = new int[1];
    for (int c = 0; c < sorted.length; c++) {
      insert(idx, sim, count, 0, c, VectorOps.dot(query, vectors.get(sorted[c])), n);
    }
    int[] out = new int[count[0]];
    for (int j = 0; j < out.length; j++) {
      out[j] = sorted[idx[j]];
    }
    return out;
  }

  /**
   * Offers candidate {@code cand} with similarity {@code s} to row {@code row}'s top {@code k}
   * ({@code idx}, {@code sim}, sorted, {@code count[row]} filled); an equal similarity goes after
   * those already there.
   */
  private static void insert(int[] idx, double[] sim, int[] count, int row, int cand, double s, int k) {
    if (k == 0) {
      return;
    }
    int c = count[row];
    if (c == k && s <= sim[k - 1]) {
      return;
    }
    int pos = c == k ? k - 1 : c;
    while (pos > 0 && sim[pos - 1] < s) {
      sim[pos] = sim[pos - 1];
      idx[pos] = idx[pos - 1];
      pos--;
    }
    sim[pos] = s;
    idx[pos] = cand;
    if (c < k) {
      count[row] = c + 1;
    }
  }
}
