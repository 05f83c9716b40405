package dev.gecko.core.internal.index;

import dev.gecko.core.InvalidDataException;
import java.io.IOException;
import java.util.Arrays;

/**
 * The vectors of a flat index in one precision: how they are stored in memory, scored against a
 * query, and written to and read from the index file's payload. One subclass per precision
 * ({@link Float32Storage}, {@link Int8Storage}, {@link BinaryStorage}). Internal.
 *
 * <p>Not thread-safe while vectors are added; concurrent searches are safe once adding is done.
 */
public abstract class VectorStorage {
  /** The most elements one Java array holds here. */
  static final int MAX_ARRAY = Integer.MAX_VALUE - 16;

  final int dimensions;
  int size;

  VectorStorage(int dimensions) {
    this.dimensions = dimensions;
  }

  /** Returns the width of the vectors. */
  public final int dimensions() {
    return dimensions;
  }

  /** Returns the number of vectors. */
  public final int size() {
    return size;
  }

  /** Stores a finite vector of the index's width (already normalised for cosine). */
  public abstract void add(float[] v);

  /** Returns the stored vector at {@code ordinal} as floats. */
  public abstract float[] vector(int ordinal);

  /** Offers every stored vector's score for a finite query of the index's width. */
  public abstract void search(float[] query, TopK top);

  /**
   * Offers every stored vector's score for each query to its heap, {@code queries[i]} to {@code
   * tops[i]}: the same scores, offered in the same order, as {@link #search} query by query. A
   * storage whose scan is bound by memory reads (float32) overrides it to read each stretch of
   * vectors once for several queries; tiling the int8 scan the same way measured no faster
   * (docs/search.md), and the binary scan, whose codes are 32 times smaller than float32 vectors,
   * was not tried.
   */
  public void searchAll(float[][] queries, TopK[] tops) {
    for (int i = 0; i < queries.length; i++) {
      search(queries[i], tops[i]);
    }
  }

  /**
   * Returns the payload's length in bytes for {@code count} (at most 2^31 - 1) vectors, or {@link
   * Long#MAX_VALUE} where it is longer (more than any file holds).
   */
  public abstract long payloadBytes(long count);

  /** Writes the payload. */
  public abstract void write(PayloadSink out) throws IOException;

  /**
   * Reads the payload of {@code count} vectors.
   *
   * @throws InvalidDataException naming {@code file} if they do not fit one Java array or the file
   *     ends early
   */
  public abstract void read(PayloadSource in, int count, String file) throws IOException;

  /**
   * Checks the values read (a payload whose checksum matched, but written by something other than
   * this class): finite, and in range.
   *
   * @throws InvalidDataException naming {@code file} for a value out of range
   */
  public void checkValues(String file) {}

  /** Elements of this storage's main array for {@code count} vectors. */
  abstract long elements(long count);

  /**
   * The capacity to grow an array to for {@code needed} elements.
   *
   * @throws IllegalStateException if the index is full (its array would pass 2^31 elements)
   */
  static int capacity(int current, long needed) {
    if (needed > MAX_ARRAY) {
      throw new IllegalStateException("flat index is full: " + needed + " elements do not fit one Java array");
    }
    return (int) Math.min(MAX_ARRAY, Math.max(needed, Math.max(64, (long) current * 2)));
  }

  static float[] grow(float[] a, long needed) {
    return a.length >= needed ? a : Arrays.copyOf(a, capacity(a.length, needed));
  }

  /** Checks that {@code count} vectors fit this storage's arrays. */
  final void checkFits(int count, String file) {
    if (elements(count) > MAX_ARRAY) {
      throw new InvalidDataException(file, 0, count + " vectors of " + dimensions
          + " dimensions do not fit one Java array");
    }
  }
}
