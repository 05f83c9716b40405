package dev.gecko.finetune.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelLoadException;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.Progress;
import dev.gecko.core.ProgressListener;
import dev.gecko.core.TaskType;
import dev.gecko.core.adapter.Adapter;
import dev.gecko.core.internal.model.ModelFolderWriter;
import dev.gecko.core.internal.onnx.OnnxModel;
import dev.gecko.core.io.Passage;
import dev.gecko.eval.BeirDataset;
import dev.gecko.eval.EmbeddingCache;
import dev.gecko.eval.EvalReport;
import dev.gecko.eval.RetrievalEvaluator;
import dev.gecko.eval.StsDataset;
import dev.gecko.eval.StsEvaluator;
import dev.gecko.eval.UndefinedScoreException;
import dev.gecko.finetune.FineTuneConfig;
import dev.gecko.finetune.UnsupportedModelException;
import dev.gecko.train.adapter.TrainingData;
import dev.gecko.finetune.FineTuneObjective;
import dev.gecko.finetune.FineTuneResult;
import dev.gecko.finetune.PromptStyle;
import dev.gecko.finetune.StepStats;
import dev.gecko.tokenizer.Encoding;
import dev.gecko.tokenizer.GeckoTokenizer;
import dev.gecko.train.adapter.Basis;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * One fine-tuning run: data rendered and tokenized once, then optimizer steps (gradient caching
 * when a batch has more texts than a forward pass takes), validation, checkpoints, and the output
 * folder. Internal: {@code FineTuner} is the API. Not thread-safe; owns its native arrays and
 * frees them before {@link #run()} returns.
 */
public final class Loop {
  /** The checkpoint file inside the output folder. */
  public static final String CHECKPOINT = "checkpoint.bin";
  /** This trainer's name in a written folder's training block. */
  public static final String TRAINER = "gecko-finetune";
  private static final System.Logger LOG = System.getLogger(Loop.class.getName());
  /** Steps in a row whose gradient was not finite after which a run fails as diverged. */
  static final int MAX_SKIPPED_IN_A_ROW = 10;

  private final ModelPackage base;
  private final dev.gecko.train.adapter.TrainingData data;
  private final dev.gecko.train.adapter.TrainingData validationData;
  private final FineTuneConfig config;
  private final ProgressListener progress;
  private final int[] widths;
  private final double[] weights;
  /** The prompt style of the training texts, and the package that describes the trained model with it. */
  private final PromptStyle style;
  private final ModelPackage trainedPackage;

  /** Distinct rendered texts of training and validation, and their tokens. */
  private final List<String> texts = new ArrayList<>();
  private final Map<String, Integer> textIds = new HashMap<>();
  private List<Encoding> encodings;
  private long padId;
  private float[][] teacher;
  /** The output basis transposed, {@code [H, H]} ({@code emb.matMul(basisT)} rows are {@code B u}), or null. */
  private NDArray basisT;
  private Adapter outputAdapter;

  /** A training row: text ids {query/sentence1/text, positive/sentence2 or -1, negative or -1}, score. */
  record Row(int a, int p, int n, double score) {}

  public Loop(ModelPackage base, dev.gecko.train.adapter.TrainingData data,
      dev.gecko.train.adapter.TrainingData validationData, FineTuneConfig config, ProgressListener progress) {
    this.base = base;
    this.data = data;
    this.validationData = validationData;
    this.config = config;
    this.progress = progress;
    this.widths = config.dims().stream().mapToInt(Integer::intValue).toArray();
    this.weights = config.dimWeights().stream().mapToDouble(Double::doubleValue).toArray();
    // once: every text rendered asks for them (a scan of the data for each was quadratic)
    this.style = style(config, data);
    this.trainedPackage = style == PromptStyle.GECKO ? base.toBuilder().geckoPrompts().defaultPrompt(null).build() : base;
  }

  /**
   * The settings that decide a run's course, with digests of its base model and its data: a
   * checkpoint resumes only a run that gives the same (see {@link #checkResumable}). The
   * mini-batch size is part of it: gradient caching gives the same gradients only up to rounding,
   * so another value would not end with an uninterrupted run's weights. Settings that leave the
   * course alone may differ on resume: validation cadence, patience, checkpoint cadence,
   * quantisation, the teacher cache and the final base averaging.
   */
  static Map<String, Object> runIdentity(ModelPackage base, TrainingData data, TrainingData validation,
      FineTuneConfig c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("baseFingerprint", base.fingerprint());
    m.put("data", digest(data));
    m.put("validation", validation == null ? "a split of the data" : digest(validation));
    m.put("objective", c.objective().name());
    m.put("widths", c.dims());
    m.put("widthWeights", c.dimWeights());
    m.put("epochs", c.epochs());
    m.put("batchSize", c.batchSize());
    m.put("miniBatchSize", c.miniBatchSize());
    m.put("maxLength", c.maxLength());
    m.put("learningRate", c.learningRate());
    m.put("warmupRatio", c.warmupRatio());
    m.put("weightDecay", c.weightDecay());
    m.put("maxGradNorm", c.maxGradNorm());
    m.put("temperature", c.temperature());
    m.put("cosentScale", c.cosentScale());
    m.put("positiveThreshold", c.positiveThreshold());
    m.put("allHardNegatives", c.allHardNegatives());
    m.put("promptStyle", String.valueOf(c.promptStyle()));
    m.put("freezeEmbeddings", c.freezeEmbeddings());
    m.put("seed", c.seed());
    m.put("neighbourGroup", c.neighbourGroup());
    m.put("reorderDims", c.reorderDims());
    m.put("basis", c.basis().name());
    m.put("basisTask", c.basisTask() == null ? "none" : c.basisTask().name());
    m.put("distillQueries", c.distillQueries());
    return m;
  }

  /**
   * Checks that the checkpoint in {@code config.output()} was written by a run with the same
   * {@linkplain #runIdentity identity}: checks the whole file against its checksum, then reads its
   * header.
   *
   * @throws IllegalArgumentException naming each setting that differs
   * @throws dev.gecko.core.InvalidDataException if the file is not a whole checkpoint of this
   *     version, or is damaged
   * @throws IOException if it cannot be read
   */
  public static void checkResumable(ModelPackage base, TrainingData data, TrainingData validation,
      FineTuneConfig config) throws IOException {
    Checkpoint.checkRun(config.output().resolve(CHECKPOINT), runIdentity(base, data, validation, config));
  }

  /**
   * The pooled width of a package's graph, reading and checking its layout.
   *
   * @throws ModelLoadException if the graph cannot be read or is not BERT-like
   */
  public static int width(ModelPackage pkg) {
    return BertLayout.read(graph(pkg), pkg.model().toString()).config().hidden();
  }

  /**
   * Parses a package's graph.
   *
   * @throws UnsupportedModelException if it is a well-formed graph with what the parser does not
   *     read (weights in external data files, subgraphs)
   * @throws ModelLoadException if it cannot be read or is not a well-formed ONNX model (a damaged or
   *     truncated file)
   */
  static OnnxModel graph(ModelPackage pkg) {
    try {
      return OnnxModel.parse(pkg.model().readAllBytes());
    } catch (IOException e) {
      throw new ModelLoadException("cannot read " + pkg.model() + ": " + e.getMessage(), e);
    } catch (OnnxModel.UnsupportedGraphException e) {
      throw new UnsupportedModelException(pkg.model() + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException(pkg.model() + " is not a well-formed ONNX model (a damaged or truncated file?): "
          + e.getMessage(), e);
    }
  }

  private static PromptStyle style(FineTuneConfig config, dev.gecko.train.adapter.TrainingData data) {
    if (config.promptStyle() != PromptStyle.AUTO) {
      return config.promptStyle();
    }
    boolean tasks = data.examples().stream().anyMatch(e -> e.task() != null);
    return config.objective() == FineTuneObjective.GECKO && tasks ? PromptStyle.GECKO : PromptStyle.MODEL;
  }

  PromptStyle style() {
    return style;
  }

  /** The package the trained model is described by (prompts of the chosen style). */
  ModelPackage trainedPackage() {
    return trainedPackage;
  }

  private int id(String rendered) {
    Integer i = textIds.get(rendered);
    if (i == null) {
      i = texts.size();
      texts.add(rendered);
      textIds.put(rendered, i);
    }
    return i;
  }

  private String renderQuery(String task, String text) {
    if (style() == PromptStyle.GECKO) {
      return "task: " + (task == null || task.isBlank() ? "search result" : task.strip()) + " | query: " + text;
    }
    return base.render(EmbedRequest.of(TaskType.RETRIEVAL_QUERY, text));
  }

  private String renderDocument(String text) {
    if (style() == PromptStyle.GECKO) {
      return "title: none | text: " + text;
    }
    return base.render(EmbedRequest.of(TaskType.RETRIEVAL_DOCUMENT, text));
  }

  private String renderSimilarity(String text) {
    return trainedPackage().render(EmbedRequest.of(TaskType.SEMANTIC_SIMILARITY, text));
  }

  List<Row> rows(dev.gecko.train.adapter.TrainingData d) {
    List<Row> rows = new ArrayList<>();
    for (dev.gecko.train.adapter.TrainingExample e : d.examples()) {
      switch (config.objective()) {
        case COSENT:
          rows.add(new Row(id(renderSimilarity(e.anchor())), id(renderSimilarity(e.positive())), -1, e.score()));
          break;
        case GECKO:
          if (e.score() != null && e.score() < config.positiveThreshold()) {
            break;
          }
          rows.add(new Row(id(renderQuery(e.task(), e.anchor())), id(renderDocument(e.positive())),
              e.negative() == null ? -1 : id(renderDocument(e.negative())), 0));
          break;
        default: // mrl-distill: the text as a document, and as a query where queries are distilled
          rows.add(new Row(id(renderDocument(e.anchor())),
              config.distillQueries() ? id(renderQuery(null, e.anchor())) : -1, -1, 0));
      }
    }
    return rows;
  }

  /**
   * Runs the training, on any thread: PyTorch's grad mode is per thread (the engine turns it off
   * only on the thread that starts it), so it is turned off here for this thread, where the
   * parameters are updated in place and autograd runs only inside gradient collectors, and
   * restored on return.
   */
  public FineTuneResult run() throws IOException {
    long started = System.nanoTime();
    Torch.engine(); // started (or refused) before any work
    boolean gradMode = JniUtils.isGradMode();
    JniUtils.setGradMode(false);
    try {
      return train(started);
    } finally {
      JniUtils.setGradMode(gradMode);
    }
  }

  /** The file the training rows were read from ({@code file:line} sources), or "training data". */
  private static String sourceFile(dev.gecko.train.adapter.TrainingData d) {
    for (dev.gecko.train.adapter.TrainingExample e : d.examples()) {
      if (e.source() != null && e.source().lastIndexOf(':') > 0) {
        return e.source().substring(0, e.source().lastIndexOf(':'));
      }
    }
    return "training data";
  }

  private FineTuneResult train(long started) throws IOException {
    ModelPackage pkg = base;
    OnnxModel graph = graph(pkg);
    BertLayout.Mapping mapping = BertLayout.read(graph, pkg.model().toString());
    dev.gecko.train.adapter.TrainingData train = data;
    dev.gecko.train.adapter.TrainingData val = validationData;
    if (val == null) {
      dev.gecko.train.adapter.TrainingData.Split split = data.split(0.1, config.seed());
      train = split.train();
      val = split.validation();
    }
    List<Row> trainRows = rows(train);
    long belowThreshold = 0;
    if (config.objective() == FineTuneObjective.GECKO) {
      belowThreshold = train.examples().stream()
          .filter(e -> e.score() != null && e.score() < config.positiveThreshold()).count();
      if (belowThreshold > 0) {
        LOG.log(System.Logger.Level.WARNING, "{0} of {1} training rows score below positiveThreshold {2} and are not "
            + "trained on (the GECKO objective trains on positives only)", belowThreshold, train.size(),
            config.positiveThreshold());
      }
    }
    if (config.objective() == FineTuneObjective.MRL_DISTILL) {
      long paired = train.examples().stream().filter(e -> e.positive() != null || e.negative() != null).count();
      if (paired > 0) {
        LOG.log(System.Logger.Level.WARNING, "mrl-distill distils each row''s first text (anchor, sentence1 or text) "
            + "only: the second and third texts of {0} rows are not used", paired);
      }
    }
    // named as the user knows it: the data's file, and how many of its rows the validation split took
    String dataName = sourceFile(data);
    String held = validationData != null || data.size() == train.size() ? ""
        : " (" + (data.size() - train.size()) + " of its " + data.size() + " rows are held out for validation;"
        + " separate validation data would leave them all to training)";
    if (config.objective() == FineTuneObjective.MRL_DISTILL) {
      long distinct = trainRows.stream().mapToInt(Row::a).distinct().count();
      if (distinct < minBatch(config.objective())) { // every batch would be too small: nothing would train
        throw new dev.gecko.core.InvalidDataException(dataName, 0, "fewer than " + minBatch(config.objective())
            + " distinct texts (" + distinct + ") in " + trainRows.size() + " training rows for " + config.objective()
            + held + ": each text is distilled against the others of its batch; add rows");
      }
    }
    if (config.objective() == FineTuneObjective.COSENT && trainRows.size() >= 2
        && trainRows.stream().mapToDouble(Row::score).distinct().count() < 2) {
      // CoSENT learns from pairs of rows with different scores: every pair would be masked, the
      // loss 0, and the base weights written out as a fine-tuned model
      throw new dev.gecko.core.InvalidDataException(dataName, 0, "every one of the " + trainRows.size()
          + " training rows has the score " + trainRows.get(0).score() + held + ": " + config.objective()
          + " learns from rows with different scores; for positive pairs alone use the gecko objective");
    }
    if (trainRows.size() < minBatch(config.objective())) {
      throw new dev.gecko.core.InvalidDataException(dataName, 0, "fewer than " + minBatch(config.objective())
          + " usable rows (" + trainRows.size() + ") for " + config.objective() + held + (belowThreshold == 0 ? ""
          : ": " + belowThreshold + " of " + train.size() + " rows score below positiveThreshold "
          + config.positiveThreshold() + " and are not positives; lower positiveThreshold or add rows"));
    }
    boolean gradedValidation = val.size() > 0 && val.allScored() && config.objective() != FineTuneObjective.MRL_DISTILL;
    List<Row> valRows = gradedValidation ? List.of() : rows(val);
    try (GeckoTokenizer tokenizer = tokenizer(pkg, config.maxLength());
        GeckoTokenizer evalTokenizer = tokenizer(pkg, pkg.maxTokens());
        // PyTorch's arrays whatever DJL's default engine is (DJL_DEFAULT_ENGINE, another engine on
        // the class path): the optimizer and the gradient collectors work on PyTorch arrays
        NDManager manager = Torch.engine().newBaseManager();
        BertEncoder encoder = BertEncoder.load(graph, mapping, manager, DataType.FLOAT32)) {
      encodings = tokenizer.encodeAll(texts);
      padId = tokenizer.padId();
      if (config.objective() == FineTuneObjective.MRL_DISTILL) {
        teacher = teacherVectors(pkg);
      }
      // Reordered before the base weights are kept (base averaging and a best step 0 use them); on
      // --resume, the checkpoint read below then overwrites the weights with its own (also reordered).
      if (config.reorderDims()) {
        HiddenOrder.apply(encoder, HiddenOrder.byVariance(baseTrainVectors(pkg, trainRows)));
      }
      if (config.basis() != Basis.IDENTITY) {
        outputBasis(config.basisTask() == null ? baseTrainVectors(pkg, trainRows) : basisTaskVectors(pkg, train),
            manager, encoder.dataType());
      }
      Map<String, float[]> baseWeights = new LinkedHashMap<>();
      for (String name : encoder.parameters().keySet()) {
        baseWeights.put(name, encoder.values(name));
      }
      TorchEmbedder evalEmbedder = new TorchEmbedder(trainedPackage(), evalTokenizer, encoder, manager, 8192,
          outputAdapter);
      Validation validation = gradedValidation ? stsValidation(val, evalEmbedder)
          : config.objective() == FineTuneObjective.GECKO ? retrievalValidation(val, evalEmbedder)
          : distillValidation(valRows, encoder, manager);
      if (validation == null && config.patience() > 0) {
        LOG.log(System.Logger.Level.WARNING, "no validation (too few held-out rows): patience {0} has nothing to "
            + "wait on, and the last step is kept", config.patience());
      }
      NeighbourBatches neighbours = null;
      if (config.neighbourGroup() > 0) {
        if (config.batchSize() % config.neighbourGroup() != 0) {
          LOG.log(System.Logger.Level.WARNING, "neighbourGroup {0} does not divide batchSize {1}: groups that straddle"
              + " two batches are split between them; a multiple of the group keeps each group in one batch",
              Integer.toString(config.neighbourGroup()), Integer.toString(config.batchSize()));
        }
        float[][] v = new float[trainRows.size()][];
        for (int i = 0; i < v.length; i++) {
          v[i] = teacher[trainRows.get(i).a()];
        }
        neighbours = new NeighbourBatches(v, config.neighbourGroup());
      }
      Optimizer opt = new Optimizer(encoder, config, manager);
      State s = new State();
      int stepsPerEpoch = (trainRows.size() + config.batchSize() - 1) / config.batchSize();
      long total = (long) stepsPerEpoch * config.epochs();
      Path ckpt = config.output().resolve(CHECKPOINT);
      // digests of the whole data set, once per run: every checkpoint and the manifest carry them
      Map<String, Object> identity = runIdentity(base, data, validationData, config);
      if (config.resume()) {
        Checkpoint.read(ckpt, encoder, opt, s);
      } else {
        s.baseScore = validation == null ? Double.NaN : validation.score(0);
        s.bestScore = s.baseScore;
        s.bestStep = 0;
        if (validation != null) {
          s.curve.add(new StepStats(0, Double.NaN, s.baseScore));
        }
      }
      long tokens = 0;
      long trainingNanos = 0; // optimizer steps only: validation and checkpoints are not in tokens/s
      int orderEpoch = -1;
      int[] order = null;
      while (s.step < total && !s.stopped) {
        int epoch = (int) (s.step / stepsPerEpoch);
        if (epoch != orderEpoch) {
          order = neighbours != null ? neighbours.order(config.seed() + epoch) : order(trainRows.size(), config.seed() + epoch);
          orderEpoch = epoch;
        }
        int first = (int) (s.step % stepsPerEpoch) * config.batchSize();
        List<Row> batch = new ArrayList<>();
        for (int i = first; i < Math.min(first + config.batchSize(), order.length); i++) {
          batch.add(trainRows.get(order[i]));
        }
        // a last batch too small to teach anything takes no step, but the run's end still validates
        Local local = new Local(batch);
        boolean trained = teaches(local);
        double loss = Double.NaN;
        boolean applied = false;
        if (trained) {
          double lr = lr(s.step, total);
          double[] stepTokens = new double[1];
          long stepStart = System.nanoTime();
          loss = gradients(encoder, manager, local, stepTokens);
          applied = opt.step(lr, loss);
          trainingNanos += System.nanoTime() - stepStart;
          tokens += (long) stepTokens[0];
        }
        s.step++;
        if (applied) {
          s.lossSum += loss;
          s.lossCount++;
          s.skippedInARow = 0;
        } else if (trained) {
          s.skippedSteps++;
          LOG.log(System.Logger.Level.WARNING, "step {0}: the loss or its gradient is not finite (loss {1}; {2}); the step "
              + "was skipped, the weights are unchanged", s.step, loss, opt.lastSkipReason());
          if (++s.skippedInARow >= MAX_SKIPPED_IN_A_ROW) {
            throw new IllegalStateException("training diverged: the losses or gradients of steps " + (s.step - s.skippedInARow + 1)
                + "-" + s.step + " were not finite (" + s.skippedSteps + " skipped in all); lower --lr, or check the data for "
                + "texts that overflow the model");
          }
        }
        double seconds = trainingNanos / 1e9;
        Map<String, Double> metrics = new LinkedHashMap<>();
        if (trained) {
          metrics.put("loss", loss);
        }
        metrics.put("tokens/s", tokens / Math.max(seconds, 1e-9));
        if (s.skippedSteps > 0) {
          metrics.put("skipped", (double) s.skippedSteps);
        }
        boolean validate = s.step % config.validateEvery() == 0 || s.step == total;
        if (validate) {
          double score = validation == null ? Double.NaN : validation.score(s.step);
          s.curve.add(new StepStats(s.step, s.lossCount == 0 ? Double.NaN : s.lossSum / s.lossCount, score));
          s.lossSum = 0;
          s.lossCount = 0;
          if (validation != null) {
            metrics.put("validation", score);
            // a NaN score never wins; a NaN best (a base that was not scored) loses to any number
            if (score > s.bestScore || (Double.isNaN(s.bestScore) && !Double.isNaN(score))) {
              s.bestScore = score;
              s.bestStep = s.step;
              s.sinceBest = 0;
              if (config.keepBest()) { // without it the last step's weights are written: no copy to hold
                s.bestWeights = snapshot(encoder);
              }
            } else if (config.patience() > 0 && ++s.sinceBest >= config.patience()) {
              s.stopped = true;
            }
          }
        }
        progress.onProgress(new Progress("training", "steps", s.step, total, metrics));
        if (config.checkpointEvery() > 0 && s.step % config.checkpointEvery() == 0 && s.step < total && !s.stopped) {
          Checkpoint.write(ckpt, encoder, opt, s, identity);
        }
      }
      if (validation == null || !config.keepBest() || Double.isNaN(s.bestScore)) { // nothing scored: the last step
        s.bestStep = s.step;
        s.bestScore = scoreAt(s.curve, s.step); // the kept weights' own score (NaN if not scored)
      } else if (s.bestStep == 0) {
        restore(encoder, baseWeights);
      } else if (s.bestWeights != null) {
        restore(encoder, s.bestWeights);
      }
      double writtenScore = Double.NaN;
      if (config.baseAverage() > 0) {
        for (String name : encoder.parameters().keySet()) {
          float[] w = encoder.values(name);
          float[] b = baseWeights.get(name);
          for (int i = 0; i < w.length; i++) {
            w[i] = (float) ((1 - config.baseAverage()) * w[i] + config.baseAverage() * b[i]);
          }
          encoder.set(name, w);
        }
        if (validation != null) { // the weights written are no step's: scored again, so that the folder says how they do
          try {
            writtenScore = validation.score(s.step);
          } catch (IOException | RuntimeException e) { // the trained model is still written; only this score is missing
            LOG.log(System.Logger.Level.WARNING, "the averaged weights could not be validated ({0}); the model is"
                + " written without writtenValidationScore", e.toString());
          }
        }
      }
      requireFiniteWeights(encoder, s.bestStep, validation == null || !config.keepBest());
      Map<String, Object> provenance = provenance(pkg, s, total, started, (String) identity.get("data"));
      if (Double.isFinite(writtenScore)) {
        provenance.put("writtenValidationScore", writtenScore); // bestValidationScore: the chosen step, before averaging
      }
      ModelWriter.Written written = ModelWriter.write(graph, mapping, encoder, pkg, trainedPackage(), style(),
          config, provenance, outputAdapter);
      Files.deleteIfExists(ckpt);
      Checkpoint.deleteLeftovers(ckpt); // temporary files a kill during a checkpoint write left
      return new FineTuneResult(written.dir(), Optional.ofNullable(written.int8Dir()), s.curve, s.step, s.bestStep,
          s.baseScore, s.bestScore, s.stopped, s.skippedSteps);
    }
  }

  private Map<String, Object> provenance(ModelPackage pkg, State s, long total, long started, String dataDigest)
      throws IOException {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put(ModelFolderWriter.TRAINER, TRAINER);
    p.put("baseModel", pkg.name());
    p.put("baseFingerprint", pkg.fingerprint());
    p.put("dataDigest", dataDigest);
    p.put("examples", data.size());
    p.put("objective", config.objective().name());
    p.put("promptStyle", style().name());
    p.put("widths", config.dims());
    p.put("widthWeights", config.dimWeights());
    p.put("epochs", config.epochs());
    p.put("batchSize", config.batchSize());
    p.put("maxLength", config.maxLength());
    p.put("learningRate", config.learningRate());
    p.put("temperature", config.temperature());
    p.put("seed", config.seed());
    p.put("steps", s.step);
    p.put("plannedSteps", total);
    p.put("bestStep", s.bestStep);
    p.put("baseValidationScore", Double.isFinite(s.baseScore) ? s.baseScore : null); // none: JSON null, as in the curve
    p.put("bestValidationScore", Double.isFinite(s.bestScore) ? s.bestScore : null);
    p.put("stoppedEarly", s.stopped);
    p.put("skippedSteps", s.skippedSteps);
    p.put("baseAverage", config.baseAverage());
    p.put("neighbourGroup", config.neighbourGroup());
    p.put("reorderDims", config.reorderDims());
    p.put("basis", config.basis().name());
    if (config.basisTask() != null) {
      p.put("basisTask", config.basisTask().name());
    }
    if (config.distillQueries()) {
      p.put("distillQueries", true);
    }
    List<Map<String, Object>> curve = new ArrayList<>();
    for (StepStats st : s.curve) {
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("step", st.step());
      c.put("trainLoss", Double.isNaN(st.trainLoss()) ? null : st.trainLoss());
      c.put("validationScore", Double.isNaN(st.validationScore()) ? null : st.validationScore());
      curve.add(c);
    }
    p.put("curve", curve);
    return p;
  }

  /** SHA-256 over the examples' fields, in order. */
  private static String digest(TrainingData examples) {
    java.security.MessageDigest d = dev.gecko.core.internal.io.Hashes.sha256();
    for (dev.gecko.train.adapter.TrainingExample e : examples.examples()) {
      for (Object f : new Object[] {e.task(), e.anchor(), e.positive(), e.negative(), e.score()}) {
        d.update(String.valueOf(f).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        d.update((byte) 0);
      }
    }
    return dev.gecko.core.internal.io.Hashes.hex(d);
  }

  static GeckoTokenizer tokenizer(ModelPackage pkg, int maxLength) throws IOException {
    try (InputStream in = pkg.tokenizer().open()) {
      return GeckoTokenizer.builder().tokenizerJson(in, pkg.tokenizer().toString()).maxLength(maxLength).build();
    }
  }

  /** Warm-up to the peak learning rate, then linear decay to 0. */
  double lr(long step, long total) {
    long warm = (long) Math.floor(config.warmupRatio() * total);
    if (step < warm) {
      return config.learningRate() * (step + 1) / (double) warm;
    }
    return config.learningRate() * Math.max(0, (double) (total - step) / Math.max(1, total - warm));
  }

  static int[] order(int n, long seed) {
    int[] o = new int[n];
    for (int i = 0; i < n; i++) {
      o[i] = i;
    }
    Random r = new Random(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = o[i];
      o[i] = o[j];
      o[j] = t;
    }
    return o;
  }

  /**
   * Accumulates the batch's loss gradients into the parameters and returns the loss. With more
   * distinct texts than a mini-batch, gradient caching: the vectors are computed without autograd,
   * the loss's gradient with respect to them is taken, then each mini-batch is encoded again
   * with autograd and back-propagates {@code sum(vectors * their gradient)}: the same parameter
   * gradients as one pass over the whole batch.
   */
  double gradients(BertEncoder encoder, NDManager manager, Local l, double[] tokens) {
    return GradCache.run(encoder, manager, encodings(l.ids), padId, base.pooling(), config.miniBatchSize(),
        emb -> loss(emb, l.idx, l.scores, l.ids), tokens);
  }

  /**
   * A batch's distinct texts ({@code ids}, each once) and, for each row, the index among them of
   * its anchor, positive and negative ({@code idx[0..2]}, -1 for none).
   */
  static final class Local {
    final List<Integer> ids;
    final int[][] idx;
    final double[] scores;

    Local(List<Row> batch) {
      Map<Integer, Integer> local = new LinkedHashMap<>();
      idx = new int[3][batch.size()];
      scores = new double[batch.size()];
      for (int i = 0; i < batch.size(); i++) {
        Row r = batch.get(i);
        idx[0][i] = local.computeIfAbsent(r.a, k -> local.size());
        idx[1][i] = r.p < 0 ? -1 : local.computeIfAbsent(r.p, k -> local.size());
        idx[2][i] = r.n < 0 ? -1 : local.computeIfAbsent(r.n, k -> local.size());
        scores[i] = r.score;
      }
      ids = new ArrayList<>(local.keySet());
    }
  }

  /**
   * The fewest rows a batch must hold to carry a signal: two for the contrastive losses (a row and
   * another row's texts as its negative); three for self-distillation, where each text's in-batch
   * distribution is over the other texts, so with two it has a single candidate and the loss is
   * always zero.
   */
  public static int minBatch(FineTuneObjective objective) {
    return objective == FineTuneObjective.MRL_DISTILL ? 3 : 2;
  }

  /**
   * Whether a batch carries a signal ({@link #minBatch}): its rows, or for self-distillation of
   * documents its distinct texts (a text twice in a batch is one candidate, and with fewer than three
   * the loss is always zero while weight decay would still move the weights).
   */
  boolean teaches(Local l) {
    if (config.objective() != FineTuneObjective.MRL_DISTILL) {
      return l.idx[0].length >= minBatch(config.objective()); // idx[0]: one per row
    }
    // self-distillation needs 3 distinct documents: with queries distilled too, rows [A, A, B] hold
    // two, and every row's candidates are masked down to one text (a loss of exactly 0)
    long documents = config.distillQueries() ? java.util.Arrays.stream(l.idx[0]).distinct().count() : l.ids.size();
    return documents >= minBatch(config.objective());
  }

  List<Encoding> encodings(List<Integer> ids) {
    List<Encoding> e = new ArrayList<>(ids.size());
    for (int id : ids) {
      e.add(encodings.get(id));
    }
    return e;
  }

  NDArray loss(NDArray pooled, int[][] idx, double[] scores, List<Integer> ids) {
    NDArray emb = pooled;
    if (basisT != null) { // v = B u; rotating before normalisation is the same as after
      emb = pooled.matMul(basisT);
    }
    switch (config.objective()) {
      case COSENT:
        return Objectives.cosent(emb, idx[0], idx[1], scores, widths, weights, config.cosentScale());
      case GECKO:
        return Objectives.gecko(emb, idx[0], idx[1], idx[2], widths, weights, config.temperature(),
            config.allHardNegatives());
      default: {
        float[] t = new float[ids.size() * teacher[0].length];
        for (int i = 0; i < ids.size(); i++) {
          System.arraycopy(teacher[ids.get(i)], 0, t, i * teacher[0].length, teacher[0].length);
        }
        NDArray ta = emb.getManager().create(t, new Shape(ids.size(), teacher[0].length));
        if (emb.getDataType() != DataType.FLOAT32) {
          ta = ta.toType(emb.getDataType(), false);
        }
        if (config.distillQueries()) {
          return Objectives.distillQueries(emb, ta, idx[1], idx[0], widths, weights, config.temperature());
        }
        return Objectives.distill(emb, ta, widths, weights, config.temperature());
      }
    }
  }

  /**
   * Full-width teacher vectors of every whole text (up to the package's maximum tokens, not cut at
   * the training length: measured better on ArguAna than a teacher of the cut text,
   * docs/finetuning.md), from ONNX Runtime on the base package, cached.
   */
  private float[][] teacherVectors(ModelPackage pkg) throws IOException {
    return baseVectors(pkg, texts, "teacher vectors");
  }

  /**
   * The base model's full-width vectors of the training split's distinct texts rendered for the
   * configured basis task (with the base package's prompt for it), for fitting the basis.
   */
  private float[][] basisTaskVectors(ModelPackage pkg, dev.gecko.train.adapter.TrainingData train)
      throws IOException {
    java.util.LinkedHashSet<String> rendered = new java.util.LinkedHashSet<>();
    for (dev.gecko.train.adapter.TrainingExample e : train.examples()) {
      rendered.add(pkg.render(EmbedRequest.of(config.basisTask(), e.anchor())));
    }
    return baseVectors(pkg, new ArrayList<>(rendered), "basis vectors (" + config.basisTask() + ")");
  }

  /**
   * Full-width vectors of rendered texts from ONNX Runtime on the base package, cached. A text the
   * teacher vectors already hold (the same whole text, the same package) is taken from them rather
   * than embedded again, as with {@code --distill-queries} every training text rendered as a query.
   */
  private float[][] baseVectors(ModelPackage pkg, List<String> rendered, String label) throws IOException {
    float[][] out = new float[rendered.size()][];
    List<Integer> missing = new ArrayList<>();
    List<EmbedRequest> requests = new ArrayList<>();
    for (int i = 0; i < out.length; i++) {
      Integer id = teacher == null ? null : textIds.get(rendered.get(i));
      if (id != null) {
        out[i] = teacher[id];
      } else {
        missing.add(i);
        requests.add(EmbedRequest.of(rendered.get(i)));
      }
    }
    if (requests.isEmpty()) {
      return out;
    }
    EmbeddingCache cache = config.teacherCache() == null ? EmbeddingCache.inMemory()
        : EmbeddingCache.open(config.teacherCache());
    // The texts are rendered already: a package without prompts embeds them as they are.
    ModelPackage plain = ModelPackage.builder().name(pkg.name()).pooling(pkg.pooling())
        .maxTokens(pkg.maxTokens()).model(pkg.model()).tokenizer(pkg.tokenizer()).dimensions(pkg.dimensions())
        .build();
    try (GeckoEmbedder ort = GeckoEmbedder.builder().model(plain).build()) {
      List<float[]> v = cache.embed(ort, requests, label, progress);
      for (int k = 0; k < missing.size(); k++) {
        out[missing.get(k)] = v.get(k);
      }
      return out;
    }
  }

  /**
   * The validation of the model as it is at a step: higher is better, NaN for a step that cannot be
   * scored. A validation text whose vector holds NaN or an infinity (weights that diverged, or a
   * text that overflows the model: STS and retrieval validation embed whole texts, up to the
   * package's maximum tokens; mrl-distill's compares the texts as trained, cut at {@code
   * maxLength}, with teacher vectors of the whole texts) makes the step's score NaN, with a warning naming the step and the count of such
   * texts. As with a step whose gradient is not finite (skipped with a warning), training goes on:
   * a NaN score is never the best, so {@code keepBest} keeps the best step before it (the base
   * when none beat it), and it counts as a validation without improvement for patience. Weights
   * that diverged for good fail the run on their skipped steps ({@link #MAX_SKIPPED_IN_A_ROW}),
   * or, when fewer steps were left, before they are written. The base model's validation (step 0)
   * with such vectors fails the run at once: no later step could be scored.
   */
  interface Validation {
    double score(long step) throws IOException;
  }

  /**
   * Refuses to write weights that hold NaN or an infinity: a run whose last steps diverged (too few
   * of them skipped in a row to stop it, or kept because nothing was scored) fails here instead of
   * writing a model that embeds every text as NaN.
   */
  private static void requireFiniteWeights(BertEncoder encoder, long step, boolean keptLast) {
    for (String name : encoder.parameters().keySet()) {
      float[] w = encoder.values(name);
      for (int i = 0; i < w.length; i++) {
        if (!Float.isFinite(w[i])) {
          throw new IllegalStateException("training diverged: the weights of step " + step + " hold " + w[i] + " in "
              + name + "; nothing was written (lower the learning rate"
              + (keptLast ? ", or keep the best step with a validation)" : ")"));
        }
      }
    }
  }

  /** The validation score the curve holds for {@code step}; NaN if it was not validated. */
  private static double scoreAt(List<StepStats> curve, long step) {
    for (int i = curve.size() - 1; i >= 0; i--) {
      if (curve.get(i).step() == step) {
        return curve.get(i).validationScore();
      }
    }
    return Double.NaN;
  }

  /** Warns that a step's validation met vectors that are not finite, and returns its score: NaN. */
  private static double notFinite(long step, long texts, long of, RuntimeException evaluatorFailure) {
    if (step == 0) { // the base model: no training to blame, and every later score would be NaN too
      throw new IllegalStateException("the base model gives " + texts + " of " + of + " validation texts vectors with "
          + "NaN or infinite components, before any training: validation could score no step (a text that "
          + "overflows the model?); fix or drop those validation texts"
          + (evaluatorFailure == null ? "" : " (" + evaluatorFailure.getMessage() + ")"), evaluatorFailure);
    }
    LOG.log(System.Logger.Level.WARNING, "step {0}: {1} of {2} validation texts gave vectors with NaN or infinite "
        + "components (weights that diverged, or a text that overflows the model); the step is scored NaN, never the "
        + "best, and training goes on{3}", step, texts, of,
        evaluatorFailure == null ? "" : " (the evaluator refused them: " + evaluatorFailure.getMessage() + ")");
    return Double.NaN;
  }

  /**
   * An evaluator's validation through {@code embedder}, the model in training, scored NaN (see
   * {@link Validation}) when a text it embedded gave a vector that is not finite: the evaluator's
   * score of such vectors, or its failure on them (a rank correlation refuses NaN, a flat index
   * holds finite vectors only), means nothing. A model that gives every STS pair the same cosine
   * (collapsed: {@link UndefinedScoreException}) is scored NaN after step 0 with a warning too, and
   * fails the run at step 0 with an {@link UndefinedScoreException} that says the base model
   * collapsed. Any other failure is the evaluator's own, and passes.
   */
  private static Validation finiteOnly(TorchEmbedder embedder, Validation evaluation) {
    return step -> {
      long nonFinite = embedder.nonFiniteTexts();
      long texts = embedder.metrics().texts();
      double score;
      RuntimeException failure = null;
      try {
        score = evaluation.score(step);
      } catch (RuntimeException e) {
        score = Double.NaN;
        failure = e;
      }
      nonFinite = embedder.nonFiniteTexts() - nonFinite;
      if (nonFinite == 0) {
        if (failure instanceof UndefinedScoreException) { // collapsed: every pair the same cosine
          if (step == 0) { // the base model: no training to blame, and no later step could be scored
            throw baseCollapsed((UndefinedScoreException) failure);
          }
          LOG.log(System.Logger.Level.WARNING, "step {0}: {1} (the model collapsed); the step is scored NaN, never "
              + "the best, and training goes on", step, failure.getMessage());
          return Double.NaN;
        }
        if (failure != null) {
          throw failure;
        }
        return score;
      }
      return notFinite(step, nonFinite, embedder.metrics().texts() - texts, failure);
    };
  }

  /** The failure of a base model (step 0) that gives every validation pair the same cosine. */
  private static UndefinedScoreException baseCollapsed(UndefinedScoreException evaluatorFailure) {
    UndefinedScoreException e = new UndefinedScoreException("the base model gives every validation pair the same "
        + "similarity, before any training: validation could score no step; check the base model and the validation "
        + "texts (" + evaluatorFailure.getMessage() + ")");
    e.initCause(evaluatorFailure);
    return e;
  }

  private double weighted(EvalReport report) {
    double sum = 0;
    double wsum = 0;
    for (int w = 0; w < widths.length; w++) {
      if (weights[w] > 0) { // a width of weight 0 is not evaluated: its NaN must not spoil the score
        sum += weights[w] * report.scores().get(widths[w]);
        wsum += weights[w];
      }
    }
    return sum / wsum;
  }

  /**
   * The widths validation scores: those whose weight is above 0 (a width of weight 0 is left out of
   * the validation score, so it is not evaluated, and cannot fail a step by collapsing).
   */
  List<Integer> validatedWidths() {
    List<Integer> out = new ArrayList<>();
    for (int w = 0; w < widths.length; w++) {
      if (weights[w] > 0) {
        out.add(widths[w]);
      }
    }
    return out;
  }

  Validation stsValidation(dev.gecko.train.adapter.TrainingData val, TorchEmbedder embedder) {
    List<StsDataset.Pair> pairs = new ArrayList<>();
    for (dev.gecko.train.adapter.TrainingExample e : val.examples()) {
      pairs.add(new StsDataset.Pair(e.anchor(), e.positive(), e.score()));
    }
    // a rank correlation needs two pairs and two distinct gold scores: without them, no validation
    java.util.DoubleSummaryStatistics scores = pairs.stream().mapToDouble(StsDataset.Pair::score).summaryStatistics();
    if (pairs.size() < 2 || scores.getMin() == scores.getMax()) {
      LOG.log(System.Logger.Level.WARNING, "the {0} scored validation rows {1}: training runs without validation and "
          + "keeps its last step", pairs.size(), pairs.size() < 2 ? "are fewer than 2 pairs"
          : "all have the same score, with which no correlation can be computed");
      return null;
    }
    StsDataset d = new StsDataset("validation", pairs);
    // a new in-memory cache each time: the weights change, the package's fingerprint does not
    return finiteOnly(embedder, step -> weighted(StsEvaluator.builder(embedder).dims(validatedWidths())
        .cache(EmbeddingCache.inMemory()).build().evaluate(d)));
  }

  /**
   * The GECKO objective's validation: nDCG@10 of a retrieval set made of the validation rows (see
   * {@link #retrievalSet}) through the model in training; null where it has no query.
   */
  Validation retrievalValidation(dev.gecko.train.adapter.TrainingData val, TorchEmbedder embedder) {
    BeirDataset d = retrievalSet(val);
    if (d == null) {
      return null;
    }
    return finiteOnly(embedder, step -> weighted(RetrievalEvaluator.builder(embedder).dims(validatedWidths())
        .cache(EmbeddingCache.inMemory()).build().evaluate(d)));
  }

  /**
   * The retrieval set of validation rows: each distinct query text of the rows with a positive is
   * a query whose relevant documents are its rows' positives (several where rows share a query);
   * every positive and hard negative is in the corpus (each distinct text once). A scored row below {@code positiveThreshold} is not a positive, as in training: it is no
   * query (a warning counts such rows), and its texts stay in the corpus as distractors. Null, with a
   * warning, where no row is a query.
   */
  BeirDataset retrievalSet(dev.gecko.train.adapter.TrainingData val) {
    if (val.size() == 0) {
      LOG.log(System.Logger.Level.WARNING, "no validation rows (none were given, or the held-out split took none: give "
          + "more rows or validation data): training runs without validation and keeps its last step");
      return null;
    }
    long below = 0;
    Map<String, String> docs = new LinkedHashMap<>();
    List<BeirDataset.Query> queries = new ArrayList<>();
    Map<String, Map<String, Integer>> qrels = new LinkedHashMap<>();
    Map<String, String> queryIds = new LinkedHashMap<>(); // query text to id: rows of one query share it
    for (dev.gecko.train.adapter.TrainingExample e : val.examples()) {
      if (e.positive() == null) {
        continue;
      }
      String pid = docs.computeIfAbsent(e.positive(), k -> "d" + docs.size());
      if (e.negative() != null) {
        docs.computeIfAbsent(e.negative(), k -> "d" + docs.size());
      }
      if (e.score() != null && e.score() < config.positiveThreshold()) {
        below++;
        continue; // not a positive, as in training: its texts stay in the corpus as distractors
      }
      String qid = queryIds.computeIfAbsent(e.anchor(), k -> {
        String id = "q" + queryIds.size();
        queries.add(new BeirDataset.Query(id, k));
        return id;
      });
      qrels.computeIfAbsent(qid, k -> new LinkedHashMap<>()).put(pid, 1);
    }
    if (queries.isEmpty()) {
      LOG.log(System.Logger.Level.WARNING, "none of the {0} validation rows is a query of the retrieval validation ({1} "
          + "score below positiveThreshold {2}, {3} have no positive): training runs without validation and keeps its "
          + "last step", val.size(), below, config.positiveThreshold(), val.size() - below);
      return null;
    }
    if (below > 0) {
      LOG.log(System.Logger.Level.WARNING, "{0} of {1} validation rows score below positiveThreshold {2} and are not "
          + "queries of the retrieval validation (their texts stay in its corpus as distractors)", below, val.size(),
          config.positiveThreshold());
    }
    List<Passage> corpus = new ArrayList<>();
    docs.forEach((text, id) -> corpus.add(new Passage(id, "", text)));
    return new BeirDataset("validation", corpus, queries, qrels);
  }

  /** Minus the distillation loss (x100) over the held-out texts, in batches of the training batch size. */
  private Validation distillValidation(List<Row> valRows, BertEncoder encoder, NDManager manager) {
    if (valRows.size() < 2) {
      LOG.log(System.Logger.Level.WARNING, "{0} validation rows are too few to score (give more rows or validation "
          + "data): training runs without validation and keeps its last step",
          valRows.size());
      return null;
    }
    List<Local> batches = new ArrayList<>();
    for (int start = 0; start + 1 < valRows.size(); start += config.batchSize()) {
      Local l = new Local(valRows.subList(start, Math.min(start + config.batchSize(), valRows.size())));
      if (teaches(l)) {
        batches.add(l);
      }
    }
    if (batches.isEmpty()) {
      LOG.log(System.Logger.Level.WARNING, "the {0} validation rows make no batch of {1} distinct texts: training "
          + "runs without validation and keeps its last step", valRows.size(), minBatch(config.objective()));
      return null;
    }
    return step -> {
      double sum = 0;
      int n = 0;
      long texts = 0;
      long nonFinite = 0;
      for (Local l : batches) {
        try (NDManager sm = manager.newSubManager()) {
          List<NDArray> parts = new ArrayList<>();
          List<Encoding> enc = encodings(l.ids);
          for (int s = 0; s < enc.size(); s += config.miniBatchSize()) {
            parts.add(GradCache.detached(encoder, sm, dev.gecko.tokenizer.GeckoTokenizer.pad(
                enc.subList(s, Math.min(s + config.miniBatchSize(), enc.size())), padId), base.pooling()));
          }
          NDArray emb = NDArrays.concat(new NDList(parts));
          texts += l.ids.size();
          nonFinite += nonFiniteRows(emb);
          sum += GradCache.scalar(loss(emb, l.idx, l.scores, l.ids));
          n++;
        }
      }
      if (nonFinite > 0) {
        return notFinite(step, nonFinite, texts, null);
      }
      return n == 0 ? Double.NaN : -100 * sum / n;
    };
  }

  /** The rows of a {@code [n, H]} array that hold NaN or an infinity. */
  private static int nonFiniteRows(NDArray emb) {
    float[] v = (emb.getDataType() == DataType.FLOAT32 ? emb : emb.toType(DataType.FLOAT32, false)).toFloatArray();
    int h = (int) emb.getShape().get(1);
    int rows = 0;
    for (int r = 0; r < v.length / h; r++) {
      for (int c = 0; c < h; c++) {
        if (!Float.isFinite(v[r * h + c])) {
          rows++;
          break;
        }
      }
    }
    return rows;
  }

  /**
   * Computes the configured output basis from the base model's vectors of the training texts and
   * keeps it twice: transposed on the device for the losses, and as the adapter the written
   * package carries.
   */
  private void outputBasis(float[][] trainVectors, NDManager manager, DataType dtype) {
    float[][] b = config.basis().ofUnitVectors(trainVectors);
    int h = b.length;
    if (trainVectors.length < h) {
      LOG.log(System.Logger.Level.WARNING, "the {0} basis is fit on {1} training texts, fewer than the width {2}: "
          + "its axes beyond the texts'' span are arbitrary, and other texts may lose more at small widths than "
          + "without it", config.basis(), trainVectors.length, h);
    }
    float[] t = new float[h * h];
    for (int r = 0; r < h; r++) {
      for (int c = 0; c < h; c++) {
        t[c * h + r] = b[r][c];
      }
    }
    NDArray created = manager.create(t, new Shape(h, h));
    basisT = dtype == created.getDataType() ? created : created.toType(dtype, false); // in the encoder's type, once
    outputAdapter = Adapter.identity(h).withBasis(b).withMetadata(Map.of("basis", config.basis().name(),
        "basisTask", config.basisTask() == null ? "as trained" : config.basisTask().name(), "trainer", "gecko-finetune"));
  }

  /**
   * The base model's full-width vectors of the training split's distinct texts (no validation
   * text): the teacher's where mrl-distill computed them, else one ONNX Runtime pass.
   */
  private float[][] baseTrainVectors(ModelPackage pkg, List<Row> trainRows) throws IOException {
    float[][] base = teacher != null ? teacher : teacherVectors(pkg);
    int[] ids = trainTexts(trainRows);
    float[][] out = new float[ids.length][];
    for (int i = 0; i < ids.length; i++) {
      out[i] = base[ids[i]];
    }
    return out;
  }

  /** The distinct texts the training rows use (queries, positives, negatives), in increasing order. */
  private static int[] trainTexts(List<Row> rows) {
    java.util.BitSet used = new java.util.BitSet();
    for (Row r : rows) {
      used.set(r.a());
      if (r.p() >= 0) {
        used.set(r.p());
      }
      if (r.n() >= 0) {
        used.set(r.n());
      }
    }
    return used.stream().toArray();
  }

  static Map<String, float[]> snapshot(BertEncoder encoder) {
    Map<String, float[]> m = new LinkedHashMap<>();
    for (String name : encoder.parameters().keySet()) {
      m.put(name, encoder.values(name));
    }
    return m;
  }

  static void restore(BertEncoder encoder, Map<String, float[]> weights) {
    weights.forEach(encoder::set);
  }

  /** What a checkpoint keeps besides the weights and the optimizer's moments. */
  static final class State {
    long step;
    long bestStep;
    double baseScore = Double.NaN;
    double bestScore = Double.NaN;
    int sinceBest;
    boolean stopped;
    double lossSum;
    int lossCount;
    long skippedSteps;
    /** Steps skipped since the last one applied (a checkpoint keeps it: a resumed run fails where the whole one would). */
    int skippedInARow;
    Map<String, float[]> bestWeights;
    final List<StepStats> curve = new ArrayList<>();
  }

  static UncheckedIOException unchecked(IOException e) {
    return new UncheckedIOException(e);
  }
}
