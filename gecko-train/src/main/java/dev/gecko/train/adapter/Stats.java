package dev.gecko.train.adapter;

import dev.gecko.eval.Correlation;

/** Small statistics helpers for training: validation Spearman, cosine on prefixes. */
final class Stats {
  private Stats() {}

  /**
   * Spearman's rank correlation with average ranks for ties ({@link Correlation#spearman}), with 0
   * instead of NaN when a side is constant, so that validation scores always compare; NaN where a
   * value is not finite (the trainer then keeps its best epoch and says why).
   */
  static double spearman(double[] x, double[] y) {
    for (int i = 0; i < x.length; i++) { // a vector that is not finite (weights that diverged): no score
      if (!Double.isFinite(x[i]) || !Double.isFinite(y[i])) {
        return Double.NaN;
      }
    }
    double r = Correlation.spearman(x, y);
    return Double.isNaN(r) ? 0 : r;
  }

  /** Cosine of the first {@code m} components (0 if either prefix is zero). */
  static double cosine(double[] a, double[] b, int m) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int t = 0; t < m; t++) {
      dot += a[t] * b[t];
      na += a[t] * a[t];
      nb += b[t] * b[t];
    }
    return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
  }
}
