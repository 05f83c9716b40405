package dev.gecko.train.adapter;

/**
 * {@link Objective#COSENT}: scored pairs, the CoSENT loss ({@link Losses#cosent}) at every width;
 * validated by Spearman on every validation pair. Not thread-safe.
 */
final class CosentTask extends SupervisedTask {
  private final ScoredPairs trainPairs;
  private final ScoredPairs validation;

  CosentTask(TrainerConfig config, int[] widths, double[] weights, TrainingData trainData,
      TrainingData validationData, Texts texts) {
    super(config, widths, weights);
    ScoredPairs.require(trainData, "training data");
    ScoredPairs.require(validationData, "validation data");
    kept(trainData, validationData);
    trainPairs = ScoredPairs.of(trainData, texts).requireOrderable("training data");
    validation = ScoredPairs.of(validationData, texts).requireOrderable("validation data");
    train.addAll(trainPairs.rows);
  }

  @Override
  String validation() {
    return "spearman";
  }

  @Override
  double rankingLoss(Forward l, int[] batch, double[][] g) {
    double[] label = new double[batch.length];
    for (int i = 0; i < batch.length; i++) {
      label[i] = trainPairs.scores[batch[i]];
    }
    return Losses.cosent(l.ys, column(l, batch, 0), column(l, batch, 1), label, widths, weights,
        config.cosentScale(), g);
  }

  @Override
  double validate(Model model) {
    // Spearman is cheap: every scored validation pair counts (no maxValidation cap).
    return validation.spearman(model, x, widths, weights, weightSum);
  }
}
