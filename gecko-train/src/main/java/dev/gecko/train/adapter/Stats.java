package dev.gecko.train.adapter;

import java.util.Arrays;

/** Small statistics helpers: Spearman with average ranks, cosine on prefixes. */
final class Stats {
  private Stats() {}

  /** Spearman's rank correlation with average ranks for ties (Pearson on the ranks). */
  static double spearman(double[] x, double[] y) {
    if (x.length != y.length || x.length < 2) {
      throw new IllegalArgumentException("need two equal-length arrays of at least 2 values");
    }
    return pearson(ranks(x), ranks(y));
  }

  static double pearson(double[] x, double[] y) {
    int n = x.length;
    double mx = 0;
    double my = 0;
    for (int i = 0; i < n; i++) {
      mx += x[i];
      my += y[i];
    }
    mx /= n;
    my /= n;
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int i = 0; i < n; i++) {
      double dx = x[i] - mx;
      double dy = y[i] - my;
      sxy += dx * dy;
      sxx += dx * dx;
      syy += dy * dy;
    }
    return sxx == 0 || syy == 0 ? 0 : sxy / Math.sqrt(sxx * syy);
  }

  static double[] ranks(double[] v) {
    int n = v.length;
    Integer[] idx = new Integer[n];
    for (int i = 0; i < n; i++) {
      idx[i] = i;
    }
    Arrays.sort(idx, (a, b) -> Double.compare(v[a], v[b]));
    double[] r = new double[n];
    int i = 0;
    while (i < n) {
      int j = i;
      while (j + 1 < n && v[idx[j + 1]] == v[idx[i]]) {
        j++;
      }
      double avg = (i + j) / 2.0 + 1;
      for (int k = i; k <= j; k++) {
        r[idx[k]] = avg;
      }
      i = j + 1;
    }
    return r;
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
