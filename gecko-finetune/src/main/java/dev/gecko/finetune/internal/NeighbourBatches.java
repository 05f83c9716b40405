package dev.gecko.finetune.internal;

import dev.gecko.core.index.FlatIndex;
import dev.gecko.core.index.SearchHit;
import java.util.Arrays;
import java.util.List;

/**
 * An epoch's order of rows in which each run of {@code group} consecutive rows holds a row and its
 * nearest unused neighbours under the teacher, so that a batch (whole groups, when the batch size
 * is a multiple of the group) holds texts the teacher tells apart only finely: the distribution
 * the small widths must learn to match. Rows are taken in a seeded random order; a row whose
 * neighbours are all used fills its group with the next unused rows of that order.
 *
 * <p>Deterministic: the same vectors, group and seed give the same order. Immutable once built;
 * thread-safe.
 */
final class NeighbourBatches {
  private final int[][] neighbours;
  private final int group;

  /**
   * Finds each row's {@code 2 * group} nearest other rows by cosine.
   *
   * @param vectors one vector per row
   * @param group rows per group, >= 2
   */
  NeighbourBatches(float[][] vectors, int group) {
    if (group < 2) {
      throw new IllegalArgumentException("group must be >= 2, was " + group);
    }
    this.group = group;
    int n = vectors.length;
    int k = Math.min(n - 1, 2 * group);
    neighbours = new int[n][];
    if (n == 0) {
      return;
    }
    FlatIndex index = FlatIndex.builder(vectors[0].length).metric(FlatIndex.Metric.COSINE).build();
    for (float[] v : vectors) {
      index.add(v);
    }
    // a thousand rows per scan: the index reads its vectors once for many queries
    for (int from = 0; from < n; from += 1000) {
      List<List<SearchHit>> all = index.searchAll(Arrays.asList(vectors).subList(from, Math.min(n, from + 1000)), k + 1);
      for (int i = from; i < from + all.size(); i++) {
        int[] nb = new int[k];
        int c = 0;
        for (SearchHit h : all.get(i - from)) {
          if (h.ordinal() != i && c < k) {
            nb[c++] = h.ordinal();
          }
        }
        neighbours[i] = Arrays.copyOf(nb, c);
      }
    }
  }

  /** A permutation of the rows, grouped by neighbours, for the epoch seeded {@code seed}. */
  int[] order(long seed) {
    int n = neighbours.length;
    int[] seeds = Loop.order(n, seed);
    boolean[] used = new boolean[n];
    int[] out = new int[n];
    int len = 0;
    int next = 0; // the first position of seeds that may still be unused
    for (int s : seeds) {
      if (used[s]) {
        continue;
      }
      int end = Math.min(n, len + group);
      used[s] = true;
      out[len++] = s;
      for (int j = 0; j < neighbours[s].length && len < end; j++) {
        int nb = neighbours[s][j];
        if (!used[nb]) {
          used[nb] = true;
          out[len++] = nb;
        }
      }
      while (len < end) {
        while (used[seeds[next]]) {
          next++;
        }
        used[seeds[next]] = true;
        out[len++] = seeds[next];
      }
    }
    return out;
  }
}
