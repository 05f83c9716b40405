package dev.gecko.core.vector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The public facade, whichever implementation this JVM chose. */
class VectorOpsTest {
  @Test
  void mismatchedDimensionsNameBothLengths() {
    assertThatThrownBy(() -> VectorOps.dot(new float[3], new float[4])).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("vector dimensions differ: 3!=4");
    assertThatThrownBy(() -> VectorOps.int8Dot(new byte[2], new byte[1])).hasMessage("vector dimensions differ: 2!=1");
    assertThatThrownBy(() -> VectorOps.hamming(new long[2], new long[1])).hasMessageContaining("2!=1");
    assertThatThrownBy(() -> VectorOps.dot(new float[4], 2, new float[4], 0, 3))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void hammingGroupsEqualsOneHammingPerCodeOfTheInterleavedLayout() {
    Random r = new Random(9);
    int words = 6;
    int groups = 3;
    long[] query = r.longs(words).toArray();
    long[] plain = r.longs(groups * 8L * words).toArray(); // code after code
    long[] codes = new long[2 + plain.length];
    for (int i = 0; i < groups * 8; i++) {
      for (int w = 0; w < words; w++) {
        codes[2 + (i / 8 * words + w) * 8 + i % 8] = plain[i * words + w];
      }
    }
    int[] out = new int[groups * 8];
    VectorOps.hammingGroups(query, codes, 2, groups, out);
    for (int i = 0; i < groups * 8; i++) {
      assertThat(out[i]).as("code %d", i).isEqualTo(VectorOps.hamming(query, 0, plain, i * words, words));
    }
    assertThatThrownBy(() -> VectorOps.hammingGroups(query, codes, 3, groups, out))
        .isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> VectorOps.hammingGroups(query, codes, 2, groups, new int[groups * 8 - 1]))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void int8DotGroupsEqualsOneInt8DotPerCodeOfTheChunkedLayout() {
    Random r = new Random(10);
    int dims = 70; // three chunks, the last one padded
    int padded = VectorOps.int8GroupedLength(dims);
    assertThat(padded).isEqualTo(96);
    int groups = 3;
    byte[] query = new byte[padded];
    byte[] plain = new byte[groups * 4 * dims]; // code after code
    r.nextBytes(plain);
    for (int k = 0; k < dims; k++) {
      query[k] = (byte) r.nextInt();
    }
    byte[] codes = new byte[2 + groups * 4 * padded];
    for (int i = 0; i < groups * 4; i++) {
      for (int k = 0; k < dims; k++) {
        codes[2 + ((i / 4 * 3 + k / 32) * 4 + i % 4) * 32 + k % 32] = plain[i * dims + k];
      }
    }
    int[] out = new int[groups * 4];
    VectorOps.int8DotGroups(query, codes, 2, groups, out);
    for (int i = 0; i < groups * 4; i++) {
      assertThat(out[i]).as("code %d", i).isEqualTo(VectorOps.int8Dot(query, 0, plain, i * dims, dims));
    }
    assertThatThrownBy(() -> VectorOps.int8DotGroups(query, codes, 3, groups, out))
        .isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> VectorOps.int8DotGroups(query, codes, 2, groups, new int[groups * 4 - 1]))
        .isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> VectorOps.int8DotGroups(new byte[dims], codes, 2, 1, out))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a multiple of 32");
    assertThatThrownBy(() -> VectorOps.int8GroupedLength(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> VectorOps.int8GroupedLength(Integer.MAX_VALUE)).isInstanceOf(IllegalArgumentException.class);
    assertThat(VectorOps.int8GroupedLength(Integer.MAX_VALUE - 31)).isEqualTo(Integer.MAX_VALUE - 31);
  }

