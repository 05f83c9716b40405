package dev.gecko.train.adapter;

import dev.gecko.core.ProgressListener;
import java.util.Arrays;
import java.util.List;

/**
 * The structure regulariser of the supervised objectives ({@link TrainerConfig#structureWeight()}
 * {@code > 0}): the Matryoshka-Adaptor terms over a batch's distinct texts, each text's neighbours
 * its top-k among all training texts at full width, times the structure weight. Not thread-safe.
 */
final class StructureRegulariser {
  private final TrainerConfig config;
  private final SimilarTexts.Neighbours neighbours;
  /** A vector id's row in {@link #neighbours}, -1 for texts outside the training rows. */
  private final int[] index;

  /** Precomputes the neighbours of every text of the training rows ({@code -1}: absent). */
  StructureRegulariser(TrainerConfig config, List<int[]> train, List<float[]> vectors, ProgressListener progress) {
    this.config = config;
    int[] items = train.stream().flatMapToInt(Arrays::stream).filter(id -> id >= 0).distinct().toArray();
    neighbours = SimilarTexts.among(items, vectors, Math.min(config.topK(), items.length - 1), progress);
    index = new int[vectors.size()];
    Arrays.fill(index, -1);
    for (int i = 0; i < items.length; i++) {
      index[items[i]] = i;
    }
  }

  /** Adds the neighbours of the batch's texts (vector ids) to the ids the forward pass needs. */
  void addNeighbours(int[] texts, List<Integer> ids) {
    for (int id : texts) {
      for (int j : neighbours.ids()[index[id]]) {
        ids.add(j);
      }
    }
  }

  /** Returns the regulariser's loss over the batch's texts and adds its gradient into {@code g}. */
  double loss(Forward l, int[] texts, int[] widths, double[] weights, double[][] g) {
    int n = texts.length;
    int[][] nbrs = new int[n][];
    double[][] sims = new double[n][];
    for (int i = 0; i < n; i++) {
      nbrs[i] = neighbours.ids()[index[texts[i]]];
      sims[i] = neighbours.sims()[index[texts[i]]];
    }
    return MatryoshkaTerms.loss(l, texts, nbrs, sims, widths, weights, config.pairWeight(),
        config.reconstructionWeight(), config.structureWeight(), g);
  }
}
