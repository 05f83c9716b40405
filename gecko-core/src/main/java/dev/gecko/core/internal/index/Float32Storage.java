package dev.gecko.core.internal.index;

import dev.gecko.core.InvalidDataException;
import dev.gecko.core.vector.VectorOps;
import java.io.IOException;
import java.util.Arrays;

/** Float32 vectors, scored by dot product. Internal; see {@link VectorStorage}. */
public final class Float32Storage extends VectorStorage {
  private float[] floats = new float[0];

  /** An empty storage of vectors of {@code dimensions}. */
  public Float32Storage(int dimensions) {
    super(dimensions);
  }

  @Override
  public void add(float[] v) {
    floats = grow(floats, (long) (size + 1) * dimensions);
    System.arraycopy(v, 0, floats, size * dimensions, dimensions);
    size++;
  }

  @Override
  public float[] vector(int ordinal) {
    return Arrays.copyOfRange(floats, ordinal * dimensions, (ordinal + 1) * dimensions);
  }

  @Override
  public void search(float[] q, TopK top) {
    for (int i = 0, off = 0; i < size; i++, off += dimensions) {
      top.offer(i, VectorOps.dot(q, 0, floats, off, dimensions));
    }
  }

  /**
   * Tiles the scan: queries in tiles of {@value #QUERY_TILE}, vectors in stretches of about {@value
   * #STRETCH_BYTES} bytes (in the core's L2 cache), each stretch scored for every query of the tile
   * before the next is read. Memory is then read once per tile, not once per query; the scores are
   * {@link #search}'s, computed by the same kernel on the same operands.
   */
  @Override
  public void searchAll(float[][] queries, TopK[] tops) {
    int stretch = Math.max(1, STRETCH_BYTES / 4 / dimensions);
    for (int tile = 0; tile < queries.length; tile += QUERY_TILE) {
      int tileEnd = Math.min(queries.length, tile + QUERY_TILE);
      for (int from = 0, to; from < size; from = to) {
        to = from + Math.min(stretch, size - from); // no overflow near 2^31 vectors
        for (int q = tile; q < tileEnd; q++) {
          float[] query = queries[q];
          TopK top = tops[q];
          for (int i = from, off = from * dimensions; i < to; i++, off += dimensions) {
            top.offer(i, VectorOps.dot(query, 0, floats, off, dimensions));
          }
        }
      }
    }
  }

  /** Queries scored together against each stretch of vectors in {@link #searchAll}. */
  private static final int QUERY_TILE = 32;
  /** Bytes of vectors per stretch in {@link #searchAll}. */
  private static final int STRETCH_BYTES = 256 * 1024;

  @Override
  public long payloadBytes(long count) {
    long elements = count * dimensions; // below 2^62: a count is at most 2^31 - 1
    return elements > Long.MAX_VALUE / 4 ? Long.MAX_VALUE : elements * 4;
  }

  @Override
  long elements(long count) {
    return count * dimensions;
  }

  @Override
  public void write(PayloadSink out) throws IOException {
    out.floats(floats, size * dimensions);
  }

  @Override
  public void read(PayloadSource in, int count, String file) throws IOException {
    checkFits(count, file);
    floats = in.floats(count * dimensions);
    size = count;
  }

  @Override
  public void checkValues(String file) {
    for (int i = 0; i < size; i++) {
      for (int d = 0, off = i * dimensions; d < dimensions; d++) {
        float x = floats[off + d];
        if (!Float.isFinite(x)) {
          throw new InvalidDataException(file, 0, "vector " + i + " component " + d + " is " + x
              + "; a flat index holds finite values only");
        }
      }
    }
  }
}
