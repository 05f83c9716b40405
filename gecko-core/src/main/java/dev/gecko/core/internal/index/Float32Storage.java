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
