package dev.gecko.eval;

import java.util.Arrays;
import java.util.Objects;

/**
 * Correlation coefficients as scipy.stats computes them. Stateless and thread-safe.
 */
public final class Correlation {
  private Correlation() {}

  /**
   * Returns Spearman's rank correlation: the Pearson correlation of the ranks, where tied values
   * get the average of the ranks they span (scipy.stats.spearmanr).
   *
   * @return the coefficient in [-1, 1], or NaN if either side is constant
   * @throws IllegalArgumentException if the lengths differ or there are fewer than 2 values
   */
  public static double spearman(double[] x, double[] y) {
    check(x, y);
    return pearson(ranks(x), ranks(y));
  }

  /**
   * Returns Pearson's correlation coefficient.
   *
   * @return the coefficient in [-1, 1], or NaN if either side is constant
   * @throws IllegalArgumentException if the lengths differ or there are fewer than 2 values
   */
  public static double pearson(double[] x, double[] y) {
    check(x, y);
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
    if (sxx == 0 || syy == 0) {
      return Double.NaN;
    }
    return Math.max(-1.0, Math.min(1.0, sxy / Math.sqrt(sxx * syy)));
  }

  /**
   * Returns the 1-based ranks of the values, ties averaged (scipy.stats.rankdata "average").
   *
   * @throws IllegalArgumentException if a value is NaN
   */
  public static double[] ranks(double[] values) {
    Objects.requireNonNull(values, "values is null");
    int n = values.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      if (Double.isNaN(values[i])) {
        throw new IllegalArgumentException("value " + i + " is NaN");
      }
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(values[a], values[b]));
    double[] ranks = new double[n];
    int i = 0;
    while (i < n) {
      int j = i;
      while (j + 1 < n && values[order[j + 1]] == values[order[i]]) {
        j++;
      }
      double avg = (i + j) / 2.0 + 1.0;
      for (int t = i; t <= j; t++) {
        ranks[order[t]] = avg;
      }
      i = j + 1;
    }
    return ranks;
  }

  private static void check(double[] x, double[] y) {
    Objects.requireNonNull(x, "x is null");
    Objects.requireNonNull(y, "y is null");
    if (x.length != y.length) {
      throw new IllegalArgumentException("lengths differ: " + x.length + "!=" + y.length);
    }
    if (x.length < 2) {
      throw new IllegalArgumentException("need at least 2 values, got " + x.length);
    }
  }
}
