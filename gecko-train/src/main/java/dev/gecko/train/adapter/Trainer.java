package dev.gecko.train.adapter;

import dev.gecko.core.GeckoEmbedder;
import dev.gecko.eval.EmbeddingCache;
import dev.gecko.core.Progress;
import dev.gecko.core.ProgressListener;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.TaskType;
import dev.gecko.core.adapter.Adapter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Trains a residual {@link Adapter} over a frozen embedding model for Matryoshka widths, and
 * writes a model folder that {@code GeckoEmbedder.builder().model(dir)} loads.
 *
 * <pre>{@code
 * TrainingResult r = Trainer.builder()
 *     .baseModel("bge-small-en-v1.5")
 *     .data(TrainingData.read(Path.of("pairs.train.tsv")))
 *     .objective(Objective.UNSUPERVISED)
 *     .dims(384, 256, 128, 64, 32)
 *     .output(Path.of("bge-mrl"))
 *     .build()
 *     .train();
 * }</pre>
 *
 * <h2>What happens</h2>
 * <ol>
 *   <li>The data is split into train and validation ({@link TrainingData#split}) unless a
 *       validation set is given.
 *   <li>The frozen base model (any adapter it has is ignored) embeds every distinct text once at
 *       full width; vectors are cached on disk under {@link Builder#cacheDir(Path)} keyed by
 *       model and rendered text, so a second run embeds nothing.
 *   <li>The {@link Basis} is fixed: by default ({@link Basis#IDENTITY}) none; with {@link
 *       Basis#PRINCIPAL_AXES} the principal axes of the training texts' vectors, computed once.
 *       The residual starts at zero, so the adapter starts as the base model (or as that
 *       rotation, which leaves full-width similarities unchanged).
 *   <li>The residual is trained on the cached vectors, rotated into the basis: mini-batches
 *       in a seeded order, the {@link Objective objective's} loss summed over the widths with
 *       their weights, AdamW, linear warm-up then cosine (or linear) decay.
 *   <li>After each epoch a validation score is computed (higher is better), x 100 as gecko-eval
 *       reports its scores: {@link Objective#COSENT} the weighted mean over widths of
 *       Spearman's rho between cosine and score (all validation pairs); {@link
 *       Objective#CONTRASTIVE} the weighted mean reciprocal rank of each validation query's
 *       positive among all validation positives and its own negative, or, when every validation
 *       example carries a score, the same Spearman as COSENT over all of them (the graded signal
 *       rather than a binarised proxy); {@link Objective#UNSUPERVISED} by default minus the
 *       similarity-preservation loss on up to {@link Builder#maxValidation(int)} validation texts that
 *       no training example holds
 *       (neighbours taken among them), or with {@link UnsupervisedValidation#NEIGHBOURS} their
 *       neighbour recall (see {@link Builder#unsupervisedValidation}). Spearman is gecko-eval's
 *       {@code Correlation}, MRR and recall its {@code RetrievalMetrics}. The epoch with the best
 *       score is kept; training stops after {@link Builder#patience(int)} epochs without
 *       improvement. Epoch 0 is the basis alone (the base model itself with {@link
 *       Basis#IDENTITY}), so a residual that never beats it stays zero.
 * </ol>
 * Same data, settings and seed give a bit-identical adapter (training is single-threaded and
 * uses its own seeded generator).
 *
 * <p>A {@code Trainer} is immutable and holds its {@link TrainerConfig}. {@link #train()} may be
 * called more than once (each call trains from scratch and rewrites the output folder), but not
 * concurrently: two runs at a time would write the same folder. The configuration's embedder
 * stays the caller's (the trainer never closes it); without one, {@link #train()} opens its own
 * and closes it before returning.
 */
public final class Trainer {
  /** The phase of the reports while texts are embedded (unit {@code "texts"}). */
  public static final String EMBEDDING = "embedding";
  /**
   * The phase of the reports while each text's full-width nearest neighbours are found (unit
   * {@code "pairs"}; the unsupervised objective and the structure regulariser): the work grows
   * with the square of the texts.
   */
  public static final String NEIGHBOURS = "finding neighbours";
  /** The phase of the one report of the base's validation score (metric {@code validation}). */
  public static final String BASE_VALIDATION = "validating the base";
  /**
   * The phase of an epoch's reports, followed by its number (unit {@code "steps"}; metrics {@code
   * loss}, the epoch's mean so far, and {@code validation}, the latest score x100; its last report
   * has the epoch's own validation score).
   */
  public static final String EPOCH = "epoch ";
  /** The name of the loss metric. */
  public static final String LOSS = "loss";
  /** The name of the validation metric (x100). */
  public static final String VALIDATION = "validation";
  private static final System.Logger LOG = System.getLogger(Trainer.class.getName());

  private final TrainerConfig config;

  /**
   * Returns a trainer for the configuration, after checking that its output folder can be
   * written (so that a bad folder is refused before minutes of training, not after).
   *
   * @throws IllegalArgumentException if the output folder is a file, is not empty and holds no
   *     {@code gecko-model.json} (files an interrupted run left aside), holds a model that no
   *     training run wrote, or is the base model's own folder
   * @throws java.io.UncheckedIOException if the output folder cannot be created or written
   */
  public Trainer(TrainerConfig config) {
    this.config = Objects.requireNonNull(config, "config is null");
    ModelFolder.checkUsable(config.output(), config.baseModel());
  }

  /** Returns a new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns the configuration. */
  public TrainerConfig config() {
    return config;
  }

  /**
   * Embeds, trains and writes the model folder.
   *
   * @throws IOException if the data, cache or output cannot be read or written
   * @throws IllegalArgumentException if the data does not fit the objective (for example
   *     {@link Objective#COSENT} without scores), or the validation split is empty
   * @throws IllegalStateException if the base model cannot be opened
   */
  public TrainingResult train() throws IOException {
    ModelPackage base = config.baseModel().toBuilder().adapter(null).build();
    GeckoEmbedder owned = config.embedder() == null ? GeckoEmbedder.builder().model(base).build() : null;
    try {
      GeckoEmbedder embedder = config.embedder() != null ? config.embedder() : owned;
      return run(embedder);
    } finally {
      if (owned != null) {
        owned.close();
      }
    }
  }

  private TrainingResult run(GeckoEmbedder embedder) throws IOException {
    ModelPackage base = embedder.model();
    int width = embedder.dimensions();
    int[] widths = config.dims().stream().mapToInt(Integer::intValue).sorted().distinct().toArray();
    if (widths.length == 0) {
      widths = Stream.of(width, 256, 128, 64, 32).filter(d -> d <= width).mapToInt(Integer::intValue)
          .sorted().distinct().toArray();
    }
    if (widths[widths.length - 1] > width) {
      throw new IllegalArgumentException("width " + widths[widths.length - 1] + " exceeds the model's " + width);
    }
    double[] weights = new double[widths.length];
    double weightSum = 0;
    for (int w = 0; w < widths.length; w++) {
      weights[w] = config.dimWeights().getOrDefault(widths[w], 1.0);
      weightSum += weights[w];
    }
    for (int w : config.dimWeights().keySet()) {
      if (Arrays.stream(widths).noneMatch(x -> x == w)) {
        throw new IllegalArgumentException("a weight was given for width " + w + ", which is not trained "
            + Arrays.toString(widths));
      }
    }
    if (weightSum == 0) {
      throw new IllegalArgumentException("every width's weight is 0: nothing would be trained or validated");
    }
    TrainingData data = config.data();
    Objective objective = config.objective() != null ? config.objective()
        : data.allScored() ? Objective.COSENT : data.allPaired() ? Objective.CONTRASTIVE : Objective.UNSUPERVISED;

    TrainingData trainData;
    TrainingData valData;
    if (config.validationData() != null) {
      trainData = data;
      valData = config.validationData();
    } else {
      TrainingData.Split split = data.split(config.validationFraction(), config.seed());
      trainData = split.train();
      valData = split.validation();
    }
    TaskType[] rendering = rendering(config.queryTaskType(), config.documentTaskType(), data,
        config.validationData(), objective);
    if (rendering[0] != config.queryTaskType()) {
      LOG.log(System.Logger.Level.INFO, "{0}: anchors are rendered as RETRIEVAL_QUERY and positives and negatives as "
          + "RETRIEVAL_DOCUMENT, as retrieval embeds them (queryTaskType and documentTaskType choose otherwise)",
          data);
    }
    Texts texts = new Texts(rendering[0], rendering[1], embedder.model()::render);
    ObjectiveTask task = ObjectiveTask.create(objective, config, widths, weights, trainData, valData, texts);
    int[] ws = widths;
    LOG.log(System.Logger.Level.INFO, () -> String.format(Locale.ROOT,
        "training %s adapter on %s: %s%s, %d train / %d validation examples (%s), widths %s", config.adapterKind(),
        base.name(), objective, config.structureWeight() > 0 && objective != Objective.UNSUPERVISED
            ? " + " + config.structureWeight() + " x structure" : "",
        task.trainExamples, task.validationExamples, task.validation(), Arrays.toString(ws)));

    // --- embed every distinct text once
    EmbeddingCache cache = config.cacheDir() == null ? EmbeddingCache.inMemory() : EmbeddingCache.open(config.cacheDir());
    int n = texts.requests().size();
    List<float[]> vectors = cache.embed(embedder, texts.requests(), EMBEDDING, this::report);
    double[][] x = new double[n][width];
    for (int i = 0; i < n; i++) {
      float[] v = vectors.get(i);
      for (int t = 0; t < width; t++) {
        x[i][t] = v[t];
      }
    }

    Rng rng = new Rng(config.seed());
    task.start(vectors, x, this::report);
    float[][] basis = null;
    if (config.basis() == Basis.PRINCIPAL_AXES) {
      basis = PrincipalAxes.of(x, task.train);
      PrincipalAxes.rotate(basis, x);
    }

    Model model = new Model(config.adapterKind(), width, config.hiddenSize() > 0 ? config.hiddenSize() : width, rng);
    AdamW opt = new AdamW(model.p.length, config.weightDecay());
    int units = task.train.size();
    int batchSize = config.batchSize();
    int stepsPerEpoch = (units + batchSize - 1) / batchSize;
    int totalSteps = stepsPerEpoch * config.epochs();
    int warmup = (int) Math.round(config.warmupFraction() * totalSteps);

    // Epochs are compared on the validation score as computed (a fraction); the curve, progress
    // and log report it x 100.
    List<EpochStats> curve = new ArrayList<>();
    double best = task.validate(model);
    if (Double.isNaN(best)) { // nothing could ever beat it: no epoch would be kept, silently
      throw new IllegalStateException("the base model's validation score is not a number: its vectors of the "
          + "validation texts are not finite");
    }
    double[] bestParams = model.p.clone();
    int bestEpoch = 0;
    curve.add(new EpochStats(0, Double.NaN, percent(best), 0));
    report(new Progress(BASE_VALIDATION, "checks", 1, 1, Map.of(VALIDATION, percent(best))));
    int sinceBest = 0;
    int step = 0;
    boolean stoppedEarly = false;
    double lr = 0;
    double[] grad = new double[model.p.length];
    for (int epoch = 1; epoch <= config.epochs(); epoch++) {
      int[] order = new int[units];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      rng.shuffle(order);
      double lossSum = 0;
      int steps = 0;
      for (int start = 0; start < order.length; start += batchSize) {
        int[] batch = Arrays.copyOfRange(order, start, Math.min(order.length, start + batchSize));
        if (batch.length < 2 && order.length >= 2) {
          continue; // a contrastive or ranking batch of one has no negatives
        }
        Arrays.fill(grad, 0);
        double loss = task.lossAndGrad(model, batch, grad);
        lr = learningRate(step, warmup, totalSteps);
        opt.step(model.p, grad, model.decay, lr);
        step++;
        steps++;
        lossSum += loss;
        if (steps < stepsPerEpoch) { // the epoch's last report comes with its validation score
          report(new Progress(EPOCH + epoch, "steps", steps, stepsPerEpoch, metrics(lossSum / steps,
              curve.get(curve.size() - 1).validationScore())));
        }
      }
      double score = task.validate(model);
      double meanLoss = steps == 0 ? Double.NaN : lossSum / steps;
      curve.add(new EpochStats(epoch, meanLoss, percent(score), lr));
      report(new Progress(EPOCH + epoch, "steps", stepsPerEpoch, stepsPerEpoch, metrics(meanLoss, percent(score))));
      int e = epoch;
      LOG.log(System.Logger.Level.INFO, () -> String.format(Locale.ROOT, "epoch %d: loss %.5f, validation %.3f",
          e, meanLoss, percent(score)));
      if (Double.isNaN(score)) {
        LOG.log(System.Logger.Level.WARNING, "epoch {0}: the validation score is not a number (the adapter''s "
            + "vectors are not finite: the weights diverged; a lower learning rate may help); epoch {1} stays the best",
            epoch, bestEpoch);
      }
      if (score > best) {
        best = score;
        bestParams = model.p.clone();
        bestEpoch = epoch;
        sinceBest = 0;
      } else if (++sinceBest >= config.patience()) {
        stoppedEarly = epoch < config.epochs();
        break;
      }
    }
    System.arraycopy(bestParams, 0, model.p, 0, bestParams.length);
    if (bestEpoch == 0) {
      double baseScore = percent(best);
      LOG.log(System.Logger.Level.WARNING, () -> String.format(Locale.ROOT, "no epoch beat the base (validation %.3f);"
          + " the model written to %s is the basis with a zero residual%s", baseScore, config.output(),
          config.basis() == Basis.IDENTITY ? ", which embeds exactly as the base model does" : ""));
    }
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("baseModel", base.name());
    meta.put("objective", objective.name());
    if (config.structureWeight() > 0 && objective != Objective.UNSUPERVISED) {
      meta.put("structureWeight", Double.toString(config.structureWeight()));
    }
    meta.put("validation", task.validation());
    meta.put("widths", Arrays.toString(widths));
    meta.put("seed", Long.toString(config.seed()));
    meta.put("bestEpoch", Integer.toString(bestEpoch));
    meta.put("basis", config.basis().name());
    Adapter adapter = model.toAdapter().withBasis(basis).withMetadata(meta);
    ModelPackage written = ModelFolder.write(config, base, adapter, widths, objective, bestEpoch, curve);
    return new TrainingResult(config.output(), written, adapter, curve, bestEpoch, stoppedEarly);
  }

  /** A validation score as reported: x 100, as gecko-eval reports its scores. */
  private static double percent(double score) {
    return 100 * score;
  }

  private double learningRate(int step, int warmup, int total) {
    double peak = config.learningRate();
    if (warmup > 0 && step < warmup) {
      return peak * (step + 1) / warmup;
    }
    double progress = total <= warmup ? 1 : (double) (step - warmup) / (total - warmup);
    switch (config.schedule()) {
      case CONSTANT:
        return peak;
      case LINEAR:
        return peak * Math.max(0, 1 - progress);
      default:
        return peak * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)));
    }
  }

  /** The metrics of an epoch's reports: the mean loss so far (when known) and the validation score. */
  private static Map<String, Double> metrics(double loss, double validation) {
    Map<String, Double> m = new LinkedHashMap<>();
    if (!Double.isNaN(loss)) {
      m.put(LOSS, loss);
    }
    m.put(VALIDATION, validation);
    return m;
  }

  private void report(Progress p) {
    if (config.progress() != null) {
      config.progress().onProgress(p);
    }
  }

  /** How the learning rate decays after warm-up. Immutable and thread-safe. */
  public enum Schedule {
    /** Half a cosine from the peak to zero. */
    COSINE,
    /** A straight line from the peak to zero. */
    LINEAR,
    /** No decay. */
    CONSTANT
  }

  /**
   * The task types training renders queries (anchors) and documents with: those given (the
   * config's) where either is set; else, for a supervised objective on retrieval rows ({@link
   * TrainingData#hasQueryRows}: FRet's output, query/positive triplets) whose validation rows
   * (where given apart) are retrieval rows too, RETRIEVAL_QUERY and RETRIEVAL_DOCUMENT, the prompts
   * {@code gecko eval retrieval} and search apply, so that the adapter is trained on the inputs it
   * will see; else none (the model's default prompt, as for STS pairs and corpus texts).
   */
  static TaskType[] rendering(TaskType query, TaskType document, TrainingData data, TrainingData validation,
      Objective objective) {
    // the validation rows are rendered as the training rows: both must be retrieval rows
    if (query != null || document != null || objective == Objective.UNSUPERVISED || !data.hasQueryRows()
        || (validation != null && !validation.hasQueryRows())) {
      return new TaskType[] {query, document};
    }
    return new TaskType[] {TaskType.RETRIEVAL_QUERY, TaskType.RETRIEVAL_DOCUMENT};
  }

  /**
   * Builds a {@link TrainerConfig} and the {@link Trainer} that runs it. Each setter validates its
   * argument at once (the rules of {@link TrainerConfig}); {@link #build()} checks that base model,
   * data and output are set and that the output folder is usable. Reusable: each {@link #build()}
   * takes a snapshot, so changing a setting afterwards changes no trainer built before. Not
   * thread-safe. It keeps references to the embedder and listener it is given, not ownership.
   */
  public static final class Builder {
    private ModelPackage baseModel;
    private GeckoEmbedder embedder;
    private TrainingData data;
    private TrainingData validationData;
    private Objective objective;
    private List<Integer> dims = new ArrayList<>();
    private final Map<Integer, Double> dimWeights = new HashMap<>();
    private Adapter.Kind kind = Adapter.Kind.LINEAR;
    private Basis basis = Basis.IDENTITY;
    private UnsupervisedValidation unsupervisedValidation = UnsupervisedValidation.SIMILARITIES;
    private int hiddenSize;
    private int epochs = 20;
    private int batchSize = 64;
    private double learningRate = 1e-3;
    private double weightDecay = 0.01;
    private double warmupFraction = 0.1;
    private Schedule schedule = Schedule.COSINE;
    private long seed = 42;
    private double validationFraction = 0.1;
    private int patience = 3;
    private double temperature = 0.05;
    private double cosentScale = 20;
    private int topK = 10;
    private double pairWeight = 1;
    private double reconstructionWeight = 1;
    private double structureWeight;
    private double positiveThreshold = 4.0;
    private boolean mineHardNegatives;
    private int hardNegativeRank = 2;
    private int maxValidation = 1000;
    private TaskType queryTaskType;
    private TaskType documentTaskType;
    private Path cacheDir;
    private Path output;
    private String outputName;
    private ProgressListener progress;

    private Builder() {}

    /**
     * Sets the frozen base model (its adapter, if any, is ignored). Required, unless {@link
     * #embedder} sets it. An embedder set before is kept if it runs this model (by fingerprint),
     * else dropped: the trainer then opens one of this model.
     */
    public Builder baseModel(ModelPackage model) {
      this.baseModel = Objects.requireNonNull(model, "model is null");
      if (embedder != null && !TrainerConfig.sameModel(embedder.model(), model)) {
        this.embedder = null;
      }
      return this;
    }

    /**
     * Sets the base model by built-in name or folder path.
     *
     * @throws IllegalArgumentException if it is neither
     */
    public Builder baseModel(String nameOrPath) {
      return baseModel(ModelPackage.resolve(nameOrPath));
    }

    /**
     * Uses an open embedder of the base model instead of opening one (the caller keeps
     * ownership), and sets the base model to its model. It must not have an adapter.
     *
     * @throws IllegalArgumentException if it has an adapter
     */
    public Builder embedder(GeckoEmbedder embedder) {
      this.embedder = TrainerConfig.checkEmbedder(embedder);
      this.baseModel = embedder.model();
      return this;
    }

    /** Sets the training data. Required. */
    public Builder data(TrainingData data) {
      this.data = Objects.requireNonNull(data, "data is null");
      return this;
    }

    /** Sets a separate validation set; by default a split of the data is used. */
    public Builder validationData(TrainingData data) {
      this.validationData = Objects.requireNonNull(data, "validation data is null");
      return this;
    }

    /**
     * Sets the objective. Default: {@link Objective#COSENT} if every example is scored, else
     * {@link Objective#CONTRASTIVE} if every example is a pair, else {@link Objective#UNSUPERVISED}.
     */
    public Builder objective(Objective objective) {
      this.objective = Objects.requireNonNull(objective, "objective is null");
      return this;
    }

    /**
     * Sets the Matryoshka widths the loss is summed over (any order; the full width should be one
     * of them). Default: the full width, 256, 128, 64, 32 (those not above the full width).
     *
     * @throws IllegalArgumentException if a width is below 1
     */
    public Builder dims(int... widths) {
      List<Integer> l = new ArrayList<>();
      for (int d : widths) {
        l.add(TrainerConfig.checkWidth(d));
      }
      this.dims = l;
      return this;
    }

    /**
     * Sets the weight of one width's loss (default 1).
     *
     * @throws IllegalArgumentException if the weight is negative or not finite
     */
    public Builder dimWeight(int width, double weight) {
      dimWeights.put(width, TrainerConfig.checkDimWeight(width, weight));
      return this;
    }

    /** Sets the adapter's shape. Default {@link Adapter.Kind#LINEAR}. */
    public Builder adapterKind(Adapter.Kind kind) {
      this.kind = Objects.requireNonNull(kind, "kind is null");
      return this;
    }

    /**
     * The fixed basis the residual is trained in: default {@link Basis#IDENTITY} (the base model's
     * own coordinates, {@code e' = u} at the start); {@link Basis#PRINCIPAL_AXES} is computed from
     * the training split's texts and is the better start for retrieval (docs/training.md).
     */
    public Builder basis(Basis basis) {
      this.basis = Objects.requireNonNull(basis, "basis is null");
      return this;
    }

    /**
     * What an unsupervised adapter is validated on (default {@link
     * UnsupervisedValidation#SIMILARITIES}); ignored by the supervised objectives.
     */
    public Builder unsupervisedValidation(UnsupervisedValidation validation) {
      this.unsupervisedValidation = Objects.requireNonNull(validation, "validation is null");
      return this;
    }

    /** Sets the MLP's hidden width (default: the model's width). */
    public Builder hiddenSize(int hidden) {
      this.hiddenSize = TrainerConfig.atLeast(hidden, 1, "hiddenSize");
      return this;
    }

    /** Sets the maximum number of epochs (default 20). */
    public Builder epochs(int epochs) {
      this.epochs = TrainerConfig.atLeast(epochs, 1, "epochs");
      return this;
    }

    /** Sets the mini-batch size (default 64). */
    public Builder batchSize(int size) {
      this.batchSize = TrainerConfig.atLeast(size, 2, "batchSize");
      return this;
    }

    /** Sets the peak learning rate (default 1e-3). */
    public Builder learningRate(double lr) {
      this.learningRate = TrainerConfig.positive(lr, "learningRate");
      return this;
    }

    /** Sets AdamW's decoupled weight decay (default 0.01; 0 for plain Adam). */
    public Builder weightDecay(double decay) {
      this.weightDecay = TrainerConfig.nonNegative(decay, "weightDecay");
      return this;
    }

    /** Sets the fraction of all steps spent warming the learning rate up linearly (default 0.1). */
    public Builder warmupFraction(double fraction) {
      this.warmupFraction = TrainerConfig.checkWarmupFraction(fraction);
      return this;
    }

    /** Sets the decay after warm-up (default {@link Schedule#COSINE}). */
    public Builder schedule(Schedule schedule) {
      this.schedule = Objects.requireNonNull(schedule, "schedule is null");
      return this;
    }

    /** Sets the seed of the split, initialisation and batch order (default 42). */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Sets the validation fraction of the deterministic split (default 0.1). */
    public Builder validationFraction(double fraction) {
      this.validationFraction = TrainerConfig.checkValidationFraction(fraction);
      return this;
    }

    /** Sets how many epochs without a better validation score end training (default 3). */
    public Builder patience(int epochs) {
      this.patience = TrainerConfig.atLeast(epochs, 1, "patience");
      return this;
    }

    /** Sets the softmax temperature of {@link Objective#CONTRASTIVE} (default 0.05). */
    public Builder temperature(double tau) {
      this.temperature = TrainerConfig.positive(tau, "temperature");
      return this;
    }

    /** Sets the CoSENT scale (inverse temperature, default 20). */
    public Builder cosentScale(double scale) {
      this.cosentScale = TrainerConfig.positive(scale, "cosentScale");
      return this;
    }

    /** Sets k of the unsupervised top-k neighbourhood loss (default 10). */
    public Builder topK(int k) {
      this.topK = TrainerConfig.atLeast(k, 0, "topK");
      return this;
    }

    /** Sets alpha, the weight of the unsupervised all-pairs loss (default 1). */
    public Builder pairWeight(double alpha) {
      this.pairWeight = TrainerConfig.nonNegative(alpha, "pairWeight");
      return this;
    }

    /** Sets beta, the weight of the unsupervised L1 reconstruction loss (default 1). */
    public Builder reconstructionWeight(double beta) {
      this.reconstructionWeight = TrainerConfig.nonNegative(beta, "reconstructionWeight");
      return this;
    }

    /**
     * For {@link Objective#CONTRASTIVE} and {@link Objective#COSENT}: adds the unsupervised
     * Matryoshka-Adaptor terms, times {@code weight}, to the supervised loss as a regulariser
     * (the supervised variant of Yoon et al. 2024, eq. 6). Over each batch's distinct texts
     * (queries, positives, negatives): every pair's and each text's top-k (see {@link
     * #topK(int)}, neighbours among all training texts) truncated-width cosines are pulled
     * towards the base model's full-width cosines, plus the L1 reconstruction term (weights
     * {@link #pairWeight(double)}, {@link #reconstructionWeight(double)}). The paper weighs
     * the ranking loss by gamma = 1 and these terms by 1; {@code weight} 1 is that objective.
     * Default 0 (off). Ignored by {@link Objective#UNSUPERVISED}, which is these terms alone.
     *
     * @throws IllegalArgumentException if the weight is negative or not finite
     */
    public Builder structureWeight(double weight) {
      this.structureWeight = TrainerConfig.nonNegative(weight, "structureWeight");
      return this;
    }

    /** For {@link Objective#CONTRASTIVE} on scored pairs: the least score of a positive (default 4). */
    public Builder positiveThreshold(double score) {
      this.positiveThreshold = TrainerConfig.checkPositiveThreshold(score);
      return this;
    }

    /**
     * For {@link Objective#CONTRASTIVE}: give rows without a negative a mined one, the candidate at
     * 0-based rank {@code rank} among the training documents most similar to the query (its own
     * positives skipped). Default off; rank default 2.
     */
    public Builder mineHardNegatives(boolean mine) {
      this.mineHardNegatives = mine;
      return this;
    }

    /** Sets the rank of mined hard negatives (see {@link #mineHardNegatives(boolean)}). */
    public Builder hardNegativeRank(int rank) {
      this.hardNegativeRank = TrainerConfig.atLeast(rank, 0, "hardNegativeRank");
      return this;
    }

    /**
     * Sets the most validation rows (MRR) or texts (unsupervised, either validation) scored each epoch
     * (default 1000); where there are more, that many are drawn with the seed. Spearman on scored
     * pairs always uses every pair. Unsupervised validation scores only the validation texts that
     * no training example also holds.
     */
    public Builder maxValidation(int rows) {
      this.maxValidation = TrainerConfig.atLeast(rows, 1, "maxValidation");
      return this;
    }

    /**
     * Renders anchors (queries) with this task type's prompt. Default null: RETRIEVAL_QUERY for
     * retrieval rows ({@link TrainingData#hasQueryRows}), else the model's default prompt.
     */
    public Builder queryTaskType(TaskType type) {
      this.queryTaskType = type;
      return this;
    }

    /** Renders positives, negatives and corpus texts with this task type; default null. */
    public Builder documentTaskType(TaskType type) {
      this.documentTaskType = type;
      return this;
    }

    /** Sets the folder of the embedding cache; null (default) keeps vectors in memory only. */
    public Builder cacheDir(Path dir) {
      this.cacheDir = dir;
      return this;
    }

    /**
     * Sets the model folder to write. Required. It must be new, empty or a previous output (it
     * holds {@code gecko-model.json}).
     */
    public Builder output(Path dir) {
      this.output = Objects.requireNonNull(dir, "output is null");
      return this;
    }

    /** Sets the name in the written manifest (default: base name + {@code "-mrl-adapter"}). */
    public Builder outputName(String name) {
      this.outputName = TrainerConfig.checkOutputName(name);
      return this;
    }

    /** Receives progress on the training thread; null for none. */
    public Builder progress(ProgressListener listener) {
      this.progress = listener;
      return this;
    }

    /**
     * Returns the configuration set so far.
     *
     * @throws IllegalStateException if base model, data or output is missing
     */
    public TrainerConfig config() {
      if (baseModel == null || data == null || output == null) {
        throw new IllegalStateException("baseModel, data and output are required; not set: " + String.join(", ",
            java.util.stream.Stream.of(baseModel == null ? "baseModel" : null, data == null ? "data" : null,
                output == null ? "output" : null)
                .filter(java.util.Objects::nonNull).toList()));
      }
      return new TrainerConfig(baseModel, embedder, data, validationData, objective, dims, dimWeights, kind, basis,
          unsupervisedValidation, hiddenSize, epochs, batchSize, learningRate, weightDecay, warmupFraction, schedule,
          seed, validationFraction, patience, temperature, cosentScale, topK, pairWeight, reconstructionWeight,
          structureWeight, positiveThreshold, mineHardNegatives, hardNegativeRank, maxValidation, queryTaskType,
          documentTaskType, cacheDir, output, outputName, progress);
    }

    /**
     * Returns the trainer of {@link #config()}, after checking that the output folder can be
     * written (so that a bad folder is refused before minutes of training, not after).
     *
     * @throws IllegalStateException if base model, data or output is missing
     * @throws IllegalArgumentException if the output folder is a file, is not empty and holds no
     *     {@code gecko-model.json}, or cannot be created or written
     */
    public Trainer build() {
      return new Trainer(config());
    }
  }
}
