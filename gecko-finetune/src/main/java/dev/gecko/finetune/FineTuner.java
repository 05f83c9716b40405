package dev.gecko.finetune;

import dev.gecko.core.InvalidDataException;
import dev.gecko.core.ModelLoadException;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.ProgressListener;
import dev.gecko.core.TaskType;
import dev.gecko.core.internal.model.ModelFolderWriter;
import dev.gecko.finetune.internal.Loop;
import dev.gecko.finetune.internal.ModelWriter;
import dev.gecko.train.adapter.Basis;
import dev.gecko.train.adapter.TrainingData;
import dev.gecko.train.adapter.TrainingExample;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Fine-tunes a whole BERT-family encoder (bge-small-en-v1.5, all-MiniLM-L6-v2, e5-small-v2, a
 * sentence-transformers ONNX folder) on the CPU with DJL's PyTorch engine, and writes a model
 * folder that {@code GeckoEmbedder} and every CLI command load: the package's own ONNX graph with
 * the trained weights written into its initializers, the tokenizer, and a manifest with
 * provenance.
 *
 * <pre>{@code
 * FineTuneResult r = FineTuner.builder()
 *     .baseModel("bge-small-en-v1.5")
 *     .data(TrainingData.read(Path.of("pairs.train.tsv")))
 *     .validation(TrainingData.read(Path.of("pairs.dev.tsv")))
 *     .objective(FineTuneObjective.COSENT)
 *     .dims(384, 256, 128, 64)
 *     .output(Path.of("bge-sts"))
 *     .progress(p -> System.err.println(p))
 *     .build()
 *     .train();
 * }</pre>
 *
 * <p>Thread-safety: one {@link #train()} at a time in a JVM, on any thread. DJL's PyTorch gradient
 * collector is process-wide, so a {@link #train()} called while another is running (of this or
 * another {@code FineTuner}, on any thread, or from a progress listener) does not wait: it throws
 * an {@link IllegalStateException} at once, before any work, and the running one goes on
 * undisturbed. It owns no resource between calls: each {@link #train()} opens the engine's native
 * arrays and frees them before it returns.
 *
 * <p>No network: DJL's engine class calls home in its static initializer (the AWS metadata
 * address 169.254.169.254, and an S3 telemetry URL on EC2) unless {@code OPT_OUT_TRACKING} or DJL's
 * offline mode is set. So {@link #train()}, before it starts the engine, sets the system property
 * {@code OPT_OUT_TRACKING=true} where neither the environment variable nor the system property
 * {@code OPT_OUT_TRACKING} is set and DJL's offline mode ({@code ai.djl.offline}, {@code
 * DJL_OFFLINE}) is off, and logs that once at DEBUG through {@code System.Logger}; an explicit
 * value, {@code false} included, is respected. It is the only system property this module sets.
 * (Code that initialises DJL's engine earlier in the same class loader, outside this module, calls
 * home before that unless the application opted out.)
 */
public final class FineTuner {
  private final ModelPackage base;
  private final TrainingData data;
  private final TrainingData validation;
  private final FineTuneConfig config;
  private final ProgressListener progress;
  /**
   * The thread whose {@link #train()} is running in this JVM, null when none: DJL's PyTorch
   * gradient collector is one per process (a second one open at once throws), so two runs at once
   * would fail part-way, whichever opened its collector second.
   */
  private static final AtomicReference<Thread> RUNNING = new AtomicReference<>();

  private FineTuner(Builder b, FineTuneConfig config) {
    this.base = b.base;
    this.data = b.data;
    this.validation = b.validation;
    this.config = config;
    this.progress = b.progress;
  }

  /** Returns a new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns the validated settings. */
  public FineTuneConfig config() {
    return config;
  }

