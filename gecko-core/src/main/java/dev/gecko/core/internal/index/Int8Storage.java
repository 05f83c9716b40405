package dev.gecko.core.internal.index;

import dev.gecko.core.InvalidDataException;
import dev.gecko.core.vector.VectorOps;
import java.io.IOException;
import java.util.Arrays;

/**
 * Int8 vectors with one float scale each (symmetric, per vector); a score is {@code int8Dot(q, x)
 * * scaleQ * scaleX}. Internal; see {@link VectorStorage}.
 *
 * <p>The file holds the codes one after another, {@code dimensions} bytes each, as every version
 * of the format has. In memory they lie in the layout the JVM scans fastest: where {@link
 * VectorOps#prefersInt8Groups} (SIMD on x86-64), in groups of {@value VectorOps#INT8_GROUP} with
 * their {@value VectorOps#INT8_CHUNK}-byte chunks interleaved for {@link VectorOps#int8DotGroups}
 * (byte {@code k} of code {@code i} at {@code bytes[((i / 4 * chunks + k / 32) * 4 + i % 4) * 32 +
 * k % 32]}, each code zero-padded to whole chunks, the array holding whole groups, the unused
 * codes of the last one zero); elsewhere as in the file, for {@link VectorOps#int8Dot}. {@link
 * #write} and {@link #read} convert. Where padded groups would not fit one Java array but the
 * codes would (2^31 bytes; a width far from a multiple of 32), the storage holds them code after
 * code instead, so that every index that fits one layout loads and grows.
 */
public final class Int8Storage extends VectorStorage {
  /** Codes scored per kernel call (a 4 KiB buffer of products, in L1); a whole number of groups. */
  private static final int BLOCK = 1024;
  private static final int GROUP = VectorOps.INT8_GROUP;
  private static final int CHUNK = VectorOps.INT8_CHUNK;

  private boolean grouped;
  /** Bytes of one code in {@link #bytes}: {@code dimensions}, or whole chunks where grouped. */
  private int stride;
  private byte[] bytes = new byte[0];
  private float[] scales = new float[0];

  /** An empty storage of vectors of {@code dimensions}, in this JVM's faster layout. */
  public Int8Storage(int dimensions) {
    this(dimensions, VectorOps.prefersInt8Groups());
  }

  /**
   * An empty storage of vectors of {@code dimensions}, in groups of four ({@code grouped}) or code
   * after code. For tests, which compare the two on one JVM.
   */
  public Int8Storage(int dimensions, boolean grouped) {
    super(dimensions);
    this.grouped = grouped;
    this.stride = grouped ? VectorOps.int8GroupedLength(dimensions) : dimensions;
  }

  /** Where byte {@code k} of code {@code i} lies in {@link #bytes}. */
  private int at(int i, int k) {
    return grouped ? (((i / GROUP) * (stride / CHUNK) + k / CHUNK) * GROUP + i % GROUP) * CHUNK + k % CHUNK
        : i * dimensions + k;
  }

  @Override
  public void add(float[] v) {
    if (grouped && elements(size + 1L) > MAX_ARRAY) {
      ungroup(size + 1L);
    }
    long needed = elements(size + 1L);
    if (bytes.length < needed) {
      int length = capacity(bytes.length, needed);
      bytes = Arrays.copyOf(bytes, grouped ? length - length % (GROUP * stride) : length); // whole groups
    }
    scales = grow(scales, size + 1L);
    if (grouped) {
      byte[] code = new byte[dimensions];
      scales[size] = VectorOps.quantizeInt8(v, code);
      put(size, code, 0);
    } else {
      scales[size] = VectorOps.quantizeInt8(v, 0, bytes, size * dimensions, dimensions);
    }
    size++;
  }

  /**
   * Lays the codes out one after another, in an array with room for {@code count} (at least
   * {@link #size}); where that does not fit one array either, {@link #capacity} says the index is
   * full.
   */
  private void ungroup(long count) {
    byte[] plain = new byte[capacity(0, count * dimensions)];
    for (int i = 0; i < size; i++) {
      get(i, plain, i * dimensions);
    }
    bytes = plain;
    grouped = false;
    stride = dimensions;
  }

