package dev.gecko.train.llm;

import dev.gecko.core.internal.io.AtomicFiles;
import dev.gecko.core.internal.io.Hashes;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Answers repeated requests from disk, one JSON file per answer under {@code dir/xx/<key>.json}.
 *
 * <p>The key is the SHA-256 of a canonical JSON of: a format version; the kind of call ({@code
 * generate} or {@code promptLogprobs}); where the answers come from, the inner client's {@link
 * LlmClient#endpoint()} (provider kind and base URL, as {@code openai-compatible
 * http://localhost:8000/v1}); the model name; and, for a generation, the client's capabilities,
 * the messages and the options, or, for a scoring, the prompt. With the endpoint in the key, two
 * servers that serve a model under one name (an Ollama and a vLLM both serving {@code llama3},
 * OpenAI and a compatible gateway) may share one folder and never answer each other's requests;
 * a client of the same server (another API key included) still hits. Neither the key nor an
 * entry holds an API key, a header, or the user info or query of a URL: the endpoint never
 * does, and an entry holds only the answer.
 *
 * <p>Entries written by older versions, before the endpoint was part of the key (generations keyed
 * as version 2, scorings as version 1; now 3 and 2), are simply never hit again: the request goes
 * to the LLM once more and its answer is stored under the new key. Nothing fails, nothing is
 * overwritten, and the old files may be deleted at leisure.
 *
 * <p>Empty, blocked and cut-off answers are not stored. Thread-safe: each entry is written to a
 * temporary file and moved into place, so readers see a whole entry or none.
 */
final class CachingClient extends ForwardingLlmClient {
  private static final System.Logger LOG = System.getLogger(CachingClient.class.getName());
  private final Path dir;
  private final UsageMeter meter;

