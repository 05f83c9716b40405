package dev.gecko.langchain4j.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.io.Corpus;
import dev.gecko.core.io.Passage;
import dev.gecko.train.fret.FretPipeline;
import dev.gecko.train.fret.FretSettings;
import dev.gecko.train.fret.RunSummary;
import dev.gecko.train.llm.AuthenticationException;
import dev.gecko.train.llm.BadRequestException;
import dev.gecko.train.llm.Capability;
import dev.gecko.train.llm.GenerationOptions;
import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmClients;
import dev.gecko.train.llm.LlmException;
import dev.gecko.train.llm.LlmRequest;
import dev.gecko.train.llm.LlmResponse;
import dev.gecko.train.llm.ModelNotFoundException;
import dev.gecko.train.llm.PriceTable;
import dev.gecko.train.llm.RateLimitException;
import dev.gecko.train.llm.RetryPolicy;
import dev.gecko.train.llm.ServerException;
import dev.gecko.train.llm.UnsupportedCapabilityException;
import dev.gecko.train.llm.UsageMeter;
import dev.gecko.train.testing.FakeLlmServer;
import dev.langchain4j.internal.ChatRequestValidationUtils;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.openai.OpenAiChatModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LangChain4j's real {@code OpenAiChatModel} (langchain4j-open-ai), pointed at the loopback fake
 * LLM, as FRet's LLM: the same examples as gecko-train's own OpenAI client with the text scorers,
 * usage metered, errors typed.
 */
class ChatModelLlmClientTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static GeckoEmbedder embedder;
  private static List<Passage> corpus;
  private FakeLlmServer server;

  static Path shared() {
    return Path.of(System.getProperty("gecko.shared.dir", "../../shared"));
  }

  @BeforeAll
  static void open() throws IOException {
    embedder = GeckoEmbedder.builder().threads(2).coalescingWindow(java.time.Duration.ZERO).build();
    corpus = Corpus.read(shared().resolve("data/beir/arguana/corpus.jsonl.gz"), 16);
  }

  @AfterAll
  static void close() {
    embedder.close();
  }

  @BeforeEach
  void start() throws IOException {
    server = FakeLlmServer.start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private ChatModel chatModel() {
    return OpenAiChatModel.builder().baseUrl(server.openAiBaseUrl()).apiKey("sk-test").modelName("fake-llm")
        .maxRetries(0).timeout(Duration.ofSeconds(20)).build();
  }

  private static RetryPolicy noSleep() {
    return RetryPolicy.builder().maxRetries(4).sleeper(d -> { }).build();
  }

  private RunSummary run(LlmClient client, UsageMeter meter, Path out) throws IOException {
    LlmClient llm = LlmClients.standard(client, 2, noSleep(), meter, null);
    return FretPipeline.builder().llm(llm).embedder(embedder).corpus(corpus).output(out)
        .settings(FretSettings.builder().concurrency(2).limit(6).build()).usageMeter(meter).build().run();
  }

  private static List<JsonNode> lines(Path file) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    if (Files.exists(file)) {
      for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        out.add(JSON.readTree(l));
      }
    }
    out.sort(Comparator.comparing(n -> n.path("seed_id").asText()));
    return out;
  }

  @Test
  void aLangChain4jChatModelDrivesFretToTheSameExamplesAsTheBuiltInClient(@TempDir Path dir) throws Exception {
    UsageMeter builtInMeter = new UsageMeter(new PriceTable(1.0, 2.0));
    LlmClient builtIn = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).apiKey("sk-test")
        .model("fake-llm").capabilities(EnumSet.of(Capability.JSON_OUTPUT)).build();
    RunSummary a = run(builtIn, builtInMeter, dir.resolve("built-in"));
    int builtInRequests = server.requests().size();

    UsageMeter lc4jMeter = new UsageMeter(new PriceTable(1.0, 2.0));
    ChatModelLlmClient lc4j = ChatModelLlmClient.builder().chatModel(chatModel()).modelName("fake-llm").jsonMode(true)
        .build();
    assertThat(lc4j.capabilities()).containsExactly(Capability.JSON_OUTPUT);
    RunSummary b = run(lc4j, lc4jMeter, dir.resolve("langchain4j"));

    List<JsonNode> ea = lines(dir.resolve("built-in/examples.jsonl"));
    List<JsonNode> eb = lines(dir.resolve("langchain4j/examples.jsonl"));
    assertThat(ea).hasSize(6);
    assertThat(eb).isEqualTo(ea);
    assertThat(lines(dir.resolve("langchain4j/rejects.jsonl"))).isEqualTo(lines(dir.resolve("built-in/rejects.jsonl")));
    for (JsonNode ex : eb) {
      assertThat(ex.path("scorer").path("ql").asText()).isEqualTo("ql-judged-text");
      assertThat(ex.path("scorer").path("rc").asText()).isEqualTo("rc-text");
    }
    assertThat(b.written()).isEqualTo(a.written()).isEqualTo(6);
    assertThat(b.rejected()).isEqualTo(a.rejected());
    // usage reached gecko's meter: the same calls and tokens as the built-in client's
    UsageMeter.Snapshot sa = builtInMeter.snapshot();
    UsageMeter.Snapshot sb = lc4jMeter.snapshot();
    assertThat(sb.calls()).isEqualTo(sa.calls()).isGreaterThan(6);
    assertThat(sb.promptTokens()).isEqualTo(sa.promptTokens()).isEqualTo(100 * sa.calls());
    assertThat(sb.completionTokens()).isEqualTo(sa.completionTokens());
    // LangChain4j sent chat completions to the loopback server, JSON mode for generation only
    List<FakeLlmServer.Recorded> lc4jRequests = server.requests().subList(builtInRequests, server.requests().size());
    assertThat(lc4jRequests).hasSize((int) sb.calls());
    int json = 0;
    for (FakeLlmServer.Recorded r : lc4jRequests) {
      assertThat(r.path()).isEqualTo("/v1/chat/completions");
      JsonNode body = JSON.readTree(r.body());
      assertThat(body.path("model").asText()).isEqualTo("fake-llm");
      assertThat(body.has("logprobs")).isFalse();
      if (body.path("response_format").path("type").asText().equals("json_object")) {
        json++;
      }
    }
    assertThat(json).isEqualTo(6);
  }

  @Test
  void capabilitiesAreOnlyWhatTheChatModelGives() {
    ChatModelLlmClient plain = ChatModelLlmClient.of(chatModel(), "fake-llm");
    assertThat(plain.capabilities()).doesNotContain(Capability.TOP_LOGPROBS, Capability.PROMPT_LOGPROBS);
    assertThat(plain.model()).isEqualTo("fake-llm");
    LlmRequest wantsLogprobs = LlmRequest.of("Grade it.", GenerationOptions.DEFAULT.withTopLogprobs(5));
    assertThatThrownBy(() -> plain.generate(wantsLogprobs)).isInstanceOf(UnsupportedCapabilityException.class);
    assertThatThrownBy(() -> plain.promptLogprobs("a prompt")).isInstanceOf(UnsupportedCapabilityException.class);
    assertThat(server.requests()).isEmpty();
    // the name defaults to the chat model's own
    assertThat(ChatModelLlmClient.builder().chatModel(chatModel()).build().model()).isEqualTo("fake-llm");
  }

  @Test
  void aPlainAnswerCarriesItsUsageFinishReasonAndId() {
    LlmResponse r = ChatModelLlmClient.of(chatModel(), "fake-llm").generate(LlmRequest.of("hello", GenerationOptions.DEFAULT));
    assertThat(r.text()).isEqualTo("I do not know this prompt.");
    assertThat(r.usage().promptTokens()).isEqualTo(100);
    assertThat(r.usage().completionTokens()).isEqualTo(10);
    assertThat(r.finishReason()).isEqualTo("stop");
    assertThat(r.requestId()).isEqualTo("chatcmpl-fake");
  }

  @Test
  void errorsBecomeGeckoTypesThatSayWhetherARetryHelps() {
    ChatModelLlmClient client = ChatModelLlmClient.of(chatModel(), "fake-llm");
    LlmRequest req = LlmRequest.of("hello", GenerationOptions.DEFAULT);
    Map<Integer, Class<? extends LlmException>> cases = Map.of(429, RateLimitException.class, 500,
        ServerException.class, 503, ServerException.class, 401, AuthenticationException.class, 404,
        ModelNotFoundException.class, 400, BadRequestException.class, 409, ServerException.class);
    for (Map.Entry<Integer, Class<? extends LlmException>> c : cases.entrySet()) {
      server.enqueue(FakeLlmServer.Fault.status(c.getKey(), Map.of(), "{\"error\":{\"message\":\"scripted " + c.getKey() + "\"}}"));
      LlmException e = org.assertj.core.api.Assertions.catchThrowableOfType(LlmException.class, () -> client.generate(req));
      assertThat(e).as("HTTP " + c.getKey()).isInstanceOf(c.getValue());
      // LangChain4j wraps the HTTP failure in its own type: the status and body are read from its cause
      assertThat(e.statusCode()).as("HTTP " + c.getKey()).isEqualTo(c.getKey());
      assertThat(e.body()).as("HTTP " + c.getKey()).contains("scripted " + c.getKey());
      assertThat(e.retryable()).as("HTTP " + c.getKey()).isEqualTo(c.getKey() == 429 || c.getKey() == 409
          || c.getKey() >= 500);
    }
    // a bad key that the server answers with 400 (Gemini's way) stops a run as a key problem, not as
    // one bad request after another
    server.enqueue(FakeLlmServer.Fault.status(400, Map.of(), "{\"error\":{\"code\":400,\"message\":\"API key not valid."
        + " Please pass a valid API key.\",\"status\":\"INVALID_ARGUMENT\",\"details\":[{\"reason\":\"API_KEY_INVALID\"}]}}"));
    assertThat(org.assertj.core.api.Assertions.catchThrowableOfType(LlmException.class, () -> client.generate(req)))
        .isInstanceOf(AuthenticationException.class).hasMessageContaining("check the API key");
    // the chat model made one attempt per call (maxRetries 0): gecko's retry decorator decides
    assertThat(server.requests()).hasSize(cases.size() + 1);
    // and through the standard stack a rate limit is retried, then answered
    server.enqueue(FakeLlmServer.Fault.status(429, Map.of("retry-after", "1"), "{\"error\":{\"message\":\"slow down\"}}"));
    UsageMeter meter = new UsageMeter(new PriceTable(0, 0));
    LlmResponse r = LlmClients.standard(client, 1, noSleep(), meter, null).generate(req);
    assertThat(r.text()).isNotEmpty();
    assertThat(meter.snapshot().calls()).isEqualTo(1);
    assertThat(server.requests()).hasSize(cases.size() + 3);
  }

  @Test
  void theEndpointNamesTheProviderAndTheServerGivenSoThatTwoServersKeepTheirCachedAnswersApart(@TempDir Path dir)
      throws IOException {
    String secret = "SECRET-7788";
    assertThat(ChatModelLlmClient.of(chatModel(), "fake-llm").endpoint()).isEqualTo("langchain4j OPEN_AI");
    ChatModelLlmClient one = ChatModelLlmClient.builder().chatModel(chatModel()).modelName("fake-llm")
        .endpoint("http://gecko:" + secret + "@One.test:8000/v1/?key=" + secret).build();
    ChatModelLlmClient two = ChatModelLlmClient.builder().chatModel(chatModel()).modelName("fake-llm")
        .endpoint("http://two.test:8000/v1").build();
    assertThat(one.endpoint()).isEqualTo("langchain4j OPEN_AI http://one.test:8000/v1");
    assertThat(two.endpoint()).isEqualTo("langchain4j OPEN_AI http://two.test:8000/v1");
    assertThatThrownBy(() -> ChatModelLlmClient.builder().endpoint(" ")).isInstanceOf(IllegalArgumentException.class);
    // a chat model of no known provider is named by its class
    ChatModel custom = new ChatModel() { };
    assertThat(ChatModelLlmClient.of(custom, "m").endpoint()).isEqualTo("langchain4j " + custom.getClass().getName());

    // both chat models talk to the one loopback server here: the endpoints given keep their answers apart
    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    LlmRequest req = LlmRequest.of("hello", GenerationOptions.DEFAULT);
    LlmClients.caching(one, dir, meter).generate(req);
    LlmClients.caching(two, dir, meter).generate(req);
    assertThat(server.requests()).hasSize(2);
    ChatModelLlmClient oneAgain = ChatModelLlmClient.builder().chatModel(chatModel()).modelName("fake-llm")
        .endpoint("http://one.test:8000/v1").build();
    LlmClients.caching(oneAgain, dir, meter).generate(req);
    LlmClients.caching(two, dir, meter).generate(req);
    assertThat(server.requests()).hasSize(2);
    assertThat(meter.snapshot().cacheHits()).isEqualTo(2);
    try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        assertThat(Files.readString(f)).doesNotContain(secret);
      }
    }
  }

  @Test
  void jsonModeFollowsTheChatModelsCapabilities() {
    ChatModel withSchema = OpenAiChatModel.builder().baseUrl(server.openAiBaseUrl()).apiKey("sk-test").modelName("m")
        .supportedCapabilities(Set.of(dev.langchain4j.model.chat.Capability.RESPONSE_FORMAT_JSON_SCHEMA)).build();
    assertThat(ChatModelLlmClient.of(withSchema, "m").capabilities()).containsExactly(Capability.JSON_OUTPUT);
    assertThat(ChatModelLlmClient.builder().chatModel(withSchema).modelName("m").jsonMode(false).build().capabilities())
        .isEmpty();
  }

  @Test
  void aModelNameOtherThanTheChatModelsOwnIsRefusedAndEveryRequestNamesTheModelTheCacheKeyNames() throws IOException {
    // two chat models configured for different models under one label would share cached answers
    assertThatThrownBy(() -> ChatModelLlmClient.of(chatModel(), "gpt-4o-mini"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'gpt-4o-mini'").hasMessageContaining("'fake-llm'");
    assertThatThrownBy(() -> ChatModelLlmClient.builder().modelName("gpt-4o-mini").chatModel(chatModel()).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'gpt-4o-mini'").hasMessageContaining("'fake-llm'");
    assertThat(server.requests()).isEmpty();

    ChatModel other = OpenAiChatModel.builder().baseUrl(server.openAiBaseUrl()).apiKey("sk-test").modelName("other-llm")
        .maxRetries(0).timeout(Duration.ofSeconds(20)).build();
    LlmRequest req = LlmRequest.of("hello", GenerationOptions.DEFAULT);
    ChatModelLlmClient.of(other, "other-llm").generate(req);
    ChatModelLlmClient.of(chatModel(), "fake-llm").generate(req);
    ChatModelLlmClient.builder().chatModel(other).build().generate(req);
    List<String> sent = new ArrayList<>();
    for (FakeLlmServer.Recorded r : server.requests()) {
      sent.add(JSON.readTree(r.body()).path("model").asText());
    }
    assertThat(sent).containsExactly("other-llm", "fake-llm", "other-llm");
  }

  @Test
  void aFeatureTheChatModelLacksStopsTheFretRunAtOnceInsteadOfRejectingSeedAfterSeed(@TempDir Path dir) throws IOException {
    // a chat model without JSON mode, as LangChain4j's providers without it are: LangChain4j's own check
    // refuses ResponseFormat.JSON before anything is sent; it answers through the real OpenAiChatModel otherwise
    ChatModel openAi = chatModel();
    ChatModel noJson = new ChatModel() {
      @Override
      public ChatResponse doChat(ChatRequest request) {
        ChatRequestValidationUtils.validate(request.parameters().responseFormat());
        return openAi.chat(request);
      }

      @Override
      public ChatRequestParameters defaultRequestParameters() {
        return openAi.defaultRequestParameters();
      }

      @Override
      public ModelProvider provider() {
        return ModelProvider.OPEN_AI;
      }
    };
    ChatModelLlmClient client = ChatModelLlmClient.builder().chatModel(noJson).jsonMode(true).build();
    assertThat(client.model()).isEqualTo("fake-llm");
    Path out = dir.resolve("run");
    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    Throwable e = org.assertj.core.api.Assertions.catchThrowable(() -> run(client, meter, out));
    // the run stops on the first such failure, naming it: not every seed rejected as "refused as invalid"
    assertThat(e).isInstanceOf(LlmException.class).hasMessageContaining("run stopped")
        .hasMessageContaining("JSON response format is not supported").hasMessageContaining("jsonMode(false)");
    assertThat(lines(out.resolve("rejects.jsonl"))).isEmpty();
    assertThat(server.requests()).as("nothing sent").isEmpty();
  }
}