  /**
   * Trains and writes the model folder. A step whose loss or gradient is not finite is skipped
   * with the weights unchanged, and a validation whose vectors hold NaN or an infinity scores its
   * step NaN (never the best): each is a warning through {@code System.Logger} naming the step, and
   * training goes on (see {@link FineTuneResult}).
   *
   * @throws IOException if a file cannot be read or written
   * @throws ModelLoadException if the engine or the model cannot be loaded
   * @throws IllegalStateException if another {@code train()} is running in this JVM (thrown at once,
   *     before any work; see the class comment), or if training diverged: ten steps in a row were
   *     skipped
   * @throws dev.gecko.eval.UndefinedScoreException if the base model, before any training, gives
   *     every STS validation pair the same similarity (no step could be scored)
   * @throws InvalidDataException if the training rows, once read as the objective reads them, cannot
   *     train it: CoSENT rows that all have one score, GECKO rows of which fewer than two stay
   *     positives above {@code positiveThreshold}, MRL-distill data of fewer than three distinct
   *     texts (checked before the first step, after tokenising)
   * @throws IllegalStateException also if the base model's own validation vectors are not finite
   *     (step 0, before any update)
   */
  public FineTuneResult train() throws IOException {
    Thread self = Thread.currentThread();
    Thread running = RUNNING.compareAndExchange(null, self);
    if (running != null) {
      throw new IllegalStateException("another FineTuner.train() is running in this JVM ("
          + (running == self ? "on this thread: called from its progress listener?" : "on thread \""
          + running.getName() + "\"") + "): DJL's PyTorch gradient collector is process-wide, so only one train() "
          + "can run at a time; call it again after that one returns, or train in another JVM");
    }
    try {
      return new Loop(base, data, validation, config, progress).run();
    } finally {
      RUNNING.set(null);
    }
  }

  /** Builds a {@link FineTuner}; each setter validates at once, {@link #build()} the whole. Reusable; not thread-safe. */
  public static final class Builder {
    private ModelPackage base;
    private TrainingData data;
    private TrainingData validation;
    private FineTuneObjective objective;
    private final List<Integer> dims = new ArrayList<>();
    private final TreeMap<Integer, Double> dimWeights = new TreeMap<>();
    private int epochs = 1;
    private int batchSize = 64;
    private int miniBatchSize = 32;
    private int maxLength = 128;
    private double learningRate = 2e-5;
    private double warmupRatio = 0.1;
    private double weightDecay = 0.01;
    private double maxGradNorm = 1.0;
    private double temperature = 0.05;
    private boolean temperatureSet;
    private boolean positiveThresholdSet;
    private double cosentScale = 20;
    private double positiveThreshold = 4;
    private boolean allHardNegatives;
    private PromptStyle promptStyle = PromptStyle.AUTO;
    private boolean freezeEmbeddings;
    private double baseAverage;
    private long seed = 42;
    private int validateEvery = 100;
    private int patience;
    private boolean keepBest = true;
    private int checkpointEvery;
    private boolean resume;
    private Path output;
    private boolean quantizeInt8;
    private Path teacherCache;
    private int neighbourGroup;
    private boolean reorderDims;
    private Basis basis = Basis.IDENTITY;
    private TaskType basisTask;
    private boolean distillQueries;
    private ProgressListener progress = ProgressListener.none();

    private Builder() {}

    /**
     * The model to start from: a built-in name or a model folder.
     *
     * @throws IllegalArgumentException if it is neither
     */
    public Builder baseModel(String nameOrPath) {
      return baseModel(ModelPackage.resolve(Objects.requireNonNull(nameOrPath, "baseModel is null")));
    }

    /** The model to start from. */
    public Builder baseModel(ModelPackage pkg) {
      this.base = Objects.requireNonNull(pkg, "baseModel is null");
      return this;
    }

    /**
     * The training data ({@link TrainingData#read(Path)} reads FRet {@code examples.jsonl}, scored
     * pairs, corpora).
     *
     * @throws InvalidDataException if it holds no examples
     */
    public Builder data(TrainingData data) {
      Objects.requireNonNull(data, "data is null");
      if (data.size() == 0) {
        throw new InvalidDataException("training data", 0, "no examples");
      }
      this.data = data;
      return this;
    }

    /** Validation data; null: a seeded 10% of the training data is held out. */
    public Builder validation(TrainingData validation) {
      this.validation = validation;
      return this;
    }

    /** The loss; null (default): follows the data (scores: COSENT, pairs: GECKO, texts: MRL_DISTILL). */
    public Builder objective(FineTuneObjective objective) {
      this.objective = objective;
      return this;
    }

