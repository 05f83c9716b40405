package dev.gecko.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.adapter.Adapter;
import dev.gecko.train.adapter.Basis;
import dev.gecko.train.adapter.EpochStats;
import dev.gecko.train.adapter.Objective;
import dev.gecko.train.adapter.Trainer;
import dev.gecko.train.adapter.TrainingData;
import dev.gecko.train.adapter.TrainingResult;
import dev.gecko.train.adapter.UnsupervisedValidation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gecko train}: trains a Matryoshka adapter over a frozen model and writes a model folder
 * that {@code --model DIR} loads. Progress goes to standard error; a JSON summary (output folder,
 * curve) to standard output. Validation scores are x 100, as {@code gecko eval} reports scores.
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description = {
      "Train a residual Matryoshka adapter over a frozen model and write a model folder.",
      "Data: FRet/sentence-transformers JSONL (anchor, positive[, negative][, task]), scored pairs",
      "(sentence1, sentence2, score; JSONL or TSV with a header), a BEIR corpus.jsonl, or .txt lines.",
      "The objective follows the data (scored -> cosent, pairs -> contrastive) unless given."
    })
final class TrainCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin ModelOptions models = new ModelOptions();

  private static final ObjectMapper JSON = new ObjectMapper();
  /** The options of Trainer.Builder's settings, for the values it refuses. */
  static final BuilderFlags FLAGS = BuilderFlags.of("dims", "--dims", "hiddenSize", "--hidden", "epochs", "--epochs",
      "batchSize", "--batch-size", "learningRate", "--lr", "patience", "--patience", "temperature", "--temperature",
      "topK", "--top-k", "reconstructionWeight", "--rec-weight", "structureWeight", "--structure-weight",
      "positiveThreshold", "--positive-threshold", "objective", "--objective", "basis", "--basis",
      "validationFraction", "--validation-fraction", "validationData", "--validation");


  @Option(names = "--data", required = true, paramLabel = "FILE", description = "Training data file.")
  Path data;

  @Option(names = "--validation", paramLabel = "FILE", description = "Validation data (default: a split of --data, see --validation-fraction).")
  Path validation;

  @Option(names = "--validation-fraction", paramLabel = "F",
      description = "Share of --data held out for validation when --validation is not given, in (0, 1). Default: 0.1.")
  Double validationFraction;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Model folder to write.")
  Path out;

  @Option(names = "--unsupervised", description = "Matryoshka-Adaptor objective: texts only, labels ignored.")
  boolean unsupervised;

  @Option(names = "--objective", paramLabel = "OBJ", description = "${COMPLETION-CANDIDATES} (default: from the data).")
  Objective objective;

  @Option(names = "--dims", split = ",", paramLabel = "N,N,...", description = "Matryoshka widths (default: full,256,128,64,32).")
  List<Integer> dims = new ArrayList<>();

  @Option(names = "--adapter", paramLabel = "KIND", description = "${COMPLETION-CANDIDATES} (default: LINEAR).")
  Adapter.Kind kind = Adapter.Kind.LINEAR;

  @Option(names = "--basis", paramLabel = "BASIS",
      description = "${COMPLETION-CANDIDATES}: the fixed basis the residual is trained in (default: IDENTITY,"
          + " the model's own coordinates; PRINCIPAL_AXES: the training texts' principal axes, for retrieval).")
  Basis basis = Basis.IDENTITY;

  @Option(names = "--validate-by", paramLabel = "WHAT",
      description = "Unsupervised: ${COMPLETION-CANDIDATES} (default: SIMILARITIES, how close truncated cosines stay"
          + " to full-width ones; NEIGHBOURS: how many full-width nearest neighbours survive truncation, for"
          + " retrieval).")
  UnsupervisedValidation validateBy = UnsupervisedValidation.SIMILARITIES;

  @Option(names = "--hidden", paramLabel = "N", description = "MLP hidden width (default: model width).")
  Integer hidden;

  @Option(names = "--epochs", paramLabel = "N", description = "Maximum epochs (default: 20).")
  int epochs = 20;

  @Option(names = "--batch-size", paramLabel = "N", description = "Mini-batch size (default: 64).")
  int batchSize = 64;

  @Option(names = "--lr", paramLabel = "X", description = "Peak learning rate (default: 1e-3).")
  double lr = 1e-3;

  @Option(names = "--patience", paramLabel = "N", description = "Early stopping patience in epochs (default: 3).")
  int patience = 3;

  @Option(names = "--seed", paramLabel = "N", description = "Seed (default: 42).")
  long seed = 42;

  @Option(names = "--temperature", paramLabel = "X", description = "Contrastive temperature (default: 0.05).")
  double temperature = 0.05;

  @Option(names = "--top-k", paramLabel = "N", description = "Unsupervised neighbourhood size (default: 10).")
  int topK = 10;

  @Option(names = "--rec-weight", paramLabel = "X", description = "Unsupervised reconstruction weight (default: 1).")
  double recWeight = 1;

  @Option(names = "--structure-weight", paramLabel = "X",
      description = "Contrastive/cosent: add the unsupervised Matryoshka-Adaptor terms times X as a regulariser"
          + " (Matryoshka-Adaptor's supervised variant; default: 0, off).")
  double structureWeight;

  @Option(names = "--positive-threshold", paramLabel = "X",
      description = "Contrastive on scored pairs: least score of a positive (default: 4).")
  double positiveThreshold = 4;

  @Option(names = "--mine-negatives", description = "Contrastive: mine a hard negative for rows without one.")
  boolean mineNegatives;

  @Option(names = "--cache", paramLabel = "DIR", description = "Embedding cache folder (default: embeddings/ in the gecko cache folder: "
      + "-Dgecko.cache.dir, $XDG_CACHE_HOME/gecko or ~/.cache/gecko). One that cannot be written: memory only, with a warning.")
  Path cache;

  @Option(names = "--no-cache", description = "Do not read or write the embedding cache.")
  boolean noCache;


  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (unsupervised && objective != null && objective != Objective.UNSUPERVISED) {
      throw new GeckoCli.UsageException("--unsupervised contradicts --objective " + objective);
    }
    CliFiles.readableFile("--data", data);
    if (validation != null) {
      CliFiles.readableFile("--validation", validation);
    }
    if (validation != null && validationFraction != null) {
      throw new GeckoCli.UsageException("--validation-fraction splits --data when there is no --validation; give one");
    }
    CliFiles.writableFolder("--out", out); // before the model opens and the data is embedded
    models.checkDims("--dims", dims, true);
    models.threads.check();
    Trainer.Builder b;
    try { // the options' values, before the cache folder is made and the model opens: a bad one is a usage error (2)
      b = Trainer.builder()
          .output(out)
          .adapterKind(kind)
          .basis(basis)
          .unsupervisedValidation(validateBy)
          .epochs(epochs)
          .batchSize(batchSize)
          .learningRate(lr)
          .patience(patience)
          .seed(seed)
          .temperature(temperature)
          .topK(topK)
          .reconstructionWeight(recWeight)
          .structureWeight(structureWeight)
          .positiveThreshold(positiveThreshold)
          .mineHardNegatives(mineNegatives);
      if (unsupervised) {
        b.objective(Objective.UNSUPERVISED);
      } else if (objective != null) {
        b.objective(objective);
      }
      if (!dims.isEmpty()) {
        b.dims(dims.stream().mapToInt(Integer::intValue).toArray());
      }
      if (hidden != null) {
        b.hiddenSize(hidden);
      }
      if (validationFraction != null) {
        b.validationFraction(validationFraction);
      }
    } catch (IllegalArgumentException e) {
      throw FLAGS.usageError(e);
    }
    PrintWriter err = spec.commandLine().getErr();
    // a cache that cannot be written only costs speed: in memory, with a warning
    Path cacheDir = noCache ? null : CliFiles.embeddingCache(cache, err).directory().orElse(null);
    try (GeckoEmbedder embedder = models.open(); CliProgress progress = CliProgress.on(err)) {
      // checked above where the package declares its width; here for one that does not
      ModelOptions.checkDims("--dims", dims, true, embedder.dimensions());
      Trainer trainer;
      try { // what is checked against the model and the data: a bad value is a usage error (2)
        b.embedder(embedder).cacheDir(cacheDir).progress(progress);
        // the data last: every cheap setting above is checked before a large file is read
        b.data(TrainingData.read(data));
        if (validation != null) {
          b.validationData(TrainingData.read(validation));
        }
        trainer = b.build();
      } catch (IllegalArgumentException e) {
        throw FLAGS.usageError(e);
      } catch (UncheckedIOException e) { // an output folder that cannot be written: an I/O failure (1), as in index
        throw new IOException("--out: " + GeckoCli.describe(e), e.getCause());
      }
      TrainingResult r;
      try {
        r = trainer.train();
      } catch (IllegalArgumentException e) { // what the data turns out to lack (an empty split): a failure (1)
        throw new IllegalArgumentException(FLAGS.message(e.getMessage()), e);
      }
      progress.close();
      if (!r.improved()) {
        err.printf(Locale.ROOT, "gecko: warning: no epoch beat the base model's validation score (%.3f); the model"
            + " written to %s is %s%n", r.baseValidationScore(), r.modelDir(), basis == Basis.IDENTITY
            ? "the base with an untrained adapter" : "the " + basis + " basis with an untrained residual (its truncated"
            + " vectors are the rotation's, not the base's)");
        err.flush();
      }
      List<CurvePoint> curve = new ArrayList<>();
      for (EpochStats e : r.curve()) {
        curve.add(new CurvePoint(e.epoch(), Double.isNaN(e.trainLoss()) ? null : e.trainLoss(),
            Double.isNaN(e.validationScore()) ? null : e.validationScore()));
      }
      TrainSummary summary = new TrainSummary(r.modelDir().toString(), r.improved(), r.bestEpoch(), r.baseValidationScore(),
          r.bestValidationScore(), r.stoppedEarly(), curve);
      spec.commandLine().getOut().println(JSON.writeValueAsString(summary));
    }
    return GeckoCli.EXIT_OK;
  }

  /** The one JSON line {@code gecko train} prints on stdout (a contract: keys and order are kept). */
  @JsonPropertyOrder({"model", "improved", "bestEpoch", "baseValidationScore", "bestValidationScore", "stoppedEarly", "curve"})
  record TrainSummary(String model, boolean improved, int bestEpoch, double baseValidationScore, double bestValidationScore,
      boolean stoppedEarly, List<CurvePoint> curve) {
  }

  /**
   * One epoch of {@link TrainSummary#curve()}; {@code trainLoss} is left out when the epoch has none,
   * {@code validationScore} when it was not a number (weights that diverged).
   */
  @JsonPropertyOrder({"epoch", "trainLoss", "validationScore"})
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record CurvePoint(int epoch, Double trainLoss, Double validationScore) {
  }
}
