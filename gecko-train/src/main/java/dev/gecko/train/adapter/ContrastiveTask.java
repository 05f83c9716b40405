package dev.gecko.train.adapter;

import dev.gecko.core.ProgressListener;
import dev.gecko.eval.RetrievalMetrics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@link Objective#CONTRASTIVE}: rows {@code {query, positive, negative or -1}}, Gecko's eq. 3
 * ({@link Losses#contrastive}) at every width, optionally with mined hard negatives. Scored pairs
 * train as pairs when their score reaches the positive threshold. Validated by Spearman when
 * every validation example carries a score (the graded signal rather than a binarised proxy),
 * else by the mean reciprocal rank of each query's positive. Not thread-safe.
 */
final class ContrastiveTask extends SupervisedTask {
  /** The positive's document id in the MRR run: below every other id, so that it loses ties. */
  private static final String POSITIVE = "a";
  /** Graded validation: Spearman over every validation pair; null for MRR. */
  private final ScoredPairs scoredValidation;
  /**
   * MRR validation rows {@code {query, positive, negative or -1}}, up to maxValidation of them
   * drawn with the seed; empty with graded validation.
   */
  private final List<int[]> validation;

  ContrastiveTask(TrainerConfig config, int[] widths, double[] weights, TrainingData trainData,
      TrainingData validationData, Texts texts) {
    super(config, widths, weights);
    boolean graded = validationData.size() > 0 && validationData.allScored();
    trainData = pairs(trainData, "training data");
    validationData = graded ? ScoredPairs.require(validationData, "validation data")
        : pairs(validationData, "validation data");
    kept(trainData, validationData);
    train.addAll(triplets(trainData, texts));
    if (graded) {
      scoredValidation = ScoredPairs.of(validationData, texts).requireOrderable("validation data");
      validation = List.of();
    } else {
      scoredValidation = null;
      validation = validationSample(triplets(validationData, texts));
    }
  }

  /** Checks that every example is a pair and keeps those whose score, if any, reaches the threshold. */
  private TrainingData pairs(TrainingData data, String what) {
    List<TrainingExample> out = new ArrayList<>();
    for (TrainingExample e : data.examples()) {
      if (e.positive() == null) {
        throw new IllegalArgumentException(TrainingExample.where(e.source()) + what
            + ": the CONTRASTIVE objective needs pairs or triplets (anchor, positive[, negative])");
      }
      if (e.score() == null || e.score() >= config.positiveThreshold()) {
        out.add(e);
      }
    }
    if (out.isEmpty() && data.size() > 0 && what.startsWith("training")) {
      throw new IllegalArgumentException(what + ": every one of its " + data.size() + " scored pairs is below the "
          + "positive threshold " + config.positiveThreshold() + ", so none trains as a positive pair; lower "
          + "positiveThreshold (--positive-threshold)");
    }
    return TrainingData.of(out);
  }

  private static List<int[]> triplets(TrainingData data, Texts texts) {
    List<int[]> rows = new ArrayList<>();
    for (TrainingExample e : data.examples()) {
      int q = texts.id(e.anchor(), true);
      int p = texts.id(e.positive(), false);
      rows.add(new int[] {q, p, e.negative() == null ? -1 : texts.id(e.negative(), false)});
    }
    return rows;
  }

  @Override
  String validation() {
    return scoredValidation != null ? "spearman" : "mrr";
  }

  @Override
  void start(List<float[]> vectors, double[][] x, ProgressListener progress) {
    if (config.mineHardNegatives()) {
      mineHardNegatives(vectors);
    }
    super.start(vectors, x, progress); // the structure regulariser's neighbours include mined negatives
  }

  /**
   * For rows without a negative: the candidate at rank {@code hardNegativeRank} (0-based, or the
   * last) among the training documents most similar to the query at full width, skipping the
   * query itself and every positive of that query.
   */
  private void mineHardNegatives(List<float[]> vectors) {
    int[] pool = train.stream().mapToInt(r -> r[1]).distinct().toArray();
    Map<Integer, Set<Integer>> positives = new HashMap<>();
    for (int[] r : train) {
      positives.computeIfAbsent(r[0], k -> new TreeSet<>()).add(r[1]);
    }
    Map<Integer, Integer> mined = new HashMap<>();
    for (int[] r : train) {
      if (r[2] >= 0) {
        continue;
      }
      Integer neg = mined.get(r[0]);
      if (neg == null) {
        Set<Integer> skip = positives.get(r[0]);
        int[] cand = Arrays.stream(pool).filter(c -> c != r[0] && !skip.contains(c)).toArray();
        if (cand.length == 0) {
          continue;
        }
        int[] nearest = SimilarTexts.nearest(vectors.get(r[0]), cand, vectors,
            Math.min(config.hardNegativeRank(), cand.length - 1) + 1);
        neg = nearest[nearest.length - 1];
        mined.put(r[0], neg);
      }
      r[2] = neg;
    }
  }

  @Override
  double rankingLoss(Forward l, int[] batch, double[][] g) {
    return Losses.contrastive(l.ys, column(l, batch, 0), column(l, batch, 1), column(l, batch, 2), widths, weights,
        config.temperature(), g);
  }

  @Override
  double validate(Model model) {
    return scoredValidation != null ? scoredValidation.spearman(model, x, widths, weights, weightSum) : mrr(model);
  }

  /**
   * The weighted mean over the widths of the mean reciprocal rank ({@link RetrievalMetrics}' MRR)
   * of each validation row's positive (up to maxValidation rows, drawn with the seed) among all
   * their positives and the row's own negative; the positive loses ties. The other positives of the
   * row's query (rows of the same query) are no candidates: they are relevant too, not rivals. A
   * negative that is also another row's positive stands twice.
   */
  private double mrr(Model model) {
    Forward l = new Forward(validation.stream().flatMapToInt(Arrays::stream).toArray(), model, x);
    if (!l.finite()) { // ranks of NaN cosines would still give a number
      return Double.NaN;
    }
    int[] cands = validation.stream().mapToInt(r -> l.of(r[1])).distinct().toArray();
    Map<Integer, Set<Integer>> positivesOf = new HashMap<>();
    for (int[] r : validation) {
      positivesOf.computeIfAbsent(l.of(r[0]), k -> new java.util.HashSet<>()).add(l.of(r[1]));
    }
    // Document ids: RetrievalMetrics ranks equal scores by id descending, so "a" (the positive)
    // goes after "n" (the row's negative) and "c..." (the candidates): a tie never counts in the
    // model's favour (a collapsed model, all cosines equal, scores 1/N, not 1).
    String[] candId = new String[cands.length];
    for (int c = 0; c < cands.length; c++) {
      candId[c] = "c" + c;
    }
    Map<String, Integer> relevant = Map.of(POSITIVE, 1);
    int nw = widths.length;
    Losses.PrefixCos pc = new Losses.PrefixCos(nw);
    double[] mrr = new double[nw];
    for (int[] r : validation) {
      double[] y = l.ys[l.of(r[0])];
      int positive = l.of(r[1]);
      Set<Integer> alsoRelevant = positivesOf.get(l.of(r[0]));
      List<Map<String, Double>> runs = new ArrayList<>(nw);
      pc.compute(y, l.ys[positive], widths);
      for (int w = 0; w < nw; w++) {
        Map<String, Double> run = new HashMap<>(2 * cands.length + 4);
        run.put(POSITIVE, pc.cos[w]);
        runs.add(run);
      }
      for (int c = 0; c < cands.length; c++) {
        if (!alsoRelevant.contains(cands[c])) { // the row's own positive, and the query's others
          pc.compute(y, l.ys[cands[c]], widths);
          for (int w = 0; w < nw; w++) {
            runs.get(w).put(candId[c], pc.cos[w]);
          }
        }
      }
      int negative = l.of(r[2]);
      if (negative >= 0 && !alsoRelevant.contains(negative)) { // a positive of the query is no rival
        pc.compute(y, l.ys[negative], widths);
        for (int w = 0; w < nw; w++) {
          runs.get(w).put("n", pc.cos[w]);
        }
      }
      for (int w = 0; w < nw; w++) {
        int k = runs.get(w).size();
        mrr[w] += RetrievalMetrics.evaluateQuery(relevant, runs.get(w), List.of(k)).get("mrr_at_" + k) / validation.size();
      }
    }
    double score = 0;
    for (int w = 0; w < nw; w++) {
      score += weights[w] * mrr[w];
    }
    return score / weightSum;
  }
}