    /**
     * The Matryoshka widths (the model's full width is added when missing).
     *
     * @throws IllegalArgumentException if a width is below 1 or repeated
     */
    public Builder dims(int... widths) {
      dims.clear();
      for (int w : widths) {
        if (w < 1) {
          throw new IllegalArgumentException("a Matryoshka width must be >= 1, was " + w);
        }
        if (dims.contains(w)) {
          throw new IllegalArgumentException("Matryoshka width " + w + " given twice");
        }
        dims.add(w);
      }
      return this;
    }

    /**
     * The weight of one width's loss (default 1); 0 leaves the width out of the loss and the
     * validation score, and {@link #build()} refuses weights that are 0 for every width.
     */
    public Builder dimWeight(int width, double weight) {
      if (!(weight >= 0) || Double.isInfinite(weight)) {
        throw new IllegalArgumentException("a width's weight must be finite and >= 0, was " + weight);
      }
      dimWeights.put(width, weight);
      return this;
    }

    /** Passes over the data (default 1). */
    public Builder epochs(int epochs) {
      this.epochs = positive(epochs, "epochs");
      return this;
    }

    /** Rows per step (default 64): the in-batch negatives. */
    public Builder batchSize(int batchSize) {
      if (batchSize < 2) {
        throw new IllegalArgumentException("batchSize must be >= 2 (in-batch losses), was " + batchSize);
      }
      this.batchSize = batchSize;
      return this;
    }

    /** Texts per forward pass (default 32); gradient caching keeps the gradients of the whole batch. */
    public Builder miniBatchSize(int miniBatchSize) {
      this.miniBatchSize = positive(miniBatchSize, "miniBatchSize");
      return this;
    }

    /** The most tokens per training text (default 128; at most the model's maximum). */
    public Builder maxLength(int maxLength) {
      if (maxLength < 2) {
        throw new IllegalArgumentException("maxLength must be >= 2, was " + maxLength);
      }
      this.maxLength = maxLength;
      return this;
    }

    /** The peak learning rate (default 2e-5). */
    public Builder learningRate(double lr) {
      this.learningRate = positiveFinite(lr, "learningRate");
      return this;
    }

    /** The warm-up share of the steps (default 0.1). */
    public Builder warmupRatio(double ratio) {
      if (!(ratio >= 0 && ratio < 1)) {
        throw new IllegalArgumentException("warmupRatio must be in [0, 1), was " + ratio);
      }
      this.warmupRatio = ratio;
      return this;
    }

    /** Decoupled weight decay (default 0.01). */
    public Builder weightDecay(double wd) {
      if (!(wd >= 0) || Double.isInfinite(wd)) {
        throw new IllegalArgumentException("weightDecay must be finite and >= 0, was " + wd);
      }
      this.weightDecay = wd;
      return this;
    }

    /** Global gradient-norm clipping (default 1; 0 for none). */
    public Builder maxGradNorm(double norm) {
      if (!(norm >= 0) || Double.isInfinite(norm)) {
        throw new IllegalArgumentException("maxGradNorm must be finite and >= 0, was " + norm);
      }
      this.maxGradNorm = norm;
      return this;
    }

    /**
     * The softmax temperature of GECKO and MRL_DISTILL (default 0.05); {@link #build()} refuses it
     * with COSENT, whose scale is another setting.
     */
    public Builder temperature(double tau) {
      this.temperature = positiveFinite(tau, "temperature");
      this.temperatureSet = true;
      return this;
    }

    /**
     * The score threshold that makes a scored pair a positive for GECKO (default 4); {@link #build()}
     * refuses it with another objective, which uses no such threshold.
     */
    public Builder positiveThreshold(double threshold) {
      if (!Double.isFinite(threshold)) {
        throw new IllegalArgumentException("positiveThreshold must be finite");
      }
      this.positiveThreshold = threshold;
      this.positiveThresholdSet = true;
      return this;
    }

    /**
     * Every row's hard negative in each row's softmax (sentence-transformers), not only its own
     * (default: own). GECKO only: {@link #build()} refuses it with another objective.
     */
    public Builder allHardNegatives(boolean all) {
      this.allHardNegatives = all;
      return this;
    }

    /** How texts are rendered (default {@link PromptStyle#AUTO}). */
    public Builder promptStyle(PromptStyle style) {
      this.promptStyle = Objects.requireNonNull(style, "promptStyle is null");
      return this;
    }

    /** Leaves the embedding layer untouched (default false). */
    public Builder freezeEmbeddings(boolean freeze) {
      this.freezeEmbeddings = freeze;
      return this;
    }

