package dev.gecko.train.adapter;

/** SplitMix64: a small, fast, fully specified generator, so a seed means the same on every JVM. */
final class Rng {
  private long state;

  Rng(long seed) {
    this.state = seed;
  }

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  long nextLong() {
    state += 0x9e3779b97f4a7c15L;
    return mix(state);
  }

  /** Uniform in [0, 1). */
  double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** Uniform in [0, n). */
  int nextInt(int n) {
    return (int) ((nextLong() >>> 1) % n);
  }

  /** Standard normal (Box-Muller, one value per call). */
  double nextGaussian() {
    double u1 = nextDouble();
    double u2 = nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }

  void shuffle(int[] a) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
