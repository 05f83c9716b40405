package dev.gecko.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gecko.core.Progress;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The one rule for outputs in every command (CliFiles: an output of the wrong kind exits 2, one
 * that cannot be written or created 1, both before any work), options named as the user typed
 * them, and a phase's end shown once.
 */
class OutputAndOptionErrorsTest {
  @TempDir Path dir;

  private static EmbedCommandTest.Run gecko(String... args) {
    return EmbedCommandTest.gecko(args);
  }

  /** The command line of {@code command} that writes {@code output} (valid inputs, no LLM reached). */
  private String[] writing(String command, Path output) throws Exception {
    Path texts = Files.write(dir.resolve("texts.txt"), List.of("one", "two", "three", "four"));
    Path pairs = Files.writeString(dir.resolve("pairs.tsv"), "subset\tsentence1\tsentence2\tscore\n"
        + "x\ta cat sits\ta dog sits\t1.0\nx\ta man runs\ta man jogs\t4.5\nx\tit rains\tthe sun shines\t0.5\n");
    Path corpus = Files.writeString(dir.resolve("corpus.jsonl"), "{\"_id\": \"a\", \"text\": \"fine\"}\n");
    String o = output.toString();
    return switch (command) {
      case "index" -> new String[] {"index", "--corpus", corpus.toString(), "--out", o, "--threads", "1"};
      case "train" -> new String[] {"train", "--data", texts.toString(), "--out", o, "--unsupervised", "--threads", "1"};
      case "finetune" -> new String[] {"finetune", "--data", pairs.toString(), "--out", o};
      case "generate" -> new String[] {"generate", "--corpus", corpus.toString(), "--out", o, "--llm", "openai",
          "--llm-model", "m", "--base-url", "http://127.0.0.1:9/v1"};
      case "eval" -> new String[] {"eval", "sts", "--data", pairs.toString(), "--no-cache", "--threads", "1", "--json",
          o};
      default -> throw new IllegalArgumentException(command);
    };
  }

  private static String option(String command) {
    return command.equals("eval") ? "--json" : "--out";
  }