  CachingClient(LlmClient inner, Path dir, UsageMeter meter) {
    super("Caching", inner);
    this.dir = dir;
    this.meter = meter;
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create cache folder " + dir, e);
    }
  }

  /**
   * The key of a generation: where it is sent ({@code endpoint}, {@code model}), the request, and
   * what the client makes of it on the wire (JSON mode and log probabilities are sent only where
   * the client declares them), so that switching server, or a server option such as JSON mode
   * off, asks the LLM again rather than replaying the old answers.
   */
  static String key(String endpoint, String model, java.util.Set<Capability> capabilities, LlmRequest request) {
    ObjectNode n = HttpTransport.JSON.createObjectNode();
    n.put("v", 3).put("kind", "generate").put("endpoint", endpoint).put("model", model);
    ArrayNode caps = n.putArray("capabilities");
    capabilities.stream().map(Enum::name).sorted().forEach(caps::add);
    ArrayNode msgs = n.putArray("messages");
    for (Message m : request.messages()) {
      msgs.addObject().put("role", m.role().name().toLowerCase(Locale.ROOT)).put("content", m.content());
    }
    GenerationOptions o = request.options();
    n.putObject("options").put("temperature", o.temperature()).put("maxTokens", o.maxTokens())
        .put("jsonOutput", o.jsonOutput()).put("topLogprobs", o.topLogprobs());
    return sha256(n.toString());
  }

  /** The key of a scoring of {@code prompt} at {@code endpoint} by {@code model}. */
  static String key(String endpoint, String model, String prompt) {
    ObjectNode n = HttpTransport.JSON.createObjectNode();
    n.put("v", 2).put("kind", "promptLogprobs").put("endpoint", endpoint).put("model", model).put("prompt", prompt);
    return sha256(n.toString());
  }

  static String sha256(String s) {
    return Hashes.sha256Hex(s);
  }

  @Override
  public LlmResponse generate(LlmRequest request) {
    return cached(key(inner.endpoint(), inner.model(), inner.capabilities(), request), CachingClient::responseFromJson,
        () -> inner.generate(request), CachingClient::responseToJson, CachingClient::worthKeeping);
  }

  /** Forgets the refused answer, so that the request goes to the LLM the next time it is made. */
  @Override
  public void refused(LlmRequest request) {
    try {
      Files.deleteIfExists(file(key(inner.endpoint(), inner.model(), inner.capabilities(), request)));
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot forget a refused answer in the cache: {0}", e.toString());
    }
    inner.refused(request);
  }

  /**
   * Whether an answer is kept: not an empty one or a blocked one (a safety filter's verdict may not
   * hold next time). One cut off at the token limit is kept: the relabeler asks for a single token
   * on purpose (its grades always end at the limit), and a caller that cannot use a cut answer
   * refuses it ({@link #refused}), which forgets it here.
   */
  static boolean worthKeeping(LlmResponse r) {
    String finish = r.finishReason() == null ? "" : r.finishReason().toLowerCase(Locale.ROOT);
    return !r.text().isBlank() && !finish.startsWith("blocked") && !UNKEPT_FINISH_REASONS.contains(finish);
  }

  /** Finish reasons (OpenAI's and Gemini's, lower case) of answers filtered. */
  private static final java.util.Set<String> UNKEPT_FINISH_REASONS = java.util.Set.of(
      "content_filter", "safety", "recitation", "prohibited_content", "spii", "blocklist");

  @Override
  public PromptLogprobs promptLogprobs(String prompt) {
    return cached(key(inner.endpoint(), inner.model(), prompt), n -> promptFromJson(prompt, n), () -> inner.promptLogprobs(prompt),
        CachingClient::promptToJson, r -> true);
  }

  /**
   * Returns the entry stored under {@code key} if it reads back (a cache hit, counted on the meter);
   * else makes {@code call} and stores its result. An unreadable entry is logged and replaced.
   */
  private <T> T cached(String key, Function<JsonNode, T> decode, Supplier<T> call, Function<T, ObjectNode> encode,
      java.util.function.Predicate<T> keep) {
    Path file = file(key);
    JsonNode entry = read(file);
    if (entry != null) {
      try {
        T r = decode.apply(entry);
        meter.recordCacheHit();
        return r;
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "ignoring unreadable cache entry {0}: {1}", file, e.toString());
      }
    }
    T r = call.get();
    if (keep.test(r)) {
      write(file, encode.apply(r));
    }
    return r;
  }

  private Path file(String key) {
    return dir.resolve(key.substring(0, 2)).resolve(key + ".json");
  }

  private static JsonNode read(Path file) {
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try {
      return HttpTransport.JSON.readTree(file.toFile());
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "ignoring unreadable cache entry {0}: {1}", file, e.toString());
      return null;
    }
  }

  private static void write(Path file, JsonNode n) {
    try {
      AtomicFiles.write(file, HttpTransport.JSON.writeValueAsBytes(n));
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot write cache entry {0}: {1}", file, e.toString());
    }
  }

  private static ObjectNode responseToJson(LlmResponse r) {
    ObjectNode n = HttpTransport.JSON.createObjectNode();
    n.put("text", r.text()).put("finishReason", r.finishReason()).put("requestId", r.requestId());
    n.put("promptTokens", r.usage().promptTokens()).put("completionTokens", r.usage().completionTokens());
    ArrayNode lps = n.putArray("logprobs");
    for (TokenLogprob t : r.logprobs()) {
      ObjectNode tn = lps.addObject().put("token", t.token());
      putLogprob(tn, t.logprob());
      ArrayNode top = tn.putArray("top");
      for (TokenLogprob.Alternative a : t.top()) {
        putLogprob(top.addObject().put("token", a.token()), a.logprob());
      }
    }
    return n;
  }

  private static void putLogprob(ObjectNode n, double v) {
    if (Double.isFinite(v)) {
      n.put("logprob", v);
    } else {
      n.putNull("logprob");
    }
  }

  private static LlmResponse responseFromJson(JsonNode n) {
    List<TokenLogprob> lps = new ArrayList<>();
    for (JsonNode t : n.path("logprobs")) {
      List<TokenLogprob.Alternative> top = new ArrayList<>();
      for (JsonNode a : t.path("top")) {
        top.add(new TokenLogprob.Alternative(a.get("token").asText(), HttpTransport.num(a.path("logprob"))));
      }
      lps.add(new TokenLogprob(t.get("token").asText(), HttpTransport.num(t.path("logprob")), top));
    }
    if (!n.path("text").isTextual()) {
      throw new IllegalArgumentException("cache entry has no text");
    }
    return new LlmResponse(n.get("text").asText(), lps,
        new Usage(n.path("promptTokens").asLong(), n.path("completionTokens").asLong()), n.path("finishReason").asText(""),
        n.path("requestId").asText(""));
  }

  private static ObjectNode promptToJson(PromptLogprobs r) {
    ObjectNode n = HttpTransport.JSON.createObjectNode();
    ArrayNode t = n.putArray("tokens");
    r.tokens().forEach(t::add);
    ArrayNode l = n.putArray("logprobs");
    r.logprobs().forEach(v -> {
      if (Double.isFinite(v)) {
        l.add(v);
      } else {
        l.addNull();
      }
    });
    ArrayNode o = n.putArray("offsets");
    r.offsets().forEach(o::add);
    n.put("promptTokens", r.usage().promptTokens()).put("completionTokens", r.usage().completionTokens());
    return n;
  }

  private static PromptLogprobs promptFromJson(String prompt, JsonNode n) {
    List<String> tokens = new ArrayList<>();
    List<Double> lps = new ArrayList<>();
    List<Integer> offs = new ArrayList<>();
    for (JsonNode t : n.get("tokens")) {
      tokens.add(t.asText());
    }
    for (JsonNode t : n.get("logprobs")) {
      lps.add(HttpTransport.echoValue(t)); // read as a live answer is
    }
    for (JsonNode t : n.get("offsets")) {
      offs.add(t.asInt());
    }
    return new PromptLogprobs(prompt, tokens, lps, offs,
        new Usage(n.path("promptTokens").asLong(), n.path("completionTokens").asLong()));
  }

  /** Names the folder too, as {@code Caching[inner, dir]}. */
  @Override
  public String toString() {
    return "Caching[" + inner + ", " + dir + "]";
  }
}
