package dev.gecko.train.adapter;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Scored pairs as rows of vector ids {@code {anchor (as a query), other}} with their scores: what
 * {@link Objective#COSENT} trains on, and how graded validation data is scored, by Spearman's rho
 * between cosine and score ({@link Stats#spearman}, gecko-eval's {@code Correlation}). Not
 * thread-safe.
 */
final class ScoredPairs {
  final List<int[]> rows = new ArrayList<>();
  final double[] scores;

  private ScoredPairs(TrainingData data, Texts texts) {
    scores = new double[data.size()];
    for (TrainingExample e : data.examples()) {
      scores[rows.size()] = e.score();
      rows.add(new int[] {texts.id(e.anchor(), true), texts.id(e.positive(), false)});
    }
  }

  /**
   * Checks that the pairs can be ordered by their scores: Spearman's rho (validation) and CoSENT
   * (training) need at least two pairs whose scores differ; all alike, the first is undefined (no
   * epoch could beat another) and the second has nothing to learn.
   *
   * @param what what the data is, for the message ("validation data")
   * @throws IllegalArgumentException if not
   */
  ScoredPairs requireOrderable(String what) {
    if (scores.length < 2) {
      throw new IllegalArgumentException(what + ": " + scores.length + " scored pair(s); at least 2 with different "
          + "scores are needed to rank them (give more data, a larger validationFraction, or validationData)");
    }
    double first = scores[0];
    for (double v : scores) {
      if (v != first) {
        return this;
      }
    }
    throw new IllegalArgumentException(what + ": all " + scores.length + " scored pairs have the score " + first
        + ", so they cannot be ranked (Spearman's rho is undefined, CoSENT has nothing to order); give pairs "
        + "with different scores");
  }

  /**
   * Returns the examples, which must all be scored ({@link #require}), as scored pairs, their texts
   * given ids in {@code texts}.
   */
  static ScoredPairs of(TrainingData data, Texts texts) {
    return new ScoredPairs(data, texts);
  }

  /**
   * Returns the data if every example is a scored pair.
   *
   * @param what what the data is, for the message ("training data")
   * @throws IllegalArgumentException if one is not (the message names its file and line)
   */
  static TrainingData require(TrainingData data, String what) {
    for (TrainingExample e : data.examples()) {
      if (e.score() == null) {
        throw new IllegalArgumentException(TrainingExample.where(e.source()) + what
            + ": the COSENT objective needs scored pairs (sentence1, sentence2, score)");
      }
    }
    return data;
  }

  /**
   * Returns the weighted mean over the widths of Spearman's rho between each pair's cosine at that
   * width, after the model, and its score; every pair counts.
   */
  double spearman(Model model, double[][] x, int[] widths, double[] weights, double weightSum) {
    int m = rows.size();
    Forward l = new Forward(rows.stream().flatMapToInt(Arrays::stream).toArray(), model, x);
    if (!l.finite()) {
      return Double.NaN;
    }
    double score = 0;
    for (int w = 0; w < widths.length; w++) {
      double[] pred = new double[m];
      for (int i = 0; i < m; i++) {
        pred[i] = Stats.cosine(l.ys[l.of(rows.get(i)[0])], l.ys[l.of(rows.get(i)[1])], widths[w]);
      }
      score += weights[w] * Stats.spearman(pred, scores);
    }
    return score / weightSum;
  }
}
