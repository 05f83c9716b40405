package dev.gecko.train.adapter;

/**
 * AdamW (Loshchilov and Hutter 2019): Adam moments with bias correction, and weight decay
 * applied directly to the weights (not through the gradient), scaled by the learning rate.
 * Decay pulls the residual towards zero, that is the adapter towards its basis alone. Not
 * thread-safe.
 */
final class AdamW {
  private final double beta1 = 0.9;
  private final double beta2 = 0.999;
  private final double eps = 1e-8;
  private final double weightDecay;
  private final double[] m;
  private final double[] v;
  private int t;

  AdamW(int size, double weightDecay) {
    this.weightDecay = weightDecay;
    this.m = new double[size];
    this.v = new double[size];
  }

  void step(double[] p, double[] g, boolean[] decay, double lr) {
    t++;
    double c1 = 1 - Math.pow(beta1, t);
    double c2 = 1 - Math.pow(beta2, t);
    for (int i = 0; i < p.length; i++) {
      m[i] = beta1 * m[i] + (1 - beta1) * g[i];
      v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
      double update = (m[i] / c1) / (Math.sqrt(v[i] / c2) + eps);
      if (decay[i]) {
        p[i] -= lr * weightDecay * p[i];
      }
      p[i] -= lr * update;
    }
  }
}
