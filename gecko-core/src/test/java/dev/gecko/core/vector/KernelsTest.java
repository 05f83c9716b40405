package dev.gecko.core.vector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kernel, scalar and Panama, against a naive double-precision (or exact integer) oracle on
 * random inputs at awkward sizes, at non-zero offsets. The Panama cases run wherever the
 * incubator module is present (the default surefire execution) and are skipped, visibly, where
 * it is not.
 */
class KernelsTest {
  static final int[] SIZES = {1, 3, 7, 8, 31, 64, 207, 384, 702, 768, 1024, 4098};

  static Stream<Arguments> cases() {
    return bothImplementations(SIZES);
  }

  /** Each size for the scalar twin, then for Panama. */
  static Stream<Arguments> bothImplementations(int... sizes) {
    List<Arguments> out = new ArrayList<>();
    for (String impl : new String[] {"scalar", "panama"}) {
      for (int size : sizes) {
        out.add(Arguments.of(impl, size));
      }
    }
    return out.stream();
  }

  /** The number of bits in which {@code a[aOffset, +words)} and {@code b[bOffset, +words)} differ, bit by bit. */
  static int differingBits(long[] a, int aOffset, long[] b, int bOffset, int words) {
    int n = 0;
    for (int i = 0; i < words; i++) {
      for (int bit = 0; bit < 64; bit++) {
        if (((a[aOffset + i] >>> bit) & 1) != ((b[bOffset + i] >>> bit) & 1)) {
          n++;
        }
      }
    }
    return n;
  }

  /**
   * Runs {@code kernel} into a fresh array enough times for C2 to compile it, and checks that every
   * call gives {@code out}: the same in every JIT tier.
   */
  static void sameInEveryTier(int[] out, java.util.function.Consumer<int[]> kernel) {
    int[] again = new int[out.length];
    for (int call = 0; call < 3_000; call++) {
      kernel.accept(again);
      if (!java.util.Arrays.equals(again, out)) {
        assertThat(again).as("call %d", call).containsExactly(out);
      }
    }
  }

  /** Whether {@code panama} runs with 256-bit vectors or wider on x86-64, where the group kernels use them. */
  static boolean wideOnX86(VectorSupport panama) {
    String arch = System.getProperty("os.arch");
    return panama.vectorBitSize() >= 256 && (arch.equals("amd64") || arch.equals("x86_64"));
  }

  static VectorSupport impl(String name) throws ReflectiveOperationException {
    if (name.equals("scalar")) {
      return ScalarVectorSupport.INSTANCE;
    }
    assumeThat(VectorizationProvider.incubatorModule()).as("jdk.incubator.vector in this JVM").isPresent();
    return VectorizationProvider.loadPanama();
  }

