package dev.gecko.core.vector;

/** The kernels behind {@link VectorOps}; arguments are already validated. */
interface VectorSupport {
  float dot(float[] a, int aOffset, float[] b, int bOffset, int length);

  float squaredNorm(float[] a, int offset, int length);

  /** Multiplies {@code a[offset, offset+length)} by {@code factor} in place. */
  void scale(float[] a, int offset, int length, float factor);

  /**
   * Mean of the rows of {@code hidden[b, t, :]} where {@code mask[b, t] != 0}, for every b,
   * written to {@code out[b * outStride, b * outStride + hiddenSize)}.
   */
  void meanPool(float[] hidden, long[] mask, int batch, int tokens, int hiddenSize, float[] out, int outStride);
}
