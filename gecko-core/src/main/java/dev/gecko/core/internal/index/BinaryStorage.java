package dev.gecko.core.internal.index;

import dev.gecko.core.InvalidDataException;
import dev.gecko.core.vector.VectorOps;
import java.io.IOException;
import java.util.Arrays;

/**
 * Sign bits, 64 to a word, scored {@code 1 - 2 * hamming / dimensions}. Internal; see {@link
 * VectorStorage}.
 */
public final class BinaryStorage extends VectorStorage {
  /** Codes scored per kernel call (a 4 KiB distance buffer, in L1). */
  private static final int BLOCK = 1024;

  private final int words;
  private long[] bits = new long[0];

  /** An empty storage of vectors of {@code dimensions}. */
  public BinaryStorage(int dimensions) {
    super(dimensions);
    this.words = VectorOps.binaryWords(dimensions);
  }

  @Override
  public void add(float[] v) {
    if (bits.length < (long) (size + 1) * words) {
      bits = Arrays.copyOf(bits, capacity(bits.length, (long) (size + 1) * words));
    }
    VectorOps.quantizeBinary(v, 0, dimensions, bits, size * words);
    size++;
  }

  @Override
  public float[] vector(int ordinal) {
    float[] out = new float[dimensions];
    for (int i = 0; i < dimensions; i++) {
      out[i] = (bits[ordinal * words + (i >>> 6)] >>> (i & 63) & 1L) != 0 ? 1f : -1f;
    }
    return out;
  }

  @Override
  public void search(float[] q, TopK top) {
    long[] qw = VectorOps.quantizeBinary(q);
    float perBit = 2f / dimensions;
    int[] distances = new int[Math.min(BLOCK, Math.max(size, 1))];
    int worst = Integer.MAX_VALUE; // a candidate must beat this distance once the heap is full
    for (int from = 0; from < size; from += BLOCK) {
      int count = Math.min(BLOCK, size - from);
      VectorOps.hammingMany(qw, bits, from * words, count, distances);
      for (int j = 0; j < count; j++) {
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

  @Override
  public long payloadBytes(long count) {
    return count * words * 8;
  }

  @Override
  long elements(long count) {
    return count * words;
  }

  @Override
  public void write(PayloadSink out) throws IOException {
    out.longs(bits, size * words);
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
      if ((bits[i * words + words - 1] & padding) != 0) {
        throw new InvalidDataException(file, 0, "vector " + i + " has bits set past its " + dimensions
            + " dimensions (the padding of its last 64-bit word must be 0)");
      }
    }
  }

  @Override
  public void read(PayloadSource in, int count, String file) throws IOException {
    checkFits(count, file);
    bits = in.longs(count * words);
    size = count;
  }
}
