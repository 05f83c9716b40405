package dev.gecko.core.vector;

import java.util.Arrays;
import java.util.Objects;

/**
 * Vector operations used on the embedding path and by search, backed by SIMD kernels where the
 * JVM offers {@code jdk.incubator.vector} and by scalar twins elsewhere. Stateless and
 * thread-safe; no method keeps a reference to its arguments.
 *
 * <p>The implementation is chosen once per JVM, on first use: start the JVM with
 * {@code --add-modules jdk.incubator.vector} for SIMD (one INFO log line says so); without it, one
 * WARNING says how to turn it on and the scalar twin computes the same results (float sums may
 * differ in the last bits, as the summation order differs). {@code -Dgecko.vectorization=scalar}
 * forces the scalar twin. {@link #implementationName()} says which one runs.
 *
 * <p>Zero vectors: {@link #normalize} leaves a zero vector as it is (all zeros, as PyTorch's
 * {@code F.normalize} does), {@link #cosine} of a zero vector is 0, and
 * {@link #quantizeInt8} of a zero vector gives all-zero bytes with scale 0.
 *
 * <p>Quantisation: int8 is symmetric per vector, {@code q[i] = round(v[i] / scale)} with
 * {@code scale = max|v| / 127}, so {@code dot(a, b) ≈ int8Dot(qa, qb) * scaleA * scaleB}. Binary is
 * one sign bit per component ({@code 1} where {@code v[i] > 0}), packed little-endian into longs:
 * component {@code i} is bit {@code i % 64} of word {@code i / 64}; padding bits are 0.
 */
public final class VectorOps {
  private static final VectorSupport IMPL = VectorizationProvider.support();

  private VectorOps() {}

  /** Returns the name of the implementation in use: {@code "panama"} or {@code "scalar"}. */
  public static String implementationName() {
    return IMPL.name();
  }

  /** Returns the SIMD register width the kernels use in bits, or 0 for the scalar twin. */
  public static int vectorBitSize() {
    return IMPL.vectorBitSize();
  }

  /**
   * Returns whether, in this JVM, a binary scan over codes of {@code words} 64-bit words is faster
   * with {@link #hammingGroups} over codes laid out for it than with {@link #hammingMany} over codes
   * stored one after another, as measured (docs/benchmarks.md, "Binary scan"): on x86-64 with AVX2 or
   * AVX-512 and {@code --add-modules jdk.incubator.vector}, at every width on JDK 25 (a vector bit
   * count), and from 6 words (384 dimensions) on before it (bit arithmetic on vectors); never on the
   * scalar path.
   */
  public static boolean prefersHammingGroups(int words) {
    return IMPL.prefersHammingGroups(words);
  }

  /**
   * Returns the dot product of two vectors of equal length.
   *
   * @throws IllegalArgumentException if the lengths differ
   * @throws NullPointerException if either is null
   */
  public static float dot(float[] a, float[] b) {
    checkSameLength(a, b);
    return IMPL.dot(a, 0, b, 0, a.length);
  }

  /**
   * Returns the dot product of {@code a[aOffset, aOffset+length)} and {@code b[bOffset,
   * bOffset+length)}: rows of a flat matrix without copying them.
   *
   * @throws IndexOutOfBoundsException if a range is outside its array
   */
  public static float dot(float[] a, int aOffset, float[] b, int bOffset, int length) {
    Objects.checkFromIndexSize(aOffset, length, a.length);
    Objects.checkFromIndexSize(bOffset, length, b.length);
    return IMPL.dot(a, aOffset, b, bOffset, length);
  }

  /**
   * Returns the cosine similarity of two vectors of equal length (0 if either is zero).
   *
   * @throws IllegalArgumentException if the lengths differ
   */
  public static float cosine(float[] a, float[] b) {
    checkSameLength(a, b);
    float dot = IMPL.dot(a, 0, b, 0, a.length);
    float sa = IMPL.squaredNorm(a, 0, a.length);
    float sb = IMPL.squaredNorm(b, 0, b.length);
    if (Float.isFinite(dot) && exact(sa) && exact(sb)) {
      return (float) (dot / Math.sqrt((double) sa * sb));
    }
    return scaledCosine(a, b); // rare: a float sum overflowed or underflowed, or a vector is zero
  }

