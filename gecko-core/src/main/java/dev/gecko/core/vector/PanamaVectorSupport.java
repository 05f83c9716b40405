package dev.gecko.core.vector;

import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.Vector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD kernels on {@code jdk.incubator.vector}. Loaded by name from {@link VectorizationProvider}
 * only after every guard passed, so nothing else links against the incubator module.
 */
final class PanamaVectorSupport implements VectorSupport {
  private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
  private static final int F = FLOATS.length();
  /** Whether {@link #sumLanes} sums pairwise: from JDK 24 on (see there). */
  private static final boolean PAIRWISE_SUM = Runtime.version().feature() >= 24;
  /**
   * Lane {@code i} to {@code i ^ k}, for the pairwise sum of {@link #sumLanes} (4 to 16 lanes:
   * 128 to 512 bits); null where the vector has too few lanes for that step.
   */
  private static final VectorShuffle<Float> SWAP_8 = F >= 16 ? VectorShuffle.fromOp(FLOATS, i -> i ^ 8) : null;
  private static final VectorShuffle<Float> SWAP_4 = F >= 8 ? VectorShuffle.fromOp(FLOATS, i -> i ^ 4) : null;
  private static final VectorShuffle<Float> SWAP_2 = VectorShuffle.fromOp(FLOATS, i -> i ^ 2);
  private static final VectorShuffle<Float> SWAP_1 = VectorShuffle.fromOp(FLOATS, i -> i ^ 1);
  /** Ints for the int8 dot product: as wide as the preferred shape. */
  private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
  /** Bytes and shorts with as many lanes as {@link #INTS}; null where that shape does not exist. */
  private static final VectorSpecies<Byte> BYTES;
  private static final VectorSpecies<Short> SHORTS;

  /**
   * Bytes at half the preferred width, widened to shorts at full width, for the group int8 kernel
   * ({@link #int8DotGroups}); null where the preferred shape is narrower than 256 bits.
   */
  private static final VectorSpecies<Byte> HALF_BYTES;
  private static final VectorSpecies<Short> FULL_SHORTS;
  /**
   * Whether the group int8 kernel runs on vectors: on x86-64 with 256-bit or wider vectors, where
   * it was measured faster than {@link #int8Dot} code after code, on JDK 17 and 25 (docs/benchmarks.md,
   * "Int8 scan"). 128-bit vectors were not measured.
   */
  private static final boolean INT8_GROUPS = VectorShape.preferredShape().vectorBitSize() >= 256 && x86();

  /**
   * Longs for the group Hamming kernel, as wide as the preferred shape (4 or 8 lanes where {@link
   * #LANEWISE_HAMMING}), and ints with as many lanes, for its output.
   */
  private static final VectorSpecies<Long> LONGS = LongVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> LONG_INTS;
  /**
   * {@code VectorOperators.BIT_COUNT}, where the group Hamming kernel counts lanewise; null where
   * it keeps the scalar loop (see {@link #bitCountOperator}).
   */
  private static final VectorOperators.Unary BIT_COUNT = bitCountOperator();
  /**
   * Whether the group Hamming kernel counts lanewise: with {@link #BIT_COUNT}, else with bit
   * arithmetic ({@link #swarHammingGroups}), on x86-64 with 256-bit or wider vectors, where both were
   * measured faster than the scalar scan, with 256- and 512-bit vectors, on JDK 25 and JDK 17 (the
   * bit arithmetic from 384 dimensions up; docs/benchmarks.md, "Binary scan"). JDK 18-24 were not
   * measured.
   */
  private static final boolean LANEWISE_HAMMING = VectorShape.preferredShape().vectorBitSize() >= 256 && x86();
  private static final long ODD_BITS = 0x5555555555555555L;
  private static final long PAIRS = 0x3333333333333333L;
  private static final long NIBBLES = 0x0F0F0F0F0F0F0F0FL;
  private static final long BYTE_PAIRS = 0x00FF00FF00FF00FFL;
  /** Words whose per-byte bit counts (at most 8 each) a byte holds without overflow: 31 * 8 = 248. */
  private static final int WORDS_PER_BYTE_SUM = 31;
  /**
   * The fewest words (384 dimensions) for which the bit-arithmetic group kernel was measured faster
   * than the scalar scan of codes one after another; at 128 and 256 dimensions it was slower.
   */
  private static final int SWAR_MIN_WORDS = 6;