  @ParameterizedTest
  @ValueSource(strings = {"index", "train", "finetune", "generate"})
  void anOutputFolderThatIsAFileIsAUsageErrorBeforeAnyWork(String command) throws Exception {
    Path file = Files.writeString(dir.resolve("a-file"), "mine");
    EmbedCommandTest.Run r = gecko(writing(command, file));
    assertThat(r.code()).as(r.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(r.err()).startsWith("gecko: error: --out: " + file + ": the output folder is a file")
        .doesNotContain("cache").doesNotContain("embedding");
    assertThat(r.out()).isEmpty();
    assertThat(Files.readString(file)).isEqualTo("mine");
  }

  @ParameterizedTest
  @ValueSource(strings = {"index", "train", "finetune", "generate", "eval"})
  void anOutputUnderAFileIsAFailureBeforeAnyWork(String command) throws Exception {
    Path file = Files.writeString(dir.resolve("a-file"), "mine");
    Path under = file.resolve(command.equals("eval") ? "out.json" : "out");
    EmbedCommandTest.Run r = gecko(writing(command, under));
    assertThat(r.code()).as(r.err()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(r.err()).startsWith("gecko: error: " + option(command) + ": " + under + ": ")
        .contains("cannot be created: " + file + " is a file").doesNotContain("embedding");
    assertThat(r.err().lines()).hasSize(1);
    assertThat(r.out()).isEmpty(); // eval printed its table, then failed
  }

  @ParameterizedTest
  @ValueSource(strings = {"train", "finetune"})
  void aBadOptionValueIsAUsageErrorBeforeTheCacheFolderIsMade(String command) throws Exception {
    Path cache = dir.resolve("cache");
    Path out = dir.resolve("out");
    List<String> args = new java.util.ArrayList<>(List.of(writing(command, out)));
    args.addAll(List.of("--cache", cache.toString(), "--epochs", "0"));
    EmbedCommandTest.Run r = gecko(args.toArray(String[]::new));
    assertThat(r.code()).as(r.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(r.err()).startsWith("gecko: error: --epochs");
    assertThat(cache).doesNotExist();
    assertThat(out).doesNotExist();
  }

  /**
   * As root, whom no permission stops, the folder still reads as writable: there the CLI's
   * writability check is told that it is not, so that the refusal is tested on every machine.
   */
  @ParameterizedTest
  @ValueSource(strings = {"index", "train", "finetune", "generate", "eval"})
  void anOutputInAReadOnlyFolderIsAFailureBeforeAnyWork(String command) throws Exception {
    Path readOnly = Files.createDirectories(dir.resolve("read-only"));
    Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-xr-xr-x"));
    java.util.function.Predicate<Path> real = CliFiles.writable;
    if (Files.isWritable(readOnly)) { // root
      CliFiles.writable = p -> !p.toAbsolutePath().equals(readOnly.toAbsolutePath()) && real.test(p);
    }
    try {
      Path target = readOnly.resolve(command.equals("eval") ? "out.json" : "out");
      EmbedCommandTest.Run r = gecko(writing(command, target));
      assertThat(r.code()).as(r.err()).isEqualTo(GeckoCli.EXIT_FAILURE);
      assertThat(r.err()).startsWith("gecko: error: " + option(command) + ": " + target + ": ")
          .contains("cannot be created: " + readOnly + " is not writable (permission denied)")
          .doesNotContain("embedding");
      assertThat(r.out()).isEmpty();
    } finally {
      CliFiles.writable = real;
      Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  @Test
  void trainRefusesAWidthAboveTheModelsAsEveryCommandDoes() throws Exception {
    Path texts = Files.write(dir.resolve("texts.txt"), List.of("one", "two", "three", "four"));
    EmbedCommandTest.Run r = gecko("train", "--data", texts.toString(), "--out", dir.resolve("m").toString(),
        "--unsupervised", "--dims", "384,999", "--threads", "1");
    assertThat(r.code()).as(r.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(r.err()).isEqualTo("gecko: error: --dims: every width must be in [1, 384], was 999\n");
    EmbedCommandTest.Run ft = gecko("finetune", "--data", texts.toString(), "--out", dir.resolve("m").toString(),
        "--dims", "999");
    assertThat(ft.code()).as(ft.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(ft.err()).isEqualTo("gecko: error: --dims: every width must be in [1, 384], was 999\n");
    assertThat(dir.resolve("m")).doesNotExist();
  }

  @Test
  void finetuneRefusesAnInt8ModelShortlyNamingItsFp32Twin() throws Exception {
    Path pairs = Files.writeString(dir.resolve("pairs.tsv"), "sentence1\tsentence2\tscore\na cat\ta dog\t1.0\n"
        + "a man\ta woman\t2.0\n");
    String out = dir.resolve("ft").toString();
    EmbedCommandTest.Run r = gecko("finetune", "--model", "bge-small-en-v1.5-int8", "--data", pairs.toString(),
        "--out", out);
    assertThat(r.code()).as(r.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(r.err()).startsWith("gecko: error: --model bge-small-en-v1.5-int8: an int8 model cannot be fine-tuned")
        .contains("--model bge-small-en-v1.5 ").doesNotContain("DequantizeLinear").doesNotContain("Exception");
    assertThat(r.err().length()).isLessThan(300);
    // the graph's details stay available
    EmbedCommandTest.Run v = gecko("finetune", "-v", "--model", "bge-small-en-v1.5-int8", "--data", pairs.toString(),
        "--out", out);
    assertThat(v.code()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(v.err()).contains("UnsupportedModelException").contains("DequantizeLinear");
  }

  @Test
  void trainNamesTheOptionOfAValueTheTrainerRefuses() throws Exception {
    Path texts = Files.write(dir.resolve("texts.txt"), List.of("one", "two", "three", "four"));
    String[] base = {"train", "--data", texts.toString(), "--out", dir.resolve("m").toString(), "--unsupervised",
        "--threads", "1"};
    assertRefused(base, List.of("--batch-size", "0"), "--batch-size must be >= 2, was 0");
    assertRefused(base, List.of("--lr", "-1"), "--lr must be finite and > 0, was -1.0");
    assertRefused(base, List.of("--hidden", "0"), "--hidden must be >= 1, was 0");
    assertRefused(base, List.of("--structure-weight", "-1"), "--structure-weight must be finite and >= 0, was -1.0");
    assertRefused(base, List.of("--top-k", "-1"), "--top-k must be >= 0, was -1");
    assertRefused(base, List.of("--rec-weight", "NaN"), "--rec-weight must be finite and >= 0, was NaN");
  }

  @Test
  void finetuneNamesTheOptionOfAValueTheFineTunerRefusesAndListsAcceptedValues() throws Exception {
    Path pairs = Files.writeString(dir.resolve("pairs.tsv"), "sentence1\tsentence2\tscore\na cat\ta dog\t1.0\n");
    String[] base = {"finetune", "--data", pairs.toString(), "--out", dir.resolve("m").toString()};
    assertRefused(base, List.of("--batch-size", "0"), "--batch-size must be >= 2 (in-batch losses), was 0");
    assertRefused(base, List.of("--lr", "-1"), "--lr must be finite and > 0, was -1.0");
    assertRefused(base, List.of("--max-length", "1"), "--max-length must be >= 2, was 1");
    assertRefused(base, List.of("--mini-batch-size", "0"), "--mini-batch-size must be >= 1, was 0");
    assertRefused(base, List.of("--reorder-dims", "--basis", "principal_axes"),
        "--reorder-dims and --basis PRINCIPAL_AXES together: the basis already orders");
    assertRefused(base, List.of("--objective", "foo"),
        "--objective: unknown value 'foo'; expected one of gecko, cosent, mrl-distill");
    assertRefused(base, List.of("--prompts", "foo"), "--prompts: unknown value 'foo'; expected one of auto, gecko, model");
    assertRefused(base, List.of("--temperature", "0.1"),
        "--temperature applies to the GECKO and MRL_DISTILL objectives, not COSENT");
    assertRefused(base, List.of("--positive-threshold", "3"),
        "--positive-threshold applies to the GECKO objective only, not COSENT");
    Path cache = dir.resolve("unused-cache");
    assertRefused(base, List.of("--cache", cache.toString()), "--cache holds the base model's vectors for the "
        + "mrl-distill objective, --reorder-dims or a basis other than IDENTITY; with COSENT and none of them it "
        + "would never be used");
    assertThat(cache).as("refused before its folder is made").doesNotExist();
  }

  @Test
  void finetuneTakesThePositiveThresholdItsRefusalAsksFor() throws Exception {
    Path pairs = Files.writeString(dir.resolve("scored.tsv"),
        "sentence1\tsentence2\tscore\na cat\ta dog\t3.0\na car\ta bus\t3.0\na tree\ta bush\t3.0\n");
    String[] run = {"finetune", "--objective", "gecko", "--data", pairs.toString(), "--validation", pairs.toString(),
        "--out", dir.resolve("m").toString()};
    EmbedCommandTest.Run below = gecko(run);
    assertThat(below.code()).as(below.err()).isEqualTo(GeckoCli.EXIT_FAILURE); // the data's problem, not a usage error
    assertThat(below.err()).contains(pairs + ": fewer than 2 usable rows (0) for GECKO: 3 of 3 rows score below "
        + "--positive-threshold 4.0 and are not positives; lower --positive-threshold or add rows");
    List<String> lower = new java.util.ArrayList<>(List.of(run));
    lower.addAll(List.of("--positive-threshold", "3.5"));
    EmbedCommandTest.Run still = gecko(lower.toArray(String[]::new));
    assertThat(still.err()).as("the option reaches the fine-tuner").contains("--positive-threshold 3.5 and are not");
    assertRefused(run, List.of("--positive-threshold", "NaN"), "--positive-threshold must be finite");
  }

  private static void assertRefused(String[] base, List<String> extra, String message) {
    List<String> args = new java.util.ArrayList<>(List.of(base));
    args.addAll(extra);
    EmbedCommandTest.Run r = gecko(args.toArray(String[]::new));
    assertThat(r.code()).as(String.join(" ", extra) + ": " + r.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(r.err()).as(String.join(" ", extra)).startsWith("gecko: error: " + message);
    assertThat(r.err().lines()).hasSize(1);
  }

  @Test
  void builderSettingsBecomeOptionsOnlyWhereTheyNameTheSetting() {
    BuilderFlags flags = BuilderFlags.of("basis", "--basis", "basisTask", "--basis-task", "epochs", "--epochs",
        "batchSize", "--batch-size").about("Matryoshka width", "--dims");
    assertThat(flags.message("basisTask RETRIEVAL_QUERY applies to a basis other than IDENTITY, not basis IDENTITY"))
        .isEqualTo("--basis-task RETRIEVAL_QUERY applies to a basis other than IDENTITY, not --basis IDENTITY");
    assertThat(flags.message("epochs must be >= 1; the epochs are few")).isEqualTo("--epochs must be >= 1; the epochs are few");
    assertThat(flags.message("neighbourGroup 8 exceeds the batch size 4 (batchSize)"))
        .isEqualTo("neighbourGroup 8 exceeds the batch size 4 (--batch-size)");
    assertThat(flags.message("Matryoshka width 64 given twice")).isEqualTo("--dims: Matryoshka width 64 given twice");
    // a resume refused, as FineTuner words it: each setting opens a clause
    assertThat(flags.message("other settings (epochs 1 there, 2 here; batchSize 8 there, 4 here; basis IDENTITY there,"
        + " PRINCIPAL_AXES here); resume with the same settings"))
        .isEqualTo("other settings (--epochs 1 there, 2 here; --batch-size 8 there, 4 here; --basis IDENTITY there,"
        + " PRINCIPAL_AXES here); resume with the same settings");
    // a user's file names and paths are left as they are; a sentence's full stop is not a file name
    assertThat(flags.message("data/basis.csv: unknown data format; out/epochs/x.json and epochs.csv too"))
        .isEqualTo("data/basis.csv: unknown data format; out/epochs/x.json and epochs.csv too");
    assertThat(flags.message("basis.csv: unknown data format")).isEqualTo("basis.csv: unknown data format");
    assertThat(flags.message("a value must be set for batchSize.")).isEqualTo("a value must be set for --batch-size.");
  }

  /**
   * Off Linux (macOS) stderr is taken for a terminal only where {@code /dev/fd/2} is a character
   * device: a file or a pipe it is redirected to is not one.
   */
  @Test
  void onlyACharacterDeviceCountsAsATerminal(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(Path.of("/dev/null")), "a Unix file system");
    assertThat(CliProgress.isCharacterDevice(Path.of("/dev/null"))).isTrue();
    assertThat(CliProgress.isCharacterDevice(java.nio.file.Files.writeString(tmp.resolve("log"), "x"))).isFalse();
    assertThat(CliProgress.isCharacterDevice(tmp)).isFalse();
    assertThat(CliProgress.isCharacterDevice(tmp.resolve("missing"))).isFalse();
  }

  /** The command's output is UTF-8 whatever the locale, as its inputs are read. */
  @Test
  void standardOutputIsUtf8() {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    PrintWriter out = GeckoCli.utf8(bytes);
    out.println("{\"id\":\"na\u00efve \ud83d\udc1d\"}");
    assertThat(bytes.toByteArray()).isEqualTo(("{\"id\":\"na\u00efve \ud83d\udc1d\"}" + System.lineSeparator())
        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** A snippet is never cut between the halves of a surrogate pair (UTF-8 cannot write a half). */
  @Test
  void aSnippetKeepsWholeCharacters() {
    String text = "a".repeat(238) + "\ud83d\ude00" + " and more text after it";
    String snippet = IndexDirectory.snippet(text);
    assertThat(snippet).isEqualTo("a".repeat(238) + "...");
    assertThat(IndexDirectory.snippet("a".repeat(237) + "\ud83d\ude00" + "tail".repeat(10))).isEqualTo("a".repeat(237) + "\ud83d\ude00...");
  }

  /**
   * A resumed run's first report already counts the seeds earlier runs did: the terminal bar's rate
   * and ETA count from there, not as if 9,000 seeds were done in the run's first instant.
   */
  @Test
  void aResumedRunsTerminalBarCountsItsRateFromItsFirstReport() {
    try (CliProgress p = new CliProgress(new PrintWriter(new StringWriter()), Duration.ofHours(1), true)) {
      p.onProgress(Progress.of("generating", "seeds", 9000, 10000));
      assertThat(p.barStart()).isEqualTo(9000);
      p.onProgress(Progress.of("generating", "seeds", 9001, 10000));
      assertThat(p.barStart()).isEqualTo(9000);
      p.onProgress(Progress.of("checking", "texts", 0, 10)); // a new phase: a new bar, from its own start
      assertThat(p.barStart()).isZero();
    }
  }

  @Test
  void aRepeatedFinalReportOfAFinishedPhasePrintsNothingMore() {
    StringWriter sink = new StringWriter();
    try (CliProgress p = new CliProgress(new PrintWriter(sink), Duration.ofHours(1), false)) {
      p.onProgress(Progress.of("finding neighbours", "pairs", 0, 325));
      p.onProgress(Progress.of("finding neighbours", "pairs", 325, 325));
      p.onProgress(Progress.of("finding neighbours", "pairs", 325, 325)); // the library's end, again
      p.onProgress(Progress.of("generating", "seeds", 3, 3));
      p.onProgress(Progress.of("generating", "seeds", 3, 3));
      p.onProgress(Progress.of("finding neighbours", "pairs", 0, 325)); // the same phase anew: shown anew
      p.onProgress(Progress.of("finding neighbours", "pairs", 325, 325));
    }
    List<String> lines = sink.toString().lines().toList();
    assertThat(lines.stream().filter(l -> l.contains("325/325"))).as(sink.toString()).hasSize(2)
        .allMatch(l -> l.startsWith("gecko: finding neighbours: 325/325 pairs (100%)"));
    assertThat(lines.stream().filter(l -> l.contains("3/3 seeds"))).as(sink.toString()).hasSize(1);
  }

  @Test
  void embedRefusesTheStandardInputDashBesideInput() throws Exception {
    Path in = Files.writeString(dir.resolve("in.jsonl"), "{\"text\": \"hello\"}\n");
    EmbedCommandTest.Run r = gecko("embed", "--input", in.toString(), "-");
    assertThat(r.code()).as(r.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(r.err()).contains("--input, not both");
    assertThat(r.out()).isEmpty();
  }
}
