package dev.gecko.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.train.testing.FakeLlmServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerateCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private FakeLlmServer server;

  record Run(int code, String out, String err) {}

  static Run gecko(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = GeckoCli.run(args, new PrintWriter(out), new PrintWriter(err));
    return new Run(code, out.toString(), err.toString());
  }

  @BeforeEach
  void start() throws Exception {
    server = FakeLlmServer.start();
    GenerateCommand.environment = Map.of("OPENAI_API_KEY", "sk-cli-SECRET");
  }

  @AfterEach
  void stop() {
    server.close();
    GenerateCommand.environment = System.getenv();
  }

  /** The first 22 ArguAna passages, copied from the shared data at test time into a temp file. */
  static Path corpus(Path dir) throws Exception {
    Path shared = Path.of(System.getProperty("gecko.shared.dir", "../../shared"));
    List<String> lines = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(
        new GZIPInputStream(Files.newInputStream(shared.resolve("data/beir/arguana/corpus.jsonl.gz"))), StandardCharsets.UTF_8))) {
      for (String l; lines.size() < 22 && (l = r.readLine()) != null; ) {
        lines.add(l);
      }
    }
    Path f = dir.resolve("corpus.jsonl");
    Files.write(f, lines, StandardCharsets.UTF_8);
    return f;
  }

  @Test
  void generatesResumesAndReportsProgressOnStderr(@TempDir Path dir) throws Exception {
    Path corpus = corpus(dir);
    Path out = dir.resolve("run");
    String[] args = {"generate", "--corpus", corpus.toString(), "--out", out.toString(), "--llm", "openai", "--base-url",
        server.openAiBaseUrl(), "--llm-model", "fake-llm", "--concurrency", "2", "--limit", "3", "--prompt-logprobs",
        "--price-input", "0.5", "--price-output", "2", "--threads", "2"};
    Run r = gecko(args);
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode summary = JSON.readTree(r.out().strip());
    assertThat(summary.path("written").asInt()).isEqualTo(3);
    assertThat(summary.path("reject_reasons")).as(r.out()).isEmpty();
    assertThat(summary.path("reject_reasons").isArray()).isTrue();
    assertThat(summary.path("cost").asDouble()).isPositive();
    assertThat(r.err()).contains("gecko: generating: 3/3 seeds (100%)").contains("examples 3").contains("tokens")
        .doesNotContain("\r");
    List<String> lines = Files.readAllLines(out.resolve("examples.jsonl"));
    assertThat(lines).hasSize(3);
    Set<String> seeds = new HashSet<>();
    for (String l : lines) {
      JsonNode e = JSON.readTree(l);
      assertThat(seeds.add(e.path("seed_id").asText())).isTrue();
      assertThat(e.path("scorer").path("ql").asText()).isEqualTo("ql-prompt-logprobs");
      assertThat(e.path("candidates")).hasSize(20);
    }
    assertThat(server.requests().get(0).headers().get("Authorization")).containsExactly("Bearer sk-cli-SECRET");
    assertThat(Files.readString(out.resolve("manifest.json"))).doesNotContain("sk-cli-SECRET");

    // the same command again: everything skipped, answered by nothing (no new HTTP requests)
    int before = server.requests().size();
    Run again = gecko(args);
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(JSON.readTree(again.out().strip()).path("skipped").asInt()).isEqualTo(3);
    assertThat(server.requests()).hasSize(before);

    // a changed parameter is refused with exit 1 and a clear message
    List<String> changed = new ArrayList<>(List.of(args));
    changed.addAll(List.of("--candidates", "10"));
    Run conflict = gecko(changed.toArray(String[]::new));
    assertThat(conflict.code()).isEqualTo(1);
    assertThat(conflict.err()).contains("parameters.candidates").contains("--new-run");
  }

  @Test
  void answersWithExtraKeysInCodeFencesAmidProseBecomeExamples(@TempDir Path dir) throws Exception {
    server.generationStyle(FakeLlmServer.GenerationStyle.CHATTY);
    Path corpus = corpus(dir);
    Path out = dir.resolve("chatty");
    Run r = gecko("generate", "--corpus", corpus.toString(), "--out", out.toString(), "--llm", "openai", "--base-url",
        server.openAiBaseUrl(), "--llm-model", "chatty-llm", "--limit", "10", "--no-cache", "--threads", "2");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode summary = JSON.readTree(r.out().strip());
    assertThat(summary.path("seeds").asInt()).isEqualTo(10);
    assertThat(summary.path("written").asInt()).as(r.out()).isGreaterThanOrEqualTo(9);
    List<String> lines = Files.readAllLines(out.resolve("examples.jsonl"));
    assertThat(lines).hasSize(summary.path("written").asInt());
    for (String l : lines) {
      JsonNode e = JSON.readTree(l);
      String query = e.path("query").asText();
      assertThat(e.path("anchor").asText()).isEqualTo(query);
      // the model's extra "question" is recorded, and it is not what became the query
      assertThat(e.path("extra").path("question").asText()).isEqualTo("Which passage talks about " + query + "?");
      assertThat(e.path("extra").path("task_description").asText()).isEqualTo("The task: " + e.path("task").asText());
    }
  }

  @Test
  void aModelThatOnlyRefusesStopsTheRunEarlyWithExitOneAndTheReasons(@TempDir Path dir) throws Exception {
    server.generationStyle(FakeLlmServer.GenerationStyle.REFUSING);
    Path corpus = corpus(dir); // 22 passages: more seeds than the default early stop watches (20)
    Path out = dir.resolve("refused");
    Run r = gecko("generate", "--corpus", corpus.toString(), "--out", out.toString(), "--llm", "openai", "--base-url",
        server.openAiBaseUrl(), "--llm-model", "refusing-llm", "--concurrency", "2", "--no-cache", "--threads", "2");
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    List<String> rejects = Files.readAllLines(out.resolve("rejects.jsonl"));
    // stopped once the first 20 finished seeds were rejected: only the one other seed in flight finished after
    assertThat(rejects.size()).isBetween(20, 21);
    assertThat(r.err()).contains("run stopped early: the first 20 seeds it finished were all rejected")
        .contains("  " + rejects.size() + " seeds: generate: no JSON object in the answer (after 3 attempts); e.g. answer: \""
            + FakeLlmServer.REFUSAL + "\"")
        .contains("--new-run");
    assertThat(JSON.readTree(out.resolve("manifest.json").toFile()).path("status").asText()).isEqualTo("stopped");
  }

  @Test
  void aRunThatWritesNothingExitsOneAndListsItsRejectReasons(@TempDir Path dir) throws Exception {
    server.generationStyle(FakeLlmServer.GenerationStyle.REFUSING);
    Path corpus = corpus(dir);
    Path out = dir.resolve("nothing");
    String[] args = {"generate", "--corpus", corpus.toString(), "--out", out.toString(), "--llm", "openai", "--base-url",
        server.openAiBaseUrl(), "--llm-model", "refusing-llm", "--limit", "3", "--attempts", "2", "--no-cache", "--threads", "2"};
    Run r = gecko(args); // 3 seeds: fewer than the early stop watches, so the run completes, with nothing
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    JsonNode summary = JSON.readTree(r.out().strip());
    assertThat(summary.path("written").asInt()).isZero();
    assertThat(summary.path("rejected").asInt()).isEqualTo(3);
    JsonNode reasons = summary.path("reject_reasons");
    assertThat(reasons).hasSize(1);
    assertThat(reasons.get(0).path("reason").asText()).isEqualTo("generate: no JSON object in the answer (after 2 attempts)");
    assertThat(reasons.get(0).path("count").asInt()).isEqualTo(3);
    assertThat(reasons.get(0).path("example").asText()).isEqualTo(FakeLlmServer.REFUSAL);
    assertThat(r.err()).contains("gecko: error: no examples in " + out.resolve("examples.jsonl"))
        .contains("3 seeds: generate: no JSON object in the answer (after 2 attempts)");

    // the same command again: nothing left to do, and still no dataset: still a failure
    Run again = gecko(args);
    assertThat(again.code()).as(again.err()).isEqualTo(1);
    assertThat(JSON.readTree(again.out().strip()).path("skipped").asInt()).isEqualTo(3);
    assertThat(again.err()).contains("3 done by earlier runs");
  }

  @Test
  void aSecondWriterOnTheSameFolderIsRefusedWithExitOne(@TempDir Path dir) throws Exception {
    Path corpus = corpus(dir);
    Path out = dir.resolve("shared-run");
    String[] args = {"generate", "--corpus", corpus.toString(), "--out", out.toString(), "--llm", "openai", "--base-url",
        server.openAiBaseUrl(), "--llm-model", "fake-llm", "--limit", "4", "--concurrency", "2", "--no-cache", "--threads", "2"};
    server.pause(); // the first run waits on its first LLM call, holding the folder
    CompletableFuture<Run> first = CompletableFuture.supplyAsync(() -> gecko(args));
    try {
      long deadline = System.nanoTime() + 240_000_000_000L;
      while (!Files.exists(out.resolve("manifest.json")) && !first.isDone() && System.nanoTime() < deadline) {
        Thread.sleep(20); // the manifest is written once the folder is locked
      }
      assertThat(first.isDone()).as("the first run must still be running").isFalse();
      List<String> secondArgs = new ArrayList<>(List.of(args));
      secondArgs.addAll(List.of("--timeout", "5", "--max-retries", "0")); // without a lock it would wait on the paused server
      Run second = gecko(secondArgs.toArray(String[]::new));
      assertThat(second.code()).as(second.err()).isEqualTo(1);
      assertThat(second.err()).contains("gecko: error: " + out + " is in use by another run");
      assertThat(second.out()).isEmpty();
    } finally {
      server.resume();
    }
    Run r = first.get();
    assertThat(r.code()).as(r.err()).isZero();
    List<String> lines = Files.readAllLines(out.resolve("examples.jsonl"));
    assertThat(lines).hasSize(4);
    assertThat(lines).extracting(l -> JSON.readTree(l).path("seed_id").asText()).doesNotHaveDuplicates();
  }

  @Test
  void usageErrorsExitWithTwo(@TempDir Path dir) throws Exception {
    Path corpus = corpus(dir);
    Run bad = gecko("generate", "--corpus", corpus.toString(), "--out", dir.resolve("o").toString(), "--llm", "claude",
        "--llm-model", "m");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("--llm must be openai or gemini");
    GenerateCommand.environment = Map.of();
    // any case, as every option with a fixed set of values: OpenAI and LAST are accepted, then the key is missing
    Run noKey = gecko("generate", "--corpus", corpus.toString(), "--out", dir.resolve("o").toString(), "--llm", "OpenAI",
        "--llm-model", "gpt-4o-mini", "--negatives", "LAST");
    assertThat(noKey.code()).isEqualTo(2);
    assertThat(noKey.err()).contains("OPENAI_API_KEY is not set");
    Run missing = gecko("generate", "--out", "x", "--llm", "openai", "--llm-model", "m");
    assertThat(missing.code()).isEqualTo(2);
    Run negative = gecko("generate", "--corpus", corpus.toString(), "--out", dir.resolve("o").toString(), "--llm", "openai",
        "--base-url", server.openAiBaseUrl(), "--llm-model", "m", "--early-stop", "-1");
    assertThat(negative.code()).isEqualTo(2);
    assertThat(negative.err()).contains("--early-stop must be >= 0");
  }

  @Test
  void anUnreachableServerStopsTheRunWithExitOneAndAResumeHint(@TempDir Path dir) throws Exception {
    Path corpus = corpus(dir);
    String url = server.openAiBaseUrl();
    server.close(); // nothing listens there any more
    Run r = gecko("generate", "--corpus", corpus.toString(), "--out", dir.resolve("down").toString(), "--llm", "openai", "--base-url",
        url, "--llm-model", "m", "--limit", "2", "--max-retries", "0", "--threads", "2");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("run stopped after 0 new examples").contains("I/O error talking to").contains("Rerun the same command");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void geminiEndToEnd(@TempDir Path dir) throws Exception {
    Path corpus = corpus(dir);
    Run r = gecko("generate", "--corpus", corpus.toString(), "--out", dir.resolve("g").toString(), "--llm", "gemini", "--base-url",
        server.geminiBaseUrl(), "--llm-model", "gemini-fake", "--limit", "2", "--no-cache", "--threads", "2");
    assertThat(r.code()).as(r.err()).isZero();
    List<String> lines = Files.readAllLines(dir.resolve("g/examples.jsonl"));
    assertThat(lines).hasSize(2);
    assertThat(JSON.readTree(lines.get(0)).path("scorer").path("ql").asText()).isEqualTo("ql-judged-top-logprobs");
    assertThat(dir.resolve("g/cache")).doesNotExist();
  }

  @Test
  void eachBadValueIsNamedWithItsOptionAndNaNOrInfinityIsAUsageError(@TempDir Path dir) {
    // the corpus does not exist: a value that got past the checks would end in "file not found" (1)
    String corpus = dir.resolve("missing.jsonl").toString();
    String[][] cases = {
        {"--temperature", "NaN", "--temperature must be in [0, 2], was NaN"},
        {"--temperature", "Infinity", "--temperature must be in [0, 2], was Infinity"},
        {"--temperature", "2.5", "--temperature must be in [0, 2], was 2.5"},
        {"--price-input", "NaN", "--price-input must be a finite number >= 0, was NaN"},
        {"--price-output", "Infinity", "--price-output must be a finite number >= 0, was Infinity"},
        {"--price-output", "-1", "--price-output must be a finite number >= 0, was -1.0"},
        {"--concurrency", "0", "--concurrency must be >= 1, was 0"},
        {"--attempts", "0", "--attempts must be >= 1, was 0"},
        {"--timeout", "0", "--timeout must be >= 1, was 0"},
        {"--progress-interval", "0", "--progress-interval must be >= 1, was 0"},
        {"--candidates", "1", "--candidates must be >= 2, was 1"},
        {"--max-retries", "-1", "--max-retries must be >= 0, was -1"}};
    for (String[] c : cases) {
      Run r = gecko("generate", "--corpus", corpus, "--out", dir.resolve("o").toString(), "--llm", "openai",
          "--base-url", server.openAiBaseUrl(), "--llm-model", "m", c[0], c[1]);
      assertThat(r.code()).as(c[0] + " " + c[1] + ": " + r.err()).isEqualTo(GeckoCli.EXIT_USAGE);
      assertThat(r.err()).as(c[0]).contains("gecko: error: " + c[2] + "\n");
    }
    Run openAiBudget = gecko("generate", "--corpus", corpus, "--out", dir.resolve("o").toString(), "--llm", "openai",
        "--base-url", server.openAiBaseUrl(), "--llm-model", "m", "--thinking-budget", "0");
    assertThat(openAiBudget.code()).as(openAiBudget.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(openAiBudget.err()).contains("gecko: error: --thinking-budget is for --llm gemini");
    Run negative = gecko("generate", "--corpus", corpus, "--out", dir.resolve("o").toString(), "--llm", "gemini",
        "--base-url", server.geminiBaseUrl(), "--llm-model", "m", "--thinking-budget", "-1");
    assertThat(negative.code()).as(negative.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(negative.err()).contains("gecko: error: --thinking-budget must be >= 0, was -1\n");
    Run blankModel = gecko("generate", "--corpus", corpus, "--out", dir.resolve("o").toString(), "--llm", "openai",
        "--base-url", server.openAiBaseUrl(), "--llm-model", " ");
    assertThat(blankModel.code()).as(blankModel.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(blankModel.err()).contains("gecko: error: --llm-model: model name must not be blank\n");
  }

  @Test
  void promptFilesErrorsNameTheOptionAndTheFile(@TempDir Path dir) throws Exception {
    Path corpus = corpus(dir);
    Path prompts = Files.createDirectories(dir.resolve("prompts"));
    Path relevance = prompts.resolve("relevance.txt");
    Files.write(relevance, "Grade the passage.\nCaf\u00e9.\n".getBytes(StandardCharsets.ISO_8859_1));
    String[] args = {"generate", "--corpus", corpus.toString(), "--out", dir.resolve("o").toString(), "--llm", "openai",
        "--base-url", server.openAiBaseUrl(), "--llm-model", "m", "--prompts", prompts.toString()};
    Run latin1 = gecko(args);
    assertThat(latin1.code()).as(latin1.err()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(latin1.err()).contains("gecko: error: --prompts: " + relevance + ":2: not valid UTF-8")
        .doesNotContain("Input length");
    Path missing = dir.resolve("no-prompts");
    args[args.length - 1] = missing.toString();
    Run none = gecko(args);
    assertThat(none.code()).as(none.err()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(none.err()).contains(missing + ": --prompts: folder not found").doesNotContain("not a folder");
    assertThat(dir.resolve("o")).doesNotExist();
  }

  @Test
  void theApiKeyCheckDecidesFromWhatTheClientWillUse(@TempDir Path dir) throws Exception {
    Path corpus = corpus(dir);
    String out = dir.resolve("o").toString();
    // OPENAI_BASE_URL set but empty: the client goes to api.openai.com, which needs a key
    GenerateCommand.environment = Map.of("OPENAI_BASE_URL", "", "GEMINI_API_KEY", "gm-SECRET");
    Run empty = gecko("generate", "--corpus", corpus.toString(), "--out", out, "--llm", "openai", "--llm-model", "m",
        "--max-retries", "0", "--timeout", "5", "--limit", "1", "--threads", "1");
    assertThat(empty.code()).as(empty.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(empty.err()).contains("OPENAI_API_KEY is not set").doesNotContain("gm-SECRET");
    // the official host written another way, and a blank key, are no key either
    GenerateCommand.environment = Map.of("OPENAI_BASE_URL", "https://API.OpenAI.com/v1/", "OPENAI_API_KEY", "  ");
    Run upper = gecko("generate", "--corpus", corpus.toString(), "--out", out, "--llm", "openai", "--llm-model", "m",
        "--max-retries", "0", "--timeout", "5", "--limit", "1", "--threads", "1");
    assertThat(upper.code()).as(upper.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(upper.err()).contains("OPENAI_API_KEY is not set");
    // a malformed base URL variable is named
    GenerateCommand.environment = Map.of("OPENAI_BASE_URL", "ftp://example.com/v1", "OPENAI_API_KEY", "sk-SECRET");
    Run ftp = gecko("generate", "--corpus", corpus.toString(), "--out", out, "--llm", "openai", "--llm-model", "m");
    assertThat(ftp.code()).as(ftp.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(ftp.err()).contains("OPENAI_BASE_URL: ").doesNotContain("sk-SECRET");
    // Gemini: blank keys are no key, and the message never shows another variable's value
    GenerateCommand.environment = Map.of("GEMINI_API_KEY", " ", "GOOGLE_API_KEY", "", "OPENAI_API_KEY", "sk-SECRET");
    Run gemini = gecko("generate", "--corpus", corpus.toString(), "--out", out, "--llm", "gemini", "--llm-model", "g",
        "--max-retries", "0", "--timeout", "5", "--limit", "1", "--threads", "1");
    assertThat(gemini.code()).as(gemini.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(gemini.err()).contains("GEMINI_API_KEY is not set").doesNotContain("sk-SECRET");
    // a key an HTTP header cannot carry (a pasted smart quote) is named by its variable, never shown
    GenerateCommand.environment = Map.of("GOOGLE_API_KEY", "\u201cgk-SECRET\u201d");
    Run quoted = gecko("generate", "--corpus", corpus.toString(), "--out", out, "--llm", "gemini", "--llm-model", "g",
        "--max-retries", "0", "--timeout", "5", "--limit", "1", "--threads", "1");
    assertThat(quoted.code()).as(quoted.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(quoted.err()).contains("GOOGLE_API_KEY: the API key contains a character not allowed")
        .doesNotContain("gk-SECRET");
    assertThat(dir.resolve("o")).doesNotExist();
    // a blank GEMINI_API_KEY beside a GOOGLE_API_KEY: the check passes, so the client must send that key
    GenerateCommand.environment = Map.of("GEMINI_API_KEY", "", "GOOGLE_API_KEY", "g-SECRET");
    Run google = gecko("generate", "--corpus", corpus.toString(), "--out", out, "--llm", "gemini", "--base-url",
        server.geminiBaseUrl(), "--llm-model", "gemini-fake", "--limit", "1", "--no-cache", "--threads", "2");
    assertThat(google.code()).as(google.err()).isZero();
    assertThat(google.out() + google.err()).doesNotContain("g-SECRET");
    assertThat(server.requests()).isNotEmpty().allSatisfy(q -> assertThat(q.headers().entrySet().stream()
        .filter(h -> h.getKey().equalsIgnoreCase("x-goog-api-key")).flatMap(h -> h.getValue().stream()).toList())
        .containsExactly("g-SECRET"));
  }
}
