package dev.gecko.train.adapter;

import dev.gecko.core.ProgressListener;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.TaskType;
import dev.gecko.core.adapter.Adapter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Every setting of a {@link Trainer}, validated when constructed. Usually built with {@link
 * Trainer#builder()}, whose setters document each setting and its default; the canonical
 * constructor checks the same rules with the same messages, each naming the setting.
 *
 * <p>Immutable: {@code dims} and {@code dimWeights} are copied. It does not own what it refers to:
 * the {@code embedder}, if any, stays the caller's to close (after training), and the {@code
 * progress} listener is called on the thread that runs {@link Trainer#train()}. A config is
 * thread-safe to share; the embedder it names is as thread-safe as {@link GeckoEmbedder} is.
 *
 * @param baseModel the frozen base model (its adapter, if any, is ignored); required. Not used to
 *     open a model when {@code embedder} is given.
 * @param embedder an open embedder of the base model to use instead of opening one, or null; its
 *     model must have no adapter
 * @param data the training data; required
 * @param validationData a separate validation set, or null for a split of {@code data}
 * @param objective the objective, or null to follow the data (scored: COSENT, pairs: CONTRASTIVE,
 *     else UNSUPERVISED)
 * @param dims the Matryoshka widths, each {@code >= 1}, any order; empty for the full width, 256,
 *     128, 64, 32 (those not above the full width)
 * @param dimWeights the weight of a width's loss, each finite and {@code >= 0}; absent widths weigh 1
 * @param adapterKind the adapter's shape
 * @param basis the fixed basis the residual is trained in
 * @param unsupervisedValidation what an unsupervised adapter is validated on
 * @param hiddenSize the MLP's hidden width, {@code >= 0} (0: the model's width)
 * @param epochs the most epochs, {@code >= 1}
 * @param batchSize the mini-batch size, {@code >= 2}
 * @param learningRate the peak learning rate, finite and {@code > 0}
 * @param weightDecay AdamW's decoupled weight decay, finite and {@code >= 0}
 * @param warmupFraction the share of all steps spent warming up, in [0, 1)
 * @param schedule the decay after warm-up
 * @param seed the seed of the split, initialisation and batch order
 * @param validationFraction the validation share of the split, in (0, 1)
 * @param patience the epochs without a better validation score that end training, {@code >= 1}
 * @param temperature the softmax temperature of CONTRASTIVE, finite and {@code > 0}
 * @param cosentScale the CoSENT scale, finite and {@code > 0}
 * @param topK k of the unsupervised top-k neighbourhood, {@code >= 0}
 * @param pairWeight alpha, the weight of the all-pairs term, finite and {@code >= 0}
 * @param reconstructionWeight beta, the weight of the reconstruction term, finite and {@code >= 0}
 * @param structureWeight the weight of the Matryoshka-Adaptor terms added to a supervised loss,
 *     finite and {@code >= 0} (0: off)
 * @param positiveThreshold CONTRASTIVE on scored pairs: the least score of a positive; finite
 * @param mineHardNegatives CONTRASTIVE: whether rows without a negative get a mined one
 * @param hardNegativeRank the 0-based rank of a mined negative, {@code >= 0}
 * @param maxValidation the most validation rows (MRR) or texts (unsupervised) scored, {@code >= 1}
 * @param queryTaskType the task type anchors are rendered with, or null: RETRIEVAL_QUERY for
 *     retrieval rows ({@link TrainingData#hasQueryRows}), else the model's default prompt
 * @param documentTaskType the task type other texts are rendered with, or null: RETRIEVAL_DOCUMENT
 *     for retrieval rows, else the model's default prompt
 * @param cacheDir the embedding cache folder, or null for memory only
 * @param output the model folder to write; required
 * @param outputName the name in the written manifest, or null for the base name + {@code
 *     "-mrl-adapter"}; not blank
 * @param progress the progress listener, or null
 */
public record TrainerConfig(
    ModelPackage baseModel,
    GeckoEmbedder embedder,
    TrainingData data,
    TrainingData validationData,
    Objective objective,
    List<Integer> dims,
    Map<Integer, Double> dimWeights,
    Adapter.Kind adapterKind,
    Basis basis,
    UnsupervisedValidation unsupervisedValidation,
    int hiddenSize,
    int epochs,
    int batchSize,
    double learningRate,
    double weightDecay,
    double warmupFraction,
    Trainer.Schedule schedule,
    long seed,
    double validationFraction,
    int patience,
    double temperature,
    double cosentScale,
    int topK,
    double pairWeight,
    double reconstructionWeight,
    double structureWeight,
    double positiveThreshold,
    boolean mineHardNegatives,
    int hardNegativeRank,
    int maxValidation,
    TaskType queryTaskType,
    TaskType documentTaskType,
    Path cacheDir,
    Path output,
    String outputName,
    ProgressListener progress) {

  /**
   * Validates every setting and copies the collections.
   *
   * @throws NullPointerException if a required or non-nullable setting is null (the message names
   *     it)
   * @throws IllegalArgumentException if a setting is out of its range (the message names it and
   *     the value), or the embedder's model has an adapter or is not {@code baseModel} (by
   *     fingerprint, adapters aside)
   */
  public TrainerConfig {
    Objects.requireNonNull(baseModel, "baseModel is null");
    Objects.requireNonNull(data, "data is null");
    Objects.requireNonNull(output, "output is null");
    if (embedder != null) {
      checkEmbedder(embedder);
      if (!sameModel(embedder.model(), baseModel)) {
        throw new IllegalArgumentException("the embedder runs " + embedder.model().name() + " but baseModel is "
            + baseModel.name() + ": training would use the embedder's model under the other's name");
      }
    }
    dims = List.copyOf(Objects.requireNonNull(dims, "dims is null"));
    for (int d : dims) {
      checkWidth(d);
    }
    dimWeights = Map.copyOf(Objects.requireNonNull(dimWeights, "dimWeights is null"));
    dimWeights.forEach(TrainerConfig::checkDimWeight);
    Objects.requireNonNull(adapterKind, "adapterKind is null");
    Objects.requireNonNull(basis, "basis is null");
    Objects.requireNonNull(unsupervisedValidation, "unsupervisedValidation is null");
    Objects.requireNonNull(schedule, "schedule is null");
    atLeast(hiddenSize, 0, "hiddenSize");
    atLeast(epochs, 1, "epochs");
    atLeast(batchSize, 2, "batchSize");
    positive(learningRate, "learningRate");
    nonNegative(weightDecay, "weightDecay");
    checkWarmupFraction(warmupFraction);
    checkValidationFraction(validationFraction);
    atLeast(patience, 1, "patience");
    positive(temperature, "temperature");
    positive(cosentScale, "cosentScale");
    atLeast(topK, 0, "topK");
    nonNegative(pairWeight, "pairWeight");
    nonNegative(reconstructionWeight, "reconstructionWeight");
    nonNegative(structureWeight, "structureWeight");
    checkPositiveThreshold(positiveThreshold);
    atLeast(hardNegativeRank, 0, "hardNegativeRank");
    atLeast(maxValidation, 1, "maxValidation");
    if (outputName != null) {
      checkOutputName(outputName);
    }
  }

  // The rules, shared with Trainer.Builder's setters so that both say the same.

  /**
   * Whether {@code a} and {@code b} are one model, their adapters aside (the base model's is
   * ignored): the same package, or equal fingerprints (weights, tokenizer and settings), whatever
   * their names.
   */
  static boolean sameModel(ModelPackage a, ModelPackage b) {
    if (a == b) {
      return true;
    }
    ModelPackage bare = a.adapter().isPresent() ? a.toBuilder().adapter(null).build() : a;
    ModelPackage other = b.adapter().isPresent() ? b.toBuilder().adapter(null).build() : b;
    return bare.fingerprint().equals(other.fingerprint());
  }

  static GeckoEmbedder checkEmbedder(GeckoEmbedder embedder) {
    Objects.requireNonNull(embedder, "embedder is null");
    if (embedder.model().adapter().isPresent()) {
      throw new IllegalArgumentException("the embedder's model already has an adapter; give the base model");
    }
    return embedder;
  }

  static int checkWidth(int width) {
    if (width < 1) {
      throw new IllegalArgumentException("dims: every width must be >= 1, was " + width);
    }
    return width;
  }

  static double checkDimWeight(int width, double weight) {
    if (!(weight >= 0) || Double.isInfinite(weight)) {
      throw new IllegalArgumentException("dimWeights: the weight of width " + width + " must be finite and >= 0, was "
          + weight);
    }
    return weight;
  }

  static double checkWarmupFraction(double fraction) {
    if (!(fraction >= 0 && fraction < 1)) {
      throw new IllegalArgumentException("warmupFraction must be in [0, 1), was " + fraction);
    }
    return fraction;
  }

  static double checkValidationFraction(double fraction) {
    if (!(fraction > 0 && fraction < 1)) {
      throw new IllegalArgumentException("validationFraction must be in (0, 1), was " + fraction);
    }
    return fraction;
  }

  static double checkPositiveThreshold(double score) {
    if (!Double.isFinite(score)) {
      throw new IllegalArgumentException("positiveThreshold must be finite, was " + score);
    }
    return score;
  }

  static String checkOutputName(String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("outputName must be a non-empty string");
    }
    return name;
  }

  static int atLeast(int v, int min, String name) {
    if (v < min) {
      throw new IllegalArgumentException(name + " must be >= " + min + ", was " + v);
    }
    return v;
  }

  static double positive(double v, String name) {
    if (!(v > 0) || Double.isInfinite(v)) {
      throw new IllegalArgumentException(name + " must be finite and > 0, was " + v);
    }
    return v;
  }

  static double nonNegative(double v, String name) {
    if (!(v >= 0) || Double.isInfinite(v)) {
      throw new IllegalArgumentException(name + " must be finite and >= 0, was " + v);
    }
    return v;
  }
}