  static float[] randomFloats(Random r, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextFloat() * 2f - 1f;
    }
    return v;
  }

  @ParameterizedTest(name = "{0} size {1}")
  @MethodSource("cases")
  void dotAndSquaredNormMatchTheOracle(String name, int size) throws Exception {
    VectorSupport impl = impl(name);
    Random r = new Random(size * 31L + 1);
    int offA = 3;
    int offB = 5;
    float[] a = randomFloats(r, size + offA + 2);
    float[] b = randomFloats(r, size + offB);
    double dot = 0;
    double sq = 0;
    for (int i = 0; i < size; i++) {
      dot += (double) a[offA + i] * b[offB + i];
      sq += (double) a[offA + i] * a[offA + i];
    }
    float delta = 1e-5f * size;
    assertThat(impl.dot(a, offA, b, offB, size)).isCloseTo((float) dot, within(delta));
    assertThat(impl.squaredNorm(a, offA, size)).isCloseTo((float) sq, within(delta));
    // and at offset 0 against the other implementation through the facade's arrays (the scalar
    // kernel has no other: the oracle above is its check)
    if (impl == ScalarVectorSupport.INSTANCE) {
      return;
    }
    float[] a0 = java.util.Arrays.copyOfRange(a, offA, offA + size);
    float[] b0 = java.util.Arrays.copyOfRange(b, offB, offB + size);
    assertThat(impl.dot(a0, 0, b0, 0, size)).isCloseTo(ScalarVectorSupport.INSTANCE.dot(a0, 0, b0, 0, size),
        within(delta));
  }

  /**
   * The Panama dot product and squared norm sum in one order, whatever the JIT tier: four lanewise
   * FMA accumulators, combined as {@code (acc1 + acc2) + (acc3 + acc4)}, their lanes summed (in
   * lane order up to JDK 23; from JDK 24 on pairwise, lane {@code i} plus lane {@code i ^ lanes/2},
   * then {@code i ^ lanes/4}, ...), then the scalar tail. Checked bit for bit against that order
   * written out in plain Java on every one of many calls, so that the interpreted, C1 and C2
   * versions of the kernel all meet it ({@code reduceLanes(ADD)} alone sums pairwise once C2
   * compiles it from JDK 24 on, and in lane order before).
   */
  @ParameterizedTest(name = "size {0}")
  @org.junit.jupiter.params.provider.ValueSource(ints = {5, 16, 64, 207, 384, 1024})
  void panamaSumsInOneOrderInEveryTier(int size) throws Exception {
    VectorSupport impl = impl("panama");
    int lanes = impl.vectorBitSize() / Float.SIZE;
    Random r = new Random(size * 7L + 3);
    float[] a = randomFloats(r, size + 3);
    float[] b = randomFloats(r, size + 5);
    int dotWant = Float.floatToRawIntBits(pairwiseDot(a, 3, b, 5, size, lanes));
    int normWant = Float.floatToRawIntBits(pairwiseDot(a, 3, a, 3, size, lanes));
    for (int call = 0; call < 30_000; call++) {
      int dot = Float.floatToRawIntBits(impl.dot(a, 3, b, 5, size));
      int norm = Float.floatToRawIntBits(impl.squaredNorm(a, 3, size));
      if (dot != dotWant || norm != normWant) {
        assertThat(Float.intBitsToFloat(dot)).as("dot, call %d", call).isEqualTo(Float.intBitsToFloat(dotWant));
        assertThat(Float.intBitsToFloat(norm)).as("squared norm, call %d", call)
            .isEqualTo(Float.intBitsToFloat(normWant));
      }
    }
  }

  /** The Panama kernels' summation order in plain Java (see {@link #panamaSumsInOneOrderInEveryTier}). */
  private static float pairwiseDot(float[] a, int aOff, float[] b, int bOff, int n, int lanes) {
    float[][] acc = new float[4][lanes];
    int i = 0;
    float sum = 0f;
    if (n >= lanes) {
      for (int unrolled = n - n % (4 * lanes); i < unrolled; i += 4 * lanes) {
        for (int k = 0; k < 4; k++) {
          for (int l = 0; l < lanes; l++) {
            int at = i + k * lanes + l;
            acc[k][l] = Math.fma(a[aOff + at], b[bOff + at], acc[k][l]);
          }
        }
      }
      for (int bound = n - n % lanes; i < bound; i += lanes) {
        for (int l = 0; l < lanes; l++) {
          acc[0][l] = Math.fma(a[aOff + i + l], b[bOff + i + l], acc[0][l]);
        }
      }
      float[] v = new float[lanes];
      for (int l = 0; l < lanes; l++) {
        v[l] = (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l]);
      }
      if (Runtime.version().feature() >= 24) {
        for (int step = lanes / 2; step >= 1; step /= 2) {
          float[] w = new float[lanes];
          for (int l = 0; l < lanes; l++) {
            w[l] = v[l] + v[l ^ step];
          }
          v = w;
        }
        sum = v[0];
      } else {
        for (int l = 0; l < lanes; l++) {
          sum += v[l];
        }
      }
    }
    for (; i < n; i++) {
      sum = Math.fma(a[aOff + i], b[bOff + i], sum);
    }
    return sum;
  }

  @ParameterizedTest(name = "{0} size {1}")
  @MethodSource("cases")
  void dotsOfVectorsAtTheFlatIndexNormLimitAreFiniteAndAgree(String name, int size) throws Exception {
    VectorSupport impl = impl(name);
    Random r = new Random(size * 13L + 5);
    float[] a = randomFloats(r, size);
    float[] b = randomFloats(r, size);
    // scaled to the largest norm a dot-product FlatIndex accepts, b also as -a and a itself
    double limit = Math.sqrt(dev.gecko.core.index.FlatIndex.MAX_DOT_SQUARED_NORM);
    for (float[] v : new float[][] {a, b}) {
      double norm = Math.sqrt(ScalarVectorSupport.INSTANCE.squaredNorm(v, 0, size));
      for (int i = 0; i < size; i++) {
        v[i] = (float) (v[i] / norm * limit * 0.999);
      }
    }
    float[] minusA = new float[size];
    for (int i = 0; i < size; i++) {
      minusA[i] = -a[i];
    }
    for (float[] other : new float[][] {a, b, minusA}) {
      double dot = 0;
      for (int i = 0; i < size; i++) {
        dot += (double) a[i] * other[i];
      }
      float got = impl.dot(a, 0, other, 0, size);
      assertThat(got).isFinite().isCloseTo((float) dot, within((float) (1e-5 * size * limit * limit)));
    }
  }

  @ParameterizedTest(name = "{0} size {1}")
  @MethodSource("cases")
  void scaleMatchesTheOracle(String name, int size) throws Exception {
    VectorSupport impl = impl(name);
    Random r = new Random(size * 17L + 2);
    float[] a = randomFloats(r, size + 4);
    float[] copy = a.clone();
    impl.scale(a, 2, size, 0.37f);
    for (int i = 0; i < a.length; i++) {
      float expected = i >= 2 && i < 2 + size ? copy[i] * 0.37f : copy[i];
      assertThat(a[i]).as("component %d", i).isEqualTo(expected);
    }
  }

  @ParameterizedTest(name = "{0} size {1}")
  @MethodSource("cases")
  void int8DotIsExact(String name, int size) throws Exception {
    VectorSupport impl = impl(name);
    Random r = new Random(size * 13L + 3);
    byte[] a = new byte[size + 1];
    byte[] b = new byte[size + 7];
    for (int i = 0; i < a.length; i++) {
      a[i] = (byte) (r.nextInt(255) - 127);
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (r.nextInt(255) - 127);
    }
    long expected = 0;
    for (int i = 0; i < size; i++) {
      expected += a[1 + i] * b[7 + i];
    }
    assertThat(impl.int8Dot(a, 1, b, 7, size)).isEqualTo((int) expected);
    // extremes: -127 * -127 all along, the largest products a short holds
    byte[] m = new byte[size];
    java.util.Arrays.fill(m, (byte) -127);
    assertThat(impl.int8Dot(m, 0, m, 0, size)).isEqualTo(127 * 127 * size);
  }

  @ParameterizedTest(name = "{0} size {1}")
  @MethodSource("cases")
  void hammingIsExact(String name, int size) throws Exception {
    VectorSupport impl = impl(name);
    Random r = new Random(size * 7L + 4);
    long[] a = r.longs(size + 2).toArray();
    long[] b = r.longs(size).toArray();
    assertThat(impl.hamming(a, 2, b, 0, size)).isEqualTo(differingBits(a, 2, b, 0, size));
  }

  static Stream<Arguments> groupCases() {
    return bothImplementations(1, 2, 3, 6, 12, 16, 31, 32, 70); // 31: where byte sums are folded
  }

  /**
   * The group kernel gives each code of the interleaved layout its exact distance (bit by bit), at
   * an offset, for group counts around a vector's lanes; random codes and the extremes (equal,
   * complementary).
   */
  @ParameterizedTest(name = "{0} words {1}")
  @MethodSource("groupCases")
  void hammingGroupsAreExact(String name, int words) throws Exception {
    VectorSupport impl = impl(name);
    Random r = new Random(words * 13L + 5);
    int group = VectorOps.HAMMING_GROUP;
    for (int groups : new int[] {1, 2, 5, 129}) {
      long[] query = r.longs(words).toArray();
      int offset = 3 * group * words;
      long[][] plain = new long[groups * group][];
      long[] codes = new long[offset + groups * group * words + 1];
      for (int i = 0; i < plain.length; i++) {
        plain[i] = switch (i % 5) {
          case 0 -> query.clone(); // distance 0
          case 1 -> java.util.Arrays.stream(query).map(x -> ~x).toArray(); // every bit
          default -> r.longs(words).toArray();
        };
        for (int w = 0; w < words; w++) {
          codes[offset + (i / group * words + w) * group + i % group] = plain[i][w];
        }
      }
      int[] out = new int[groups * group + 2];
      impl.hammingGroups(query, codes, offset, groups, out);
      for (int i = 0; i < plain.length; i++) {
        assertThat(out[i]).as("code %d of %d groups", i, groups).isEqualTo(differingBits(query, 0, plain[i], 0, words));
      }
      assertThat(out[groups * group]).as("past the groups").isZero();
      sameInEveryTier(out, again -> impl.hammingGroups(query, codes, offset, groups, again));
    }
  }

  /**
   * Where the group kernel is meant to count lanewise (x86-64 with 256-bit vectors or wider: with
   * the JDK's vector bit count on JDK 25, with bit arithmetic before), it does: else these tests
   * would test only the scalar loop twice.
   */
  @org.junit.jupiter.api.Test
  void panamaCountsBitsLanewiseWhereItShould() throws Exception {
    VectorSupport panama = impl("panama");
    boolean expected = wideOnX86(panama);
    assertThat(panama.vectorBitCount()).isEqualTo(expected);
    assertThat(ScalarVectorSupport.INSTANCE.vectorBitCount()).isFalse();
    // the group layout where it scans faster: every width with the JDK's bit count, 384 dims up without
    boolean jdkBitCount = expected && Runtime.version().feature() >= 25;
    assertThat(panama.prefersHammingGroups(2)).isEqualTo(jdkBitCount);
    assertThat(panama.prefersHammingGroups(4)).isEqualTo(jdkBitCount);
    assertThat(panama.prefersHammingGroups(6)).isEqualTo(expected);
    assertThat(panama.prefersHammingGroups(16)).isEqualTo(expected);
    assertThat(ScalarVectorSupport.INSTANCE.prefersHammingGroups(16)).isFalse();
  }

  static Stream<Arguments> int8GroupCases() {
    return bothImplementations(1, 2, 3, 12, 24, 32); // chunks of 32 bytes: 32 to 1024 dimensions
  }

  /**
   * The int8 group kernel gives each code of the chunked layout its exact dot product with the
   * query, at an offset, for group counts around a vector's lanes; random bytes over the whole
   * range (-128 included), and the extremes: -128 against -128 all along (the largest products,
   * 16384 each, summed in pairs) and against 127.
   */
  @ParameterizedTest(name = "{0} chunks {1}")
  @MethodSource("int8GroupCases")
  void int8DotGroupsAreExact(String name, int chunks) throws Exception {
    VectorSupport impl = impl(name);
    Random r = new Random(chunks * 19L + 6);
    int group = VectorOps.INT8_GROUP;
    int chunk = VectorOps.INT8_CHUNK;
    int length = chunks * chunk;
    for (int groups : new int[] {1, 2, 5, 129}) {
      byte[] query = new byte[length];
      r.nextBytes(query);
      if (groups == 2) {
        java.util.Arrays.fill(query, (byte) -128);
      }
      int offset = 3 * group * length;
      byte[][] plain = new byte[groups * group][length];
      byte[] codes = new byte[offset + groups * group * length + 1];
      for (int i = 0; i < plain.length; i++) {
        switch (i % 4) {
          case 0 -> java.util.Arrays.fill(plain[i], (byte) -128);
          case 1 -> java.util.Arrays.fill(plain[i], (byte) 127);
          default -> r.nextBytes(plain[i]);
        }
        for (int k = 0; k < length; k++) {
          codes[offset + ((i / group * chunks + k / chunk) * group + i % group) * chunk + k % chunk] = plain[i][k];
        }
      }
      int[] out = new int[groups * group + 2];
      impl.int8DotGroups(query, codes, offset, groups, out);
      for (int i = 0; i < plain.length; i++) {
        long expected = 0;
        for (int k = 0; k < length; k++) {
          expected += query[k] * plain[i][k];
        }
        assertThat(out[i]).as("code %d of %d groups", i, groups).isEqualTo((int) expected);
      }
      assertThat(out[groups * group]).as("past the groups").isZero();
      sameInEveryTier(out, again -> impl.int8DotGroups(query, codes, offset, groups, again));
    }
  }

  /** Where the int8 group kernel is meant to run on vectors (x86-64, 256-bit vectors or wider), it does. */
  @org.junit.jupiter.api.Test
  void panamaUsesInt8GroupsWhereItShould() throws Exception {
    VectorSupport panama = impl("panama");
    assertThat(panama.prefersInt8Groups()).isEqualTo(wideOnX86(panama));
    assertThat(ScalarVectorSupport.INSTANCE.prefersInt8Groups()).isFalse();
  }

  static Stream<Arguments> poolCases() {
    return bothImplementations(1, 7, 31, 64, 207, 384, 768);
  }

  @ParameterizedTest(name = "{0} hidden {1}")
  @MethodSource("poolCases")
  void meanPoolMatchesTheOracleWithPadding(String name, int hiddenSize) throws Exception {
    VectorSupport impl = impl(name);
    Random r = new Random(hiddenSize * 11L + 5);
    int batch = 5;
    int tokens = 9;
    float[] hidden = randomFloats(r, batch * tokens * hiddenSize);
    long[] mask = new long[batch * tokens];
    // row 0: all tokens; row 1: only the first; row 2: fully padded; row 3: only the last;
    // row 4: random
    for (int t = 0; t < tokens; t++) {
      mask[t] = 1;
      mask[4 * tokens + t] = r.nextBoolean() ? 1 : 0;
    }
    mask[tokens] = 1;
    mask[3 * tokens + tokens - 1] = 1;
    int stride = hiddenSize + 3;
    float[] out = new float[batch * stride];
    java.util.Arrays.fill(out, 42f); // fully padded rows must be overwritten with zeros
    impl.meanPool(hidden, mask, batch, tokens, hiddenSize, out, stride);
    for (int b = 0; b < batch; b++) {
      int count = 0;
      for (int t = 0; t < tokens; t++) {
        count += mask[b * tokens + t] != 0 ? 1 : 0;
      }
      for (int i = 0; i < hiddenSize; i++) {
        double sum = 0;
        for (int t = 0; t < tokens; t++) {
          if (mask[b * tokens + t] != 0) {
            sum += hidden[(b * tokens + t) * hiddenSize + i];
          }
        }
        double expected = count == 0 ? 0 : sum / count;
        assertThat(out[b * stride + i]).as("row %d component %d", b, i)
            .isCloseTo((float) expected, within(1e-5f * tokens));
      }
      for (int i = hiddenSize; i < stride; i++) {
        assertThat(out[b * stride + i]).as("stride padding untouched").isEqualTo(42f);
      }
    }
    // the row with one unmasked token is that token exactly (one add, times 1/1)
    for (int i = 0; i < hiddenSize; i++) {
      assertThat(out[stride + i]).isEqualTo(hidden[tokens * hiddenSize + i]);
      assertThat(out[2 * stride + i]).isZero();
    }
  }
}
