package dev.gecko.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The CLI as a new user meets it: one exit-code rule, errors that say what and where, readable help. */
class CliErrorsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private static EmbedCommandTest.Run gecko(String... args) {
    return EmbedCommandTest.gecko(args);
  }

  private static byte[] gzip(String text) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(b)) {
      z.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return b.toByteArray();
  }

  @Test
  void indexReadsAGzippedCorpusAsShipped() throws Exception {
    Path corpus = dir.resolve("corpus.jsonl.gz");
    Files.write(corpus, gzip(String.join("\n", IndexSearchCommandTest.CORPUS) + "\n"));
    EmbedCommandTest.Run r = gecko("index", "--corpus", corpus.toString(), "--out", dir.resolve("idx").toString(),
        "--dims", "64", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("6 documents");
    assertThat(Files.readString(dir.resolve("idx/docs.jsonl"))).contains("\"id\":\"rust\"", "\"id\":\"tides\"",
        "\"id\":\"7\"");
  }

  /** A missing input file exits 1 with "file not found" from every command, before any model opens. */
  @ParameterizedTest
  @ValueSource(strings = {"embed", "index", "eval-sts", "eval-retrieval", "train", "finetune", "search-queries",
      "generate"})
  void aMissingInputFileIsAFailureThatSaysSo(String command) {
    Path missing = dir.resolve("missing.jsonl");
    String m = missing.toString();
    String out = dir.resolve("out").toString();
    EmbedCommandTest.Run r = switch (command) {
      case "embed" -> gecko("embed", "--input", m);
      case "index" -> gecko("index", "--corpus", m, "--out", out);
      case "eval-sts" -> gecko("eval", "sts", "--data", m, "--no-cache");
      case "eval-retrieval" -> gecko("eval", "retrieval", "--data", m, "--no-cache");
      case "train" -> gecko("train", "--data", m, "--out", out);
      case "finetune" -> gecko("finetune", "--data", m, "--out", out);
      case "search-queries" -> gecko("search", "--index", dir.toString(), "--queries", m);
      default -> gecko("generate", "--corpus", m, "--out", out, "--llm", "openai", "--llm-model", "m",
          "--base-url", "http://127.0.0.1:9/v1");
    };
    assertThat(r.code()).as(r.err()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(r.err()).contains(m + ": ").contains("not found");
  }

  /** An input of the wrong kind (a folder for a file, a file for a folder) is a usage error, as an output's is. */
  @ParameterizedTest
  @ValueSource(strings = {"embed", "index", "eval-retrieval", "finetune", "search"})
  void anInputOfTheWrongKindIsAUsageError(String command) throws IOException {
    String folder = dir.toString();
    String file = Files.writeString(dir.resolve("a-file.jsonl"), "{\"text\": \"x\"}\n").toString();
    String out = dir.resolve("out").toString();
    EmbedCommandTest.Run r = switch (command) {
      case "embed" -> gecko("embed", "--input", folder);
      case "index" -> gecko("index", "--corpus", folder, "--out", out);
      case "eval-retrieval" -> gecko("eval", "retrieval", "--data", file, "--no-cache");
      case "finetune" -> gecko("finetune", "--data", folder, "--out", out);
      default -> gecko("search", "--index", file, "query");
    };
    assertThat(r.code()).as(r.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(r.err()).containsAnyOf("expects a file, this is a folder", "expects a folder, this is a file");
    assertThat(dir.resolve("out")).doesNotExist();
  }

  @Test
  void readErrorsNameFileLineAndReason() throws Exception {
    Path latin1 = dir.resolve("latin1.jsonl");
    Files.write(latin1, "{\"_id\": \"a\", \"text\": \"fine\"}\n{\"_id\": \"b\", \"text\": \"caf\u00e9\"}\n"
        .getBytes(StandardCharsets.ISO_8859_1));
    EmbedCommandTest.Run index = gecko("index", "--corpus", latin1.toString(), "--out", dir.resolve("i").toString());
    assertThat(index.code()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(index.err()).contains(latin1 + ":2: not valid UTF-8");
    EmbedCommandTest.Run embed = gecko("embed", "--input", latin1.toString());
    assertThat(embed.code()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(embed.err()).contains(latin1 + ":2: not valid UTF-8");
    Path two = Files.writeString(dir.resolve("two.jsonl"), "{\"id\": 1, \"text\": \"a\"} {\"id\": 2, \"text\": \"b\"}\n");
    EmbedCommandTest.Run trailing = gecko("embed", "--input", two.toString());
    assertThat(trailing.code()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(trailing.err()).contains(two + ":1: more content after the JSON object");
    byte[] gz = gzip("{\"_id\": \"a\", \"text\": \"" + "word ".repeat(20000) + "\"}\n");
    Path truncated = dir.resolve("cut.jsonl.gz");
    Files.write(truncated, java.util.Arrays.copyOf(gz, gz.length / 2));
    EmbedCommandTest.Run cut = gecko("index", "--corpus", truncated.toString(), "--out", dir.resolve("j").toString());
    assertThat(cut.code()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(cut.err()).contains(truncated + ":1: truncated gzip data");
  }

  @Test
  void taskTypesAnyCaseAndAShortErrorForABadOne() throws Exception {
    EmbedCommandTest.Run lower = gecko("embed", "--task", "retrieval-query", "--dims", "8", "--threads", "1", "what");
    EmbedCommandTest.Run upper = gecko("embed", "--task", "RETRIEVAL_QUERY", "--dims", "8", "--threads", "1", "what");
    assertThat(lower.code()).as(lower.err()).isZero();
    assertThat(JSON.readTree(lower.out())).isEqualTo(JSON.readTree(upper.out()));
    EmbedCommandTest.Run bad = gecko("embed", "--task", "query", "x");
    assertThat(bad.code()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(bad.err()).contains("unknown task type 'query'; expected one of retrieval-query, retrieval-document")
        .contains("Try 'gecko embed --help'").doesNotContain("Usage:");
    assertThat(bad.err().lines().count()).isLessThanOrEqualTo(3);
  }

  /** A model that does not exist is a usage error before the corpus is read (a large one takes long). */
  @Test
  void indexAndGenerateCheckTheModelBeforeReadingTheCorpus() throws Exception {
    Path corpus = dir.resolve("corpus.jsonl");
    Files.writeString(corpus, "{\"_id\":\"d1\",\"text\":\"bees\"}\n{\"_id\":\"d1\",\"text\":\"a duplicate id\"}\n");
    EmbedCommandTest.Run index = gecko("index", "--corpus", corpus.toString(), "--out", dir.resolve("idx").toString(),
        "--model", "no-such-model");
    assertThat(index.code()).as(index.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(index.err()).contains("--model").contains("no-such-model").doesNotContain("duplicate");
    java.util.Map<String, String> environment = GenerateCommand.environment;
    GenerateCommand.environment = java.util.Map.of("OPENAI_API_KEY", "sk-cli-SECRET");
    try {
      EmbedCommandTest.Run generate = gecko("generate", "--corpus", corpus.toString(), "--out", dir.resolve("gen").toString(),
          "--llm", "openai", "--llm-model", "m", "--model", "no-such-model");
      assertThat(generate.code()).as(generate.err()).isEqualTo(GeckoCli.EXIT_USAGE);
      assertThat(generate.err()).contains("--model").contains("no-such-model").doesNotContain("duplicate");
    } finally {
      GenerateCommand.environment = environment;
    }
  }

  @Test
  void finetuneWidthWeightsAndBasisAreCheckedBeforeTraining() throws Exception {
    Path data = dir.resolve("pairs.tsv");
    Files.writeString(data, "sentence1\tsentence2\tscore\na cat\ta dog\t1.0\n");
    String out = dir.resolve("never-written").toString();
    EmbedCommandTest.Run fewer = gecko("finetune", "--data", data.toString(), "--out", out, "--dims", "384,64",
        "--dim-weights", "2");
    assertThat(fewer.code()).as(fewer.err()).isEqualTo(2);
    assertThat(fewer.err()).contains("--dim-weights: 1 weights for 2 widths in --dims");
    EmbedCommandTest.Run alone = gecko("finetune", "--data", data.toString(), "--out", out, "--dim-weights", "2");
    assertThat(alone.code()).isEqualTo(2);
    assertThat(alone.err()).contains("(give --dims too)");
    EmbedCommandTest.Run negative = gecko("finetune", "--data", data.toString(), "--out", out, "--dims", "384,64",
        "--dim-weights", "1,-1");
    assertThat(negative.code()).isEqualTo(2);
    assertThat(negative.err()).contains("--dim-weights: a width's weight must be finite and >= 0, was -1.0");
    EmbedCommandTest.Run both = gecko("finetune", "--data", data.toString(), "--out", out, "--reorder-dims",
        "--basis", "principal-axes"); // read as task types are: any case, - or _
    assertThat(both.code()).as(both.err()).isEqualTo(2);
    assertThat(both.err()).contains("--reorder-dims and --basis PRINCIPAL_AXES together").contains("choose one");
    EmbedCommandTest.Run unknown = gecko("finetune", "--data", data.toString(), "--out", out, "--basis", "pca");
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).contains("--basis").contains("unknown value 'pca'").contains("PRINCIPAL_AXES");
    EmbedCommandTest.Run trainBasis = gecko("train", "--data", data.toString(), "--out", out, "--basis", "pca");
    assertThat(trainBasis.code()).isEqualTo(2);
    assertThat(trainBasis.err()).contains("--basis").contains("IDENTITY, PRINCIPAL_AXES");
    EmbedCommandTest.Run taskAlone = gecko("finetune", "--data", data.toString(), "--out", out, "--basis-task",
        "retrieval-query");
    assertThat(taskAlone.code()).as(taskAlone.err()).isEqualTo(2);
    assertThat(taskAlone.err()).contains("--basis-task RETRIEVAL_QUERY applies to a basis other than IDENTITY");
    EmbedCommandTest.Run badTask = gecko("finetune", "--data", data.toString(), "--out", out, "--basis",
        "principal_axes", "--basis-task", "queries");
    assertThat(badTask.code()).isEqualTo(2);
    assertThat(badTask.err()).contains("unknown task type 'queries'").contains("retrieval-query");
    EmbedCommandTest.Run queries = gecko("finetune", "--data", data.toString(), "--out", out, "--distill-queries");
    assertThat(queries.code()).as(queries.err()).isEqualTo(2);
    assertThat(queries.err()).contains("--distill-queries applies to the mrl-distill objective only, not COSENT");
    EmbedCommandTest.Run unknownModel = gecko("finetune", "--data", data.toString(), "--out", out, "--model",
        "no-such-model");
    assertThat(unknownModel.code()).as(unknownModel.err()).isEqualTo(2);
    assertThat(unknownModel.err()).contains("--model: unknown model 'no-such-model'");
    // a folder that is a model folder in name only: a model that cannot load (1), named as --model
    Path broken = Files.createDirectories(dir.resolve("broken-model"));
    Files.writeString(broken.resolve("gecko-model.json"), "{\"name\": \"broken\"}");
    EmbedCommandTest.Run brokenModel = gecko("finetune", "--data", data.toString(), "--out", out, "--model",
        broken.toString());
    assertThat(brokenModel.code()).as(brokenModel.err()).isEqualTo(1);
    assertThat(brokenModel.err()).contains("--model " + broken).contains("does not load");
    assertThat(dir.resolve("never-written")).doesNotExist();
    // a folder whose manifest leaves the width to the graph (as it may): --dims is checked against the graph's
    Path noWidth = Files.createDirectories(dir.resolve("no-width-model"));
    dev.gecko.core.ModelPackage miniLm = dev.gecko.core.ModelPackage.builtIn("all-MiniLM-L6-v2");
    Files.write(noWidth.resolve("model.onnx"), miniLm.model().readAllBytes());
    Files.write(noWidth.resolve("tokenizer.json"), miniLm.tokenizer().readAllBytes());
    Files.writeString(noWidth.resolve("gecko-model.json"), "{\"name\": \"no-width\", \"pooling\": \"mean\", \"maxTokens\": 256}");
    EmbedCommandTest.Run tooWide = gecko("finetune", "--data", data.toString(), "--out", dir.resolve("o2").toString(),
        "--model", noWidth.toString(), "--dims", "999,64");
    assertThat(tooWide.code()).as(tooWide.err()).isEqualTo(2);
    assertThat(tooWide.err()).contains("--dims").contains("999").contains("384").doesNotContain("[1, 0]");
  }

  @Test
  void versionNamesTheBuild() {
    EmbedCommandTest.Run v = gecko("--version");
    assertThat(v.code()).isZero();
    assertThat(v.out()).startsWith("gecko 0.").doesNotContain("gecko dev").doesNotContain("${");
  }

  @Test
  void everyCommandSummaryInTheHelpIsAWholeSentence() {
    EmbedCommandTest.Run help = gecko("--help");
    assertThat(help.code()).isZero();
    List<String> summaries = new ArrayList<>();
    boolean inCommands = false;
    for (String line : help.out().lines().toList()) {
      if (line.equals("Commands:")) {
        inCommands = true;
      } else if (inCommands && line.matches("  \\S.*")) {
        summaries.add(line.strip().replaceFirst("^\\S+\\s+", ""));
      } else if (inCommands && line.startsWith("      ") && !summaries.isEmpty()) {
        int last = summaries.size() - 1;
        summaries.set(last, summaries.get(last) + " " + line.strip());
      }
    }
    assertThat(summaries).hasSizeGreaterThanOrEqualTo(7).allSatisfy(s -> assertThat(s).endsWith("."));
  }

  @ParameterizedTest
  @ValueSource(strings = {"embed", "index", "search", "generate", "train", "eval sts", "eval retrieval"})
  void everyHelpRendersWithoutPicocliWarnings(String command) {
    java.io.PrintStream saved = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(captured, true, StandardCharsets.UTF_8));
    EmbedCommandTest.Run help;
    try {
      List<String> args = new ArrayList<>(List.of(command.split(" ")));
      args.add("--help");
      help = gecko(args.toArray(String[]::new));
    } finally {
      System.setErr(saved);
    }
    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("Usage: gecko " + command);
    assertThat(captured.toString(StandardCharsets.UTF_8)).doesNotContain("picocli WARN");
  }

  @Test
  void evalStsOnConstantGoldScoresSaysWhyAndFails() throws Exception {
    StringBuilder tsv = new StringBuilder("subset\tsentence1\tsentence2\tscore\n");
    for (int i = 0; i < 5; i++) {
      tsv.append("x\tA man plays guitar ").append(i).append(".\tA woman sings ").append(i).append(".\t3.0\n");
    }
    Path pairs = Files.writeString(dir.resolve("constant.tsv"), tsv.toString());
    EmbedCommandTest.Run r = gecko("eval", "sts", "--data", pairs.toString(), "--no-cache", "--threads", "1");
    assertThat(r.code()).isEqualTo(GeckoCli.EXIT_FAILURE);
    // named as given, not by the data set's label (its folder and file name)
    assertThat(r.err()).contains("gecko: error: " + pairs + ": all 5 gold scores are 3.0").contains("undefined");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void trainRefusesABadOutputFolderBeforeTraining() throws Exception {
    Path data = Files.write(dir.resolve("texts.txt"), List.of("one", "two", "three", "four"));
    Path busy = Files.createDirectories(dir.resolve("busy"));
    Files.writeString(busy.resolve("notes.txt"), "mine");
    EmbedCommandTest.Run r = gecko("train", "--data", data.toString(), "--out", busy.toString(), "--unsupervised",
        "--threads", "1");
    assertThat(r.code()).as(r.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(r.err()).contains(busy + ": the output folder is not empty and holds no gecko-model.json")
        .doesNotContain("embedding:");
    Path file = Files.writeString(dir.resolve("a-file"), "x");
    EmbedCommandTest.Run f = gecko("train", "--data", data.toString(), "--out", file.toString(), "--unsupervised");
    assertThat(f.code()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(f.err()).contains(file + ": the output folder is a file");
    // an output folder that cannot be created (under a file) is an I/O failure, 1, in every command
    String under = file.resolve("out").toString();
    EmbedCommandTest.Run t = gecko("train", "--data", data.toString(), "--out", under, "--unsupervised");
    assertThat(t.code()).as(t.err()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(t.err()).contains("--out: ").contains("cannot be created");
    Path pairs = Files.writeString(dir.resolve("pairs.tsv"), "sentence1\tsentence2\tscore\na cat\ta dog\t1.0\n");
    EmbedCommandTest.Run ft = gecko("finetune", "--data", pairs.toString(), "--out", under);
    assertThat(ft.code()).as(ft.err()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(ft.err()).contains("gecko: error: --out: " + under + ": the output folder cannot be created")
        .doesNotContain("java.").doesNotContain("Exception");
    // finetune refuses a folder holding other files as train does (it would replace model.onnx there)
    EmbedCommandTest.Run fb = gecko("finetune", "--data", pairs.toString(), "--out", busy.toString());
    assertThat(fb.code()).as(fb.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(fb.err()).contains(busy + ": the output folder is not empty and holds no gecko-model.json");
    Path corpus = Files.writeString(dir.resolve("c.jsonl"), "{\"id\": \"a\", \"text\": \"fine\"}\n");
    EmbedCommandTest.Run ix = gecko("index", "--corpus", corpus.toString(), "--out", under, "--threads", "1");
    assertThat(ix.code()).as(ix.err()).isEqualTo(GeckoCli.EXIT_FAILURE);
  }

  @Test
  void finetuneDoesNotBlameOutForACheckpointItCannotRead() throws Exception {
    Path pairs = Files.writeString(dir.resolve("pairs.tsv"), "sentence1\tsentence2\tscore\na cat\ta dog\t1.0\n");
    Path out = Files.createDirectories(dir.resolve("run"));
    // a checkpoint that cannot be read (a folder where the file should be)
    Files.writeString(Files.createDirectories(out.resolve("checkpoint.bin")).resolve("x"), "x");
    EmbedCommandTest.Run r = gecko("finetune", "--data", pairs.toString(), "--out", out.toString(), "--resume");
    assertThat(r.code()).as(r.err()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(r.err()).contains("gecko: error: cannot read the checkpoint in " + out).doesNotContain("--out")
        .doesNotContain("Exception");
  }

  @Test
  void finetuneResumingAFolderThatDoesNotExistLeavesNone() throws Exception {
    Path pairs = Files.writeString(dir.resolve("pairs.tsv"), "sentence1\tsentence2\tscore\na cat\ta dog\t1.0\n");
    Path typo = dir.resolve("rnu");
    EmbedCommandTest.Run r = gecko("finetune", "--data", pairs.toString(), "--out", typo.toString(), "--resume");
    assertThat(r.code()).as(r.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(r.err()).contains("nothing to resume: " + typo.resolve("checkpoint.bin") + " does not exist");
    assertThat(typo).doesNotExist();
  }

  @Test
  void trainSaysPlainlyWhenNoEpochBeatTheBase() throws Exception {
    List<String> lines = Files.readAllLines(Path.of(System.getProperty("gecko.shared.dir", "../../shared"),
        "data/sts/stsbenchmark/pairs.dev.tsv")).subList(0, 41);
    Path data = Files.write(dir.resolve("sts.tsv"), lines);
    Path out = dir.resolve("model");
    // a learning rate too small to move the adapter: no epoch can beat epoch 0 (the base itself)
    EmbedCommandTest.Run r = gecko("train", "--model", "bge-small-en-v1.5-int8", "--data", data.toString(), "--out",
        out.toString(), "--unsupervised", "--dims", "384,64", "--epochs", "1", "--lr", "1e-30",
        "--cache", dir.resolve("cache").toString(), "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode summary = JSON.readTree(r.out());
    assertThat(summary.get("improved").asBoolean()).isFalse();
    assertThat(summary.get("bestEpoch").asInt()).isZero();
    assertThat(r.err()).contains("gecko: warning: no epoch beat the base model's validation score")
        .contains("is the base with an untrained adapter");
    // with the principal axes the model written is the rotation, not the base
    EmbedCommandTest.Run axes = gecko("train", "--model", "bge-small-en-v1.5-int8", "--data", data.toString(), "--out",
        dir.resolve("axes").toString(), "--unsupervised", "--dims", "384,64", "--epochs", "1", "--lr", "1e-30",
        "--basis", "principal-axes", "--cache", dir.resolve("cache").toString(), "--threads", "1");
    assertThat(axes.code()).as(axes.err()).isZero();
    assertThat(axes.err()).contains("is the PRINCIPAL_AXES basis with an untrained residual");
  }

  @Test
  void aDefectSaysItIsOneAndAsksForAReportWhileUserErrorsSayOnlyTheProblem() {
    assertThat(GeckoCli.errorLine(new NullPointerException(), false)).isEqualTo(
        "gecko: error: internal error: java.lang.NullPointerException (rerun with -v for the stack trace); please report it");
    assertThat(GeckoCli.errorLine(new IndexOutOfBoundsException("Index 5 out of bounds for length 5"), true)).isEqualTo(
        "gecko: error: internal error: java.lang.IndexOutOfBoundsException: Index 5 out of bounds for length 5;"
            + " please report it");
    assertThat(GeckoCli.errorLine(new IllegalArgumentException("--k must be >= 1, was 0"), false))
        .isEqualTo("gecko: error: --k must be >= 1, was 0");
    assertThat(GeckoCli.errorLine(new java.nio.file.NoSuchFileException("a.jsonl"), false))
        .isEqualTo("gecko: error: a.jsonl: file not found");
    assertThat(GeckoCli.errorLine(new OutOfMemoryError("Java heap space"), false))
        .startsWith("gecko: error: out of memory (Java heap space); give the JVM more (GECKO_JAVA_OPTS=-Xmx8g");
    // an Error, which picocli does not hand to the exception handler, is printed the same way
    java.io.StringWriter err = new java.io.StringWriter();
    int code = GeckoCli.reportingErrors(() -> {
      throw new OutOfMemoryError("Java heap space");
    }, new java.io.PrintWriter(err), false);
    assertThat(code).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(err.toString()).startsWith("gecko: error: out of memory (Java heap space)").doesNotContain("\tat ");
    assertThat(GeckoCli.reportingErrors(() -> 0, new java.io.PrintWriter(err), false)).isZero();
  }

  /** A library warning's numbers read as Java writes them, whatever the locale: "1000 ms", never "1.000 ms". */
  @Test
  void libraryWarningsWriteNumbersUngroupedWhateverTheLocale() {
    java.util.Locale saved = java.util.Locale.getDefault();
    try {
      java.util.Locale.setDefault(java.util.Locale.GERMANY);
      java.util.logging.LogRecord r = new java.util.logging.LogRecord(java.util.logging.Level.WARNING,
          "LLM call failed ({0}); retry {1}/{2} in {3} ms, share {4}");
      r.setParameters(new Object[] {"HTTP 429", 1, 5, 1500L, 0.25});
      assertThat(new GeckoCli.LogLineFormatter().format(r))
          .isEqualTo("gecko: warning: LLM call failed (HTTP 429); retry 1/5 in 1500 ms, share 0.25" + System.lineSeparator());
      assertThat(r.getParameters()[3]).as("the record is left as it is").isEqualTo(1500L);
      // a typed argument is the logger's own choice of format: left to MessageFormat
      java.util.logging.LogRecord typed = new java.util.logging.LogRecord(java.util.logging.Level.WARNING,
          "{0,number,#} texts");
      typed.setParameters(new Object[] {12345});
      assertThat(new GeckoCli.LogLineFormatter().format(typed)).isEqualTo("gecko: warning: 12345 texts" + System.lineSeparator());
    } finally {
      java.util.Locale.setDefault(saved);
    }
  }
}