    /** After training, {@code w = (1 - share) w_trained + share w_base} (default 0). */
    public Builder baseAverage(double share) {
      if (!(share >= 0 && share < 1)) {
        throw new IllegalArgumentException("baseAverage must be in [0, 1), was " + share);
      }
      this.baseAverage = share;
      return this;
    }

    /** The seed (default 42). */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Validates every this many steps (default 100). */
    public Builder validateEvery(int steps) {
      this.validateEvery = positive(steps, "validateEvery");
      return this;
    }

    /**
     * Writes the weights of the best validation, the base's if none beat it (default true); false: the
     * last weights. A step scored NaN (its validation vectors were not finite) is never the best.
     */
    public Builder keepBest(boolean keep) {
      this.keepBest = keep;
      return this;
    }

    /** Stops after this many validations without improvement (default 0: never). */
    public Builder patience(int validations) {
      if (validations < 0) {
        throw new IllegalArgumentException("patience must be >= 0, was " + validations);
      }
      this.patience = validations;
      return this;
    }

    /** Writes a resumable checkpoint every this many steps (default 0: never). */
    public Builder checkpointEvery(int steps) {
      if (steps < 0) {
        throw new IllegalArgumentException("checkpointEvery must be >= 0, was " + steps);
      }
      this.checkpointEvery = steps;
      return this;
    }

    /**
     * Continues from the output folder's checkpoint (default false). {@link #build()} refuses a
     * checkpoint written by a run with another base model, other data or other settings that
     * decide the run's course (it names each one that differs), the mini-batch size among them
     * (gradient caching gives the whole batch's gradients only up to rounding, so another value
     * would not end with the uninterrupted run's weights); validation and checkpoint cadence,
     * patience, quantisation, the teacher cache and base averaging may change.
     */
    public Builder resume(boolean resume) {
      this.resume = resume;
      return this;
    }

    /**
     * The model folder to write; required. New, empty, or a run's earlier output (one that holds
     * a training manifest or a checkpoint); other files there are left as they are. See {@link
     * #build()} for what is refused.
     */
    public Builder output(Path dir) {
      this.output = Objects.requireNonNull(dir, "output is null");
      return this;
    }

    /** Also writes an int8 twin in {@code output/int8} (default false). */
    public Builder quantizeInt8(boolean int8) {
      this.quantizeInt8 = int8;
      return this;
    }

    /**
     * Where the base model's vectors are cached (default: memory only): the teacher of MRL_DISTILL,
     * and the vectors {@link #reorderDims(boolean)} and a {@link #basis(Basis)} are computed from.
     * {@link #build()} refuses it where none of them is used.
     */
    public Builder teacherCache(Path dir) {
      this.teacherCache = dir;
      return this;
    }

    /**
     * For {@link FineTuneObjective#MRL_DISTILL}: makes each batch of groups of {@code size} texts
     * that are nearest neighbours under the teacher (a seeded random text and its nearest unused
     * ones), so that batches hold the fine distinctions a small width must keep, not mostly
     * unrelated texts. 0 (default): random batches. The batch size should be a multiple of it
     * (training warns when it is not).
     *
     * @throws IllegalArgumentException if 1 or negative
     */
    public Builder neighbourGroup(int size) {
      if (size < 0 || size == 1) {
        throw new IllegalArgumentException("neighbourGroup must be 0 (off) or >= 2, was " + size);
      }
      this.neighbourGroup = size;
      return this;
    }

    /**
     * Before training, orders the encoder's hidden coordinates (its residual stream) by their
     * variance over the base model's full-width vectors of the training texts, most varying
     * first. Permuting them in every weight is an exact symmetry of the network: the full-width
     * vectors are the same up to the order of their coordinates, while each Matryoshka prefix
     * starts from the coordinates that tell the texts apart most (bge-small-en-v1.5 truncated to 64
     * on ArguAna without training: nDCG@10 42.97 as exported, 45.88 reordered). The written model
     * keeps the new order. Costs one ONNX Runtime pass over the run's texts, training and
     * validation (the same pass as MRL_DISTILL's teacher vectors); only the training texts decide
     * the order. Default: off.
     */
    public Builder reorderDims(boolean reorder) {
      this.reorderDims = reorder;
      return this;
    }