  /** Places {@code code[offset, +dimensions)} as code {@code i}, chunk by chunk. */
  private void put(int i, byte[] code, int offset) {
    for (int k = 0; k < dimensions; k += CHUNK) {
      System.arraycopy(code, offset + k, bytes, at(i, k), Math.min(CHUNK, dimensions - k));
    }
  }

  /** Copies code {@code i} into {@code code[offset, +dimensions)}. */
  private void get(int i, byte[] code, int offset) {
    if (!grouped) {
      System.arraycopy(bytes, i * dimensions, code, offset, dimensions);
      return;
    }
    for (int k = 0; k < dimensions; k += CHUNK) {
      System.arraycopy(bytes, at(i, k), code, offset + k, Math.min(CHUNK, dimensions - k));
    }
  }

  @Override
  public float[] vector(int ordinal) {
    byte[] code = new byte[dimensions];
    get(ordinal, code, 0);
    return VectorOps.dequantizeInt8(code, scales[ordinal]);
  }

  @Override
  public void search(float[] q, TopK top) {
    byte[] qb = new byte[stride]; // zero-padded to whole chunks where grouped
    float qs = VectorOps.quantizeInt8(q, 0, qb, 0, dimensions);
    if (!grouped) {
      for (int i = 0, off = 0; i < size; i++, off += dimensions) {
        top.offer(i, VectorOps.int8Dot(qb, 0, bytes, off, dimensions) * scales[i] * qs);
      }
      return;
    }
    int[] dots = new int[Math.min(BLOCK, groups(size) * GROUP)];
    for (int from = 0; from < size; from += BLOCK) {
      int count = Math.min(BLOCK, size - from);
      VectorOps.int8DotGroups(qb, bytes, from * stride, groups(count), dots);
      for (int j = 0; j < count; j++) { // the last group's unused codes are not offered
        top.offer(from + j, dots[j] * scales[from + j] * qs);
      }
    }
  }

  private static int groups(int codes) {
    return (codes + GROUP - 1) / GROUP;
  }

  @Override
  public long payloadBytes(long count) {
    return count * 4 + count * dimensions;
  }

  @Override
  long elements(long count) {
    return (grouped ? (count + GROUP - 1) / GROUP * GROUP : count) * stride;
  }

  @Override
  public void write(PayloadSink out) throws IOException {
    out.floats(scales, size);
    if (!grouped) {
      out.bytes(bytes, size * dimensions);
      return;
    }
    byte[] block = new byte[Math.min(BLOCK, size) * dimensions];
    for (int from = 0; from < size; from += BLOCK) {
      int count = Math.min(BLOCK, size - from);
      for (int j = 0; j < count; j++) {
        get(from + j, block, j * dimensions);
      }
      out.bytes(block, count * dimensions);
    }
  }

  @Override
  public void read(PayloadSource in, int count, String file) throws IOException {
    if (grouped && elements(count) > MAX_ARRAY) {
      ungroup(0); // empty: only the layout changes
    }
    checkFits(count, file);
    scales = in.floats(count);
    if (!grouped) {
      bytes = in.bytes(count * dimensions);
    } else {
      // block by block, code after code, then each code into its chunks
      bytes = new byte[(int) elements(count)];
      byte[] block = new byte[Math.min(BLOCK, count) * dimensions];
      for (int from = 0; from < count; from += BLOCK) {
        int codes = Math.min(BLOCK, count - from);
        in.bytes(block, 0, codes * dimensions);
        for (int j = 0; j < codes; j++) {
          put(from + j, block, j * dimensions);
        }
      }
    }
    size = count;
  }

  @Override
  public void checkValues(String file) {
    for (int i = 0; i < size; i++) {
      if (!Float.isFinite(scales[i]) || scales[i] < 0f) {
        throw new InvalidDataException(file, 0, "vector " + i + " has int8 scale " + scales[i]
            + "; scales are finite and not negative");
      }
    }
  }
}
