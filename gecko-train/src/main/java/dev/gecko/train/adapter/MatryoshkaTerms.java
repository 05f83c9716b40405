package dev.gecko.train.adapter;

/**
 * The Matryoshka-Adaptor terms ({@link Losses#unsupervised}) over texts of a forward pass, with
 * their precomputed full-width neighbours: the unsupervised objective's loss and validation, and
 * the structure regulariser of the supervised ones. Stateless.
 */
final class MatryoshkaTerms {
  private MatryoshkaTerms() {}

  /**
   * Returns {@code scale (L_topk + alpha L_pair + beta L_rec)} over the texts {@code ids} (vector
   * ids, all in {@code l}) and adds its gradient into {@code g}.
   *
   * @param neighbours each text's neighbours (vector ids, all in {@code l})
   * @param neighbourSims each text's full-width base cosines with its neighbours
   */
  static double loss(Forward l, int[] ids, int[][] neighbours, double[][] neighbourSims, int[] widths,
      double[] weights, double alpha, double beta, double scale, double[][] g) {
    int n = ids.length;
    int[] items = new int[n];
    int[][] nn = new int[n][];
    double[][] pairT = new double[n][n];
    for (int i = 0; i < n; i++) {
      items[i] = l.of(ids[i]);
      nn[i] = new int[neighbours[i].length];
      for (int k = 0; k < nn[i].length; k++) {
        nn[i][k] = l.of(neighbours[i][k]);
      }
    }
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        pairT[i][j] = Stats.cosine(l.xs[items[i]], l.xs[items[j]], l.xs[items[i]].length);
      }
    }
    return Losses.unsupervised(l.ys, l.xs, items, nn, pairT, neighbourSims, widths, weights, alpha, beta, scale, g);
  }
}
