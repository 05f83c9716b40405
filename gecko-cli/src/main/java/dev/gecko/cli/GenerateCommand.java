package dev.gecko.cli;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.io.Corpus;
import dev.gecko.train.fret.FretPipeline;
import dev.gecko.train.fret.FretSettings;
import dev.gecko.train.fret.NegativeSelection;
import dev.gecko.train.fret.NoExamplesException;
import dev.gecko.core.io.Passage;
import dev.gecko.train.fret.Prompts;
import dev.gecko.train.fret.RejectReason;
import dev.gecko.train.fret.RunSummary;
import dev.gecko.train.llm.Capability;
import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmClients;
import dev.gecko.train.llm.PriceTable;
import dev.gecko.train.llm.RetryPolicy;
import dev.gecko.train.llm.UsageMeter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gecko generate}: FRet distillation of a corpus with an LLM, into a resumable run folder. */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = {
      "Distil retrieval training data from a corpus with an LLM (Gecko's FRet).",
      "For each seed passage: generate a task and query, retrieve the top N with an embedder, relabel them",
      "with the LLM (query likelihood + relevance, fused by reciprocal rank), keep the best as positive and",
      "the worst as hard negative.",
      "Writes DIR/examples.jsonl (anchor/positive/negative + provenance), DIR/rejects.jsonl and DIR/manifest.json.",
      "Rerunning the same command resumes; API keys come from OPENAI_API_KEY / GEMINI_API_KEY.",
      "One run per DIR at a time: a second is refused (DIR/run.lock).",
      "Exit codes: 0 examples written or present, 1 failure (the run stopped, was stopped early for rejects, left no",
      "examples, or DIR is in use by another run), 2 usage error."})
