package dev.gecko.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gecko.core.ModelLoadException;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.TaskType;
import dev.gecko.finetune.FineTuneObjective;
import dev.gecko.finetune.FineTuneResult;
import dev.gecko.finetune.FineTuner;
import dev.gecko.finetune.PromptStyle;
import dev.gecko.finetune.StepStats;
import dev.gecko.finetune.UnsupportedModelException;
import dev.gecko.train.adapter.Basis;
import dev.gecko.train.adapter.TrainingData;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gecko finetune}: fine-tunes the whole encoder (gecko-finetune) and writes a model folder
 * that {@code --model DIR} loads. Progress goes to standard error; a JSON summary (output folder,
 * curve) to standard output.
 */
@Command(
    name = "finetune",
    mixinStandardHelpOptions = true,
    description = {
      "Fine-tune the whole encoder with Gecko's loss and Matryoshka widths; write a model folder.",
      "Data as gecko train reads it: FRet examples.jsonl, scored pairs (TSV/JSONL), a corpus (JSONL/TXT).",
      "The objective follows the data (scores -> cosent, pairs -> gecko, texts -> mrl-distill) unless given."
    })
final class FinetuneCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The options of FineTuner.Builder's settings, for the values it refuses. */
  static final BuilderFlags FLAGS = BuilderFlags.of("dims", "--dims", "epochs", "--epochs", "batchSize", "--batch-size",
      "miniBatchSize", "--mini-batch-size", "maxLength", "--max-length", "learningRate", "--lr", "temperature",
      "--temperature", "allHardNegatives", "--all-hard-negatives", "promptStyle", "--prompts", "baseAverage",
      "--base-average", "validateEvery", "--validate-every", "patience", "--patience", "checkpointEvery",
      "--checkpoint-every", "neighbourGroup", "--neighbour-group", "reorderDims", "--reorder-dims", "basis", "--basis",
      "basisTask", "--basis-task", "distillQueries", "--distill-queries", "objective", "--objective", "seed", "--seed",
      "widths", "--dims", "widthWeights", "--dim-weights", "freezeEmbeddings", "--freeze-embeddings",
      "positiveThreshold", "--positive-threshold", "teacherCache", "--cache", "baseFingerprint", "--model", "data",
      "--data", "validation", "--validation")
      .about("Matryoshka width", "--dims").about("a Matryoshka width", "--dims");

  @Option(names = "--model", paramLabel = "MODEL", description = "Built-in fp32 model name or model folder "
      + "(default: bge-small-en-v1.5).")
  String model = "bge-small-en-v1.5";

  @Option(names = "--data", required = true, paramLabel = "FILE", description = "Training data file.")
  Path data;

  @Option(names = "--validation", paramLabel = "FILE", description = "Validation data (default: a 10%% split of --data).")
  Path validation;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Model folder to write.")
  Path out;

  @Option(names = "--objective", paramLabel = "OBJ", description = "gecko, cosent or mrl-distill (default: from the data).")
  String objective;

  @Option(names = "--dims", split = ",", paramLabel = "N,N,...", description = "Matryoshka widths (default: full width only).")
  List<Integer> dims = new ArrayList<>();

  @Option(names = "--dim-weights", split = ",", paramLabel = "X,X,...", description = "The weight of each --dims "
      + "width's loss, in the same order (default: 1 each; a full width not in --dims is trained at weight 1).")
  List<Double> dimWeights = new ArrayList<>();

  @Option(names = "--epochs", paramLabel = "N", description = "Epochs (default: 1).")
  int epochs = 1;

  @Option(names = "--batch-size", paramLabel = "N", description = "Rows per step (default: 64).")
  int batchSize = 64;

  @Option(names = "--mini-batch-size", paramLabel = "N", description = "Texts per forward pass; gradient caching "
      + "keeps the whole batch's gradients (default: 32).")
  int miniBatchSize = 32;

  @Option(names = "--max-length", paramLabel = "N", description = "Most tokens per training text (default: 128).")
  int maxLength = 128;

  @Option(names = "--lr", paramLabel = "X", description = "Peak learning rate (default: 2e-5).")
  double lr = 2e-5;

  @Option(names = "--temperature", paramLabel = "X", description = "Softmax temperature of the gecko and "
      + "mrl-distill objectives (default: 0.05).")
  Double temperature;

  @Option(names = "--positive-threshold", paramLabel = "X", description = "gecko on scored pairs: least score of a "
      + "positive; rows below it are not trained on (default: 4).")
  Double positiveThreshold;

  @Option(names = "--all-hard-negatives", description = "Every row's hard negative in each softmax (default: own only).")
  boolean allHardNegatives;

  @Option(names = "--prompts", paramLabel = "STYLE", description = "auto, gecko or model (default: auto).")
  String prompts = "auto";

  @Option(names = "--freeze-embeddings", description = "Leave the embedding layer untouched.")
  boolean freezeEmbeddings;

  @Option(names = "--base-average", paramLabel = "X", description = "Mix this share of the base weights back in "
      + "after training (default: 0).")
  double baseAverage;

  @Option(names = "--neighbour-group", paramLabel = "N", description = "mrl-distill: batches of groups of N "
      + "texts that are nearest neighbours under the teacher (default: 0, random batches).")
  int neighbourGroup;

  @Option(names = "--reorder-dims", description = "Before training, order the model's hidden coordinates by "
      + "their variance over the base model's vectors of the training texts (an exact reparametrisation that "
      + "gives the Matryoshka widths the most varied coordinates).")
  boolean reorderDims;

  @Option(names = "--basis", paramLabel = "BASIS", description = "${COMPLETION-CANDIDATES}: the fixed output basis "
      + "the model is trained through and written with as its adapter (default: IDENTITY, none; PRINCIPAL_AXES: the "
      + "base model's principal axes over the training texts, so each Matryoshka prefix starts with the most it can "
      + "keep; not with --reorder-dims).")
  Basis basis = Basis.IDENTITY;

  @Option(names = "--basis-task", paramLabel = "TASK", description = "With "
      + "--basis and mrl-distill: fit the basis on the training texts rendered for this task, with the model's prompt "
      + "for it (retrieval-query: the axes of the texts as queries, which keep more of query-document scores at "
      + "small widths when queries have a prompt of their own). Default: as trained (documents).")
  TaskType basisTask;

  @Option(names = "--distill-queries", description = "With mrl-distill: distil how each text rendered as a query "
      + "(the model's query prompt) scores against the batch's texts rendered as documents, the pairs retrieval "
      + "ranks, instead of documents against documents. About twice the encoder work per step.")
  boolean distillQueries;

  @Option(names = "--validate-every", paramLabel = "N", description = "Validate every N steps (default: 100).")
  int validateEvery = 100;

  @Option(names = "--patience", paramLabel = "N", description = "Stop after N validations without improvement "
      + "(default: 0, never).")
  int patience;

  @Option(names = "--checkpoint-every", paramLabel = "N", description = "Write a resumable checkpoint every N steps "
      + "(default: 0, never).")
  int checkpointEvery;

  @Option(names = "--resume", description = "Continue from the checkpoint in --out.")
  boolean resume;

  @Option(names = "--quantize", paramLabel = "int8", description = "Also write an int8 twin in DIR/int8.")
  String quantize;

  @Option(names = "--seed", paramLabel = "N", description = "Seed (default: 42).")
  long seed = 42;

  @Option(names = "--cache", paramLabel = "DIR", description = "Cache folder of the base model's vectors (the "
      + "teacher of mrl-distill, and the vectors --reorder-dims and --basis are computed from; refused where none "
      + "of them is used); default: none, memory only. One that cannot be written: memory only, with a warning, as "
      + "in gecko train and gecko eval.")
  Path cache;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    CliFiles.readableFile("--data", data);
    if (validation != null) {
      CliFiles.readableFile("--validation", validation);
    }
    if (quantize != null && !quantize.equalsIgnoreCase("int8")) {
      throw new GeckoCli.UsageException("--quantize: only int8 is supported, was '" + quantize + "'");
    }
    if (!dimWeights.isEmpty() && dimWeights.size() != dims.size()) {
      throw new GeckoCli.UsageException("--dim-weights: " + dimWeights.size() + " weights for " + dims.size()
          + " widths in --dims" + (dims.isEmpty() ? " (give --dims too)" : ""));
    }
    FineTuneObjective obj = objective == null ? null : parse(FineTuneObjective.class, "--objective", objective);
    PromptStyle style = parse(PromptStyle.class, "--prompts", prompts);
    ModelPackage basePackage;
    try {
      basePackage = ModelPackage.resolve(model);
    } catch (RuntimeException e) {
      if (!isFolder(model)) { // neither a built-in name nor a folder: a usage error
        throw new GeckoCli.UsageException("--model: " + e.getMessage());
      }
      throw new ModelLoadException("--model " + model + ": the folder does not load: " + GeckoCli.describe(e), e);
    }
    // as every command checks --dims: before any work, a usage error; a folder that declares no
    // width (its gecko-model.json may leave it to the graph) has the upper bound checked by the
    // fine-tuner, which reads the graph's width
    ModelOptions.checkDims("--dims", dims, true, basePackage.dimensions());
    CliFiles.writableFolder("--out", out); // before the data is read and the model's graph parsed
    PrintWriter err = spec.commandLine().getErr();
    try (CliProgress progress = CliProgress.on(err)) {
      FineTuner.Builder b;
      FineTuner tuner;
      try {
        b = FineTuner.builder()
            .baseModel(basePackage)
            .objective(obj)
            .epochs(epochs)
            .batchSize(batchSize)
            .miniBatchSize(miniBatchSize)
            .maxLength(maxLength)
            .learningRate(lr)
            .allHardNegatives(allHardNegatives)
            .promptStyle(style)
            .freezeEmbeddings(freezeEmbeddings)
            .baseAverage(baseAverage)
            .validateEvery(validateEvery)
            .patience(patience)
            .checkpointEvery(checkpointEvery)
            .resume(resume)
            .quantizeInt8(quantize != null)
            .seed(seed)
            .neighbourGroup(neighbourGroup)
            .reorderDims(reorderDims)
            .basis(basis)
            .basisTask(basisTask)
            .distillQueries(distillQueries)
            .output(out)
            .progress(progress);
        if (temperature != null) {
          b.temperature(temperature);
        }
        if (positiveThreshold != null) {
          b.positiveThreshold(positiveThreshold);
        }
        if (!dims.isEmpty()) {
          b.dims(dims.stream().mapToInt(Integer::intValue).toArray());
        }
        for (int i = 0; i < dimWeights.size(); i++) {
          try {
            b.dimWeight(dims.get(i), dimWeights.get(i));
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--dim-weights: " + e.getMessage(), e);
          }
        }
        b.teacherCache(cache); // build() checks that the run uses it; its folder is made after that
        b.data(TrainingData.read(data)); // last: every cheap setting above is checked before a large file is read
        if (validation != null) {
          b.validation(TrainingData.read(validation));
        }
        tuner = b.build();
        // a cache that cannot be used only costs speed (the rule of gecko train and gecko eval); the
        // second build reads the model's graph again, a cost paid only on that rare path
        if (cache != null && CliFiles.embeddingCache(cache, err).directory().isEmpty()) {
          tuner = b.teacherCache(null).build();
        }
      } catch (IllegalArgumentException | IllegalStateException e) {
        throw FLAGS.usageError(e);
      } catch (UnsupportedModelException e) { // a graph the fine-tuner cannot train: --model's value is refused (2)
        throw new GeckoCli.UsageException(unsupported(e), e);
      } catch (UncheckedIOException e) { // an output folder that cannot be written, a checkpoint that cannot be read: 1
        String message = GeckoCli.describe(e);
        throw new IOException(aboutOutput(e) ? "--out: " + message : message, e.getCause());
      }
      FineTuneResult r;
      try {
        r = tuner.train();
      } catch (dev.gecko.core.InvalidDataException e) { // data the run cannot use: named with the options
        throw FLAGS.reworded(e);
      }
      progress.close();
      ObjectNode summary = JSON.createObjectNode();
      summary.put("model", r.modelDir().toString());
      r.int8Dir().ifPresent(d -> summary.put("int8", d.toString()));
      summary.put("steps", r.steps());
      summary.put("bestStep", r.bestStep());
      putScore(summary, "baseValidationScore", r.baseScore());
      putScore(summary, "bestValidationScore", r.bestScore());
      summary.put("stoppedEarly", r.stoppedEarly());
      summary.put("skippedSteps", r.skippedSteps());
      ArrayNode curve = summary.putArray("curve");
      for (StepStats s : r.curve()) {
        ObjectNode o = curve.addObject();
        o.put("step", s.step());
        putScore(o, "trainLoss", s.trainLoss());
        putScore(o, "validationScore", s.validationScore());
      }
      spec.commandLine().getOut().println(JSON.writeValueAsString(summary));
    }
    return GeckoCli.EXIT_OK;
  }

  /**
   * Whether a failure of the builder is the output folder's own (it cannot be created or written),
   * not that of a file read there or elsewhere (a checkpoint, the model).
   */
  private boolean aboutOutput(UncheckedIOException e) {
    String m = e.getMessage() == null ? "" : e.getMessage();
    if (m.startsWith("output folder ")) {
      return true;
    }
    if (e.getCause() instanceof java.nio.file.FileSystemException f && m.equals(f.toString()) && f.getFile() != null) {
      try {
        return Path.of(f.getFile()).toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize());
      } catch (java.nio.file.InvalidPathException x) {
        return false;
      }
    }
    return false;
  }

  private static boolean isFolder(String path) {
    try {
      return Files.isDirectory(Path.of(path));
    } catch (java.nio.file.InvalidPathException e) {
      return false;
    }
  }

  private static void putScore(ObjectNode o, String name, double v) {
    if (!Double.isNaN(v)) {
      o.put(name, v);
    }
  }

  /** How the name of a built-in int8 model ends; without it, the name of its fp32 twin. */
  private static final String INT8_SUFFIX = "-int8";

  /**
   * The short message for a model graph the fine-tuner does not recognise: an int8 (quantised)
   * graph, named with its fp32 twin where it is a built-in one, or another that is not BERT-like.
   * What was not recognised (a long list of graph nodes) is the cause's message, which -v shows.
   */
  private String unsupported(UnsupportedModelException e) {
    String m = e.getMessage() == null ? "" : e.getMessage();
    boolean builtInInt8 = model.endsWith(INT8_SUFFIX) && ModelPackage.builtInNames().contains(model);
    if (builtInInt8 || m.contains("QuantizeLinear") || m.contains("MatMulInteger") || m.contains("ConvInteger")) {
      String fp32 = builtInInt8 ? model.substring(0, model.length() - INT8_SUFFIX.length()) : null;
      return "--model " + model + ": an int8 model cannot be fine-tuned (its weights are quantised); "
          + (fp32 != null && ModelPackage.builtInNames().contains(fp32) ? "fine-tune its fp32 twin, --model " + fp32
          : "give an fp32 model") + " (--quantize int8 also writes an int8 twin of the result)";
    }
    return "--model " + model + ": not a model the fine-tuner can train (it trains BERT-like encoders); -v shows what"
        + " it did not recognise";
  }

  private static <E extends Enum<E>> E parse(Class<E> type, String option, String value) {
    try {
      return Enum.valueOf(type, value.toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      String accepted = Arrays.stream(type.getEnumConstants())
          .map(c -> c.name().toLowerCase(Locale.ROOT).replace('_', '-')).collect(Collectors.joining(", "));
      throw new GeckoCli.UsageException(option + ": unknown value '" + value + "'; expected one of " + accepted);
    }
  }
}
