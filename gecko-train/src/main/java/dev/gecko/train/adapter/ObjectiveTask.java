package dev.gecko.train.adapter;

import dev.gecko.core.ProgressListener;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What a training run does that depends on its {@link Objective}, chosen once by {@link #create}:
 * which examples it takes and how they become rows of vector ids (in the constructor, which also
 * assigns the texts their ids), the loss and gradient of a batch, and the validation score. One
 * subclass per objective; {@link Trainer} drives the rest (embedding, basis, optimiser, early
 * stopping) the same for all. One instance per run; not thread-safe.
 *
 * <p>Life: constructed from the data, {@link #start} once with the embedded vectors, then {@link
 * #lossAndGrad} and {@link #validate} as often as training needs.
 */
abstract class ObjectiveTask {
  final TrainerConfig config;
  /** The Matryoshka widths, ascending. */
  final int[] widths;
  /** Each width's weight. */
  final double[] weights;
  /** The sum of the weights: validation scores are weighted means over the widths. */
  final double weightSum;
  /** The training rows, one per training unit; {@link Trainer} batches their indices. */
  final List<int[]> train = new ArrayList<>();
  /** The training and validation examples kept (after the objective's checks and filters). */
  int trainExamples;
  int validationExamples;
  /** Every text's base vector in the basis (rows by vector id); set by {@link #start}. */
  double[][] x;

  ObjectiveTask(TrainerConfig config, int[] widths, double[] weights) {
    this.config = config;
    this.widths = widths;
    this.weights = weights;
    this.weightSum = Arrays.stream(weights).sum();
  }

  /**
   * Returns the task of the objective: checks the data against it, keeps the examples it trains
   * and validates on, and gives their texts ids in {@code texts} (training data first).
   *
   * @throws IllegalArgumentException if an example does not fit the objective (the message names
   *     its file and line), or a side is empty
   */
  static ObjectiveTask create(Objective objective, TrainerConfig config, int[] widths, double[] weights,
      TrainingData train, TrainingData validation, Texts texts) {
    return switch (objective) {
      case UNSUPERVISED -> new UnsupervisedTask(config, widths, weights, train, validation, texts);
      case COSENT -> new CosentTask(config, widths, weights, train, validation, texts);
      case CONTRASTIVE -> new ContrastiveTask(config, widths, weights, train, validation, texts);
    };
  }

  /**
   * Records how many examples each side kept.
   *
   * @throws IllegalArgumentException if either is empty
   */
  final void kept(TrainingData trainData, TrainingData validationData) {
    if (validationData.size() == 0) {
      throw new IllegalArgumentException("the validation split is empty: give more data, a larger validationFraction"
          + " or validationData");
    }
    if (trainData.size() == 0) {
      throw new IllegalArgumentException("the training split is empty");
    }
    trainExamples = trainData.size();
    validationExamples = validationData.size();
  }

  /**
   * Up to {@code max} of {@code items}, drawn with the run's seed and kept in their order: a
   * validation cap that takes the first rows would score only the start of a file sorted by
   * topic or source. All of them when there are no more than {@code max}.
   */
  final <T> List<T> validationSample(List<T> items) {
    int max = config.maxValidation();
    if (items.size() <= max) {
      return items;
    }
    int[] order = new int[items.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    new Rng(Rng.mix(config.seed() ^ 0x76616c6964L)).shuffle(order); // "valid": its own stream of the seed
    int[] chosen = Arrays.copyOf(order, max);
    Arrays.sort(chosen);
    List<T> sample = new ArrayList<>(max);
    for (int i : chosen) {
      sample.add(items.get(i));
    }
    return sample;
  }

  /**
   * What {@link #validate} measures, as the adapter's metadata records it: {@code spearman},
   * {@code mrr}, {@code similarity-preservation} or {@code neighbour-recall}.
   */
  abstract String validation();

  /**
   * Takes every text's vector: {@code vectors} as the base model gave them (full width, unit
   * length), {@code x} the same in double precision, which the caller rotates into the basis
   * after this call, in place. Objectives precompute neighbours or mine negatives here.
   */
  void start(List<float[]> vectors, double[][] x, ProgressListener progress) {
    this.x = x;
  }

  /**
   * Returns the loss of the training rows {@code batch} (indices into {@link #train}) and adds its
   * gradient with respect to the model's parameters into {@code grad}.
   */
  abstract double lossAndGrad(Model model, int[] batch, double[] grad);

  /**
   * Returns the validation score of the model (higher is better), as computed: a fraction for
   * Spearman, MRR and recall ({@link Trainer} reports it x 100).
   */
  abstract double validate(Model model);
}