final class GenerateCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin ModelOptions models = new ModelOptions();

  private static final ObjectMapper JSON = TerminalText.jsonMapper(); // corpus and LLM text inside
  /** The environment; tests replace it. */
  static Map<String, String> environment = System.getenv();

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--corpus", required = true, paramLabel = "FILE", description = "JSONL corpus (_id, title, text), .jsonl or .jsonl.gz.")
  Path corpus;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Run folder (created; resumed if it holds this run).")
  Path out;

  @Option(names = "--llm", required = true, paramLabel = "KIND", description = "openai (any OpenAI-compatible server) or gemini.")
  String llm;

  @Option(names = "--base-url", paramLabel = "URL", description = "API base URL. Default: OPENAI_BASE_URL / GEMINI_BASE_URL, else the provider's.")
  String baseUrl;

  @Option(names = "--llm-model", required = true, paramLabel = "NAME", description = "Model name sent to the server.")
  String llmModel;

  @Option(names = "--concurrency", paramLabel = "N", defaultValue = "4", description = "Seeds and LLM calls in flight (a call's waits between retries included). "
      + "Default: ${DEFAULT-VALUE}.")
  int concurrency;

  @Option(names = "--limit", paramLabel = "N", description = "Use only the first N passages as seeds (all stay candidates).")
  Integer limit;

  @Option(names = "--candidates", paramLabel = "N", defaultValue = "20", description = "Neighbours relabeled per query (the paper's N). Default: ${DEFAULT-VALUE}.")
  int candidates;

  @Option(names = "--negatives", paramLabel = "HOW", defaultValue = "last", description = "Hard negative: last (fused rank N, the paper's best) or random. Default: ${DEFAULT-VALUE}.")
  String negatives;



  @Option(names = "--prompts", paramLabel = "DIR", description = "Folder with replacement prompt files (" + "query-generation.txt, "
      + "query-generation-examples.jsonl, relevance.txt, relevance-examples.jsonl, query-likelihood*.txt, query-likelihood-examples.jsonl).")
  Path prompts;

  @Option(names = "--prompt-logprobs", description = "The server returns prompt-token logprobs on /completions with echo (vLLM): use the paper's QL.")
  boolean promptLogprobs;

  @Option(names = "--no-logprobs", description = "The server/model returns no token logprobs: grades are parsed from text.")
  boolean noLogprobs;

  @Option(names = "--no-json-mode", description = "Do not ask the server for JSON mode (the prompt still asks for JSON).")
  boolean noJsonMode;

  @Option(names = "--thinking-budget", paramLabel = "TOKENS", description = "Gemini only: tokens the model may think "
      + "before it answers, added to each request's output limit (0 turns thinking off on Gemini 2.5 Flash). Default: the model's own.")
  Integer thinkingBudget;

  @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.7", description = "Query generation temperature. Default: ${DEFAULT-VALUE}.")
  double temperature;

  @Option(names = "--attempts", paramLabel = "N", defaultValue = "3", description = "Answers tried per question before a seed is rejected. Default: ${DEFAULT-VALUE}.")
  int attempts;

  @Option(names = "--max-retries", paramLabel = "N", defaultValue = "5", description = "HTTP retries (429, 5xx, timeouts, I/O). Default: ${DEFAULT-VALUE}.")
  int maxRetries;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "120", description = "Per-request timeout. Default: ${DEFAULT-VALUE}.")
  int timeoutSeconds;

  @Option(names = "--price-input", paramLabel = "USD", defaultValue = "0", description = "Price per 1M prompt tokens, for the cost shown. Default: ${DEFAULT-VALUE}.")
  double priceInput;

  @Option(names = "--price-output", paramLabel = "USD", defaultValue = "0", description = "Price per 1M completion tokens. Default: ${DEFAULT-VALUE}.")
  double priceOutput;

  @Option(names = "--cache", paramLabel = "DIR", description = "Response cache folder (what lets a stopped run resume "
      + "without paying for its answers again, so it must be writable). Default: DIR/cache.")
  Path cache;

  @Option(names = "--no-cache", description = "Do not cache responses on disk.")
  boolean noCache;

  @Option(names = "--new-run", description = "Archive an existing run in DIR with another configuration and start over.")
  boolean newRun;

  @Option(names = "--early-stop", paramLabel = "N", defaultValue = "" + FretSettings.DEFAULT_EARLY_STOP, description = "Stop the run "
      + "(exit 1) when the first N seeds it finishes are all rejected: the LLM's answers do not fit. 0: never. Default: ${DEFAULT-VALUE}.")
  int earlyStop;

  @Option(names = "--progress-interval", paramLabel = "SECONDS", defaultValue = "10", description = "Seconds between progress lines when not on a terminal. Default: ${DEFAULT-VALUE}.")
  int progressSeconds;

  @Override
  public Integer call() throws IOException {
    validate();
    // the outputs are checked before the corpus is read or an LLM is asked anything (see CliFiles)
    CliFiles.writableFolder("--out", out);
    if (cache != null && !noCache) {
      CliFiles.writableFolder("--cache", cache);
    }
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter stderr = spec.commandLine().getErr();
    // the LLM's settings (URL, key) and the model's: usage errors before the corpus is read
    LlmClient http = httpClient();
    // concurrent seeds' queries are never coalesced: with an int8 model a query's candidates would
    // depend on which other queries shared its batch, and a rerun would not retrieve the same ones
    GeckoEmbedder.Builder model = models.builder().coalescingWindow(Duration.ZERO);
    Prompts p = prompts == null ? Prompts.defaults() : readPrompts();
    List<Passage> passages = Corpus.read(CliFiles.readableFile("--corpus", corpus), Integer.MAX_VALUE);
    if (passages.isEmpty()) {
      throw new IllegalArgumentException(corpus + ": no passages");
    }
    UsageMeter meter = new UsageMeter(new PriceTable(priceInput, priceOutput));
    LlmClient client = LlmClients.standard(http, concurrency, RetryPolicy.builder().maxRetries(maxRetries).build(), meter,
        noCache ? null : (cache != null ? cache : out.resolve("cache")));
    try (GeckoEmbedder embedder = model.build(); CliProgress reporter = new CliProgress(stderr, Duration.ofSeconds(progressSeconds))) {
      FretSettings.Builder settings = FretSettings.builder().prompts(p).candidates(candidates)
          .negatives(NegativeSelection.valueOf(negatives.toUpperCase(Locale.ROOT))).generationTemperature(temperature)
          .attempts(attempts).concurrency(concurrency).earlyStop(earlyStop);
      if (limit != null) {
        settings.limit(limit);
      }
      RunSummary s;
      try {
        s = FretPipeline.builder().llm(client).embedder(embedder).corpus(passages).output(out)
            .settings(settings.build()).newRun(newRun).usageMeter(meter).progress(reporter).build().run();
      } catch (NoExamplesException e) {
        s = e.summary(); // its summary is printed below, then why there is no example, and exit 1
      }
      UsageMeter.Snapshot u = meter.snapshot();
      GenerateSummary summary = new GenerateSummary(s.examplesFile().toString(), s.manifestFile().toString(), s.seeds(),
          s.skipped(), s.written(), s.rejected(), s.totalExamples(), u.promptTokens(), u.completionTokens(), u.cacheHits(),
          u.cost(), s.digest(), s.rejectReasons());
      reporter.close();
      stdout.println(JSON.writeValueAsString(summary));
      stdout.flush();
      if (s.totalExamples() == 0) {
        // a run that leaves no dataset failed, whatever the cause: say why on stderr
        String why = s.rejectReasons().isEmpty() ? "" : " Most common reasons:\n" + RejectReason.describe(s.rejectReasons(), 3);
        stderr.println("gecko: error: no examples in " + s.examplesFile() + ": this run wrote none (" + s.rejected()
            + " seeds rejected, " + s.skipped() + " done by earlier runs; see " + s.examplesFile().resolveSibling("rejects.jsonl")
            + ")." + why);
        stderr.flush();
        return GeckoCli.EXIT_FAILURE;
      }
    }
    return GeckoCli.EXIT_OK;
  }

  /**
   * Reads --prompts: a missing folder is "folder not found", and every error in a file names the
   * option and the file (bad data in a file: the command exits 1).
   */
  private Prompts readPrompts() throws IOException {
    CliFiles.readableFolder("--prompts", prompts);
    try {
      return Prompts.fromDirectory(prompts);
    } catch (IllegalArgumentException | dev.gecko.core.InvalidDataException | IOException e) {
      // the message names the file (and line); not valid UTF-8, say, or a malformed example
      throw new IOException("--prompts: " + GeckoCli.describe(e), e);
    }
  }

  /** The one JSON line {@code gecko generate} prints on stdout (a contract: keys and order are kept). */
  @JsonPropertyOrder({"examples", "manifest", "seeds", "skipped", "written", "rejected", "total_examples", "prompt_tokens",
      "completion_tokens", "cache_hits", "cost", "digest", "reject_reasons"})
  record GenerateSummary(String examples, String manifest, int seeds, int skipped, int written, int rejected,
      @JsonProperty("total_examples") int totalExamples, @JsonProperty("prompt_tokens") long promptTokens,
      @JsonProperty("completion_tokens") long completionTokens, @JsonProperty("cache_hits") long cacheHits, double cost,
      String digest, @JsonProperty("reject_reasons") List<RejectReason> rejectReasons) {
  }

  private void validate() {
    llm = llm.toLowerCase(Locale.ROOT); // any case, as every option with a fixed set of values
    negatives = negatives.toLowerCase(Locale.ROOT);
    if (!llm.equals("openai") && !llm.equals("gemini")) {
      throw new GeckoCli.UsageException("--llm must be openai or gemini, was '" + llm + "'");
    }
    atLeast("--concurrency", concurrency, 1);
    atLeast("--attempts", attempts, 1);
    atLeast("--timeout", timeoutSeconds, 1);
    atLeast("--progress-interval", progressSeconds, 1);
    atLeast("--candidates", candidates, 2);
    atLeast("--max-retries", maxRetries, 0);
    if (earlyStop < 0) {
      throw new GeckoCli.UsageException("--early-stop must be >= 0 (0: never stop early), was " + earlyStop);
    }
    if (limit != null && limit < 1) {
      throw new GeckoCli.UsageException("--limit must be >= 1, was " + limit);
    }
    if (!negatives.equals("last") && !negatives.equals("random")) {
      throw new GeckoCli.UsageException("--negatives must be last or random, was '" + negatives + "'");
    }
    if (promptLogprobs && noLogprobs) {
      throw new GeckoCli.UsageException("--prompt-logprobs and --no-logprobs contradict each other");
    }
    if (promptLogprobs && llm.equals("gemini")) {
      throw new GeckoCli.UsageException("--prompt-logprobs: Gemini returns logprobs of generated tokens only");
    }
    if (thinkingBudget != null && !llm.equals("gemini")) {
      throw new GeckoCli.UsageException("--thinking-budget is for --llm gemini (an OpenAI-compatible server takes its"
          + " reasoning settings on its own side)");
    }
    if (thinkingBudget != null) {
      atLeast("--thinking-budget", thinkingBudget, 0);
    }
    // written so that NaN fails too (every comparison with NaN is false)
    if (!(temperature >= 0 && temperature <= 2)) {
      throw new GeckoCli.UsageException("--temperature must be in [0, 2], was " + temperature);
    }
    price("--price-input", priceInput);
    price("--price-output", priceOutput);
  }

  private static void atLeast(String option, int value, int least) {
    if (value < least) {
      throw new GeckoCli.UsageException(option + " must be >= " + least + ", was " + value);
    }
  }

  private static void price(String option, double value) {
    if (!(Double.isFinite(value) && value >= 0)) {
      throw new GeckoCli.UsageException(option + " must be a finite number >= 0, was " + value);
    }
  }

  private LlmClient httpClient() {
    Set<Capability> caps = EnumSet.noneOf(Capability.class);
    if (!noJsonMode) {
      caps.add(Capability.JSON_OUTPUT);
    }
    if (!noLogprobs) {
      caps.add(Capability.TOP_LOGPROBS);
    }
    if (promptLogprobs) {
      caps.add(Capability.PROMPT_LOGPROBS);
    }
    boolean openAi = llm.equals("openai");
    String keyVariable = openAi ? "OPENAI_API_KEY" : "GEMINI_API_KEY";
    String urlVariable = openAi ? "OPENAI_BASE_URL" : "GEMINI_BASE_URL";
    // The client's settings come from this map: a blank variable is unset (as fromEnvironment reads
    // it), and with --base-url the URL variable is dropped, so that a bad one it overrides is not
    // refused; the key check below asks the builder what it resolved.
    Map<String, String> env = new java.util.HashMap<>();
    environment.forEach((k, v) -> {
      if (v != null && !v.isBlank() && !(baseUrl != null && k.equals(urlVariable))) {
        env.put(k, v);
      }
    });
    String urlSource = baseUrl != null ? "--base-url" : env.containsKey(urlVariable) ? urlVariable : null;
    // the variable the key comes from, to name it when the key is refused (its value is never shown)
    String keySource = env.containsKey(keyVariable) || openAi || !env.containsKey("GOOGLE_API_KEY") ? keyVariable
        : "GOOGLE_API_KEY";
    try {
      LlmClients.HttpBuilder<?> b;
      try {
        b = openAi ? LlmClients.openAiCompatible().fromEnvironment(env) : LlmClients.gemini().fromEnvironment(env);
        if (baseUrl != null) {
          b.baseUrl(baseUrl);
        }
      } catch (IllegalArgumentException e) {
        throw new GeckoCli.UsageException(named(e, urlSource, keySource));
      }
      b.model(llmModel).capabilities(caps).requestTimeout(Duration.ofSeconds(timeoutSeconds));
      // the URL and key the client will use, as the builder resolved them from the same map
      String effectiveUrl = b.baseUrl();
      String officialHost = LlmClients.endpointUrl(openAi ? LlmClients.OPENAI_DEFAULT_BASE_URL : LlmClients.GEMINI_DEFAULT_BASE_URL);
      if (!b.hasApiKey() && host(LlmClients.endpointUrl(effectiveUrl)).equals(host(officialHost))) {
        throw new GeckoCli.UsageException(keyVariable + " is not set" + (openAi ? "" : " (nor GOOGLE_API_KEY)") + ": "
            + LlmClients.shownUrl(effectiveUrl) + " needs an API key" + (urlSource == null
            ? "; for another server give --base-url or " + urlVariable : ""));
      }
      if (thinkingBudget != null) {
        ((LlmClients.GeminiBuilder) b).thinkingBudget(thinkingBudget);
      }
      return openAi ? ((LlmClients.OpenAiBuilder) b).build() : ((LlmClients.GeminiBuilder) b).build();
    } catch (IllegalArgumentException e) {
      throw new GeckoCli.UsageException(named(e, null, keySource));
    }
  }

  /** The builder's message, after the name of what it is about: the key's variable, else {@code source} if any. */
  private static String named(IllegalArgumentException e, String source, String keySource) {
    String message = String.valueOf(e.getMessage());
    String about = message.contains("API key") ? keySource : message.startsWith("model name") ? "--llm-model" : source;
    return (about != null ? about + ": " : "") + message;
  }

  /** The host of a URL that {@link LlmClients#endpointUrl} returned. */
  private static String host(String endpoint) {
    return java.net.URI.create(endpoint).getHost();
  }

}