    /**
     * The fixed orthonormal output basis {@code B} (rows are axes) the model is trained through:
     * every loss and validation sees {@code B u} for the pooled vector {@code u}, and the written
     * package carries {@code B} as its adapter (an {@code Adapter} with this basis and a zero
     * residual), so {@code GeckoEmbedder} serves exactly what was trained. {@link
     * Basis#PRINCIPAL_AXES}: the principal axes of the base model's full-width vectors of the
     * training texts (no validation text), computed once before training (and again, the same,
     * on resume). A rotation leaves every full-width similarity unchanged; only what each
     * Matryoshka prefix keeps changes, and it keeps the most that a rotation can (bge-small-en-v1.5
     * on ArguAna without training, nDCG@10 at 128 / 64: 53.24 / 42.97 as exported, 57.60 / 52.30
     * on the corpus's principal axes). Costs one ONNX Runtime pass over the run's texts (the same
     * as MRL_DISTILL's teacher vectors). Makes {@link #reorderDims(boolean)} redundant (a permutation of the
     * hidden coordinates then changes nothing), so the two are refused together. Default: {@link
     * Basis#IDENTITY} (no adapter is written).
     */
    public Builder basis(Basis basis) {
      this.basis = Objects.requireNonNull(basis, "basis is null");
      return this;
    }

    /**
     * The task the training texts are rendered for (the base package's prompt for it) when the
     * {@linkplain #basis(Basis) basis} is fit; null (the default): as the objective renders them,
     * which for {@link FineTuneObjective#MRL_DISTILL} is as documents (and as queries too with
     * {@link #distillQueries(boolean)}). Retrieval compares queries
     * with documents, and a query's part beyond the first {@code m} axes is what truncation to
     * {@code m} loses from every query-document score, so the axes of the texts rendered as queries
     * ({@link TaskType#RETRIEVAL_QUERY}) can keep more at small widths when the model prompts
     * queries differently (bge-small-en-v1.5 on ArguAna without training, nDCG@10 at 128 / 64:
     * 57.60 / 52.30 on the corpus's axes as documents, 58.42 / 54.61 as queries;
     * docs/finetuning.md). Only with a basis other than {@link Basis#IDENTITY} and the
     * MRL_DISTILL objective (whose rows are plain texts without a role of their own).
     */
    public Builder basisTask(TaskType task) {
      this.basisTask = task;
      return this;
    }

    /**
     * For {@link FineTuneObjective#MRL_DISTILL}: distil how each text, rendered as a query (the
     * base package's prompt for {@link TaskType#RETRIEVAL_QUERY}), scores against the batch's other
     * texts rendered as documents, rather than documents against documents. The teacher's
     * distribution is the base model's over the same pairs at full width. Retrieval ranks
     * documents for a query, and when the model prompts queries differently from documents the two
     * distributions differ; this trains the one retrieval uses. Each row then holds two texts, so a
     * step costs about twice the encoder work of the default. Default: false.
     */
    public Builder distillQueries(boolean distillQueries) {
      this.distillQueries = distillQueries;
      return this;
    }

    /** Receives progress: phase "training", unit "steps", metrics loss, tokens/s, validation. */
    public Builder progress(ProgressListener listener) {
      this.progress = Objects.requireNonNull(listener, "progress is null");
      return this;
    }