  static {
    int bits = VectorShape.preferredShape().vectorBitSize();
    LONG_INTS = bits >= 128 ? VectorSpecies.of(int.class, VectorShape.forBitSize(bits / 2)) : null;
    // a byte vector needs at least 64 bits, so 8-bit products widen cleanly only from 256 bits up
    BYTES = bits >= 256 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(bits / 4)) : null;
    SHORTS = bits >= 256 ? VectorSpecies.of(short.class, VectorShape.forBitSize(bits / 2)) : null;
    HALF_BYTES = bits >= 256 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(bits / 2)) : null;
    FULL_SHORTS = bits >= 256 ? ShortVector.SPECIES_PREFERRED : null;
  }

  PanamaVectorSupport() {
    int bits = VectorShape.preferredShape().vectorBitSize();
    if (bits < 128) {
      throw new UnsupportedOperationException("preferred vector size is " + bits + " bits; SIMD needs at least 128 "
          + "(this CPU has no usable SIMD)");
    }
    if (bits > 512) { // SVE up to 2048 bits: sumLanes folds at most 16 lanes, and nothing wider was tested
      throw new UnsupportedOperationException("preferred vector size is " + bits + " bits; the SIMD kernels are "
          + "written and tested for 128 to 512 bits");
    }
  }

  /**
   * {@code VectorOperators.BIT_COUNT}, looked up by name (JDK 17's incubator API, which this class
   * compiles against, has none), where it was measured to compile to vector instructions: JDK 25
   * (the newest release this provider loads on) on x86-64 with 256-bit or wider vectors, where C2
   * emitted {@code VPOPCNTQ} (a CPU with AVX-512 VPOPCNTDQ) or, limited to AVX2, a sequence that was
   * still 1.5-1.9x faster than scalar bit counts (docs/benchmarks.md). Else null: the group kernel
   * counts with bit arithmetic where {@link #LANEWISE_HAMMING}, else with the scalar loop. With
   * 128-bit vectors (SSE only) the lanewise count ran far slower than scalar bit counts in a trial
   * here; JDK 19-24, AArch64 and AVX-512 CPUs without VPOPCNTDQ were not measured.
   */
  static VectorOperators.Unary bitCountOperator() {
    if (Runtime.version().feature() < 25 || VectorShape.preferredShape().vectorBitSize() < 256 || !x86()) {
      return null;
    }
    try {
      return (VectorOperators.Unary) VectorOperators.class.getField("BIT_COUNT").get(null);
    } catch (ReflectiveOperationException | ClassCastException e) {
      return null;
    }
  }

  private static boolean x86() {
    String arch = System.getProperty("os.arch", "");
    return arch.equals("amd64") || arch.equals("x86_64");
  }

  @Override
  public boolean vectorBitCount() {
    return LANEWISE_HAMMING;
  }

  @Override
  public boolean prefersHammingGroups(int words) {
    return LANEWISE_HAMMING && (BIT_COUNT != null || words >= SWAR_MIN_WORDS);
  }

  @Override
  public int vectorBitSize() {
    return VectorShape.preferredShape().vectorBitSize();
  }

  @Override
  public String name() {
    return "panama";
  }

  @Override
  public float dot(float[] a, int aOffset, float[] b, int bOffset, int length) {
    int i = 0;
    float sum = 0f;
    if (length >= F) {
      FloatVector acc1 = FloatVector.zero(FLOATS);
      FloatVector acc2 = FloatVector.zero(FLOATS);
      FloatVector acc3 = FloatVector.zero(FLOATS);
      FloatVector acc4 = FloatVector.zero(FLOATS);
      // four independent accumulators hide the FMA latency
      int unrolled = length - length % (4 * F);
      for (; i < unrolled; i += 4 * F) {
        acc1 = FloatVector.fromArray(FLOATS, a, aOffset + i).fma(FloatVector.fromArray(FLOATS, b, bOffset + i), acc1);
        acc2 = FloatVector.fromArray(FLOATS, a, aOffset + i + F)
            .fma(FloatVector.fromArray(FLOATS, b, bOffset + i + F), acc2);
        acc3 = FloatVector.fromArray(FLOATS, a, aOffset + i + 2 * F)
            .fma(FloatVector.fromArray(FLOATS, b, bOffset + i + 2 * F), acc3);
        acc4 = FloatVector.fromArray(FLOATS, a, aOffset + i + 3 * F)
            .fma(FloatVector.fromArray(FLOATS, b, bOffset + i + 3 * F), acc4);
      }
      // vector tail: whole vectors left over after the unrolled loop
      int bound = FLOATS.loopBound(length);
      for (; i < bound; i += F) {
        acc1 = FloatVector.fromArray(FLOATS, a, aOffset + i).fma(FloatVector.fromArray(FLOATS, b, bOffset + i), acc1);
      }
      sum = sumLanes(acc1.add(acc2).add(acc3.add(acc4)));
    }
    // scalar tail
    for (; i < length; i++) {
      sum = Math.fma(a[aOffset + i], b[bOffset + i], sum);
    }
    return sum;
  }

  /**
   * The sum of {@code v}'s lanes, in the same order in every JIT tier. {@code reduceLanes(ADD)}
   * leaves the order of a float sum open: on JDK 17 to 23 every tier sums the lanes in lane order,
   * but from JDK 24 on C2 compiles it to a pairwise sum while the interpreter and C1 still sum in
   * lane order, so the same dot product changed in its last bit once its method was compiled (a
   * search score, a norm). There, this sums pairwise in every tier: lane {@code i} plus lane {@code
   * i ^ F/2}, then {@code i ^ F/4}, down to {@code i ^ 1} (lanewise adds and rearranges are exact
   * in every tier); on JDK 25 with 512-bit vectors that is the order C2 itself uses, so compiled
   * results are the bits they were.
   */
  private static float sumLanes(FloatVector v) {
    if (!PAIRWISE_SUM) {
      return v.reduceLanes(VectorOperators.ADD);
    }
    if (F >= 16) {
      v = v.add(v.rearrange(SWAP_8));
    }
    if (F >= 8) {
      v = v.add(v.rearrange(SWAP_4));
    }
    v = v.add(v.rearrange(SWAP_2));
    v = v.add(v.rearrange(SWAP_1));
    return v.lane(0);
  }

  @Override
  public float squaredNorm(float[] a, int offset, int length) {
    int i = 0;
    float sum = 0f;
    if (length >= F) {
      FloatVector acc1 = FloatVector.zero(FLOATS);
      FloatVector acc2 = FloatVector.zero(FLOATS);
      FloatVector acc3 = FloatVector.zero(FLOATS);
      FloatVector acc4 = FloatVector.zero(FLOATS);
      int unrolled = length - length % (4 * F);
      for (; i < unrolled; i += 4 * F) {
        FloatVector v1 = FloatVector.fromArray(FLOATS, a, offset + i);
        FloatVector v2 = FloatVector.fromArray(FLOATS, a, offset + i + F);
        FloatVector v3 = FloatVector.fromArray(FLOATS, a, offset + i + 2 * F);
        FloatVector v4 = FloatVector.fromArray(FLOATS, a, offset + i + 3 * F);
        acc1 = v1.fma(v1, acc1);
        acc2 = v2.fma(v2, acc2);
        acc3 = v3.fma(v3, acc3);
        acc4 = v4.fma(v4, acc4);
      }
      int bound = FLOATS.loopBound(length);
      for (; i < bound; i += F) {
        FloatVector v = FloatVector.fromArray(FLOATS, a, offset + i);
        acc1 = v.fma(v, acc1);
      }
      sum = sumLanes(acc1.add(acc2).add(acc3.add(acc4)));
    }
    for (; i < length; i++) {
      float v = a[offset + i];
      sum = Math.fma(v, v, sum);
    }
    return sum;
  }

  @Override
  public void scale(float[] a, int offset, int length, float factor) {
    int i = 0;
    int bound = FLOATS.loopBound(length);
    for (; i < bound; i += F) {
      FloatVector.fromArray(FLOATS, a, offset + i).mul(factor).intoArray(a, offset + i);
    }
    for (; i < length; i++) {
      a[offset + i] *= factor;
    }
  }

  @Override
  public void meanPool(float[] hidden, long[] mask, int batch, int tokens, int hiddenSize, float[] out, int outStride) {
    int[] rows = new int[tokens];
    for (int b = 0; b < batch; b++) {
      int o = b * outStride;
      int count = 0;
      for (int t = 0; t < tokens; t++) {
        if (mask[b * tokens + t] != 0) {
          rows[count++] = (b * tokens + t) * hiddenSize;
        }
      }
      if (count == 0) {
        Arrays.fill(out, o, o + hiddenSize, 0f);
        continue;
      }
      float inv = 1f / count;
      int i = 0;
      // column blocks of eight vectors stay in registers across all tokens: one pass over the
      // hidden states, one store per output element (eight, not four: each token then reads
      // 8 * F contiguous floats, which the prefetcher follows better)
      int unrolled = hiddenSize - hiddenSize % (8 * F);
      for (; i < unrolled; i += 8 * F) {
        FloatVector s1 = FloatVector.zero(FLOATS);
        FloatVector s2 = s1;
        FloatVector s3 = s1;
        FloatVector s4 = s1;
        FloatVector s5 = s1;
        FloatVector s6 = s1;
        FloatVector s7 = s1;
        FloatVector s8 = s1;
        for (int r = 0; r < count; r++) {
          int h = rows[r] + i;
          s1 = s1.add(FloatVector.fromArray(FLOATS, hidden, h));
          s2 = s2.add(FloatVector.fromArray(FLOATS, hidden, h + F));
          s3 = s3.add(FloatVector.fromArray(FLOATS, hidden, h + 2 * F));
          s4 = s4.add(FloatVector.fromArray(FLOATS, hidden, h + 3 * F));
          s5 = s5.add(FloatVector.fromArray(FLOATS, hidden, h + 4 * F));
          s6 = s6.add(FloatVector.fromArray(FLOATS, hidden, h + 5 * F));
          s7 = s7.add(FloatVector.fromArray(FLOATS, hidden, h + 6 * F));
          s8 = s8.add(FloatVector.fromArray(FLOATS, hidden, h + 7 * F));
        }
        s1.mul(inv).intoArray(out, o + i);
        s2.mul(inv).intoArray(out, o + i + F);
        s3.mul(inv).intoArray(out, o + i + 2 * F);
        s4.mul(inv).intoArray(out, o + i + 3 * F);
        s5.mul(inv).intoArray(out, o + i + 4 * F);
        s6.mul(inv).intoArray(out, o + i + 5 * F);
        s7.mul(inv).intoArray(out, o + i + 6 * F);
        s8.mul(inv).intoArray(out, o + i + 7 * F);
      }
      // vector tail
      int bound = FLOATS.loopBound(hiddenSize);
      for (; i < bound; i += F) {
        FloatVector s = FloatVector.zero(FLOATS);
        for (int r = 0; r < count; r++) {
          s = s.add(FloatVector.fromArray(FLOATS, hidden, rows[r] + i));
        }
        s.mul(inv).intoArray(out, o + i);
      }
      // scalar tail
      for (; i < hiddenSize; i++) {
        float s = 0f;
        for (int r = 0; r < count; r++) {
          s += hidden[rows[r] + i];
        }
        out[o + i] = s * inv;
      }
    }
  }

  @Override
  public int int8Dot(byte[] a, int aOffset, byte[] b, int bOffset, int length) {
    int i = 0;
    int sum = 0;
    if (BYTES != null && length >= BYTES.length()) {
      int step = BYTES.length();
      IntVector acc1 = IntVector.zero(INTS);
      IntVector acc2 = IntVector.zero(INTS);
      // widen bytes to shorts (the product of two int8 fits a short), multiply, widen to ints
      int unrolled = length - length % (2 * step);
      for (; i < unrolled; i += 2 * step) {
        acc1 = acc1.add(int8Products(a, aOffset + i, b, bOffset + i));
        acc2 = acc2.add(int8Products(a, aOffset + i + step, b, bOffset + i + step));
      }
      int bound = BYTES.loopBound(length);
      for (; i < bound; i += step) {
        acc1 = acc1.add(int8Products(a, aOffset + i, b, bOffset + i));
      }
      sum = acc1.add(acc2).reduceLanes(VectorOperators.ADD);
    }
    for (; i < length; i++) {
      sum += a[aOffset + i] * b[bOffset + i];
    }
    return sum;
  }

  private static IntVector int8Products(byte[] a, int aOffset, byte[] b, int bOffset) {
    Vector<Short> va = ByteVector.fromArray(BYTES, a, aOffset).convertShape(VectorOperators.B2S, SHORTS, 0);
    Vector<Short> vb = ByteVector.fromArray(BYTES, b, bOffset).convertShape(VectorOperators.B2S, SHORTS, 0);
    return (IntVector) va.mul(vb).convertShape(VectorOperators.S2I, INTS, 0);
  }

  @Override
  public boolean prefersInt8Groups() {
    return INT8_GROUPS;
  }

  @Override
  public void int8DotGroups(byte[] query, byte[] codes, int codesOffset, int groups, int[] out) {
    if (!INT8_GROUPS) {
      ScalarVectorSupport.INSTANCE.int8DotGroups(query, codes, codesOffset, groups, out);
      return;
    }
    final int chunk = VectorOps.INT8_CHUNK;
    final int group = VectorOps.INT8_GROUP;
    int step = HALF_BYTES.length(); // 16 or 32 bytes: one or two steps per chunk
    for (int g = 0, base = codesOffset; g < groups; g++, base += group * query.length) {
      IntVector s0 = IntVector.zero(INTS);
      IntVector s1 = s0;
      IntVector s2 = s0;
      IntVector s3 = s0;
      for (int c = 0, o = base; c < query.length; c += chunk, o += group * chunk) {
        for (int k = 0; k < chunk; k += step) {
          ShortVector q = widen(query, c + k);
          s0 = s0.add(pairSums(q, widen(codes, o + k)));
          s1 = s1.add(pairSums(q, widen(codes, o + chunk + k)));
          s2 = s2.add(pairSums(q, widen(codes, o + 2 * chunk + k)));
          s3 = s3.add(pairSums(q, widen(codes, o + 3 * chunk + k)));
        }
      }
      int p = g * group;
      out[p] = s0.reduceLanes(VectorOperators.ADD);
      out[p + 1] = s1.reduceLanes(VectorOperators.ADD);
      out[p + 2] = s2.reduceLanes(VectorOperators.ADD);
      out[p + 3] = s3.reduceLanes(VectorOperators.ADD);
    }
  }

  /** Bytes {@code [offset, +HALF_BYTES.length())} sign-extended to a full-width short vector. */
  private static ShortVector widen(byte[] a, int offset) {
    return (ShortVector) ByteVector.fromArray(HALF_BYTES, a, offset).convertShape(VectorOperators.B2S, FULL_SHORTS, 0);
  }

  /**
   * The products of {@code a} and {@code b} (each fits a short: at most 128 * 128), summed in
   * adjacent pairs into ints: each int lane holds two products as its low and high halves, which
   * shifts sign-extend and an add sums. Fewer instructions than widening the products to ints.
   */
  private static IntVector pairSums(ShortVector a, ShortVector b) {
    IntVector p = a.mul(b).reinterpretAsInts();
    return p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
        .add(p.lanewise(VectorOperators.ASHR, 16));
  }

  @Override
  public int hamming(long[] a, int aOffset, long[] b, int bOffset, int words) {
    // one code's few words: Long.bitCount, a POPCNT intrinsic (hammingGroups counts lanewise)
    int sum = 0;
    for (int i = 0; i < words; i++) {
      sum += Long.bitCount(a[aOffset + i] ^ b[bOffset + i]);
    }
    return sum;
  }

  @Override
  public void hammingGroups(long[] query, long[] codes, int codesOffset, int groups, int[] out) {
    if (!LANEWISE_HAMMING) {
      ScalarVectorSupport.hammingGroupsScalar(query, codes, codesOffset, groups, out);
      return;
    }
    if (BIT_COUNT == null) {
      swarHammingGroups(query, codes, codesOffset, groups, out);
      return;
    }
    int words = query.length;
    int lanes = LONGS.length(); // 4 or 8: divides the group
    int group = VectorOps.HAMMING_GROUP * words;
    for (int g = 0, base = codesOffset; g < groups; g++, base += group) {
      for (int c = 0; c < VectorOps.HAMMING_GROUP; c += lanes) {
        // one lane per code: each query word against the same word of 'lanes' codes, side by side
        LongVector acc = LongVector.zero(LONGS);
        for (int w = 0, o = base + c; w < words; w++, o += VectorOps.HAMMING_GROUP) {
          acc = acc.add(LongVector.fromArray(LONGS, codes, o).lanewise(VectorOperators.XOR, query[w])
              .lanewise(BIT_COUNT));
        }
        ((IntVector) acc.convertShape(VectorOperators.L2I, LONG_INTS, 0))
            .intoArray(out, g * VectorOps.HAMMING_GROUP + c);
      }
    }
  }

  /**
   * The group kernel where the JDK has no lanewise bit count (JDK 17-24): each lane counts its
   * code's bits with shifts, masks and adds (two-bit, four-bit, then byte sums), keeps per-byte sums
   * over up to {@value #WORDS_PER_BYTE_SUM} words, and folds the bytes into one count at the end.
   */
  private static void swarHammingGroups(long[] query, long[] codes, int codesOffset, int groups, int[] out) {
    int words = query.length;
    int lanes = LONGS.length();
    int group = VectorOps.HAMMING_GROUP * words;
    for (int g = 0, base = codesOffset; g < groups; g++, base += group) {
      for (int c = 0; c < VectorOps.HAMMING_GROUP; c += lanes) {
        LongVector total = LongVector.zero(LONGS);
        for (int from = 0; from < words; from += WORDS_PER_BYTE_SUM) {
          int to = Math.min(words, from + WORDS_PER_BYTE_SUM);
          LongVector bytes = LongVector.zero(LONGS);
          for (int w = from, o = base + from * VectorOps.HAMMING_GROUP + c; w < to; w++, o += VectorOps.HAMMING_GROUP) {
            LongVector x = LongVector.fromArray(LONGS, codes, o).lanewise(VectorOperators.XOR, query[w]);
            x = x.sub(x.lanewise(VectorOperators.LSHR, 1).and(ODD_BITS)); // bits per 2-bit field
            x = x.and(PAIRS).add(x.lanewise(VectorOperators.LSHR, 2).and(PAIRS)); // per 4-bit field
            x = x.add(x.lanewise(VectorOperators.LSHR, 4)).and(NIBBLES); // per byte, at most 8
            bytes = bytes.add(x);
          }
          // bytes (at most 248) to 16-bit fields, then the four fields' sum in the low 16 bits
          LongVector sums = bytes.and(BYTE_PAIRS).add(bytes.lanewise(VectorOperators.LSHR, 8).and(BYTE_PAIRS));
          sums = sums.add(sums.lanewise(VectorOperators.LSHR, 16));
          total = total.add(sums.add(sums.lanewise(VectorOperators.LSHR, 32)).and(0xFFFFL));
        }
        ((IntVector) total.convertShape(VectorOperators.L2I, LONG_INTS, 0))
            .intoArray(out, g * VectorOps.HAMMING_GROUP + c);
      }
    }
  }
}
