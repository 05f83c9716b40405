package dev.gecko.core.vector;

import java.util.Objects;

/**
 * Vector operations used on the embedding path and by search, backed by SIMD kernels where the
 * JVM offers {@code jdk.incubator.vector} and by scalar twins elsewhere. Stateless and
 * thread-safe.
 *
 * <p>Zero vectors: {@link #normalize} leaves a zero vector as it is (all zeros, as PyTorch's
 * {@code F.normalize} does), and {@link #cosine} of a zero vector is 0.
 */
public final class VectorOps {
  private static final VectorSupport IMPL = VectorizationProvider.support();

  private VectorOps() {}

  /** Returns the name of the implementation in use: {@code "panama"} or {@code "scalar"}. */
  public static String implementationName() {
    return VectorizationProvider.name();
  }

  /**
   * Returns the dot product of two vectors of equal length.
   *
   * @throws IllegalArgumentException if the lengths differ
   */
  public static float dot(float[] a, float[] b) {
    checkSameLength(a, b);
    return IMPL.dot(a, 0, b, 0, a.length);
  }

  /**
   * Returns the cosine similarity of two vectors of equal length (0 if either is zero).
   *
   * @throws IllegalArgumentException if the lengths differ
   */
  public static float cosine(float[] a, float[] b) {
    checkSameLength(a, b);
    float dot = IMPL.dot(a, 0, b, 0, a.length);
    double norms = Math.sqrt((double) IMPL.squaredNorm(a, 0, a.length) * IMPL.squaredNorm(b, 0, b.length));
    return norms == 0 ? 0f : (float) (dot / norms);
  }

  /** Returns the Euclidean (L2) norm. */
  public static float norm(float[] a) {
    Objects.requireNonNull(a, "vector is null");
    return (float) Math.sqrt(IMPL.squaredNorm(a, 0, a.length));
  }

  /** Scales {@code a} in place to unit L2 norm; a zero vector stays zero. Returns {@code a}. */
  public static float[] normalize(float[] a) {
    Objects.requireNonNull(a, "vector is null");
    normalize(a, 0, a.length);
    return a;
  }

  /**
   * Returns a new array with the first {@code dims} components of {@code a}, L2-normalised
   * (truncate first, then normalise: the Matryoshka order).
   *
   * @throws IllegalArgumentException if {@code dims} is not in {@code [1, a.length]}
   */
  public static float[] truncateAndNormalize(float[] a, int dims) {
    Objects.requireNonNull(a, "vector is null");
    if (dims < 1 || dims > a.length) {
      throw new IllegalArgumentException("dims must be in [1, " + a.length + "], was " + dims);
    }
    float[] out = java.util.Arrays.copyOf(a, dims);
    normalize(out, 0, dims);
    return out;
  }

  /**
   * Masked mean pooling over a flat {@code [batch, tokens, hiddenSize]} buffer: for each row,
   * the mean of the token vectors whose mask is non-zero (zeros if none).
   *
   * @return a flat {@code [batch, hiddenSize]} array
   * @throws IllegalArgumentException if the buffer sizes do not match the shape
   */
  public static float[] meanPool(float[] hidden, long[] mask, int batch, int tokens, int hiddenSize) {
    checkShape(hidden, mask, batch, tokens, hiddenSize);
    float[] out = new float[batch * hiddenSize];
    IMPL.meanPool(hidden, mask, batch, tokens, hiddenSize, out, hiddenSize);
    return out;
  }

  /**
   * CLS pooling over a flat {@code [batch, tokens, hiddenSize]} buffer: each row's first token.
   *
   * @return a flat {@code [batch, hiddenSize]} array
   * @throws IllegalArgumentException if the buffer size does not match the shape
   */
  public static float[] clsPool(float[] hidden, int batch, int tokens, int hiddenSize) {
    Objects.requireNonNull(hidden, "hidden is null");
    if (batch < 0 || tokens < 1 || hiddenSize < 1 || hidden.length != (long) batch * tokens * hiddenSize) {
      throw new IllegalArgumentException("hidden has " + hidden.length + " floats, shape is [" + batch + ", " + tokens
          + ", " + hiddenSize + "]");
    }
    float[] out = new float[batch * hiddenSize];
    for (int b = 0; b < batch; b++) {
      System.arraycopy(hidden, b * tokens * hiddenSize, out, b * hiddenSize, hiddenSize);
    }
    return out;
  }

  static void normalize(float[] a, int offset, int length) {
    float sq = IMPL.squaredNorm(a, offset, length);
    if (sq > 0f) {
      IMPL.scale(a, offset, length, (float) (1.0 / Math.sqrt(sq)));
    }
  }

  private static void checkSameLength(float[] a, float[] b) {
    Objects.requireNonNull(a, "a is null");
    Objects.requireNonNull(b, "b is null");
    if (a.length != b.length) {
      throw new IllegalArgumentException("vector dimensions differ: " + a.length + "!=" + b.length);
    }
  }

  private static void checkShape(float[] hidden, long[] mask, int batch, int tokens, int hiddenSize) {
    Objects.requireNonNull(hidden, "hidden is null");
    Objects.requireNonNull(mask, "mask is null");
    if (batch < 0 || tokens < 1 || hiddenSize < 1) {
      throw new IllegalArgumentException("bad shape [" + batch + ", " + tokens + ", " + hiddenSize + "]");
    }
    if (hidden.length != (long) batch * tokens * hiddenSize) {
      throw new IllegalArgumentException("hidden has " + hidden.length + " floats, shape [" + batch + ", " + tokens
          + ", " + hiddenSize + "] needs " + (long) batch * tokens * hiddenSize);
    }
    if (mask.length != (long) batch * tokens) {
      throw new IllegalArgumentException("mask has " + mask.length + " entries, shape [" + batch + ", " + tokens
          + "] needs " + (long) batch * tokens);
    }
  }
}