    /**
     * Validates the whole and builds. The model's graph is read here, and the output folder is
     * created and checked for writing, so that settings and files are not refused after training
     * started; what the rows hold as a whole (their scores' spread, how many are positives) is
     * checked by {@link FineTuner#train()} before its first step.
     *
     * @throws IllegalStateException if the base model, data or output is missing
     * @throws InvalidDataException if a row does not suit the objective (naming file and line), or,
     *     with {@code resume}, the checkpoint is damaged or truncated (naming it)
     * @throws IllegalArgumentException if a width exceeds the model's, every width's weight is 0, a
     *     setting was given that the objective never uses (each setter says which), or the output
     *     folder is a file, holds a model no training run wrote (a base model's folder), or holds
     *     other files and no sign of a run (neither a training manifest nor a checkpoint)
     * @throws ModelLoadException if the model cannot be loaded; an {@link UnsupportedModelException}
     *     if it is not a BERT-like graph this trainer recognises (an int8 graph among them)
     * @throws UncheckedIOException if the output folder cannot be created or written
     */
    public FineTuner build() {
      if (base == null || data == null || output == null) {
        throw new IllegalStateException("baseModel, data and output are required; not set: " + String.join(", ",
            java.util.stream.Stream.of(base == null ? "baseModel" : null, data == null ? "data" : null,
                output == null ? "output" : null)
                .filter(java.util.Objects::nonNull).toList()));
      }
      FineTuneObjective obj = objective != null ? objective
          : data.allScored() ? FineTuneObjective.COSENT
          : data.allPaired() ? FineTuneObjective.GECKO : FineTuneObjective.MRL_DISTILL;
      checkRows(data, obj, "training data");
      if (validation != null && validation.size() > 0 && !(obj == FineTuneObjective.GECKO && validation.allScored())) {
        checkRows(validation, obj, "validation data");
      }
      int width = Loop.width(base);
      List<Integer> widths = new ArrayList<>(dims.isEmpty() ? List.of(width) : dims);
      for (int w : widths) {
        if (w > width) {
          throw new IllegalArgumentException("Matryoshka width " + w + " exceeds the model's width " + width + " ("
              + base.name() + ")");
        }
      }
      if (!widths.contains(width)) {
        widths.add(width);
      }
      widths.sort((a, b) -> Integer.compare(b, a));
      for (int w : dimWeights.keySet()) {
        if (!widths.contains(w)) {
          throw new IllegalArgumentException("a weight was given for width " + w + ", which is not trained " + widths);
        }
      }
      List<Double> weights = new ArrayList<>();
      TreeMap<Integer, Double> byWidth = new TreeMap<>(java.util.Collections.reverseOrder());
      for (int w : widths) {
        weights.add(dimWeights.getOrDefault(w, 1.0));
        byWidth.put(w, weights.get(weights.size() - 1));
      }
      if (weights.stream().noneMatch(x -> x > 0)) { // the loss would be 0 and only weight decay would move the model
        throw new IllegalArgumentException("every Matryoshka width's weight is 0 " + byWidth + ": the loss would "
            + "always be 0 (and validation scores 0/0); give at least one width a weight > 0");
      }
      if (batchSize < Loop.minBatch(obj)) { // only mrl-distill asks more than the setter's 2
        throw new IllegalArgumentException("batchSize " + batchSize + " is too small for " + obj + ": each text's "
            + "in-batch distribution is over the other texts, so with 2 it has a single candidate and the loss is "
            + "always 0; use 3 or more (default 64)");
      }
      if (temperatureSet && obj == FineTuneObjective.COSENT) {
        throw new IllegalArgumentException("temperature applies to the GECKO and MRL_DISTILL objectives, not COSENT");
      }
      if (positiveThresholdSet && obj != FineTuneObjective.GECKO) {
        throw new IllegalArgumentException("positiveThreshold applies to the GECKO objective only, not " + obj);
      }
      if (teacherCache != null && obj != FineTuneObjective.MRL_DISTILL && !reorderDims && basis == Basis.IDENTITY) {
        throw new IllegalArgumentException("teacherCache holds the base model's vectors for the mrl-distill objective,"
            + " reorderDims or a basis other than IDENTITY; with " + obj + " and none of them it would never be"
            + " used");
      }
      if (allHardNegatives && obj != FineTuneObjective.GECKO) {
        throw new IllegalArgumentException("allHardNegatives applies to the GECKO objective only, not " + obj);
      }
      if (neighbourGroup > 0 && obj != FineTuneObjective.MRL_DISTILL) {
        throw new IllegalArgumentException("neighbourGroup applies to the mrl-distill objective only, not " + obj);
      }
      if (neighbourGroup > batchSize) {
        throw new IllegalArgumentException("neighbourGroup " + neighbourGroup + " exceeds the batch size " + batchSize);
      }
      if (reorderDims && basis != Basis.IDENTITY) {
        throw new IllegalArgumentException("reorderDims and basis " + basis + " together: the basis already "
            + "orders the output, so reordering the hidden coordinates would change nothing; choose one");
      }
      if (basisTask != null && (basis == Basis.IDENTITY || obj != FineTuneObjective.MRL_DISTILL)) {
        throw new IllegalArgumentException("basisTask " + basisTask + " applies to a basis other than IDENTITY with "
            + "the mrl-distill objective, not basis " + basis + " with " + obj);
      }
      if (distillQueries && obj != FineTuneObjective.MRL_DISTILL) {
        throw new IllegalArgumentException("distillQueries applies to the mrl-distill objective only, not " + obj);
      }
      if (base.adapter().isPresent()) {
        throw new IllegalArgumentException("the base model " + base.name() + " carries an adapter ("
            + base.adapter().get() + "): fine-tuning through it is not supported (the teacher, the losses and the "
            + "written folder would drop it); start from the model without its adapter");
      }
      checkWritable(output, base, resume);
      FineTuneConfig config = new FineTuneConfig(obj, widths, weights, epochs, batchSize, miniBatchSize,
          Math.min(maxLength, base.maxTokens()), learningRate, warmupRatio, weightDecay, maxGradNorm, temperature,
          cosentScale, positiveThreshold, allHardNegatives, promptStyle, freezeEmbeddings, baseAverage, seed,
          validateEvery, keepBest, patience, checkpointEvery, resume, output, quantizeInt8, teacherCache,
          neighbourGroup, reorderDims, basis, basisTask, distillQueries);
      if (resume) {
        try {
          Loop.checkResumable(base, data, validation, config);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read the checkpoint in " + output + ": " + e.getMessage(), e);
        }
      }
      return new FineTuner(this, config);
    }

