package dev.gecko.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.core.Progress;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static EmbedCommandTest.Run gecko(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = GeckoCli.run(args, new PrintWriter(out), new PrintWriter(err));
    return new EmbedCommandTest.Run(code, out.toString(), err.toString());
  }

  static Path shared() {
    return Path.of(System.getProperty("gecko.shared.dir", "../../shared"));
  }

  /** The first 30 real STS Benchmark test pairs. */
  static Path pairs(Path dir) throws Exception {
    List<String> lines = Files.readAllLines(shared().resolve("data/sts/stsbenchmark/pairs.test.tsv"));
    return Files.write(dir.resolve("pairs.tsv"), lines.subList(0, 31), StandardCharsets.UTF_8);
  }

  /** Under a locale that writes decimal commas: the table and the progress lines still use points. */
  @Test
  void stsPrintsATableAndWritesJson(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("out/sts.json");
    java.util.Locale saved = java.util.Locale.getDefault();
    EmbedCommandTest.Run r;
    try {
      java.util.Locale.setDefault(java.util.Locale.GERMANY);
      r = gecko("eval", "sts", "--data", pairs(dir).toString(), "--model", "all-MiniLM-L6-v2",
          "--dims", "384,64", "--json", json.toString(), "--cache", dir.resolve("cache").toString(), "--threads", "2");
    } finally {
      java.util.Locale.setDefault(saved);
    }
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("model: all-MiniLM-L6-v2", "cosine_spearman", "main score: cosine_spearman");
    assertThat(r.out().lines().filter(l -> l.matches("\\s+(384|64)\\s+\\d+\\.\\d\\d\\s+\\d+\\.\\d\\d"))).hasSize(2);
    assertThat(r.err()).contains("gecko: embedding sentences: ").doesNotContainPattern("\\d,\\d");
    JsonNode n = JSON.readTree(json.toFile());
    assertThat(n.get("model").asText()).isEqualTo("all-MiniLM-L6-v2");
    assertThat(n.get("data").asText()).endsWith("pairs.tsv");
    assertThat(n.get("metric").asText()).isEqualTo("cosine_spearman");
    assertThat(n.get("scores").fieldNames()).toIterable().containsExactly("384", "64");
    assertThat(n.get("scores").get("384").asDouble()).isBetween(50.0, 100.0);
    assertThat(n.get("metrics").get("64").has("cosine_pearson")).isTrue();
    // the table shows the JSON's numbers
    assertThat(r.out()).contains(String.format(java.util.Locale.ROOT, "%.2f", n.get("scores").get("384").asDouble()));
  }

  /** The table is the command's output: lost (a full disk, a closed pipe), the run is no success. */
  @Test
  void aTableThatCannotBeWrittenExitsOne(@TempDir Path dir) throws Exception {
    EmbedCommandTest.ClosingPipe pipe = new EmbedCommandTest.ClosingPipe();
    java.io.StringWriter err = new java.io.StringWriter();
    int code = GeckoCli.run(new String[] {"eval", "sts", "--data", pairs(dir).toString(), "--model", "all-MiniLM-L6-v2-int8",
        "--dims", "64", "--no-cache", "--threads", "1"}, new java.io.PrintWriter(pipe, true), new java.io.PrintWriter(err));
    assertThat(code).as(err.toString()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(pipe.refused).isPositive();
    assertThat(err.toString()).contains("gecko: error: standard output closed or not writable");
  }

  @Test
  void aCacheThatCannotBeWrittenCostsOnlySpeed(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("cache-is-a-file"), "mine");
    EmbedCommandTest.Run r = gecko("eval", "sts", "--data", pairs(dir).toString(), "--model", "all-MiniLM-L6-v2-int8",
        "--dims", "64", "--cache", file.toString(), "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("main score: cosine_spearman");
    assertThat(r.err().lines().filter(l -> l.contains("embedding cache")))
        .singleElement().asString().startsWith("gecko: warning: ").contains(file.toString());
    assertThat(Files.readString(file)).isEqualTo("mine");
  }

  @Test
  void usageAndDataErrorsHaveTheirExitCodes(@TempDir Path dir) throws Exception {
    assertThat(gecko("eval").code()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(gecko("eval", "sts").code()).isEqualTo(GeckoCli.EXIT_USAGE);
    EmbedCommandTest.Run task = gecko("eval", "sts", "--data", "x.tsv", "--task", "bogus");
    assertThat(task.code()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(task.err()).contains("--task: unknown task type 'bogus'; expected one of retrieval-query,")
        .contains("or none").doesNotContain("Usage:");
    EmbedCommandTest.Run wide = gecko("eval", "sts", "--data", pairs(dir).toString(), "--model", "all-MiniLM-L6-v2",
        "--dims", "999", "--no-cache");
    assertThat(wide.code()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(wide.err()).contains("--dims: every width must be in [1, 384], was 999");
    EmbedCommandTest.Run jsonFolder = gecko("eval", "sts", "--data", pairs(dir).toString(), "--model",
        "all-MiniLM-L6-v2", "--json", dir.toString(), "--no-cache");
    assertThat(jsonFolder.code()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(jsonFolder.err()).contains("--json: " + dir + " is a folder").doesNotContain("embedding");
    Path bad = Files.writeString(dir.resolve("bad.tsv"), "subset\tsentence1\tsentence2\tscore\nx\ta\tb\n");
    EmbedCommandTest.Run r = gecko("eval", "sts", "--data", bad.toString(), "--no-cache");
    assertThat(r.code()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(r.err()).contains(bad + ":2: expected 4 tab-separated fields");
    EmbedCommandTest.Run missing = gecko("eval", "retrieval", "--data", dir.toString(), "--no-cache");
    assertThat(missing.code()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(missing.err()).contains("corpus.jsonl: missing (and no corpus.jsonl.gz)");
  }

  @Test
  void plainLinesRepeatAtTheIntervalWhileNoReportArrives() throws InterruptedException {
    StringWriter sink = new StringWriter();
    java.util.function.LongSupplier repeats =
        () -> sink.toString().lines().filter(l -> l.startsWith("gecko: embedding corpus: 1/100 texts")).count();
    try (CliProgress p = new CliProgress(new PrintWriter(sink), java.time.Duration.ofMillis(40), false)) {
      p.onProgress(Progress.of("embedding corpus", "texts", 0, 100));
      p.onProgress(Progress.of("embedding corpus", "texts", 1, 100)); // then a long silence
      // Waits for the lines rather than for a fixed time: a busy build machine may delay the
      // printing thread, and only the repetition itself is under test here.
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
      while (repeats.getAsLong() < 3 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
    }
    assertThat(repeats.getAsLong()).as(sink.toString()).isGreaterThanOrEqualTo(3);
  }

  @Test
  void progressWithoutATerminalPrintsPlainLinesPerPhase() {
    StringWriter sink = new StringWriter();
    try (CliProgress p = new CliProgress(new PrintWriter(sink), java.time.Duration.ofHours(1), false)) {
      p.onProgress(Progress.of("embedding corpus", "texts", 0, 100));
      p.onProgress(Progress.of("embedding corpus", "texts", 40, 100));
      p.onProgress(Progress.of("embedding corpus", "texts", 100, 100));
      p.onProgress(new Progress("searching at 64 dims", "queries", 5, 5, java.util.Map.of("loss", 0.125)));
    }
    List<String> lines = sink.toString().lines().toList();
    assertThat(sink.toString()).doesNotContain("\r");
    assertThat(lines).anyMatch(l -> l.startsWith("gecko: embedding corpus: 40/100 texts (40%)"));
    assertThat(lines).anyMatch(l -> l.startsWith("gecko: embedding corpus: 100/100 texts (100%)"));
    assertThat(lines).anyMatch(l -> l.startsWith("gecko: searching at 64 dims: 5/5 queries (100%)") && l.endsWith(", loss 0.1250"));
    assertThat(lines.stream().filter(l -> l.contains("100/100"))).hasSize(1);
  }
}
