package dev.gecko.core.index;

import dev.gecko.core.vector.VectorOps;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.PriorityQueue;

/**
 * An exact top-k index over float32 vectors of one width, scored by dot product (cosine for
 * unit vectors, which is what {@link dev.gecko.core.GeckoEmbedder} returns).
 *
 * <p>Brute force: a query costs {@code size() * dimensions()} multiply-adds. Ties are broken by
 * the lower ordinal. Not thread-safe while vectors are added; safe for concurrent searches after.
 */
public final class FlatIndex {
  private final int dimensions;
  private float[] data;
  private int size;

  /**
   * Creates an empty index for vectors of width {@code dimensions}.
   *
   * @throws IllegalArgumentException if {@code dimensions < 1}
   */
  public FlatIndex(int dimensions) {
    if (dimensions < 1) {
      throw new IllegalArgumentException("dimensions must be >= 1, was " + dimensions);
    }
    this.dimensions = dimensions;
    this.data = new float[dimensions * 16];
  }

  /** Returns the vector width. */
  public int dimensions() {
    return dimensions;
  }

  /** Returns the number of vectors. */
  public int size() {
    return size;
  }

  /**
   * Adds a vector and returns its ordinal.
   *
   * @throws IllegalArgumentException if its width differs from {@link #dimensions()}
   */
  public int add(float[] vector) {
    Objects.requireNonNull(vector, "vector is null");
    if (vector.length != dimensions) {
      throw new IllegalArgumentException("vector dimensions differ: " + vector.length + "!=" + dimensions);
    }
    if ((size + 1) * dimensions > data.length) {
      data = Arrays.copyOf(data, Math.max(data.length * 2, (size + 1) * dimensions));
    }
    System.arraycopy(vector, 0, data, size * dimensions, dimensions);
    return size++;
  }

  /** Returns a copy of the vector at {@code ordinal}. */
  public float[] vector(int ordinal) {
    Objects.checkIndex(ordinal, size);
    return Arrays.copyOfRange(data, ordinal * dimensions, (ordinal + 1) * dimensions);
  }

  /**
   * Returns the {@code k} vectors with the highest dot product with {@code query}, best first.
   *
   * @throws IllegalArgumentException if {@code k < 1} or the query's width differs
   */
  public List<SearchHit> search(float[] query, int k) {
    Objects.requireNonNull(query, "query is null");
    if (query.length != dimensions) {
      throw new IllegalArgumentException("vector dimensions differ: " + query.length + "!=" + dimensions);
    }
    if (k < 1) {
      throw new IllegalArgumentException("k must be >= 1, was " + k);
    }
    PriorityQueue<SearchHit> heap = new PriorityQueue<>(k + 1, FlatIndex::worseFirst);
    float[] row = new float[dimensions];
    for (int i = 0; i < size; i++) {
      System.arraycopy(data, i * dimensions, row, 0, dimensions);
      float score = VectorOps.dot(query, row);
      if (heap.size() < k) {
        heap.add(new SearchHit(i, score));
      } else if (worseFirst(heap.peek(), new SearchHit(i, score)) < 0) {
        heap.poll();
        heap.add(new SearchHit(i, score));
      }
    }
    List<SearchHit> hits = new ArrayList<>(heap);
    hits.sort((a, b) -> worseFirst(b, a));
    return hits;
  }

  /** Orders hits worst first: lower score, then higher ordinal. */
  private static int worseFirst(SearchHit a, SearchHit b) {
    int c = Float.compare(a.score(), b.score());
    return c != 0 ? c : Integer.compare(b.ordinal(), a.ordinal());
  }
}
