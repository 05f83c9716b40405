package dev.gecko.train.adapter;

import dev.gecko.core.ProgressListener;
import dev.gecko.eval.RetrievalMetrics;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@link Objective#UNSUPERVISED}: the Matryoshka-Adaptor terms over the distinct texts of the data
 * (any example's anchor, positive and negative, as documents), each text's neighbours its top-k
 * among the training texts at full width. Validated by {@link UnsupervisedValidation}. Not
 * thread-safe.
 */
final class UnsupervisedTask extends ObjectiveTask {
  /**
   * The validation texts (vector ids): texts of the validation examples that no training example
   * holds, up to maxValidation of them drawn with the seed.
   */
  private final int[] valItems;
  /** Each training row's (text's) neighbours among the training texts. */
  private SimilarTexts.Neighbours trainNeighbours;
  /** Each validation text's neighbours among the validation texts. */
  private SimilarTexts.Neighbours valNeighbours;

  UnsupervisedTask(TrainerConfig config, int[] widths, double[] weights, TrainingData trainData,
      TrainingData validationData, Texts texts) {
    super(config, widths, weights);
    kept(trainData, validationData);
    Set<Integer> trainTexts = distinct(trainData, texts);
    for (int id : trainTexts) {
      train.add(new int[] {id});
    }
    // The split is by anchor, so a validation example's texts may also stand in training examples
    // (a sentence paired with several others): only the texts training never sees are held out.
    Set<Integer> unseen = distinct(validationData, texts);
    int all = unseen.size();
    unseen.removeAll(trainTexts);
    if (unseen.size() < 2) {
      throw new IllegalArgumentException("the validation split has " + unseen.size() + " text(s) that the training"
          + " split does not also hold (of its " + all + " distinct texts); the UNSUPERVISED objective validates on"
          + " held-out texts: give more data, a larger validationFraction or validationData with other texts");
    }
    valItems = validationSample(new ArrayList<>(unseen)).stream().mapToInt(Integer::intValue).toArray();
  }

  /** The distinct texts of the examples, as documents, in order of appearance. */
  private static Set<Integer> distinct(TrainingData data, Texts texts) {
    Set<Integer> seen = new LinkedHashSet<>();
    for (TrainingExample e : data.examples()) {
      seen.add(texts.id(e.anchor(), false));
      if (e.positive() != null) {
        seen.add(texts.id(e.positive(), false));
      }
      if (e.negative() != null) {
        seen.add(texts.id(e.negative(), false));
      }
    }
    return seen;
  }

  @Override
  String validation() {
    return config.unsupervisedValidation() == UnsupervisedValidation.NEIGHBOURS ? "neighbour-recall"
        : "similarity-preservation";
  }

  @Override
  void start(List<float[]> vectors, double[][] x, ProgressListener progress) {
    super.start(vectors, x, progress);
    int[] items = train.stream().mapToInt(r -> r[0]).toArray();
    trainNeighbours = SimilarTexts.among(items, vectors, Math.min(config.topK(), items.length - 1), progress);
    valNeighbours = SimilarTexts.among(valItems, vectors, Math.min(config.topK(), valItems.length - 1), progress);
  }

  @Override
  double lossAndGrad(Model model, int[] batch, double[] grad) {
    List<Integer> ids = new ArrayList<>();
    int n = batch.length;
    int[] items = new int[n];
    int[][] nbrs = new int[n][];
    double[][] sims = new double[n][];
    for (int i = 0; i < n; i++) {
      items[i] = train.get(batch[i])[0];
      nbrs[i] = trainNeighbours.ids()[batch[i]];
      sims[i] = trainNeighbours.sims()[batch[i]];
      ids.add(items[i]);
      for (int j : nbrs[i]) {
        ids.add(j);
      }
    }
    Forward l = new Forward(ids.stream().mapToInt(Integer::intValue).toArray(), model, x);
    double[][] g = l.outputGradients();
    double loss = MatryoshkaTerms.loss(l, items, nbrs, sims, widths, weights, config.pairWeight(),
        config.reconstructionWeight(), 1, g);
    l.backward(model, g, grad);
    return loss;
  }

  @Override
  double validate(Model model) {
    if (config.unsupervisedValidation() == UnsupervisedValidation.NEIGHBOURS) {
      return neighbourRecall(model);
    }
    // minus the similarity-preservation loss: the trained terms without reconstruction
    List<Integer> ids = new ArrayList<>();
    for (int i = 0; i < valItems.length; i++) {
      ids.add(valItems[i]);
      for (int j : valNeighbours.ids()[i]) {
        ids.add(j);
      }
    }
    Forward l = new Forward(ids.stream().mapToInt(Integer::intValue).toArray(), model, x);
    if (!l.finite()) {
      return Double.NaN;
    }
    double[][] g = l.outputGradients();
    return -MatryoshkaTerms.loss(l, valItems, valNeighbours.ids(), valNeighbours.sims(), widths, weights,
        config.pairWeight(), 0, 1, g) / weightSum;
  }

  /**
   * {@link UnsupervisedValidation#NEIGHBOURS}: for each validation text, the share of its top-k
   * full-width neighbours (among the validation texts, base model) that are also its top-k at
   * each width after the adapter ({@link RetrievalMetrics}' recall at k, every other validation
   * text retrieved), weighted mean over the widths.
   */
  private double neighbourRecall(Model model) {
    int m = valItems.length;
    int k = 0;
    for (int[] nbrs : valNeighbours.ids()) {
      k = Math.max(k, nbrs.length);
    }
    if (k == 0) {
      return 0;
    }
    // Document ids that sort in DESCENDING order of position: RetrievalMetrics ranks equal scores
    // by id descending, and so it keeps the earlier text first, as the trainer's top-k does.
    String[] docId = new String[m];
    Map<Integer, Integer> position = new HashMap<>();
    for (int j = 0; j < m; j++) {
      docId[j] = String.format(Locale.ROOT, "%010d", Integer.MAX_VALUE - j);
      position.put(valItems[j], j);
    }
    Forward l = new Forward(valItems, model, x);
    if (!l.finite()) { // ranks of NaN cosines would still give a number
      return Double.NaN;
    }
    int nw = widths.length;
    Losses.PrefixCos pc = new Losses.PrefixCos(nw);
    List<Integer> cutoff = List.of(k);
    String metric = "recall_at_" + k;
    double[] recall = new double[nw];
    for (int i = 0; i < m; i++) {
      Map<String, Integer> wanted = new HashMap<>();
      for (int t : valNeighbours.ids()[i]) {
        wanted.put(docId[position.get(t)], 1);
      }
      List<Map<String, Double>> runs = new ArrayList<>(nw);
      for (int w = 0; w < nw; w++) {
        runs.add(new HashMap<>(2 * m));
      }
      double[] yi = l.ys[l.of(valItems[i])];
      for (int j = 0; j < m; j++) {
        if (j != i) {
          pc.compute(yi, l.ys[l.of(valItems[j])], widths);
          for (int w = 0; w < nw; w++) {
            runs.get(w).put(docId[j], pc.cos[w]);
          }
        }
      }
      for (int w = 0; w < nw; w++) {
        recall[w] += RetrievalMetrics.evaluateQuery(wanted, runs.get(w), cutoff).get(metric);
      }
    }
    double score = 0;
    for (int w = 0; w < nw; w++) {
      score += weights[w] * recall[w] / m;
    }
    return score / weightSum;
  }
}