  @Test
  void hammingManyEqualsOneHammingPerCode() {
    Random r = new Random(7);
    for (int words : new int[] {1, 3, 6, 16}) {
      for (int count : new int[] {0, 1, 2, 5, 64}) {
        long[] query = r.longs(words).toArray();
        int offset = 3;
        long[] codes = r.longs(offset + (long) words * count + 2).toArray();
        int[] out = new int[count + 1];
        out[count] = -1;
        VectorOps.hammingMany(query, codes, offset, count, out);
        for (int v = 0; v < count; v++) {
          assertThat(out[v]).as("words %d, code %d of %d", words, v, count)
              .isEqualTo(VectorOps.hamming(query, 0, codes, offset + v * words, words));
        }
        assertThat(out[count]).isEqualTo(-1); // nothing written past count
      }
    }
    assertThatThrownBy(() -> VectorOps.hammingMany(new long[2], new long[5], 0, 3, new int[3]))
        .isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> VectorOps.hammingMany(new long[2], new long[6], 0, 3, new int[2]))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void meanPoolIntoReadsThePrefixOfLargerBuffersLikeMeanPool() {
    Random r = new Random(11);
    int batch = 3;
    int tokens = 5;
    int hiddenSize = 37;
    float[] hidden = new float[batch * tokens * hiddenSize];
    long[] mask = new long[batch * tokens];
    for (int i = 0; i < hidden.length; i++) {
      hidden[i] = r.nextFloat() * 2 - 1;
    }
    int[] lengths = {5, 1, 3};
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < lengths[b]; t++) {
        mask[b * tokens + t] = 1;
      }
    }
    float[] bigHidden = java.util.Arrays.copyOf(hidden, hidden.length + 100);
    java.util.Arrays.fill(bigHidden, hidden.length, bigHidden.length, 9f);
    long[] bigMask = java.util.Arrays.copyOf(mask, mask.length + 7);
    java.util.Arrays.fill(bigMask, mask.length, bigMask.length, 1L);
    float[] out = new float[batch * hiddenSize + 5];
    java.util.Arrays.fill(out, -7f);
    VectorOps.meanPoolInto(bigHidden, bigMask, batch, tokens, hiddenSize, out);
    assertThat(java.util.Arrays.copyOf(out, batch * hiddenSize))
        .containsExactly(VectorOps.meanPool(hidden, mask, batch, tokens, hiddenSize));
    assertThat(java.util.Arrays.copyOfRange(out, batch * hiddenSize, out.length)).containsOnly(-7f);
    assertThatThrownBy(() -> VectorOps.meanPoolInto(hidden, mask, batch, tokens, hiddenSize, new float[10]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("too short");
  }

  @Test
  void zeroVectorsStayZeroAndHaveZeroCosine() {
    float[] zero = new float[5];
    assertThat(VectorOps.normalize(zero)).containsOnly(0f);
    assertThat(VectorOps.cosine(zero, new float[] {1, 2, 3, 4, 5})).isZero();
    byte[] q = new byte[5];
    assertThat(VectorOps.quantizeInt8(zero, q)).isZero();
    assertThat(q).containsOnly((byte) 0);
  }

  @Test
  void vectorsWhoseSquaresOverflowOrUnderflowAFloatStillNormalise() {
    // 3e19^2 + 4e19^2 overflows a float sum; 3e-23^2 underflows to 0: both are ordinary directions
    for (float scale : new float[] {1e19f, 1e-23f}) {
      float[] v = {3 * scale, 0, 4 * scale, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
      assertThat(VectorOps.norm(v)).as("norm at scale %s", scale).isCloseTo(5 * scale, within(5 * scale * 1e-6f));
      float[] w = v.clone();
      w[2] = -w[2];
      assertThat(VectorOps.cosine(v, v)).as("cosine at scale %s", scale).isCloseTo(1f, within(1e-6f));
      assertThat(VectorOps.cosine(v, w)).isCloseTo(-7f / 25, within(1e-6f));
      VectorOps.normalize(v);
      assertThat(v[0]).as("normalised at scale %s", scale).isCloseTo(0.6f, within(1e-6f));
      assertThat(v[2]).isCloseTo(0.8f, within(1e-6f));
      assertThat(VectorOps.truncateAndNormalize(new float[] {3 * scale, 4 * scale, 7 * scale}, 2))
          .containsExactly(new float[] {0.6f, 0.8f}, within(1e-6f));
    }
    assertThat(VectorOps.cosine(new float[] {1e20f}, new float[] {1e20f})).isEqualTo(1f);
    assertThat(VectorOps.cosine(new float[] {Float.NaN, 1}, new float[] {1, 1})).isNaN();
  }

  @Test
  void normaliseGivesUnitNormAndCosineIsScaleFree() {
    float[] a = {3, 4, 0, 0, 0, 0, 0, 0, 0, 12};
    assertThat(VectorOps.norm(a)).isEqualTo(13f);
    float[] b = a.clone();
    for (int i = 0; i < b.length; i++) {
      b[i] *= 7;
    }
    assertThat(VectorOps.cosine(a, b)).isCloseTo(1f, within(1e-6f));
    VectorOps.normalize(a);
    assertThat(VectorOps.norm(a)).isCloseTo(1f, within(1e-6f));
    assertThat(a[0]).isCloseTo(3f / 13, within(1e-7f));
  }

  @Test
  void truncateThenNormaliseFromARowOfAFlatBatch() {
    float[] flat = {9, 9, 3, 4, 5, 9};
    assertThat(VectorOps.truncateAndNormalize(flat, 2, 3, 2)).containsExactly(0.6f, 0.8f);
    assertThat(VectorOps.truncateAndNormalize(new float[] {3, 4, 5}, 2)).containsExactly(0.6f, 0.8f);
    assertThatThrownBy(() -> VectorOps.truncateAndNormalize(flat, 2, 3, 4)).hasMessage("dims must be in [1, 3], was 4");
  }

  @Test
  void int8QuantisationApproximatesTheDotProduct() {
    Random r = new Random(7);
    for (int dims : new int[] {1, 31, 384, 1024}) {
      float[] a = KernelsTest.randomFloats(r, dims);
      float[] b = KernelsTest.randomFloats(r, dims);
      byte[] qa = new byte[dims];
      byte[] qb = new byte[dims];
      float sa = VectorOps.quantizeInt8(a, qa);
      float sb = VectorOps.quantizeInt8(b, qb);
      float[] back = VectorOps.dequantizeInt8(qa, sa);
      for (int i = 0; i < dims; i++) {
        assertThat(back[i]).isCloseTo(a[i], within(sa / 2 + 1e-7f));
      }
      // each component errs by at most half a step, so the dot product by about sum of |x| * step
      float approx = VectorOps.int8Dot(qa, qb) * sa * sb;
      assertThat(approx).isCloseTo(VectorOps.dot(a, b), within(dims * (sa + sb)));
    }
    byte[] q = new byte[3];
    assertThat(VectorOps.quantizeInt8(new float[] {-2f, 1f, 0.5f}, q)).isEqualTo(2f / 127);
    // tiny vectors keep their shape: 127 / max overflows a float below ~3.7e-37
    byte[] tiny = new byte[3];
    VectorOps.quantizeInt8(new float[] {1e-38f, -5e-39f, 1e-40f}, tiny);
    assertThat(tiny[0]).isEqualTo((byte) 127);
    assertThat((int) tiny[1]).isBetween(-64, -63); // -63.5 in exact arithmetic; subnormals round
    assertThat(tiny[2]).isEqualTo((byte) 1);
    assertThat(q).containsExactly(-127, 64, 32);
    assertThatThrownBy(() -> VectorOps.quantizeInt8(new float[] {1f, Float.NaN}, new byte[2]))
        .hasMessageContaining("component 1 is NaN");
  }

  @Test
  void binaryQuantisationPacksSignBitsLittleEndian() {
    float[] v = new float[70];
    v[0] = 1f;
    v[1] = -1f;
    v[63] = 0.5f;
    v[64] = 2f;
    v[69] = 0f; // zero is not positive
    long[] bits = VectorOps.quantizeBinary(v);
    assertThat(bits).containsExactly(1L | (1L << 63), 1L);
    assertThat(VectorOps.binaryWords(384)).isEqualTo(6);
    assertThat(VectorOps.binaryWords(385)).isEqualTo(7);
    float[] w = v.clone();
    w[0] = -1f;
    w[1] = 1f;
    assertThat(VectorOps.hamming(bits, VectorOps.quantizeBinary(w))).isEqualTo(2);
  }

  @Test
  void poolingChecksTheShapeAndClsTakesTheFirstToken() {
    assertThatThrownBy(() -> VectorOps.meanPool(new float[10], new long[4], 2, 2, 3))
        .hasMessageContaining("hidden has 10 floats, shape [2, 2, 3] needs 12");
    assertThatThrownBy(() -> VectorOps.meanPool(new float[12], new long[3], 2, 2, 3))
        .hasMessageContaining("mask has 3 entries");
    float[] hidden = {1, 2, 3, 4, 5, 6, 7, 8};
    assertThat(VectorOps.clsPool(hidden, 2, 2, 2)).containsExactly(1, 2, 5, 6);
    assertThat(VectorOps.meanPool(hidden, new long[] {1, 1, 0, 0}, 2, 2, 2)).containsExactly(2, 3, 0, 0);
  }
}
