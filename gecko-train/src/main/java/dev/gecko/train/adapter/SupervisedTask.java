package dev.gecko.train.adapter;

import dev.gecko.core.ProgressListener;
import java.util.ArrayList;
import java.util.List;

/**
 * What the supervised objectives share: a batch's loss is the objective's ranking loss over its
 * rows plus, with a structure weight, the {@link StructureRegulariser} over its distinct texts.
 * Not thread-safe.
 */
abstract class SupervisedTask extends ObjectiveTask {
  private StructureRegulariser structure;

  SupervisedTask(TrainerConfig config, int[] widths, double[] weights) {
    super(config, widths, weights);
  }

  @Override
  void start(List<float[]> vectors, double[][] x, ProgressListener progress) {
    super.start(vectors, x, progress);
    if (config.structureWeight() > 0) {
      structure = new StructureRegulariser(config, train, vectors, progress);
    }
  }

  @Override
  final double lossAndGrad(Model model, int[] batch, double[] grad) {
    List<Integer> ids = new ArrayList<>();
    for (int r : batch) {
      for (int id : train.get(r)) {
        ids.add(id);
      }
    }
    int[] texts = ids.stream().mapToInt(Integer::intValue).filter(id -> id >= 0).distinct().toArray();
    if (structure != null) {
      structure.addNeighbours(texts, ids);
    }
    Forward l = new Forward(ids.stream().mapToInt(Integer::intValue).toArray(), model, x);
    double[][] g = l.outputGradients();
    double loss = rankingLoss(l, batch, g);
    if (structure != null) {
      loss += structure.loss(l, texts, widths, weights, g);
    }
    l.backward(model, g, grad);
    return loss;
  }

  /**
   * Returns the objective's own loss over the training rows {@code batch} and adds its gradient
   * with respect to the outputs into {@code g}.
   */
  abstract double rankingLoss(Forward l, int[] batch, double[][] g);

  /** Returns the local indices in {@code l} of column {@code c} of the training rows {@code batch}. */
  final int[] column(Forward l, int[] batch, int c) {
    int[] out = new int[batch.length];
    for (int i = 0; i < batch.length; i++) {
      out[i] = l.of(train.get(batch[i])[c]);
    }
    return out;
  }
}
