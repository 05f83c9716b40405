package dev.gecko.train.adapter;

import dev.gecko.core.adapter.Adapter;

/**
 * The trainable residual map {@code y = x + f(x)} in double precision, with hand-written
 * backward. Parameters live in one flat array (so the optimiser is one loop):
 * LINEAR {@code [W (d*d) | b (d)]}, MLP {@code [W1 (h*d) | b1 (h) | W2 (d*h) | b2 (d)]}, all
 * row-major {@code [out][in]}. Not thread-safe.
 */
final class Model {
  final Adapter.Kind kind;
  final int d;
  final int h;
  final double[] p;
  /** Whether each parameter is a weight (decayed by AdamW) rather than a bias. */
  final boolean[] decay;
  private final int b1;
  private final int w2;
  private final int b2;

  Model(Adapter.Kind kind, int d, int h, Rng rng) {
    this.kind = kind;
    this.d = d;
    this.h = kind == Adapter.Kind.LINEAR ? d : h;
    if (kind == Adapter.Kind.LINEAR) {
      p = new double[d * d + d];
      b1 = d * d;
      w2 = -1;
      b2 = -1;
    } else {
      b1 = h * d;
      w2 = b1 + h;
      b2 = w2 + d * h;
      p = new double[b2 + d];
      // First layer random (He init), second layer zero: f(x) = 0 at the start, so y = x.
      double scale = Math.sqrt(2.0 / d);
      for (int i = 0; i < h * d; i++) {
        p[i] = rng.nextGaussian() * scale;
      }
    }
    decay = new boolean[p.length];
    for (int i = 0; i < p.length; i++) {
      decay[i] = kind == Adapter.Kind.LINEAR ? i < b1 : (i < b1 || (i >= w2 && i < b2));
    }
  }

  /** Size of the per-vector activation cache ({@code h} for MLP pre-activations, 0 for linear). */
  int cacheSize() {
    return kind == Adapter.Kind.MLP ? h : 0;
  }

  /** y = x + f(x); {@code hidden} receives the MLP pre-activations (unused for linear). */
  void forward(double[] x, double[] y, double[] hidden) {
    if (kind == Adapter.Kind.LINEAR) {
      for (int r = 0; r < d; r++) {
        double s = p[b1 + r];
        int row = r * d;
        for (int c = 0; c < d; c++) {
          s += p[row + c] * x[c];
        }
        y[r] = x[r] + s;
      }
      return;
    }
    for (int r = 0; r < h; r++) {
      double s = p[b1 + r];
      int row = r * d;
      for (int c = 0; c < d; c++) {
        s += p[row + c] * x[c];
      }
      hidden[r] = s;
    }
    for (int r = 0; r < d; r++) {
      double s = p[b2 + r];
      int row = w2 + r * h;
      for (int c = 0; c < h; c++) {
        double a = hidden[c];
        if (a > 0) {
          s += p[row + c] * a;
        }
      }
      y[r] = x[r] + s;
    }
  }

  /** Accumulates dL/dparams into {@code grad} given dL/dy for one vector. */
  void backward(double[] x, double[] hidden, double[] gy, double[] grad) {
    if (kind == Adapter.Kind.LINEAR) {
      accumulateFirstLayer(x, gy, d, grad);
      return;
    }
    double[] gh = new double[h];
    for (int r = 0; r < d; r++) {
      double g = gy[r];
      if (g == 0) {
        continue;
      }
      int row = w2 + r * h;
      for (int c = 0; c < h; c++) {
        double a = hidden[c];
        if (a > 0) {
          grad[row + c] += g * a;
          gh[c] += g * p[row + c];
        }
      }
      grad[b2 + r] += g;
    }
    accumulateFirstLayer(x, gh, h, grad);
  }

  /** Adds the gradient of the first layer ({@code rows} outputs over x) for output gradient {@code g}. */
  private void accumulateFirstLayer(double[] x, double[] g, int rows, double[] grad) {
    for (int r = 0; r < rows; r++) {
      double gr = g[r];
      if (gr == 0) {
        continue;
      }
      int row = r * d;
      for (int c = 0; c < d; c++) {
        grad[row + c] += gr * x[c];
      }
      grad[b1 + r] += gr;
    }
  }

  /** Exports the current parameters as an immutable float adapter. */
  Adapter toAdapter() {
    if (kind == Adapter.Kind.LINEAR) {
      return Adapter.linear(matrix(0, d, d), vector(b1, d));
    }
    return Adapter.mlp(matrix(0, h, d), vector(b1, h), matrix(w2, d, h), vector(b2, d));
  }

  private float[][] matrix(int off, int rows, int cols) {
    float[][] m = new float[rows][cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        m[r][c] = (float) p[off + r * cols + c];
      }
    }
    return m;
  }

  private float[] vector(int off, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) p[off + i];
    }
    return v;
  }
}
