package dev.gecko.core.vector;

import java.util.Arrays;

/**
 * Plain Java kernels: the reference, and the fallback where the Vector API is missing.
 *
 * <p>Deliberately the loops a careful engineer writes without SIMD: one accumulator,
 * {@code sum += a * b} (not {@code Math.fma}, which without hardware-specific tuning is no faster
 * and is not what the Panama path is measured against). C2 may auto-vectorise the non-reduction
 * loops ({@link #scale}, the row sums in {@link #meanPool}); that is the honest baseline.
 */
final class ScalarVectorSupport implements VectorSupport {
  static final ScalarVectorSupport INSTANCE = new ScalarVectorSupport();

  private ScalarVectorSupport() {}

  @Override
  public String name() {
    return "scalar";
  }

  @Override
  public int vectorBitSize() {
    return 0;
  }

  @Override
  public float dot(float[] a, int aOffset, float[] b, int bOffset, int length) {
    float sum = 0f;
    for (int i = 0; i < length; i++) {
      sum += a[aOffset + i] * b[bOffset + i];
    }
    return sum;
  }

  @Override
  public float squaredNorm(float[] a, int offset, int length) {
    float sum = 0f;
    for (int i = 0; i < length; i++) {
      float v = a[offset + i];
      sum += v * v;
    }
    return sum;
  }

  @Override
  public void scale(float[] a, int offset, int length, float factor) {
    for (int i = 0; i < length; i++) {
      a[offset + i] *= factor;
    }
  }

  @Override
  public void meanPool(float[] hidden, long[] mask, int batch, int tokens, int hiddenSize, float[] out, int outStride) {
    for (int b = 0; b < batch; b++) {
      int o = b * outStride;
      Arrays.fill(out, o, o + hiddenSize, 0f);
      int count = 0;
      for (int t = 0; t < tokens; t++) {
        if (mask[b * tokens + t] == 0) {
          continue;
        }
        count++;
        int h = (b * tokens + t) * hiddenSize;
        for (int i = 0; i < hiddenSize; i++) {
          out[o + i] += hidden[h + i];
        }
      }
      if (count > 0) {
        scale(out, o, hiddenSize, 1f / count);
      }
    }
  }

  @Override
  public int int8Dot(byte[] a, int aOffset, byte[] b, int bOffset, int length) {
    int sum = 0;
    for (int i = 0; i < length; i++) {
      sum += a[aOffset + i] * b[bOffset + i];
    }
    return sum;
  }

  @Override
  public void int8DotGroups(byte[] query, byte[] codes, int codesOffset, int groups, int[] out) {
    int chunk = VectorOps.INT8_CHUNK;
    int group = VectorOps.INT8_GROUP;
    for (int g = 0, base = codesOffset; g < groups; g++, base += group * query.length) {
      int s0 = 0;
      int s1 = 0;
      int s2 = 0;
      int s3 = 0;
      for (int c = 0, o = base; c < query.length; c += chunk, o += group * chunk) {
        for (int k = 0; k < chunk; k++) {
          int q = query[c + k];
          s0 += q * codes[o + k];
          s1 += q * codes[o + chunk + k];
          s2 += q * codes[o + 2 * chunk + k];
          s3 += q * codes[o + 3 * chunk + k];
        }
      }
      int p = g * group;
      out[p] = s0;
      out[p + 1] = s1;
      out[p + 2] = s2;
      out[p + 3] = s3;
    }
  }

  @Override
  public int hamming(long[] a, int aOffset, long[] b, int bOffset, int words) {
    int sum = 0;
    for (int i = 0; i < words; i++) {
      sum += Long.bitCount(a[aOffset + i] ^ b[bOffset + i]);
    }
    return sum;
  }

  @Override
  public void hammingGroups(long[] query, long[] codes, int codesOffset, int groups, int[] out) {
    hammingGroupsScalar(query, codes, codesOffset, groups, out);
  }

  /**
   * The group kernel in plain Java, also the Panama path's where the JDK has no lanewise bit count:
   * eight sums, one per code of the group, each word of the query xor-ed with eight consecutive
   * longs (64 bytes, a cache line's worth).
   */
  static void hammingGroupsScalar(long[] query, long[] codes, int codesOffset, int groups, int[] out) {
    int words = query.length;
    int group = VectorOps.HAMMING_GROUP * words;
    for (int g = 0, base = codesOffset; g < groups; g++, base += group) {
      int s0 = 0;
      int s1 = 0;
      int s2 = 0;
      int s3 = 0;
      int s4 = 0;
      int s5 = 0;
      int s6 = 0;
      int s7 = 0;
      for (int w = 0, o = base; w < words; w++, o += VectorOps.HAMMING_GROUP) {
        long q = query[w];
        s0 += Long.bitCount(q ^ codes[o]);
        s1 += Long.bitCount(q ^ codes[o + 1]);
        s2 += Long.bitCount(q ^ codes[o + 2]);
        s3 += Long.bitCount(q ^ codes[o + 3]);
        s4 += Long.bitCount(q ^ codes[o + 4]);
        s5 += Long.bitCount(q ^ codes[o + 5]);
        s6 += Long.bitCount(q ^ codes[o + 6]);
        s7 += Long.bitCount(q ^ codes[o + 7]);
      }
      int p = g * VectorOps.HAMMING_GROUP;
      out[p] = s0;
      out[p + 1] = s1;
      out[p + 2] = s2;
      out[p + 3] = s3;
      out[p + 4] = s4;
      out[p + 5] = s5;
      out[p + 6] = s6;
      out[p + 7] = s7;
    }
  }
}
