package dev.gecko.train.adapter;

import dev.gecko.core.Progress;
import dev.gecko.core.ProgressListener;
import dev.gecko.core.index.SearchHit;
import dev.gecko.core.internal.index.TopK;
import dev.gecko.core.vector.VectorOps;
import java.util.Arrays;
import java.util.List;

/**
 * The most similar texts by dot product of the base model's full-width vectors (unit length, so
 * cosine), most similar first, equal similarities in ascending order of position, through the
 * project's one top-k ({@link TopK}, which {@code FlatIndex} uses too). It serves the neighbours of
 * the unsupervised loss, its validation and the structure regulariser ({@link #among}) and
 * hard-negative mining ({@link #nearest}). Stateless.
 */
final class SimilarTexts {
  private SimilarTexts() {}

  /**
   * Each text's full-width nearest neighbours among the others.
   *
   * @param ids vector ids for the texts, each row of the result is one of them
   * @param sims the neighbours' similarities, row by row, most similar first
   */
  record Neighbours(int[][] ids, double[][] sims) {}

  /**
   * Returns each of {@code items}' {@code k} most similar other items (vector ids), ties to the
   * earlier item. Each pair's similarity is computed once; the work grows with the square of the
   * items, so it reports to {@code progress} under {@link Trainer#NEIGHBOURS} (unit {@code
   * "pairs"}) about a hundred times.
   */
  static Neighbours among(int[] items, List<float[]> vectors, int k, ProgressListener progress) {
    int m = items.length;
    TopK[] tops = new TopK[m];
    for (int i = 0; i < m; i++) {
      tops[i] = new TopK(Math.max(k, 0));
    }
    if (k > 0) {
      long total = (long) m * (m - 1) / 2;
      long every = Math.max(1, total / 100);
      long done = 0;
      long next = every;
      progress.onProgress(Progress.of(Trainer.NEIGHBOURS, "pairs", 0, total));
      // row r is offered the items before it, then those after it: in ascending position, the
      // order TopK breaks ties by
      for (int i = 0; i < m; i++) {
        float[] vi = vectors.get(items[i]);
        for (int j = i + 1; j < m; j++) {
          float s = VectorOps.dot(vi, vectors.get(items[j]));
          tops[i].offer(j, s);
          tops[j].offer(i, s);
        }
        done += m - i - 1;
        if (done >= next || i == m - 1) {
          progress.onProgress(Progress.of(Trainer.NEIGHBOURS, "pairs", done, total));
          next = done + every;
        }
      }
    }
    int[][] ids = new int[m][];
    double[][] sims = new double[m][];
    for (int i = 0; i < m; i++) {
      List<SearchHit> hits = k > 0 ? tops[i].sorted() : List.of();
      ids[i] = new int[hits.size()];
      sims[i] = new double[hits.size()];
      for (int h = 0; h < hits.size(); h++) {
        ids[i][h] = items[hits.get(h).ordinal()];
        sims[i][h] = hits.get(h).score();
      }
    }
    return new Neighbours(ids, sims);
  }

  /**
   * Returns the {@code min(k, candidates.length)} candidates (vector ids) most similar to {@code
   * query}, most similar first, ties to the lower id.
   */
  static int[] nearest(float[] query, int[] candidates, List<float[]> vectors, int k) {
    int n = Math.min(k, candidates.length);
    if (n <= 0) {
      return new int[0];
    }
    int[] sorted = candidates.clone();
    Arrays.sort(sorted);
    TopK top = new TopK(n);
    for (int c = 0; c < sorted.length; c++) {
      top.offer(c, VectorOps.dot(query, vectors.get(sorted[c])));
    }
    return top.sorted().stream().mapToInt(h -> sorted[h.ordinal()]).toArray();
  }
}
