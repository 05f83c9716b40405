package dev.gecko.core.internal.index;

import dev.gecko.core.InvalidDataException;
import dev.gecko.core.vector.VectorOps;
import java.io.IOException;
import java.util.Arrays;

/**
 * Int8 vectors with one float scale each (symmetric, per vector); a score is {@code int8Dot(q, x)
 * * scaleQ * scaleX}. Internal; see {@link VectorStorage}.
 */
public final class Int8Storage extends VectorStorage {
  private byte[] bytes = new byte[0];
  private float[] scales = new float[0];

  /** An empty storage of vectors of {@code dimensions}. */
  public Int8Storage(int dimensions) {
    super(dimensions);
  }

  @Override
  public void add(float[] v) {
    if (bytes.length < (long) (size + 1) * dimensions) {
      bytes = Arrays.copyOf(bytes, capacity(bytes.length, (long) (size + 1) * dimensions));
    }
    scales = grow(scales, size + 1L);
    scales[size] = VectorOps.quantizeInt8(v, 0, bytes, size * dimensions, dimensions);
    size++;
  }

  @Override
  public float[] vector(int ordinal) {
    return VectorOps.dequantizeInt8(Arrays.copyOfRange(bytes, ordinal * dimensions, (ordinal + 1) * dimensions),
        scales[ordinal]);
  }

  @Override
  public void search(float[] q, TopK top) {
    byte[] qb = new byte[dimensions];
    float qs = VectorOps.quantizeInt8(q, qb);
    for (int i = 0, off = 0; i < size; i++, off += dimensions) {
      top.offer(i, VectorOps.int8Dot(qb, 0, bytes, off, dimensions) * scales[i] * qs);
    }
  }

  @Override
  public long payloadBytes(long count) {
    return count * 4 + count * dimensions;
  }

  @Override
  long elements(long count) {
    return count * dimensions;
  }

  @Override
  public void write(PayloadSink out) throws IOException {
    out.floats(scales, size);
    out.bytes(bytes, size * dimensions);
  }

  @Override
  public void read(PayloadSource in, int count, String file) throws IOException {
    checkFits(count, file);
    scales = in.floats(count);
    bytes = in.bytes(count * dimensions);
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