    private static void checkRows(TrainingData d, FineTuneObjective obj, String what) {
      for (int i = 0; i < d.size(); i++) {
        TrainingExample e = d.examples().get(i);
        // rows read from a file name their file and line; rows built in code, their place and anchor
        String where = e.source() != null ? e.source() : what;
        String row = e.source() != null ? "this row" : "row " + (i + 1) + " of " + d.size() + " (anchor \""
            + (e.anchor().length() > 60 ? e.anchor().substring(0, 60) + "..." : e.anchor()) + "\")";
        if ((obj == FineTuneObjective.GECKO || obj == FineTuneObjective.COSENT) && e.positive() == null) {
          throw invalid(where, "the " + obj + " objective needs a positive in every row (anchor/positive or "
              + "sentence1/sentence2); " + row + " has none");
        }
        if (obj == FineTuneObjective.COSENT && e.score() == null) {
          throw invalid(where, "the COSENT objective needs a score in every row; " + row + " has none");
        }
      }
    }

    private static InvalidDataException invalid(String where, String reason) {
      int colon = where.lastIndexOf(':');
      if (colon > 0) {
        try {
          return new InvalidDataException(where.substring(0, colon), Integer.parseInt(where.substring(colon + 1)), reason);
        } catch (NumberFormatException e) {
          // not file:line
        }
      }
      return new InvalidDataException(where, 0, reason);
    }

    private static void checkWritable(Path dir, ModelPackage base, boolean resume) {
      // new, empty, an earlier run's output or what an interrupted one left (its checkpoint, or
      // the checkpoint's temporary file); never a base model's folder or one holding other files
      // and no sign of a run (the run replaces model.onnx and tokenizer.json there)
      ModelFolderWriter.checkOutput(dir, base, Set.of(Loop.CHECKPOINT, Loop.CHECKPOINT + ".tmp",
          ModelWriter.INT8_FOLDER), Loop.TRAINER);
      if (resume && !Files.exists(dir.resolve(Loop.CHECKPOINT))) { // before the folder is made: a typo leaves none
        throw new IllegalStateException("nothing to resume: " + dir.resolve(Loop.CHECKPOINT) + " does not exist");
      }
      try {
        Files.createDirectories(dir);
        Path probe = Files.createTempFile(dir, ".write-probe", ".tmp");
        Files.delete(probe);
      } catch (IOException e) {
        throw new UncheckedIOException("output folder " + dir + " is not writable: " + e.getMessage(), e);
      }
    }

    private static int positive(int v, String what) {
      if (v < 1) {
        throw new IllegalArgumentException(what + " must be >= 1, was " + v);
      }
      return v;
    }

    private static double positiveFinite(double v, String what) {
      if (!(v > 0) || Double.isInfinite(v)) {
        throw new IllegalArgumentException(what + " must be finite and > 0, was " + v);
      }
      return v;
    }
  }
}
