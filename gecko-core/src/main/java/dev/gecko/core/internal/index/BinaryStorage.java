package dev.gecko.core.internal.index;

import dev.gecko.core.InvalidDataException;
import dev.gecko.core.vector.VectorOps;
import java.io.IOException;

/**
 * Sign bits, 64 to a word, scored {@code 1 - 2 * hamming / dimensions}. Internal; see {@link
 * VectorStorage}.
 *
 * <p>The file holds the codes one after another, word by word, as every version of the format
 * has. In memory they lie in the layout the JVM scans fastest: where {@link
 * VectorOps#prefersHammingGroups} (SIMD bit counts on x86-64), in groups of {@value
 * VectorOps#HAMMING_GROUP} with their words interleaved for {@link VectorOps#hammingGroups} (word
 * {@code w} of code {@code i} at {@code bits[(i / 8 * words + w) * 8 + i % 8]}, the array holding
 * whole groups, the unused codes of the last one zero); elsewhere as in the file, for {@link
 * VectorOps#hammingMany}. {@link #write} and {@link #read} convert.
 */
public final class BinaryStorage extends VectorStorage {
  /** Codes scored per kernel call (a 4 KiB distance buffer, in L1); a whole number of groups. */
  private static final int BLOCK = 1024;
  private static final int GROUP = VectorOps.HAMMING_GROUP;

  private final int words;
  private final boolean grouped;
  private long[] bits = new long[0];

  /** An empty storage of vectors of {@code dimensions}, in this JVM's faster layout. */
  public BinaryStorage(int dimensions) {
    this(dimensions, VectorOps.prefersHammingGroups(VectorOps.binaryWords(dimensions)));
  }

  /**
   * An empty storage of vectors of {@code dimensions}, in groups of eight ({@code grouped}) or code
   * after code. For tests, which compare the two on one JVM.
   */
  public BinaryStorage(int dimensions, boolean grouped) {
    super(dimensions);
    this.words = VectorOps.binaryWords(dimensions);
    this.grouped = grouped;
  }

  /** Where word {@code w} of code {@code i} lies in {@link #bits}. */
  private int at(int i, int w) {
    return grouped ? ((i / GROUP) * words + w) * GROUP + i % GROUP : i * words + w;
  }

  @Override
  public void add(float[] v) {
    long needed = elements(size + 1L);
    if (bits.length < needed) {
      int length = capacity(bits.length, needed);
      long[] grown = new long[grouped ? length - length % (GROUP * words) : length]; // whole groups
      System.arraycopy(bits, 0, grown, 0, bits.length);
      bits = grown;
    }
    if (grouped) {
      long[] code = VectorOps.quantizeBinary(v);
      for (int w = 0; w < words; w++) {
        bits[at(size, w)] = code[w];
      }
    } else {
      VectorOps.quantizeBinary(v, 0, dimensions, bits, size * words);
    }
    size++;
  }

  @Override
  public float[] vector(int ordinal) {
    float[] out = new float[dimensions];
    for (int i = 0; i < dimensions; i++) {
      out[i] = (bits[at(ordinal, i >>> 6)] >>> (i & 63) & 1L) != 0 ? 1f : -1f;
    }
    return out;
  }

  @Override
  public void search(float[] q, TopK top) {
    long[] qw = VectorOps.quantizeBinary(q);
    float perBit = 2f / dimensions;
    int[] distances = new int[Math.min(BLOCK, Math.max(groups(size), 1) * GROUP)];
    int worst = Integer.MAX_VALUE; // a candidate must beat this distance once the heap is full
    for (int from = 0; from < size; from += BLOCK) {
      int count = Math.min(BLOCK, size - from);
      // code 'from' starts at from * words in both layouts: BLOCK is a whole number of groups
      if (grouped) {
        VectorOps.hammingGroups(qw, bits, from * words, groups(count), distances);
      } else {
        VectorOps.hammingMany(qw, bits, from * words, count, distances);
      }
      for (int j = 0; j < count; j++) { // the last group's unused codes are not offered
        if (distances[j] < worst) {
          top.offer(from + j, 1f - distances[j] * perBit);
          if (top.full()) {
            // the root's distance, plus one so that float rounding can never skip a candidate
            // (a tie with the root is then offered and refused by the heap)
            worst = Math.round((1f - top.worstScore()) / perBit) + 1;
          }
        }
      }
    }
  }

  private static int groups(int codes) {
    return (codes + GROUP - 1) / GROUP;
  }

  @Override
  public long payloadBytes(long count) {
    return count * words * 8;
  }

  @Override
  long elements(long count) {
    return (grouped ? (count + GROUP - 1) / GROUP * GROUP : count) * words;
  }

  @Override
  public void write(PayloadSink out) throws IOException {
    if (!grouped) {
      out.longs(bits, size * words);
      return;
    }
    long[] code = new long[words];
    for (int i = 0; i < size; i++) {
      for (int w = 0; w < words; w++) {
        code[w] = bits[at(i, w)];
      }
      out.longs(code, words);
    }
  }

  /**
   * Refuses a code whose bits past the last dimension (the last word's padding, zero in every file
   * this library writes) are set: they would count in every Hamming distance and bend the scores.
   */
  @Override
  public void checkValues(String file) {
    int used = dimensions & 63;
    if (used == 0) {
      return; // the last word is full: no padding
    }
    long padding = -1L << used;
    for (int i = 0; i < size; i++) {
      if ((bits[at(i, words - 1)] & padding) != 0) {
        throw new InvalidDataException(file, 0, "vector " + i + " has bits set past its " + dimensions
            + " dimensions (the padding of its last 64-bit word must be 0)");
      }
    }
  }

  @Override
  public void read(PayloadSource in, int count, String file) throws IOException {
    checkFits(count, file);
    // read code after code, into an array of whole groups where grouped, then interleave each
    // group in place (a group spans the same elements in both layouts)
    long[] read = in.longs(count * words, (int) elements(count));
    if (grouped) {
      long[] group = new long[GROUP * words];
      for (int start = 0; start < count; start += GROUP) {
        int codes = Math.min(GROUP, count - start);
        System.arraycopy(read, start * words, group, 0, codes * words);
        for (int c = 0; c < GROUP; c++) {
          for (int w = 0; w < words; w++) {
            read[at(start + c, w)] = c < codes ? group[c * words + w] : 0L;
          }
        }
      }
    }
    bits = read;
    size = count;
  }
}