  /** Returns the Euclidean (L2) norm. */
  public static float norm(float[] a) {
    Objects.requireNonNull(a, "vector is null");
    return (float) norm2(a, 0, a.length);
  }

  /**
   * Returns the Euclidean norm of {@code a[offset, offset+length)}.
   *
   * @throws IndexOutOfBoundsException if the range is outside the array
   */
  public static float norm(float[] a, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, a.length);
    return (float) norm2(a, offset, length);
  }

  /** Scales {@code a} in place to unit L2 norm; a zero vector stays zero. Returns {@code a}. */
  public static float[] normalize(float[] a) {
    Objects.requireNonNull(a, "vector is null");
    normalizeInPlace(a, 0, a.length);
    return a;
  }

  /**
   * Scales {@code a[offset, offset+length)} in place to unit L2 norm; a zero range stays zero.
   *
   * @throws IndexOutOfBoundsException if the range is outside the array
   */
  public static void normalize(float[] a, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, a.length);
    normalizeInPlace(a, offset, length);
  }

  /**
   * Returns a new array with the first {@code dims} components of {@code a}, L2-normalised
   * (truncate first, then normalise: the Matryoshka order).
   *
   * @throws IllegalArgumentException if {@code dims} is not in {@code [1, a.length]}
   */
  public static float[] truncateAndNormalize(float[] a, int dims) {
    Objects.requireNonNull(a, "vector is null");
    return truncateAndNormalize(a, 0, a.length, dims);
  }

  /**
   * Returns a new array with the first {@code dims} components of the row
   * {@code a[offset, offset+width)}, L2-normalised: a row of a flat pooled batch, without an
   * intermediate copy of the whole row.
   *
   * @throws IllegalArgumentException if {@code dims} is not in {@code [1, width]}
   * @throws IndexOutOfBoundsException if the row is outside the array
   */
  public static float[] truncateAndNormalize(float[] a, int offset, int width, int dims) {
    Objects.requireNonNull(a, "vector is null");
    Objects.checkFromIndexSize(offset, width, a.length);
    if (dims < 1 || dims > width) {
      throw new IllegalArgumentException("dims must be in [1, " + width + "], was " + dims);
    }
    float[] out = Arrays.copyOfRange(a, offset, offset + dims);
    normalizeInPlace(out, 0, dims);
    return out;
  }

  /**
   * Masked mean pooling over a flat {@code [batch, tokens, hiddenSize]} buffer (row-major, as ONNX
   * Runtime returns it): for each row, the mean of the token vectors whose mask is non-zero; a row
   * with no unmasked token pools to zeros.
   *
   * @return a new flat {@code [batch, hiddenSize]} array
   * @throws IllegalArgumentException if the buffer sizes do not match the shape
   */
  public static float[] meanPool(float[] hidden, long[] mask, int batch, int tokens, int hiddenSize) {
    checkShape(hidden, mask, batch, tokens, hiddenSize);
    float[] out = new float[batch * hiddenSize];
    IMPL.meanPool(hidden, mask, batch, tokens, hiddenSize, out, hiddenSize);
    return out;
  }

  /**
   * {@link #meanPool(float[], long[], int, int, int)} over reusable buffers: reads the first {@code
   * batch * tokens * hiddenSize} floats of {@code hidden} and the first {@code batch * tokens}
   * entries of {@code mask}, and writes the flat {@code [batch, hiddenSize]} result to the start
   * of {@code out}. For callers that keep buffers sized for their largest batch.
   *
   * @throws IllegalArgumentException if the shape is not positive or a buffer is too short for it
   */
  public static void meanPoolInto(float[] hidden, long[] mask, int batch, int tokens, int hiddenSize, float[] out) {
    Objects.requireNonNull(hidden, "hidden is null");
    Objects.requireNonNull(mask, "mask is null");
    Objects.requireNonNull(out, "out is null");
    if (batch < 0 || tokens < 1 || hiddenSize < 1) {
      throw new IllegalArgumentException("bad shape [" + batch + ", " + tokens + ", " + hiddenSize + "]");
    }
    if (hidden.length < (long) batch * tokens * hiddenSize || mask.length < (long) batch * tokens
        || out.length < (long) batch * hiddenSize) {
      throw new IllegalArgumentException("buffers of " + hidden.length + " / " + mask.length + " / " + out.length
          + " elements are too short for shape [" + batch + ", " + tokens + ", " + hiddenSize + "]");
    }
    IMPL.meanPool(hidden, mask, batch, tokens, hiddenSize, out, hiddenSize);
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

  /**
   * Quantises {@code v} to signed bytes in {@code out} with one scale for the whole vector
   * ({@code max|v| / 127}) and returns that scale; {@code v[i] ≈ out[i] * scale}. The codes keep
   * the vector's shape at any magnitude, but below {@code max|v|} of about 1.8e-43 the scale
   * underflows to 0, so such a vector scores 0 against every query.
   *
   * @throws IllegalArgumentException if the lengths differ or {@code v} holds NaN or infinity
   */
  public static float quantizeInt8(float[] v, byte[] out) {
    Objects.requireNonNull(v, "vector is null");
    Objects.requireNonNull(out, "out is null");
    if (v.length != out.length) {
      throw new IllegalArgumentException("vector dimensions differ: " + v.length + "!=" + out.length);
    }
    return quantizeInt8(v, 0, out, 0, v.length);
  }

  /**
   * Quantises {@code v[offset, offset+length)} into {@code out[outOffset, outOffset+length)}, as
   * {@link #quantizeInt8(float[], byte[])}, and returns the scale.
   *
   * @throws IllegalArgumentException if the range holds NaN or infinity
   * @throws IndexOutOfBoundsException if a range is outside its array
   */
  public static float quantizeInt8(float[] v, int offset, byte[] out, int outOffset, int length) {
    Objects.checkFromIndexSize(offset, length, v.length);
    Objects.checkFromIndexSize(outOffset, length, out.length);
    float max = 0f;
    for (int i = 0; i < length; i++) {
      float x = v[offset + i];
      if (!Float.isFinite(x)) {
        throw new IllegalArgumentException("vector component " + i + " is " + x + "; cannot quantise");
      }
      max = Math.max(max, Math.abs(x));
    }
    if (max == 0f) {
      Arrays.fill(out, outOffset, outOffset + length, (byte) 0);
      return 0f;
    }
    float inv = 127f / max;
    if (Float.isInfinite(inv)) { // max below ~3.7e-37: in float every component would round to +-127
      double wide = 127.0 / max;
      for (int i = 0; i < length; i++) {
        out[outOffset + i] = (byte) Math.max(-127, Math.min(127, Math.round(v[offset + i] * wide)));
      }
      return max / 127f;
    }
    for (int i = 0; i < length; i++) {
      int q = Math.round(v[offset + i] * inv);
      out[outOffset + i] = (byte) Math.max(-127, Math.min(127, q));
    }
    return max / 127f;
  }

  /** Returns {@code q[i] * scale} for each component: the float32 approximation of an int8 vector. */
  public static float[] dequantizeInt8(byte[] q, float scale) {
    Objects.requireNonNull(q, "vector is null");
    float[] out = new float[q.length];
    for (int i = 0; i < q.length; i++) {
      out[i] = q[i] * scale;
    }
    return out;
  }

  /**
   * Returns the exact integer dot product of two int8 vectors of equal length.
   *
   * @throws IllegalArgumentException if the lengths differ
   */
  public static int int8Dot(byte[] a, byte[] b) {
    Objects.requireNonNull(a, "a is null");
    Objects.requireNonNull(b, "b is null");
    if (a.length != b.length) {
      throw new IllegalArgumentException("vector dimensions differ: " + a.length + "!=" + b.length);
    }
    return IMPL.int8Dot(a, 0, b, 0, a.length);
  }

  /**
   * Returns the exact integer dot product of {@code a[aOffset, +length)} and
   * {@code b[bOffset, +length)}.
   *
   * @throws IndexOutOfBoundsException if a range is outside its array
   */
  public static int int8Dot(byte[] a, int aOffset, byte[] b, int bOffset, int length) {
    Objects.checkFromIndexSize(aOffset, length, a.length);
    Objects.checkFromIndexSize(bOffset, length, b.length);
    return IMPL.int8Dot(a, aOffset, b, bOffset, length);
  }

  /** Codes per group in the layout that {@link #int8DotGroups} reads. */
  public static final int INT8_GROUP = 4;

  /** Bytes of one code that lie together in the layout that {@link #int8DotGroups} reads. */
  public static final int INT8_CHUNK = 32;

  /**
   * Returns the bytes of an int8 code of {@code dims} dimensions in the layout that {@link
   * #int8DotGroups} reads: {@code dims} rounded up to a whole number of {@value #INT8_CHUNK}-byte
   * chunks.
   */
  public static int int8GroupedLength(int dims) {
    if (dims < 0 || dims > Integer.MAX_VALUE - INT8_CHUNK + 1) {
      throw new IllegalArgumentException("dims must be in [0, 2^31 - 32], was " + dims);
    }
    return (dims + INT8_CHUNK - 1) / INT8_CHUNK * INT8_CHUNK;
  }

  /**
   * Returns whether, in this JVM, an int8 scan is faster with {@link #int8DotGroups} over codes laid
   * out for it than with {@link #int8Dot} over codes stored one after another, as measured
   * (docs/benchmarks.md, "Int8 scan"): on x86-64 with AVX2 or AVX-512 and {@code --add-modules
   * jdk.incubator.vector}, at every width (widths that are not a multiple of 32, padded, were
   * faster too); never on the scalar path, nor with 128-bit vectors (not measured).
   */
  public static boolean prefersInt8Groups() {
    return IMPL.prefersInt8Groups();
  }

  /**
   * Writes to {@code out[0, groups * 4)} the exact int8 dot products of {@code query} with the
   * codes of {@code groups} groups of {@value #INT8_GROUP}, laid out in chunks: with {@code chunks
   * = query.length / 32}, bytes {@code [32 * c, 32 * c + 32)} of code {@code j} of group {@code g}
   * are {@code codes[codesOffset + ((g * chunks + c) * 4 + j) * 32, +32)}. {@code query} is the
   * query's bytes zero-padded to {@link #int8GroupedLength}, and so is each code. The inner loop
   * of an int8 scan over codes laid out for it: each chunk of the query, widened once, meets the
   * same chunk of four codes. A group not wholly used (the last of a store whose size is not a
   * multiple of four) is scored whole; its unused codes' products are the caller's to ignore.
   *
   * @throws IllegalArgumentException if {@code query.length} is not a multiple of 32
   * @throws IndexOutOfBoundsException if the groups or {@code out} do not fit their arrays
   * @throws ArithmeticException if the groups' length overflows an int
   */
  public static void int8DotGroups(byte[] query, byte[] codes, int codesOffset, int groups, int[] out) {
    Objects.requireNonNull(query, "query is null");
    Objects.requireNonNull(codes, "codes is null");
    Objects.requireNonNull(out, "out is null");
    if (query.length % INT8_CHUNK != 0) {
      throw new IllegalArgumentException("query length " + query.length + " is not a multiple of " + INT8_CHUNK);
    }
    Objects.checkFromIndexSize(codesOffset, Math.multiplyExact(Math.multiplyExact(query.length, INT8_GROUP), groups),
        codes.length);
    Objects.checkFromIndexSize(0, Math.multiplyExact(groups, INT8_GROUP), out.length);
    IMPL.int8DotGroups(query, codes, codesOffset, groups, out);
  }

  /** Returns the number of longs that hold {@code dims} sign bits: {@code ceil(dims / 64)}. */
  public static int binaryWords(int dims) {
    if (dims < 0) {
      throw new IllegalArgumentException("dims must be >= 0, was " + dims);
    }
    return (dims + 63) >>> 6;
  }

  /** Returns the sign bits of {@code v} (bit set where {@code v[i] > 0}), packed into longs. */
  public static long[] quantizeBinary(float[] v) {
    Objects.requireNonNull(v, "vector is null");
    long[] out = new long[binaryWords(v.length)];
    quantizeBinary(v, 0, v.length, out, 0);
    return out;
  }

  /**
   * Writes the sign bits of {@code v[offset, offset+length)} to
   * {@code out[outOffset, outOffset + binaryWords(length))}.
   *
   * @throws IndexOutOfBoundsException if a range is outside its array
   */
  public static void quantizeBinary(float[] v, int offset, int length, long[] out, int outOffset) {
    int words = binaryWords(length);
    Objects.checkFromIndexSize(offset, length, v.length);
    Objects.checkFromIndexSize(outOffset, words, out.length);
    Arrays.fill(out, outOffset, outOffset + words, 0L);
    for (int i = 0; i < length; i++) {
      if (v[offset + i] > 0f) {
        out[outOffset + (i >>> 6)] |= 1L << (i & 63);
      }
    }
  }

  /**
   * Returns the Hamming distance (number of differing bits) of two bit vectors of equal length.
   *
   * @throws IllegalArgumentException if the lengths differ
   */
  public static int hamming(long[] a, long[] b) {
    Objects.requireNonNull(a, "a is null");
    Objects.requireNonNull(b, "b is null");
    if (a.length != b.length) {
      throw new IllegalArgumentException("vector dimensions differ: " + a.length + "!=" + b.length + " words");
    }
    return IMPL.hamming(a, 0, b, 0, a.length);
  }

  /**
   * Returns the Hamming distance of {@code a[aOffset, +words)} and {@code b[bOffset, +words)}.
   *
   * @throws IndexOutOfBoundsException if a range is outside its array
   */
  public static int hamming(long[] a, int aOffset, long[] b, int bOffset, int words) {
    Objects.checkFromIndexSize(aOffset, words, a.length);
    Objects.checkFromIndexSize(bOffset, words, b.length);
    return IMPL.hamming(a, aOffset, b, bOffset, words);
  }

  /**
   * Writes to {@code out[0, count)} the Hamming distances of {@code query} to {@code count} bit
   * vectors of {@code query.length} words stored back to back in {@code codes} from {@code
   * codesOffset}: the inner loop of a binary scan.
   *
   * @throws IndexOutOfBoundsException if the codes or {@code out} are too short
   */
  public static void hammingMany(long[] query, long[] codes, int codesOffset, int count, int[] out) {
    Objects.requireNonNull(query, "query is null");
    int words = query.length;
    Objects.checkFromIndexSize(codesOffset, Math.multiplyExact(words, count), codes.length);
    Objects.checkFromIndexSize(0, count, out.length);
    // The same scalar code whichever provider runs (Long.bitCount is a POPCNT intrinsic): codes
    // stored one after another give a vector no lanes to count side by side; hammingGroups' layout
    // does. Two codes per step for more independent work per iteration; one call per block keeps
    // calls and bounds checks off the per-code path.
    int v = 0;
    int o = codesOffset;
    for (; v + 1 < count; v += 2, o += 2 * words) {
      int s0 = 0;
      int s1 = 0;
      for (int w = 0; w < words; w++) {
        long q = query[w];
        s0 += Long.bitCount(q ^ codes[o + w]);
        s1 += Long.bitCount(q ^ codes[o + words + w]);
      }
      out[v] = s0;
      out[v + 1] = s1;
    }
    for (; v < count; v++, o += words) {
      int s = 0;
      for (int w = 0; w < words; w++) {
        s += Long.bitCount(query[w] ^ codes[o + w]);
      }
      out[v] = s;
    }
  }

  /** Codes per group in the layout that {@link #hammingGroups} reads. */
  public static final int HAMMING_GROUP = 8;

  /**
   * Writes to {@code out[0, groups * 8)} the Hamming distances of {@code query} to {@code groups *
   * 8} bit vectors of {@code query.length} words each, stored from {@code codesOffset} in groups of
   * {@value #HAMMING_GROUP} with their words interleaved: word {@code w} of code {@code c} of group
   * {@code g} is {@code codes[codesOffset + (g * query.length + w) * 8 + c]}. The inner loop of a
   * binary scan over codes laid out for it: each query word meets the same word of eight codes in
   * one cache line, which the SIMD path counts lanewise where the JDK and CPU compile a vector bit
   * count, or bit arithmetic where the JDK has none ({@link #prefersHammingGroups}), and the scalar
   * path with eight independent sums.
   * Exact on every path. A group not wholly used (the last of a store whose size is not a multiple
   * of eight) is scored whole; its unused codes' distances are the caller's to ignore.
   *
   * @throws IndexOutOfBoundsException if the codes or {@code out} are too short
   */
  public static void hammingGroups(long[] query, long[] codes, int codesOffset, int groups, int[] out) {
    Objects.requireNonNull(query, "query is null");
    Objects.checkFromIndexSize(codesOffset, Math.multiplyExact(Math.multiplyExact(query.length, HAMMING_GROUP), groups),
        codes.length);
    Objects.checkFromIndexSize(0, Math.multiplyExact(groups, HAMMING_GROUP), out.length);
    IMPL.hammingGroups(query, codes, codesOffset, groups, out);
  }

  private static void normalizeInPlace(float[] a, int offset, int length) {
    float sq = IMPL.squaredNorm(a, offset, length);
    if (exact(sq)) {
      IMPL.scale(a, offset, length, (float) (1.0 / Math.sqrt(sq)));
      return;
    }
    // rare: components so large (beyond ~1e19) that the float sum of squares overflowed, or so
    // small (below ~1e-19) that it underflowed: scaled by the largest magnitude, in double
    double norm = scaledNorm(a, offset, length);
    if (norm > 0 && norm < Double.POSITIVE_INFINITY) {
      double f = 1.0 / norm;
      for (int i = offset; i < offset + length; i++) {
        a[i] = (float) (a[i] * f);
      }
    }
  }

  /** Whether a float sum of squares neither overflowed nor underflowed (nor is zero): its root is the norm. */
  private static boolean exact(float squaredNorm) {
    return squaredNorm >= Float.MIN_NORMAL && squaredNorm < Float.POSITIVE_INFINITY;
  }

  /** The L2 norm in double: the SIMD float sum of squares where it is {@link #exact}, else {@link #scaledNorm}. */
  private static double norm2(float[] a, int offset, int length) {
    float sq = IMPL.squaredNorm(a, offset, length);
    return exact(sq) ? Math.sqrt(sq) : scaledNorm(a, offset, length);
  }

  /**
   * The L2 norm in double over the components scaled by the largest magnitude first: 0 for a zero
   * vector, NaN for one with NaN, infinite for one with an infinite component.
   */
  private static double scaledNorm(float[] a, int offset, int length) {
    float max = maxAbs(a, offset, length);
    if (!(max > 0f && max < Float.POSITIVE_INFINITY)) {
      return max; // zero, NaN or infinite
    }
    double s = 0;
    for (int i = offset; i < offset + length; i++) {
      double x = a[i] / (double) max;
      s += x * x;
    }
    return max * Math.sqrt(s);
  }

  /** The largest magnitude; NaN if any component is NaN. */
  private static float maxAbs(float[] a, int offset, int length) {
    float max = 0f;
    for (int i = offset; i < offset + length; i++) {
      float x = Math.abs(a[i]);
      if (Float.isNaN(x)) {
        return x;
      }
      max = Math.max(max, x);
    }
    return max;
  }

  /** The cosine in double over the components scaled by each vector's largest magnitude. */
  private static float scaledCosine(float[] a, float[] b) {
    float maxA = maxAbs(a, 0, a.length);
    float maxB = maxAbs(b, 0, b.length);
    if (Float.isNaN(maxA) || Float.isNaN(maxB)) {
      return Float.NaN;
    }
    if (maxA == 0f || maxB == 0f) {
      return 0f;
    }
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      double x = Float.isInfinite(maxA) ? (Float.isInfinite(a[i]) ? Math.signum(a[i]) : 0) : a[i] / (double) maxA;
      double y = Float.isInfinite(maxB) ? (Float.isInfinite(b[i]) ? Math.signum(b[i]) : 0) : b[i] / (double) maxB;
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
    return (float) (dot / Math.sqrt(na * nb));
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
