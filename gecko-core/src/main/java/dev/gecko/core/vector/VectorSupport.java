package dev.gecko.core.vector;

/**
 * The kernels behind {@link VectorOps}, implemented twice: {@link ScalarVectorSupport} (plain
 * loops) and {@code PanamaVectorSupport} (jdk.incubator.vector). Arguments are already validated
 * by the facade; implementations are stateless and thread-safe.
 */
interface VectorSupport {
  /** Short name for logs and benchmarks: {@code "scalar"} or {@code "panama"}. */
  String name();

  /** Bits per SIMD register the kernels use; 0 for the scalar twin. */
  int vectorBitSize();

  /** Sum of {@code a[aOffset + i] * b[bOffset + i]} for {@code i < length}. */
  float dot(float[] a, int aOffset, float[] b, int bOffset, int length);

  /** Sum of {@code a[offset + i]^2} for {@code i < length}. */
  float squaredNorm(float[] a, int offset, int length);

  /** Multiplies {@code a[offset, offset+length)} by {@code factor} in place. */
  void scale(float[] a, int offset, int length, float factor);

  /**
   * Mean of the rows of {@code hidden[b, t, :]} where {@code mask[b, t] != 0}, for every b,
   * written to {@code out[b * outStride, b * outStride + hiddenSize)}; zeros where no token is
   * unmasked.
   */
  void meanPool(float[] hidden, long[] mask, int batch, int tokens, int hiddenSize, float[] out, int outStride);

  /** Exact sum of {@code a[aOffset + i] * b[bOffset + i]} over signed bytes. */
  int int8Dot(byte[] a, int aOffset, byte[] b, int bOffset, int length);

  /**
   * Writes to {@code out[0, groups * 4)} the int8 dot products of {@code query} (zero-padded to
   * whole chunks) with the codes of {@code groups} groups of four, laid out from {@code codesOffset}
   * as {@link VectorOps#int8DotGroups} describes.
   */
  void int8DotGroups(byte[] query, byte[] codes, int codesOffset, int groups, int[] out);

  /**
   * Whether {@link #int8DotGroups} over codes laid out for it scans faster than {@link #int8Dot}
   * code after code (as measured, docs/benchmarks.md).
   */
  default boolean prefersInt8Groups() {
    return false;
  }

  /** Number of differing bits between {@code a[aOffset, +words)} and {@code b[bOffset, +words)}. */
  int hamming(long[] a, int aOffset, long[] b, int bOffset, int words);

  /**
   * Writes to {@code out[0, groups * 8)} the Hamming distances of {@code query} to the codes of
   * {@code groups} groups of eight, interleaved from {@code codesOffset} as {@link
   * VectorOps#hammingGroups} lays them out.
   */
  void hammingGroups(long[] query, long[] codes, int codesOffset, int groups, int[] out);

  /** Whether {@link #hammingGroups} counts bits with vector instructions. */
  default boolean vectorBitCount() {
    return false;
  }

  /**
   * Whether {@link #hammingGroups} over codes of {@code words} words scans faster than {@link
   * VectorOps#hammingMany} over the same codes one after another (as measured, docs/benchmarks.md).
   */
  default boolean prefersHammingGroups(int words) {
    return false;
  }
}
