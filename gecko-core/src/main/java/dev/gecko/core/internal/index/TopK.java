package dev.gecko.core.internal.index;

import dev.gecko.core.index.SearchHit;
import java.util.ArrayList;
import java.util.List;

/**
 * A bounded heap of the best hits so far, worst at the root; no allocation per candidate. Ties are
 * broken by the lower ordinal. NaN ranks below every other score (a NaN is no match, not the best
 * one). The one top-k of the project ({@code FlatIndex}, the adapter trainer's neighbour
 * searches). Internal. Not thread-safe: one per search.
 */
public final class TopK {
  private final float[] scores;
  private final int[] ordinals;
  private int n;

  /** A heap for the best {@code k}. */
  public TopK(int k) {
    scores = new float[k];
    ordinals = new int[k];
  }

  /** Whether it holds {@code k} hits. */
  public boolean full() {
    return n == scores.length;
  }

  /** The lowest score held (meaningful once full). */
  public float worstScore() {
    return scores[0];
  }

  /** Ordinals arrive in increasing order, so on equal scores the newcomer is the worse one. */
  public void offer(int ordinal, float score) {
    if (n < scores.length) {
      int i = n++;
      scores[i] = score;
      ordinals[i] = ordinal;
      siftUp(i);
    } else if (compare(score, scores[0]) > 0) {
      scores[0] = score;
      ordinals[0] = ordinal;
      siftDown(0);
    }
  }

  /** The hits, best first: higher score, then lower ordinal. */
  public List<SearchHit> sorted() {
    List<SearchHit> hits = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      hits.add(new SearchHit(ordinals[i], scores[i]));
    }
    // best first: higher score, then lower ordinal
    hits.sort((a, b) -> {
      int c = compare(b.score(), a.score());
      return c != 0 ? c : Integer.compare(a.ordinal(), b.ordinal());
    });
    return hits;
  }

  /** Orders scores as {@link Float#compare} does, except that NaN is the lowest, not the highest. */
  private static int compare(float s1, float s2) {
    boolean nan1 = Float.isNaN(s1);
    boolean nan2 = Float.isNaN(s2);
    return nan1 || nan2 ? Boolean.compare(nan2, nan1) : Float.compare(s1, s2);
  }

  private static boolean worse(float s1, int o1, float s2, int o2) {
    int c = compare(s1, s2);
    return c != 0 ? c < 0 : o1 > o2;
  }

  private void siftUp(int i) {
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (!worse(scores[i], ordinals[i], scores[parent], ordinals[parent])) {
        return;
      }
      swap(i, parent);
      i = parent;
    }
  }

  private void siftDown(int i) {
    while (true) {
      int l = 2 * i + 1;
      if (l >= n) {
        return;
      }
      int r = l + 1;
      int w = r < n && worse(scores[r], ordinals[r], scores[l], ordinals[l]) ? r : l;
      if (!worse(scores[w], ordinals[w], scores[i], ordinals[i])) {
        return;
      }
      swap(i, w);
      i = w;
    }
  }

  private void swap(int i, int j) {
    float s = scores[i];
    scores[i] = scores[j];
    scores[j] = s;
    int o = ordinals[i];
    ordinals[i] = ordinals[j];
    ordinals[j] = o;
  }
}
