package dev.gecko.train.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.core.GeckoException;
import dev.gecko.train.testing.FakeLlmServer;
import dev.gecko.train.testing.FakeLlmServer.Fault;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlmClientsTest {
  private static final String KEY = "sk-test-SECRET-0123456789";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String RC_SYSTEM = "You judge search results.";
  private FakeLlmServer server;
  private final List<Duration> sleeps = Collections.synchronizedList(new ArrayList<>());

  @BeforeEach
  void start() throws Exception {
    server = FakeLlmServer.start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private LlmClient openAi(EnumSet<Capability> caps) {
    return LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).apiKey(KEY).model("fake-model")
        .capabilities(caps).requestTimeout(Duration.ofSeconds(20)).build();
  }

  private RetryPolicy policy(int retries) {
    return RetryPolicy.builder().maxRetries(retries).sleeper(sleeps::add).random(new Random(1)).build();
  }

  private static LlmRequest rcRequest(String query, String passage, int top) {
    return new LlmRequest(List.of(Message.system(RC_SYSTEM),
        Message.user("<query>" + query + "</query>\n<passage>\n" + passage + "\n</passage>")),
        GenerationOptions.DEFAULT.withMaxTokens(1).withTopLogprobs(top));
  }

  @Test
  void openAiChatSendsTheKeyAndJsonModeAndParsesLogprobsAndUsage() throws Exception {
    LlmClient c = openAi(EnumSet.of(Capability.JSON_OUTPUT, Capability.TOP_LOGPROBS));
    LlmResponse r = c.generate(rcRequest("honey bees dance", "Honey bees dance to show where food is.", 4));
    double[] lp = FakeLlmServer.gradeLogprobs(server.fraction("honey bees dance", "Honey bees dance to show where food is."), false);
    assertThat(r.logprobs()).hasSize(1);
    assertThat(r.logprobs().get(0).top()).hasSize(4);
    assertThat(r.logprobs().get(0).top()).allSatisfy(a -> assertThat(a.logprob()).isCloseTo(lp[Integer.parseInt(a.token())], within(1e-12)));
    assertThat(r.usage()).isEqualTo(new Usage(100, 10));
    assertThat(r.requestId()).startsWith("req-");
    assertThat(r.finishReason()).isEqualTo("stop");

    c.generate(LlmRequest.of("Reply in JSON", GenerationOptions.DEFAULT.withJsonOutput(true)));
    FakeLlmServer.Recorded last = server.requests().get(1);
    assertThat(last.path()).isEqualTo("/v1/chat/completions");
    assertThat(last.headers().get("Authorization")).containsExactly("Bearer " + KEY);
    JsonNode body = JSON.readTree(last.body());
    assertThat(body.path("response_format").path("type").asText()).isEqualTo("json_object");
    assertThat(body.path("model").asText()).isEqualTo("fake-model");
    assertThat(body.has("logprobs")).isFalse();
  }

  @Test
  void topLogprobsWithoutTheCapabilityIsRefusedBeforeAnyRequest() {
    LlmClient c = openAi(EnumSet.of(Capability.JSON_OUTPUT));
    assertThatThrownBy(() -> c.generate(rcRequest("q", "p", 5))).isInstanceOf(UnsupportedCapabilityException.class)
        .hasMessageContaining("TOP_LOGPROBS");
    assertThatThrownBy(() -> c.promptLogprobs("hello")).isInstanceOf(UnsupportedCapabilityException.class);
    assertThat(server.requests()).isEmpty();
  }

  @Test
  void promptLogprobsComeFromCompletionsEchoAndScoreTheQuerySuffix() throws Exception {
    LlmClient c = openAi(EnumSet.allOf(Capability.class));
    String prompt = "Header\n\n<passage>\nHoney bees dance to show food.\n</passage>\nQuery: honey dance weather";
    PromptLogprobs pl = c.promptLogprobs(prompt);
    JsonNode body = JSON.readTree(server.requests().get(0).body());
    assertThat(server.requests().get(0).path()).isEqualTo("/v1/completions");
    assertThat(body.path("echo").asBoolean()).isTrue();
    assertThat(body.path("logprobs").asInt()).isEqualTo(1);
    assertThat(body.path("max_tokens").asInt()).isEqualTo(1);
    assertThat(pl.logprobs().get(0)).isNaN();
    int start = prompt.indexOf("Query:") + "Query:".length();
    // "honey" and "dance" are in the passage (-0.5 each), "weather" is not (-4.0)
    assertThat(pl.suffixLogLikelihood(start)).isCloseTo(-5.0, within(1e-12));
  }

  @Test
  void aBosTokenEchoedFirstWithShiftedOffsetsAsVllmDoesScoresTheSameQuery() {
    LlmClient c = openAi(EnumSet.allOf(Capability.class));
    String prompt = "Header\n\n<passage>\nHoney bees dance to show food.\n</passage>\nQuery: honey dance weather";
    int start = prompt.indexOf("Query:") + "Query:".length();
    double plain = c.promptLogprobs(prompt).suffixLogLikelihood(start);
    assertThat(plain).isCloseTo(-5.0, within(1e-12));
    for (String bos : List.of("<|begin_of_text|>", "<s>")) {
      server.echoBos(bos);
      PromptLogprobs pl = c.promptLogprobs(prompt);
      assertThat(pl.tokens().get(0)).isEqualTo(bos);
      assertThat(pl.offsets().get(1)).as("offsets count from the BOS token").isEqualTo(bos.length());
      assertThat(pl.suffixLogLikelihood(start)).as(bos).isCloseTo(plain, within(1e-12));
      // the whole prompt after the first char: the prompt's first token now has a log-probability
      assertThat(pl.suffixLogLikelihood(prompt.indexOf("Query:"))).isCloseTo(plain - 1.0, within(1e-12));
    }
  }

  @Test
  void echoedTokensThatDoNotEndWithThePromptAreRefusedNotMisread() {
    String prompt = "Passage: bees.\nQuery: honey dance";
    int start = prompt.indexOf(" honey");
    // a generated EOS token that decodes to nothing, after the prompt's tokens: not counted
    PromptLogprobs eos = new PromptLogprobs(prompt, List.of("<s>", "Passage:", " bees.", "\nQuery:", " honey", " dance", ""),
        Arrays.asList(Double.NaN, -1.0, -1.0, -1.0, -0.5, -0.25, -9.0), List.of(0, 3, 11, 17, 24, 30, 36), new Usage(6, 1));
    assertThat(eos.suffixLogLikelihood(start)).isCloseTo(-0.75, within(1e-12));
    // without usage counts the generated token is found too
    PromptLogprobs noUsage = new PromptLogprobs(prompt, List.of("<s>", "Passage:", " bees.", "\nQuery:", " honey", " dance", " now"),
        Arrays.asList(Double.NaN, -1.0, -1.0, -1.0, -0.5, -0.25, -9.0), List.of(0, 3, 11, 17, 24, 30, 36), Usage.ZERO);
    assertThat(noUsage.suffixLogLikelihood(start)).isCloseTo(-0.75, within(1e-12));
    // tokens of another text (a server that does not echo the prompt verbatim): refused, naming the problem
    PromptLogprobs other = new PromptLogprobs(prompt, List.of("Passage:", " bees.", "\nQuery:", " money", " dance", " ."),
        Arrays.asList(Double.NaN, -1.0, -1.0, -0.5, -0.25, -9.0), List.of(0, 8, 14, 21, 27, 33), new Usage(5, 1));
    assertThatThrownBy(() -> other.suffixLogLikelihood(start)).isInstanceOf(MalformedResponseException.class)
        .hasMessageContaining("cannot align the echoed prompt log-probabilities with the prompt");
    // and through the client: a server answer whose tokens miss the query
    server.enqueue(Fault.status(200, Map.of(), "{\"choices\":[{\"text\":\"x\",\"logprobs\":{\"tokens\":[\"Passage:\",\" bees.\",\" .\"],"
        + "\"token_logprobs\":[null,-1.0,-0.3],\"text_offset\":[0,8,14]}}],\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":1}}"));
    PromptLogprobs cut = openAi(EnumSet.allOf(Capability.class)).promptLogprobs(prompt);
    assertThatThrownBy(() -> cut.suffixLogLikelihood(start)).isInstanceOf(MalformedResponseException.class);
    // echo values out of range read as none (NaN), a rounding above 0 as 0; not arrays: malformed
    server.enqueue(Fault.status(200, Map.of(), "{\"choices\":[{\"text\":\"x\",\"logprobs\":{\"tokens\":[\"a\",\"b\",\"c\",\"d\"],"
        + "\"token_logprobs\":[null,1e999,0.0000001,-0.5],\"text_offset\":[0,1,2,3]}}]}"));
    assertThat(openAi(EnumSet.allOf(Capability.class)).promptLogprobs("abcd").logprobs())
        .containsExactly(Double.NaN, Double.NaN, 0.0, -0.5);
    server.enqueue(Fault.status(200, Map.of(), "{\"choices\":[{\"text\":\"x\",\"logprobs\":{\"tokens\":[\"a\"],"
        + "\"token_logprobs\":{\"a\":-1.0},\"text_offset\":[0]}}]}"));
    assertThatThrownBy(() -> openAi(EnumSet.allOf(Capability.class)).promptLogprobs("a"))
        .isInstanceOf(MalformedResponseException.class).hasMessageContaining("no usable echo logprobs");
  }

  @Test
  void geminiMapsRolesConfigAndLogprobsAndSendsTheKeyHeader() throws Exception {
    LlmClient g = LlmClients.gemini().baseUrl(server.geminiBaseUrl()).apiKey(KEY).model("gemini-2.0-flash").build();
    assertThat(g.capabilities()).containsExactlyInAnyOrder(Capability.JSON_OUTPUT, Capability.TOP_LOGPROBS);
    LlmResponse r = g.generate(rcRequest("honey bees dance", "Honey bees dance.", 3));
    FakeLlmServer.Recorded rec = server.requests().get(0);
    assertThat(rec.path()).isEqualTo("/v1beta/models/gemini-2.0-flash:generateContent");
    assertThat(rec.headers().get("X-goog-api-key")).containsExactly(KEY);
    JsonNode body = JSON.readTree(rec.body());
    assertThat(body.path("systemInstruction").path("parts").path(0).path("text").asText()).isEqualTo(RC_SYSTEM);
    assertThat(body.path("contents").path(0).path("role").asText()).isEqualTo("user");
    assertThat(body.path("generationConfig").path("responseLogprobs").asBoolean()).isTrue();
    assertThat(body.path("generationConfig").path("logprobs").asInt()).isEqualTo(3);
    assertThat(r.logprobs().get(0).top()).hasSize(3);
    assertThat(r.usage()).isEqualTo(new Usage(120, 5));
    assertThatThrownBy(() -> g.promptLogprobs("x")).isInstanceOf(UnsupportedCapabilityException.class);
    assertThatThrownBy(() -> LlmClients.gemini().model("m").capabilities(EnumSet.allOf(Capability.class)).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("generated tokens only");
  }

  /**
   * A thinking Gemini model spends a grade's few output tokens on thoughts and answers nothing: the
   * call fails at once, not retried, saying what to set; with a budget set, it is sent and added
   * to the output limit. Google's "models/" prefix names the same model.
   */
  @Test
  void geminiThinkingThatEatsTheAnswerStopsWithAHintAndABudgetIsSentOnTopOfTheLimit() throws Exception {
    LlmClient thinking = LlmClients.retrying(LlmClients.gemini().baseUrl(server.geminiBaseUrl()).apiKey(KEY)
        .model("models/gemini-2.5-pro").build(), policy(3));
    server.enqueue(Fault.status(200, Map.of(), "{\"candidates\":[{\"content\":{\"role\":\"model\"},"
        + "\"finishReason\":\"MAX_TOKENS\"}],\"usageMetadata\":{\"promptTokenCount\":50,\"thoughtsTokenCount\":4}}"));
    assertThatThrownBy(() -> thinking.generate(rcRequest("q", "p", 0)))
        .isInstanceOfSatisfying(LlmException.class, e -> {
          assertThat(e.retryable()).isFalse();
          assertThat(e.billedUsage()).isEqualTo(new Usage(50, 4));
        })
        .hasMessageContaining("spent all its output tokens thinking (4 thought tokens of maxOutputTokens 1)")
        .hasMessageContaining("--thinking-budget").hasMessageNotContaining(KEY);
    assertThat(server.requests()).hasSize(1);
    assertThat(server.requests().get(0).path()).isEqualTo("/v1beta/models/gemini-2.5-pro:generateContent");
    JsonNode plain = JSON.readTree(server.requests().get(0).body()).path("generationConfig");
    assertThat(plain.path("maxOutputTokens").asInt()).isEqualTo(1);
    assertThat(plain.has("thinkingConfig")).as("the model's own default").isFalse();
    assertThat(thinking.model()).as("one name for one model: a run's digest and the cache's keys").isEqualTo("gemini-2.5-pro");
    // a longer answer (a query's JSON) whose thoughts one request used up: that answer is empty, the run goes on
    server.enqueue(Fault.status(200, Map.of(), "{\"candidates\":[{\"content\":{\"role\":\"model\"},"
        + "\"finishReason\":\"MAX_TOKENS\"}],\"usageMetadata\":{\"promptTokenCount\":50,\"thoughtsTokenCount\":300}}"));
    LlmResponse longer = thinking.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT.withMaxTokens(300)));
    assertThat(longer.text()).isEmpty();
    assertThat(server.requests()).hasSize(2);

    LlmClient budgeted = LlmClients.gemini().baseUrl(server.geminiBaseUrl()).apiKey(KEY).model("gemini-2.5-pro")
        .thinkingBudget(128).build();
    assertThat(budgeted.generate(rcRequest("honey bees dance", "Honey bees dance.", 0)).text()).isNotEmpty();
    JsonNode sent = JSON.readTree(server.requests().get(2).body()).path("generationConfig");
    assertThat(sent.path("thinkingConfig").path("thinkingBudget").asInt()).isEqualTo(128);
    assertThat(sent.path("maxOutputTokens").asInt()).isEqualTo(128 + 1);
    assertThatThrownBy(() -> LlmClients.gemini().thinkingBudget(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void bothHttpClientsDropATrailingSlashRefuseUndeclaredLogprobsAndNameThemselvesWithoutTheKey() {
    LlmClient o = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl() + "/").apiKey(KEY).model("m")
        .capabilities(EnumSet.of(Capability.JSON_OUTPUT)).build();
    LlmClient g = LlmClients.gemini().baseUrl(server.geminiBaseUrl() + "/").apiKey(KEY).model("g")
        .capabilities(EnumSet.of(Capability.JSON_OUTPUT)).build();
    assertThat(o).hasToString("OpenAiClient[" + server.openAiBaseUrl() + ", m, [JSON_OUTPUT]]");
    assertThat(g).hasToString("GeminiClient[" + server.geminiBaseUrl() + ", g, [JSON_OUTPUT]]");
    for (LlmClient c : List.of(o, g)) {
      assertThatThrownBy(() -> c.generate(rcRequest("q", "p", 2)))
          .isInstanceOfSatisfying(UnsupportedCapabilityException.class, e -> assertThat(e.capability()).isEqualTo(Capability.TOP_LOGPROBS));
      assertThatThrownBy(() -> c.promptLogprobs("hello"))
          .isInstanceOfSatisfying(UnsupportedCapabilityException.class, e -> assertThat(e.capability()).isEqualTo(Capability.PROMPT_LOGPROBS));
    }
    assertThat(server.requests()).isEmpty();
    o.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT));
    g.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT));
    assertThat(server.requests()).extracting(FakeLlmServer.Recorded::path)
        .containsExactly("/v1/chat/completions", "/v1beta/models/g:generateContent");
  }

  @Test
  void withoutARequestIdHeaderTheIdComesFromTheBody() {
    server.enqueue(Fault.status(200, Map.of(), "{\"id\":\"chatcmpl-7\",\"choices\":[{\"message\":{\"content\":\"ok\"}}]}"));
    LlmResponse o = openAi(EnumSet.noneOf(Capability.class)).generate(LlmRequest.of("hi", GenerationOptions.DEFAULT));
    assertThat(o.requestId()).isEqualTo("chatcmpl-7");
    server.enqueue(Fault.status(200, Map.of(), "{\"responseId\":\"resp-9\",\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"ok\"}]}}]}"));
    LlmResponse g = LlmClients.gemini().baseUrl(server.geminiBaseUrl()).model("g").build()
        .generate(LlmRequest.of("hi", GenerationOptions.DEFAULT));
    assertThat(g.requestId()).isEqualTo("resp-9");
    assertThat(openAi(EnumSet.noneOf(Capability.class)).generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)).requestId())
        .as("the header wins where there is one").startsWith("req-");
  }

  /**
   * Log probabilities of a shape or value no server should send: a candidate list that is an
   * object is a malformed response, not a crash; a value that is not finite or far above 0 is no
   * probability (negative infinity), a rounding just above 0 is 0.
   */
  @Test
  void badlyShapedOrOutOfRangeLogprobsAreRefusedOrNeutralised() {
    server.enqueue(Fault.status(200, Map.of(), "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"2\"}]},"
        + "\"logprobsResult\":{\"chosenCandidates\":{\"token\":\"2\"},\"topCandidates\":[]}}]}"));
    LlmClient g = LlmClients.gemini().baseUrl(server.geminiBaseUrl()).model("g").build();
    assertThatThrownBy(() -> g.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOf(MalformedResponseException.class).hasMessageContaining("logprobsResult");
    server.enqueue(Fault.status(200, Map.of(), "{\"choices\":[{\"message\":{\"content\":\"2\"},\"logprobs\":{\"content\":["
        + "{\"token\":\"2\",\"logprob\":1e999,\"top_logprobs\":[{\"token\":\"2\",\"logprob\":-1e999},"
        + "{\"token\":\"3\",\"logprob\":0.0000001},{\"token\":\"1\",\"logprob\":5}]}]}}]}"));
    LlmResponse r = openAi(EnumSet.noneOf(Capability.class)).generate(LlmRequest.of("hi", GenerationOptions.DEFAULT));
    assertThat(r.logprobs().get(0).logprob()).isEqualTo(Double.NEGATIVE_INFINITY);
    assertThat(r.logprobs().get(0).top()).extracting(TokenLogprob.Alternative::logprob)
        .containsExactly(Double.NEGATIVE_INFINITY, 0.0, Double.NEGATIVE_INFINITY);
  }

  @Test
  void geminiBlockedPromptsComeBackAsEmptyAnswersNotCrashes() {
    server.enqueue(Fault.status(200, Map.of(), "{\"promptFeedback\":{\"blockReason\":\"SAFETY\"},\"usageMetadata\":{\"promptTokenCount\":7}}"));
    LlmClient g = LlmClients.gemini().baseUrl(server.geminiBaseUrl()).model("g").build();
    LlmResponse r = g.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT));
    assertThat(r.text()).isEmpty();
    assertThat(r.finishReason()).isEqualTo("BLOCKED:SAFETY");
    assertThat(r.usage().promptTokens()).isEqualTo(7);
    server.enqueue(Fault.status(400, Map.of(), "{\"error\":{\"code\":400,\"message\":\"Logprobs is not enabled for models/g\",\"status\":\"INVALID_ARGUMENT\"}}"));
    assertThatThrownBy(() -> g.generate(rcRequest("q", "p", 5))).isInstanceOf(BadRequestException.class)
        .hasMessageContaining("Logprobs is not enabled");
  }

  @Test
  void rateLimitHonoursRetryAfterSecondsWithoutRealSleeping() {
    server.enqueue(Fault.status(429, Map.of("Retry-After", "7"), "{\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit_error\"}}"));
    LlmClient c = LlmClients.retrying(openAi(EnumSet.of(Capability.TOP_LOGPROBS)), policy(3));
    LlmResponse r = c.generate(rcRequest("a", "b", 2));
    assertThat(r.text()).isNotEmpty();
    assertThat(sleeps).singleElement().satisfies(d -> assertThat(d.toMillis()).isBetween(7000L, 7700L));
    assertThat(server.requests()).hasSize(2);
    // the rate limit paused the client (this sleeper does not really wait, so the pause is still on):
    // a new call waits it out before its first request instead of adding to the limit
    sleeps.clear();
    c.generate(rcRequest("a", "b", 2));
    assertThat(sleeps).singleElement().satisfies(d -> assertThat(d.toMillis()).isBetween(1L, 8470L));
    assertThat(server.requests()).hasSize(3);
  }

  @Test
  void retryAfterAsHttpDateUsesTheInjectedClock() {
    Clock clock = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
    assertThat(HttpTransport.parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", clock)).contains(Duration.ofSeconds(30));
    // a day name that does not match the date (1 January 2026 is a Thursday): the date decides
    assertThat(HttpTransport.parseRetryAfter("Wed, 01 Jan 2026 00:00:30 GMT", clock)).contains(Duration.ofSeconds(30));
    assertThat(HttpTransport.parseRetryAfter("Wed, 30 Feb 2026 00:00:30 GMT", clock)).isEmpty();
    assertThat(HttpTransport.parseRetryAfter("1.5", clock)).contains(Duration.ofMillis(1500));
    assertThat(HttpTransport.parseRetryAfter("soon", clock)).isEmpty();
    server.enqueue(Fault.status(503, Map.of("Retry-After", "Thu, 01 Jan 2026 00:00:42 GMT"), "busy"));
    LlmClient c = LlmClients.retrying(LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).model("m").clock(clock).build(), policy(2));
    c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT));
    assertThat(sleeps).singleElement().satisfies(d -> assertThat(d.toMillis()).isBetween(42_000L, 46_200L));
  }

  @Test
  void serverErrorsBackOffExponentiallyWithJitterThenSucceed() {
    server.enqueue(Fault.status(500, Map.of(), "{\"error\":{\"message\":\"boom\"}}"));
    server.enqueue(Fault.status(502, Map.of(), "bad gateway"));
    server.enqueue(Fault.status(408, Map.of(), ""));
    LlmClient c = LlmClients.retrying(openAi(EnumSet.noneOf(Capability.class)), policy(5));
    c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT));
    assertThat(sleeps).hasSize(3);
    for (int i = 0; i < 3; i++) {
      long base = 1000L << i;
      assertThat(sleeps.get(i).toMillis()).isBetween(base / 2, base);
    }
  }

  @Test
  void givesUpAfterMaxRetriesWithTheLastError() {
    for (int i = 0; i < 3; i++) {
      server.enqueue(Fault.status(500, Map.of("x-request-id", "req-fail-" + i), "{\"error\":{\"message\":\"down\"}}"));
    }
    LlmClient c = LlmClients.retrying(openAi(EnumSet.noneOf(Capability.class)), policy(2));
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(ServerException.class, e -> {
          assertThat(e.statusCode()).isEqualTo(500);
          assertThat(e.requestId()).isEqualTo("req-fail-2");
          assertThat(e.retryable()).isTrue();
          assertThat(e.getMessage()).contains("down");
        });
    assertThat(server.requests()).hasSize(3);
  }

  @Test
  void authenticationAndNotFoundAndBadRequestAreNotRetriedAndNeverShowTheKey() {
    server.enqueue(Fault.status(401, Map.of(), "{\"error\":{\"message\":\"Incorrect API key provided: " + KEY + "\"}}"));
    LlmClient c = LlmClients.retrying(openAi(EnumSet.noneOf(Capability.class)), policy(5));
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(AuthenticationException.class, e -> {
          assertThat(e.retryable()).isFalse();
          assertThat(e.getMessage()).doesNotContain(KEY).contains("[REDACTED]");
          assertThat(e.body()).doesNotContain(KEY);
        });
    server.enqueue(Fault.status(404, Map.of(), "{\"error\":{\"message\":\"model not found\"}}"));
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT))).isInstanceOf(ModelNotFoundException.class);
    server.enqueue(Fault.status(400, Map.of(), "{\"error\":{\"message\":\"Setting 'echo' and 'logprobs' at the same time is not supported\"}}"));
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT))).isInstanceOf(BadRequestException.class)
        .hasMessageContaining("echo");
    assertThat(server.requests()).hasSize(3);
    assertThat(sleeps).isEmpty();
  }

  @Test
  void llmFailuresAreGeckoExceptionsSoOneHandlerCatchesEveryLibraryFailure() {
    server.enqueue(Fault.status(500, Map.of(), "{\"error\":{\"message\":\"down\"}}"));
    LlmClient c = openAi(EnumSet.noneOf(Capability.class));
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOf(ServerException.class).isInstanceOf(GeckoException.class);
    assertThatThrownBy(() -> c.promptLogprobs("hi"))
        .isInstanceOf(UnsupportedCapabilityException.class).isInstanceOf(GeckoException.class);
  }

  @Test
  void geminiQuotaErrorsReadRetryInfo() {
    server.enqueue(Fault.status(429, Map.of(), "{\"error\":{\"code\":429,\"message\":\"quota\",\"status\":\"RESOURCE_EXHAUSTED\","
        + "\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"34s\"}]}}"));
    LlmClient g = LlmClients.retrying(LlmClients.gemini().baseUrl(server.geminiBaseUrl()).model("g").build(), policy(2));
    g.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT));
    assertThat(sleeps).singleElement().satisfies(d -> assertThat(d.toMillis()).isBetween(34_000L, 37_400L));
  }

  @Test
  void slowAnswersPastTheTimeoutAreRetryableTimeouts() {
    server.enqueue(Fault.slow(3000));
    LlmClient c = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).model("m").requestTimeout(Duration.ofSeconds(1)).build();
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(LlmTimeoutException.class, e -> assertThat(e.retryable()).isTrue());
    // and with retries, the next (fast) answer succeeds; a roomier timeout, so that the fast answer
    // is not itself timed out on a loaded machine
    LlmClient roomy = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).model("m")
        .requestTimeout(Duration.ofSeconds(3)).build();
    server.enqueue(Fault.slow(60_000));
    assertThat(LlmClients.retrying(roomy, policy(2)).generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)).text())
        .isNotNull();
    assertThat(sleeps).hasSize(1);
  }

  @Test
  void aBodyThatStallsAfterTheHeadersTimesOutInsteadOfHangingAndIsRetried() {
    LlmClient c = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).model("m").requestTimeout(Duration.ofMillis(500)).build();
    server.enqueue(Fault.stalled(60_000));
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(LlmTimeoutException.class, e -> {
          assertThat(e.retryable()).isTrue();
          assertThat(e.getMessage()).contains("no complete response").contains("within PT0.5S");
        });
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("bounded by the request timeout, not the stall")
        .isLessThan(Duration.ofSeconds(20));
    // with retries, the next answer (not stalled) succeeds; a roomier timeout, so that the fast answer
    // is not itself timed out on a loaded machine
    LlmClient roomy = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).model("m")
        .requestTimeout(Duration.ofSeconds(3)).build();
    server.enqueue(Fault.stalled(60_000));
    assertThat(LlmClients.retrying(roomy, policy(2)).generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)).text())
        .isNotEmpty();
    assertThat(sleeps).hasSize(1);
  }

  /**
   * A call completes while every worker of the common {@code ForkJoinPool} is blocked elsewhere in
   * the application (the test runs as many blocked tasks as the pool's parallelism, one on a 2-core
   * machine). On JDK 25 the future of {@code HttpClient.sendAsync} completes through that pool, so
   * the client that waited on it got no answer and ran into its timeout; JDK 17 does not show it,
   * so CI runs this test on JDK 25 too (.ci/run).
   */
  @Test
  void aCallIsAnsweredWhileTheCommonPoolIsBusy() throws Exception {
    LlmClient c = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).model("m")
        .requestTimeout(Duration.ofSeconds(10)).build();
    int workers = java.util.concurrent.ForkJoinPool.getCommonPoolParallelism();
    java.util.concurrent.CountDownLatch blocked = new java.util.concurrent.CountDownLatch(workers);
    java.util.concurrent.FutureTask<Void> release = new java.util.concurrent.FutureTask<>(() -> null);
    List<java.util.concurrent.CompletableFuture<Void>> blockers = new ArrayList<>();
    for (int i = 0; i < workers; i++) {
      blockers.add(java.util.concurrent.CompletableFuture.runAsync(() -> {
        blocked.countDown();
        try {
          release.get(); // a plain blocking wait: the pool starts no worker in its place
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }));
    }
    try {
      assertThat(blocked.await(30, java.util.concurrent.TimeUnit.SECONDS)).as("the pool's workers are all blocked").isTrue();
      assertThat(c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)).text()).isNotEmpty();
    } finally {
      release.run();
    }
    for (java.util.concurrent.CompletableFuture<Void> b : blockers) {
      b.get(30, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  @Test
  void truncatedAndMalformedBodiesAreRetryable() {
    LlmClient c = openAi(EnumSet.noneOf(Capability.class));
    server.enqueue(Fault.truncated());
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(LlmException.class, e -> assertThat(e.retryable()).isTrue());
    server.enqueue(Fault.malformed());
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOf(MalformedResponseException.class).hasMessageContaining("not valid JSON");
    server.enqueue(Fault.truncated());
    server.enqueue(Fault.malformed());
    assertThat(LlmClients.retrying(c, policy(3)).generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)).text()).isNotNull();
    assertThat(sleeps).hasSize(2);
  }

  /** A 200 chat completion that reports usage but has no choice: billed, and unusable. */
  private static final String NO_CHOICES = "{\"id\":\"chatcmpl-empty\",\"choices\":[],"
      + "\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"total_tokens\":10}}";

  @Test
  void aChatAnswerWithUsageButNoChoicesIsBilledSoEveryRetriedAttemptsTokensAreMetered() {
    UsageMeter meter = new UsageMeter(new PriceTable(1.0, 4.0));
    LlmClient c = LlmClients.standard(openAi(EnumSet.noneOf(Capability.class)), 1, policy(2), meter, null);
    for (int i = 0; i < 3; i++) {
      server.enqueue(Fault.status(200, Map.of("x-request-id", "req-empty-" + i), NO_CHOICES));
    }
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(MalformedResponseException.class, e -> {
          assertThat(e.getMessage()).contains("no choices");
          assertThat(e.requestId()).isEqualTo("req-empty-2");
          assertThat(e.billedUsage()).as("its own attempt's tokens only").isEqualTo(new Usage(7, 3));
        });
    assertThat(server.requests()).hasSize(3);
    UsageMeter.Snapshot s = meter.snapshot();
    assertThat(s.calls()).isZero();
    assertThat(s.failures()).as("one failed call, however many attempts").isEqualTo(1);
    assertThat(s.promptTokens()).as("3 billed attempts").isEqualTo(3 * 7);
    assertThat(s.completionTokens()).isEqualTo(3 * 3);
    assertThat(s.cost()).isCloseTo(21 / 1e6 * 1.0 + 9 / 1e6 * 4.0, within(1e-12));

    // two billed rejections, then an answer: one call, and the tokens of all three attempts
    server.enqueue(Fault.status(200, Map.of(), NO_CHOICES));
    server.enqueue(Fault.status(200, Map.of(), NO_CHOICES));
    LlmResponse r = c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT));
    assertThat(r.usage()).as("the answer's own usage").isEqualTo(new Usage(100, 10));
    s = meter.snapshot();
    assertThat(s.calls()).isEqualTo(1);
    assertThat(s.failures()).isEqualTo(1);
    assertThat(s.promptTokens()).isEqualTo(5 * 7 + 100);
    assertThat(s.completionTokens()).isEqualTo(5 * 3 + 10);
    assertThat(server.requests()).hasSize(6);
  }

  @Test
  void anEchoWithUsageButNoUsableLogprobsIsMeteredOnEveryAttempt() {
    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    LlmClient c = LlmClients.standard(openAi(EnumSet.allOf(Capability.class)), 1, policy(3), meter, null);
    for (int i = 0; i < 4; i++) {
      server.enqueue(Fault.status(200, Map.of(), "{\"choices\":[{\"text\":\"x\",\"logprobs\":{\"tokens\":[],"
          + "\"token_logprobs\":[],\"text_offset\":[]}}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":1}}"));
    }
    assertThatThrownBy(() -> c.promptLogprobs("Query: honey"))
        .isInstanceOfSatisfying(MalformedResponseException.class, e -> {
          assertThat(e.getMessage()).contains("no usable echo logprobs");
          assertThat(e.billedUsage()).isEqualTo(new Usage(12, 1));
        });
    assertThat(server.requests()).hasSize(4);
    UsageMeter.Snapshot s = meter.snapshot();
    assertThat(s.calls()).isZero();
    assertThat(s.failures()).isEqualTo(1);
    assertThat(s.promptTokens()).isEqualTo(4 * 12);
    assertThat(s.completionTokens()).isEqualTo(4);
  }

  @Test
  void aGeminiAnswerWithUsageMetadataButNoCandidatesIsMeteredOnEveryAttempt() {
    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    LlmClient g = LlmClients.gemini().baseUrl(server.geminiBaseUrl()).apiKey(KEY).model("g").build();
    LlmClient c = LlmClients.standard(g, 1, policy(1), meter, null);
    for (int i = 0; i < 2; i++) {
      server.enqueue(Fault.status(200, Map.of(), "{\"responseId\":\"resp-empty\",\"usageMetadata\":{\"promptTokenCount\":5,"
          + "\"candidatesTokenCount\":0,\"thoughtsTokenCount\":2,\"totalTokenCount\":7}}"));
    }
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(MalformedResponseException.class, e -> {
          assertThat(e.getMessage()).contains("no candidates").doesNotContain(KEY);
          assertThat(e.billedUsage()).isEqualTo(new Usage(5, 2));
        });
    assertThat(server.requests()).hasSize(2);
    UsageMeter.Snapshot s = meter.snapshot();
    assertThat(s.failures()).isEqualTo(1);
    assertThat(s.promptTokens()).isEqualTo(2 * 5);
    assertThat(s.completionTokens()).isEqualTo(2 * 2);
  }

  @Test
  void metersInsideAndOutsideTheRetriesCountEachBilledAttemptOnce() {
    UsageMeter perAttempt = new UsageMeter(PriceTable.FREE);
    UsageMeter perCall = new UsageMeter(PriceTable.FREE);
    LlmClient c = LlmClients.metered(
        LlmClients.retrying(LlmClients.metered(openAi(EnumSet.noneOf(Capability.class)), perAttempt), policy(4)), perCall);
    server.enqueue(Fault.status(200, Map.of(), NO_CHOICES));
    server.enqueue(Fault.malformed()); // not JSON: nothing known to be billed
    server.enqueue(Fault.status(503, Map.of(), "{\"error\":{\"message\":\"busy\"}}"));
    server.enqueue(Fault.status(200, Map.of(), NO_CHOICES));
    assertThat(c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)).usage()).isEqualTo(new Usage(100, 10));
    assertThat(server.requests()).hasSize(5);
    UsageMeter.Snapshot inside = perAttempt.snapshot();
    UsageMeter.Snapshot outside = perCall.snapshot();
    assertThat(inside.calls()).isEqualTo(1);
    assertThat(inside.failures()).as("each failed attempt").isEqualTo(4);
    assertThat(outside.calls()).isEqualTo(1);
    assertThat(outside.failures()).as("the call succeeded in the end").isZero();
    for (UsageMeter.Snapshot s : List.of(inside, outside)) {
      assertThat(s.promptTokens()).isEqualTo(7 + 7 + 100);
      assertThat(s.completionTokens()).isEqualTo(3 + 3 + 10);
    }
  }

  @Test
  void connectionRefusedIsARetryableConnectionError() {
    String url = server.openAiBaseUrl();
    server.close();
    LlmClient c = LlmClients.openAiCompatible().baseUrl(url).model("m").build();
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(ConnectionException.class, e -> assertThat(e.retryable()).isTrue());
  }

  @Test
  void cacheAnswersRepeatsFromDiskKeyedWithoutTheApiKey(@TempDir Path dir) throws Exception {
    UsageMeter meter = new UsageMeter(new PriceTable(1.0, 4.0));
    LlmClient a = LlmClients.caching(LlmClients.metered(openAi(EnumSet.allOf(Capability.class)), meter), dir, meter);
    LlmResponse first = a.generate(rcRequest("honey bees", "Honey bees dance.", 4));
    PromptLogprobs p1 = a.promptLogprobs("A\n<passage>\nx\n</passage>\nQuery: honey");
    // another client with another key shares the cache: the key is not part of the cache key
    LlmClient b = LlmClients.caching(LlmClients.metered(LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl())
        .apiKey("sk-other").model("fake-model").capabilities(EnumSet.allOf(Capability.class)).build(), meter), dir, meter);
    LlmResponse again = b.generate(rcRequest("honey bees", "Honey bees dance.", 4));
    PromptLogprobs p2 = b.promptLogprobs("A\n<passage>\nx\n</passage>\nQuery: honey");
    assertThat(again).isEqualTo(first);
    assertThat(p2.logprobs().subList(1, p2.logprobs().size())).isEqualTo(p1.logprobs().subList(1, p1.logprobs().size()));
    assertThat(p2.logprobs().get(0)).isNaN();
    assertThat(server.requests()).hasSize(2);
    // a different option is a different request
    b.generate(new LlmRequest(rcRequest("honey bees", "Honey bees dance.", 4).messages(),
        GenerationOptions.DEFAULT.withMaxTokens(1).withTopLogprobs(4).withTemperature(0.5)));
    assertThat(server.requests()).hasSize(3);
    UsageMeter.Snapshot s = meter.snapshot();
    assertThat(s.calls()).isEqualTo(3);
    assertThat(s.cacheHits()).isEqualTo(2);
    // 2 chats (100+10 each) + 1 echo (prompt tokens counted by the fake server, 1 completion)
    long echoPrompt = p1.usage().promptTokens();
    assertThat(s.promptTokens()).isEqualTo(200 + echoPrompt);
    assertThat(s.completionTokens()).isEqualTo(21);
    assertThat(s.cost()).isCloseTo((200 + echoPrompt) / 1e6 * 1.0 + 21 / 1e6 * 4.0, within(1e-12));
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        assertThat(Files.readString(f)).doesNotContain(KEY).doesNotContain("sk-other");
      }
    }
    LlmRequest x = LlmRequest.of("x", GenerationOptions.DEFAULT);
    assertThat(CachingClient.key("e", "m", Set.of(), x)).isNotEqualTo(CachingClient.key("e", "m2", Set.of(), x))
        .isNotEqualTo(CachingClient.key("e2", "m", Set.of(), x)).isEqualTo(CachingClient.key("e", "m", Set.of(), x));
    assertThat(CachingClient.key("e", "m", "p")).isNotEqualTo(CachingClient.key("e2", "m", "p"))
        .isNotEqualTo(CachingClient.key("e", "m2", "p")).isEqualTo(CachingClient.key("e", "m", "p"));
  }

  private LlmClient openAiAt(String baseUrl, String key) {
    return LlmClients.openAiCompatible().baseUrl(baseUrl).apiKey(key).model("fake-model")
        .capabilities(EnumSet.allOf(Capability.class)).requestTimeout(Duration.ofSeconds(20)).build();
  }

  @Test
  void twoServersOfOneModelNameShareACacheFolderButNeverEachOthersAnswers(@TempDir Path dir) throws Exception {
    FakeLlmServer other = FakeLlmServer.start();
    try {
      UsageMeter meter = new UsageMeter(PriceTable.FREE);
      LlmClient here = LlmClients.caching(openAiAt(server.openAiBaseUrl(), KEY), dir, meter);
      LlmClient there = LlmClients.caching(openAiAt(other.openAiBaseUrl(), KEY), dir, meter);
      assertThat(here.model()).isEqualTo(there.model());
      assertThat(here.endpoint()).isEqualTo("openai-compatible " + server.openAiBaseUrl());
      assertThat(there.endpoint()).isEqualTo("openai-compatible " + other.openAiBaseUrl());
      assertThat(LlmClients.gemini().baseUrl(server.geminiBaseUrl()).model("fake-model").build().endpoint())
          .as("another provider at the same server is another endpoint").isEqualTo("gemini " + server.geminiBaseUrl());
      LlmRequest r = rcRequest("honey bees", "Honey bees dance.", 4);
      String prompt = "A\n<passage>\nx\n</passage>\nQuery: honey";
      here.generate(r);
      here.promptLogprobs(prompt);
      there.generate(r);
      there.promptLogprobs(prompt);
      assertThat(server.requests()).hasSize(2);
      assertThat(other.requests()).as("the other server was asked, not answered from the first one's entries").hasSize(2);
      // each server's entries still answer it, also through a new client with another key and a trailing slash
      LlmClient hereAgain = LlmClients.caching(openAiAt(server.openAiBaseUrl() + "/", "sk-other"), dir, meter);
      here.generate(r);
      there.generate(r);
      there.promptLogprobs(prompt);
      hereAgain.generate(r);
      hereAgain.promptLogprobs(prompt);
      assertThat(server.requests()).hasSize(2);
      assertThat(other.requests()).hasSize(2);
      assertThat(meter.snapshot().cacheHits()).isEqualTo(5);
      try (Stream<Path> files = Files.walk(dir)) {
        assertThat(files.filter(f -> f.toString().endsWith(".json"))).hasSize(4);
      }
    } finally {
      other.close();
    }
  }

  @Test
  void theUserInfoAndQueryOfABaseUrlLeaveTheCacheKeyAsItIsAndReachNoFileNameOrMessage(@TempDir Path dir) throws Exception {
    String secret = "pw-SECRET-4242";
    String plainUrl = server.openAiBaseUrl();
    LlmClient plain = openAiAt(plainUrl, KEY);
    LlmClient withUser = openAiAt(plainUrl.replace("http://", "http://gecko:" + secret + "@"), KEY);
    LlmClient withQuery = openAiAt(plainUrl + "?api_key=" + secret + "#" + secret, KEY);
    LlmRequest r = LlmRequest.of("hi", GenerationOptions.DEFAULT);
    String prompt = "A\n<passage>\nx\n</passage>\nQuery: honey";
    for (LlmClient c : List.of(withUser, withQuery)) {
      assertThat(c.endpoint()).isEqualTo(plain.endpoint()).isEqualTo("openai-compatible " + plainUrl);
      assertThat(CachingClient.key(c.endpoint(), c.model(), c.capabilities(), r))
          .isEqualTo(CachingClient.key(plain.endpoint(), plain.model(), plain.capabilities(), r));
      assertThat(CachingClient.key(c.endpoint(), c.model(), prompt)).isEqualTo(CachingClient.key(plain.endpoint(), plain.model(), prompt));
      assertThat(c.toString()).doesNotContain(secret).doesNotContain(KEY);
    }
    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    LlmClient cachedWithUser = LlmClients.caching(withUser, dir, meter);
    LlmResponse first = cachedWithUser.generate(r);
    PromptLogprobs scored = cachedWithUser.promptLogprobs(prompt);
    assertThat(server.requests()).hasSize(2);
    // the same server without the user info hits; so does the URL with a query (never called: the cache answers)
    LlmClient cachedPlain = LlmClients.caching(plain, dir, meter);
    assertThat(cachedPlain.generate(r)).isEqualTo(first);
    assertThat(cachedPlain.promptLogprobs(prompt).tokens()).isEqualTo(scored.tokens());
    assertThat(LlmClients.caching(withQuery, dir, meter).generate(r)).isEqualTo(first);
    assertThat(server.requests()).hasSize(2);
    assertThat(meter.snapshot().cacheHits()).isEqualTo(3);
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.toList()) {
        assertThat(f.toString()).doesNotContain(secret);
        if (Files.isRegularFile(f)) {
          assertThat(Files.readString(f)).doesNotContain(secret).doesNotContain("gecko:").doesNotContain(KEY);
        }
      }
    }
    // nor does an error message name the user info
    server.enqueue(Fault.status(500, Map.of(), "{\"error\":{\"message\":\"busy\"}}"));
    assertThatThrownBy(() -> withUser.generate(LlmRequest.of("another", GenerationOptions.DEFAULT)))
        .isInstanceOf(ServerException.class).message().doesNotContain(secret).contains(plainUrl + "/chat/completions");
  }

  @Test
  void endpointUrlsKeepTheServerAndDropWhatMayHoldASecret() {
    assertThat(LlmClients.endpointUrl("https://user:pw@API.Example.com:443/v1/?key=k#frag")).isEqualTo("https://api.example.com/v1");
    assertThat(LlmClients.endpointUrl("HTTP://LocalHost:80")).isEqualTo("http://localhost");
    assertThat(LlmClients.endpointUrl("http://localhost:8000/v1")).isEqualTo("http://localhost:8000/v1");
    assertThat(LlmClients.endpointUrl("http://localhost:443/v1")).isEqualTo("http://localhost:443/v1");
    assertThat(LlmClients.endpointUrl("http://[::1]:11434//")).isEqualTo("http://[::1]:11434");
    assertThat(LlmClients.endpointUrl("http://h/Models/V1")).as("a path keeps its case").isEqualTo("http://h/Models/V1");
    assertThatThrownBy(() -> LlmClients.endpointUrl(" tok@localhost:11434 ")).as("no scheme")
        .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("tok");
    // malformed URLs whose user info a string cut would have shown: refused, the secret never shown
    for (String bad : new String[] {"https://bob:pa#ss@api.example.com/v1", "https://bob:a/b@host/v1",
        "https://bob:p ss@host/v1"}) {
      assertThatThrownBy(() -> LlmClients.endpointUrl(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessageNotContaining("pa").hasMessageNotContaining("bob");
      assertThat(LlmClients.shownUrl(bad)).as(bad).doesNotContain("bob").doesNotContain("pa");
      assertThatThrownBy(() -> LlmClients.openAiCompatible().baseUrl(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("bob");
    }
    assertThat(LlmClients.shownUrl("htp://u:secret@host/v1?key=k")).isEqualTo("htp://host/v1");
    assertThat(LlmClients.shownUrl("htp://u:sec ret@host/v1?key=k")).isEqualTo("htp://***@host/v1");
    assertThatThrownBy(() -> LlmClients.endpointUrl(" ")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> LlmClients.endpointUrl("https://k3y@?q=k3y")).isInstanceOf(IllegalArgumentException.class)
        .message().doesNotContain("k3y");
  }

  @Test
  void cacheKeepsNoEmptyAnswerKeepsACutOneUntilRefusedAndAsksAgainWhenJsonModeIsSwitchedOff(@TempDir Path dir) throws Exception {
    UsageMeter meter = new UsageMeter(new PriceTable(1.0, 4.0));
    LlmClient json = LlmClients.caching(openAi(EnumSet.of(Capability.JSON_OUTPUT)), dir, meter);
    LlmRequest r = LlmRequest.of("hi", GenerationOptions.DEFAULT.withJsonOutput(true));
    String empty = "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"\"},"
        + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":0}}";
    String cut = empty.replace("\"content\":\"\"", "\"content\":\"partial answer\"").replace("\"stop\"", "\"length\"");
    server.enqueue(Fault.status(200, Map.of("Content-Type", "application/json"), empty));
    server.enqueue(Fault.status(200, Map.of("Content-Type", "application/json"), cut));
    assertThat(json.generate(r).text()).isEmpty();
    // cut at the token limit: kept (the relabeler's one-token grades always end so), until refused
    LlmResponse cutAnswer = json.generate(r);
    assertThat(cutAnswer.finishReason()).isEqualTo("length");
    assertThat(json.generate(r)).isEqualTo(cutAnswer);
    assertThat(server.requests()).hasSize(2); // the empty answer was asked again; the cut one is kept
    // an answer the caller refused is forgotten (through the decorators), so a rerun asks again
    LlmClient decorated = LlmClients.metered(json, meter);
    decorated.refused(r);
    LlmResponse good = decorated.generate(r);
    assertThat(good.text()).isNotBlank();
    assertThat(json.generate(r)).isEqualTo(good);
    assertThat(server.requests()).hasSize(3);
    // the same request through a client that sends no JSON mode is another request on the wire
    LlmClient plain = LlmClients.caching(openAi(EnumSet.noneOf(Capability.class)), dir, meter);
    plain.generate(r);
    assertThat(server.requests()).hasSize(4);
    assertThat(server.requests().get(3).body()).doesNotContain("response_format");
  }

  @Test
  void aResponseBodyPastTheCapIsRefusedWithoutRetryOrFillingTheHeap() {
    String huge = "{\"id\":\"x\",\"pad\":\"" + "a".repeat(HttpTransport.MAX_BODY_BYTES) + "\"}";
    server.enqueue(Fault.status(200, Map.of("Content-Type", "application/json"), huge));
    LlmClient c = LlmClients.retrying(openAi(EnumSet.noneOf(Capability.class)), policy(3));
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(LlmException.class, e -> assertThat(e.retryable()).isFalse())
        .hasMessageContaining("larger than 16 MiB");
    assertThat(server.requests()).hasSize(1);
    assertThat(sleeps).isEmpty();
    assertThat(c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)).text()).as("the next answer reads").isNotEmpty();
  }

  @Test
  void geminisBadKeyAnswerOf400IsAnAuthenticationFailureNotABadRequest() {
    server.enqueue(Fault.status(400, Map.of(), "{\"error\":{\"code\":400,\"message\":\"API key not valid. Please pass a valid API"
        + " key.\",\"status\":\"INVALID_ARGUMENT\",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\","
        + "\"reason\":\"API_KEY_INVALID\",\"domain\":\"googleapis.com\"}]}}"));
    LlmClient g = LlmClients.retrying(LlmClients.gemini().baseUrl(server.geminiBaseUrl()).apiKey(KEY).model("g").build(),
        policy(3));
    assertThatThrownBy(() -> g.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(AuthenticationException.class, e -> assertThat(e.retryable()).isFalse())
        .hasMessageContaining("API key").hasMessageNotContaining(KEY);
    // a 400 about the request itself stays a bad request (its seed is rejected, the run goes on)
    server.enqueue(Fault.status(400, Map.of(), "{\"error\":{\"code\":400,\"message\":\"Request contains an invalid"
        + " argument.\",\"status\":\"INVALID_ARGUMENT\"}}"));
    assertThatThrownBy(() -> g.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT))).isInstanceOf(BadRequestException.class);
    assertThat(sleeps).isEmpty();
  }

  /**
   * OpenAI's 429 for an account out of credit is not retried (before, each worker waited through
   * every retry, about 31 s with the defaults, before failing); a policy whose multiplier is NaN,
   * or a negative wait, is refused when built (a NaN multiplier made every wait 0).
   */
  @Test
  void anExhaustedQuotaIsNotRetriedAndARetryPolicyWithoutRealWaitsIsRefused() {
    server.enqueue(Fault.status(429, Map.of(), "{\"error\":{\"message\":\"You exceeded your current quota, please check your "
        + "plan and billing details.\",\"type\":\"insufficient_quota\",\"code\":\"insufficient_quota\"}}"));
    LlmClient c = LlmClients.retrying(openAi(EnumSet.noneOf(Capability.class)), policy(3));
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(LlmException.class, e -> {
          assertThat(e).isNotInstanceOf(RateLimitException.class).hasMessageContaining("retrying cannot help");
          assertThat(e.retryable()).isFalse();
        });
    assertThat(server.requests()).hasSize(1);
    assertThat(sleeps).isEmpty();
    assertThatThrownBy(() -> RetryPolicy.builder().multiplier(Double.NaN)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("multiplier must be finite and >= 1, was NaN");
    assertThatThrownBy(() -> new RetryPolicy(1, Duration.ofSeconds(-1), Duration.ofSeconds(1), 2, Duration.ofSeconds(1),
        Sleeper.SYSTEM, new java.util.Random())).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("initialBackoff must be >= 0, was PT-1S");
  }

  /**
   * A broken usage report (a negative count, one of 9e18 tokens, a string) cannot turn the meter's
   * totals negative or overflow them: counts are read between 0 and a billion per call.
   */
  @Test
  void brokenUsageCountsAreBoundedSoTheTotalsStaySane() {
    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    LlmClient c = LlmClients.metered(openAi(EnumSet.noneOf(Capability.class)), meter);
    for (String usage : List.of("{\"prompt_tokens\":9.0e18,\"completion_tokens\":-5}",
        "{\"prompt_tokens\":9.0e18,\"completion_tokens\":\"7\"}", "{\"prompt_tokens\":[1],\"completion_tokens\":null}")) {
      server.enqueue(Fault.status(200, Map.of(), "{\"choices\":[{\"message\":{\"content\":\"ok\"}}],\"usage\":" + usage + "}"));
      assertThat(c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)).text()).isEqualTo("ok");
    }
    assertThat(meter.snapshot().promptTokens()).isEqualTo(2 * Usage.MAX_REPORTED_TOKENS);
    assertThat(meter.snapshot().completionTokens()).isEqualTo(7);
  }

  @Test
  void aRetryAfterLongerThanTheCapGivesUpAtOnceSayingSo() {
    server.enqueue(Fault.status(429, Map.of("Retry-After", "86400"), "{\"error\":{\"message\":\"daily quota\"}}"));
    LlmClient c = LlmClients.retrying(openAi(EnumSet.noneOf(Capability.class)), policy(5));
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(RateLimitException.class, e -> assertThat(e.getSuppressed()).singleElement()
            .satisfies(s -> assertThat(s.getMessage()).contains("86400 s").contains("maxRetryAfter")));
    assertThat(server.requests()).hasSize(1);
    assertThat(sleeps).isEmpty();
  }

  @Test
  void concurrencyLimitBoundsRequestsInFlight() throws Exception {
    LlmClient c = LlmClients.concurrencyLimited(openAi(EnumSet.noneOf(Capability.class)), 2);
    for (int i = 0; i < 8; i++) {
      server.enqueue(Fault.slow(150));
    }
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<LlmResponse>> fs = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        fs.add(pool.submit(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT))));
      }
      for (Future<LlmResponse> f : fs) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(server.requests()).hasSize(8);
    assertThat(server.maxInFlight()).isBetween(1, 2);
  }

  @Test
  void secretHeadersAreRedactedForLogs() {
    Map<String, String> h = HttpTransport.redact(Map.of("Authorization", "Bearer " + KEY, "x-goog-api-key", KEY, "OpenAI-Organization", "org-1",
        "Helicone-Auth", "Bearer gateway-secret-1", "Ocp-Apim-Subscription-Key", "azure-secret-2"));
    assertThat(h.toString()).doesNotContain(KEY).doesNotContain("gateway-secret-1").doesNotContain("azure-secret-2").contains("org-1");
    assertThat(h).containsEntry("Authorization", "[REDACTED]").containsEntry("x-goog-api-key", "[REDACTED]")
        .containsEntry("Helicone-Auth", "[REDACTED]");
  }

  @Test
  void anErrorBodyQuotingAGatewaysCredentialHeaderIsScrubbedToo() {
    server.enqueue(Fault.status(401, Map.of(), "{\"error\":{\"message\":\"bad gateway key gateway-secret-1\"}}"));
    LlmClient c = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).apiKey(KEY).model("m")
        .header("Helicone-Auth", "Bearer gateway-secret-1").build();
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(AuthenticationException.class, e -> {
          assertThat(e.getMessage()).doesNotContain("gateway-secret-1").contains("[REDACTED]");
          assertThat(e.body()).doesNotContain("gateway-secret-1");
        });
  }

  @Test
  void environmentTableIsRead() {
    LlmClient c = LlmClients.openAiCompatible().fromEnvironment(Map.of("OPENAI_API_KEY", KEY, "OPENAI_BASE_URL", server.openAiBaseUrl()))
        .model("m").build();
    c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT));
    assertThat(server.requests().get(0).headers().get("Authorization")).containsExactly("Bearer " + KEY);
    assertThat(c.toString()).doesNotContain(KEY);
    assertThatThrownBy(() -> LlmClients.openAiCompatible().baseUrl("ftp://x")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> LlmClients.openAiCompatible().build()).isInstanceOf(IllegalStateException.class);
    // a blank variable is unset: the Google key is sent, not an empty one
    LlmClient g = LlmClients.gemini().fromEnvironment(Map.of("GEMINI_API_KEY", " ", "GOOGLE_API_KEY", KEY,
        "GEMINI_BASE_URL", server.geminiBaseUrl())).model("g").build();
    g.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT));
    assertThat(server.requests().get(1).headers().get("X-goog-api-key")).containsExactly(KEY);
    // a scheme in capitals is still http(s)
    assertThat(LlmClients.checkBaseUrl("HTTPS://api.example.com/v1")).isEqualTo("HTTPS://api.example.com/v1");
  }

  @Test
  void aBaseUrlWithALineEndOrSpacesAroundItIsStrippedAndNoMessageEverShowsItsUserInfoOrQuery() {
    String secret = "hunter2-SECRET-pw";
    String withUser = server.openAiBaseUrl().replace("http://", "http://gecko:" + secret + "@");
    // as read from a CRLF .env file, or pasted with a space
    for (String raw : List.of(withUser + "\r", withUser + "\r\n", " " + withUser + " ", withUser + "\t")) {
      LlmClients.OpenAiBuilder b = LlmClients.openAiCompatible().baseUrl(raw).apiKey(KEY).model("m");
      assertThat(b.baseUrl()).isEqualTo(withUser);
      assertThat(LlmClients.checkBaseUrl(raw)).isEqualTo(withUser);
      LlmClient c = b.build();
      assertThat(c.endpoint()).isEqualTo("openai-compatible " + server.openAiBaseUrl());
      assertThat(c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)).text()).isNotEmpty();
    }
    assertThat(server.requests()).hasSize(4).allSatisfy(r -> assertThat(r.path()).isEqualTo("/v1/chat/completions"));
    // a failure names the server only
    server.enqueue(Fault.status(500, Map.of(), "{\"error\":{\"message\":\"busy\"}}"));
    LlmClient c = LlmClients.openAiCompatible().baseUrl(withUser + "\r\n").model("m").build();
    assertThatThrownBy(() -> c.generate(LlmRequest.of("again", GenerationOptions.DEFAULT))).isInstanceOf(ServerException.class)
        .message().doesNotContain(secret).doesNotContain("gecko:").contains(server.openAiBaseUrl() + "/chat/completions");
    // a query with a secret and a trailing space: the request goes out with it, and no message shows it
    LlmClient q = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl() + "?key=" + secret + " ").model("m").build();
    assertThat(q.toString()).doesNotContain(secret);
    assertThat(q.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)).text()).isNotEmpty();
    assertThat(server.requests().get(server.requests().size() - 1).query()).isEqualTo("key=" + secret);
    server.enqueue(Fault.status(500, Map.of(), "{\"error\":{\"message\":\"busy\"}}"));
    assertThatThrownBy(() -> q.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT))).isInstanceOf(LlmException.class)
        .message().doesNotContain(secret);
  }

  /**
   * A base URL's query is sent with every request, after the path (Azure's {@code api-version}, a
   * gateway's key); its values and the user info are scrubbed from what a server quotes back. Before,
   * the path was appended to the query ({@code ?key=S/chat/completions}), every request went to the
   * base path, and an error page quoting the request target showed the key.
   */
  @Test
  void aBaseUrlsQueryFollowsThePathAndItsValuesAreScrubbedFromErrors() {
    String secret = "AIzaSyQ-0123456789abcdef";
    LlmClient c = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl() + "/?api-version=2024-10-21&key=" + secret)
        .model("m").build();
    assertThat(c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)).text()).isNotEmpty();
    assertThat(server.requests()).singleElement().satisfies(r -> {
      assertThat(r.path()).isEqualTo("/v1/chat/completions");
      assertThat(r.query()).isEqualTo("api-version=2024-10-21&key=" + secret);
    });
    server.enqueue(Fault.status(404, Map.of(), "The requested URL /v1/chat/completions?key=" + secret + " was not found"));
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(LlmException.class, e -> {
          assertThat(e.getMessage()).doesNotContain(secret).contains("[REDACTED]");
          assertThat(e.body()).doesNotContain(secret);
        });
    String password = "hunter2-SECRET-pw";
    LlmClient u = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl().replace("http://", "http://gecko:" + password
        + "@")).model("m").build();
    server.enqueue(Fault.status(500, Map.of(), "{\"error\":{\"message\":\"upstream rejected gecko:" + password + "\"}}"));
    assertThatThrownBy(() -> u.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT))).isInstanceOf(ServerException.class)
        .message().doesNotContain(password);
    assertThat(LlmClients.urlSecrets("https://u:p%40ss@h/v1?a=1&key=k%2Fx&flag&sig=abc&d=Zx81kQ0pLm27Vb64"))
        .containsExactlyInAnyOrder("u:p%40ss", "p%40ss", "p@ss", "k%2Fx", "k/x", "abc", "Zx81kQ0pLm27Vb64");
    // a value an error should show is no secret: an unsupported api-version stays readable
    server.enqueue(Fault.status(400, Map.of(), "{\"error\":{\"message\":\"api-version '2024-10-21' is not supported\"}}"));
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT))).isInstanceOf(BadRequestException.class)
        .hasMessageContaining("api-version '2024-10-21' is not supported");
  }

  @Test
  void anApiKeyOrHeaderValueAnHttpHeaderCannotCarryIsRefusedWhenBuiltWithoutShowingIt() {
    String secret = "sk-proj-TOPSECRET123";
    // typographic quotes copied with the key, or a line break inside it: the JDK's HTTP client
    // would throw at the first request, quoting the whole header value
    for (String bad : List.of("\u201c" + secret + "\u201d", "sk-proj-TOP\nSECRET123", "sk-proj-TOP\rSECRET123")) {
      LlmClients.OpenAiBuilder b = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).apiKey(bad).model("m");
      assertThatThrownBy(b::build).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("the API key contains a character not allowed in an HTTP header (position ")
          .message().doesNotContain("TOP").doesNotContain("SECRET");
      assertThatThrownBy(() -> LlmClients.gemini().baseUrl(server.geminiBaseUrl()).apiKey(bad).model("g").build()).as(bad)
          .isInstanceOf(IllegalArgumentException.class).message().doesNotContain("TOP").doesNotContain("SECRET");
    }
    assertThatThrownBy(() -> LlmClients.openAiCompatible().apiKey("\u201c" + secret + "\u201d").model("m").build())
        .hasMessageContaining("(position 1 of 22: U+201C)");
    assertThatThrownBy(() -> LlmClients.openAiCompatible().apiKey("sk-proj-TOP\nSECRET123").model("m").build())
        .hasMessageContaining("(position 12 of 21: U+000A)");
    assertThatThrownBy(() -> LlmClients.openAiCompatible().header("Helicone-Auth", "Bearer gw\u2013" + secret))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Helicone-Auth").hasMessageContaining("U+2013")
        .message().doesNotContain("SECRET");
    assertThatThrownBy(() -> LlmClients.openAiCompatible().header("Bad Name", "v")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a valid HTTP header name");
    assertThatThrownBy(() -> LlmClients.openAiCompatible().header("Host", "example.com")).isInstanceOf(IllegalArgumentException.class);
    assertThat(server.requests()).isEmpty();
    // what a header can carry is sent: Latin-1, inner spaces and tabs
    LlmClient ok = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).apiKey(KEY).header("X-Team", "caf\u00e9 a\tb")
        .model("m").build();
    ok.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT));
    assertThat(server.requests()).hasSize(1);
  }

  /**
   * A short placeholder key (a local server's "ollama", "EMPTY", "test") is ordinary text in an
   * answer: the answer and its token counts come through as sent, while an error that quotes the
   * key still hides it.
   */
  @Test
  void aShortKeyDoesNotChangeAnAnswerButIsStillHiddenInErrors() {
    // local servers' placeholder keys, short or long: words, phrases and numbers are text in an answer
    String answer = "how to test 1 ollama model for anything at 1712345678 (sk-no-key-required)";
    for (String key : List.of("test", "1", "ollama", "anything", "12345678", "sk-no-key-required")) {
      server.enqueue(Fault.status(200, Map.of(), "{\"created\":1712345678,\"choices\":[{\"message\":{\"content\":\""
          + answer + "\"}}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":1}}"));
      LlmClient c = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).apiKey(key).model("m").build();
      assertThat(c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)).text()).as(key).isEqualTo(answer);
    }
    assertThat(HttpTransport.credentialLike("sk-proj-4fQ9xT2mZ8")).isTrue();
    assertThat(HttpTransport.credentialLike("not-a-real-key-at-all")).isFalse();
    server.enqueue(Fault.status(401, Map.of(), "{\"error\":{\"message\":\"Incorrect API key provided: ollama\"}}"));
    LlmClient c = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).apiKey("ollama").model("m").build();
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(AuthenticationException.class, e -> assertThat(e.getMessage()).doesNotContain("ollama"));
  }

  /** A server's message with an escape sequence or line breaks reaches a message as one visible line. */
  @Test
  void controlCharactersInAServersMessageAreShownNotPassedOn() {
    server.enqueue(Fault.status(401, Map.of(), "{\"error\":{\"message\":\"\\u001b[2Jbad\\nINFO ok\"}}"));
    LlmClient c = openAi(EnumSet.noneOf(Capability.class));
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(AuthenticationException.class, e -> {
          assertThat(e.getMessage()).contains("U+001B[2Jbad INFO ok").doesNotContain("\u001b").doesNotContain("\n");
        });
    server.enqueue(Fault.status(401, Map.of(), "plain \u001b[31m text\r\nmore"));
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .hasMessageContaining("plain U+001B[31m text more");
  }

  /** A local server's placeholder key ("x") is scrubbed where it stands as a word, not inside other words. */
  @Test
  void aShortPlaceholderKeyIsScrubbedAsAWordWithoutGarblingTheMessage() {
    server.enqueue(Fault.status(400, Map.of(), "{\"error\":{\"message\":\"max_tokens exceeds the context; key x, or \\u0078, "
        + "is unknown\"}}"));
    LlmClient c = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).apiKey("x").model("m").build();
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(BadRequestException.class, e -> {
          assertThat(e.getMessage()).contains("max_tokens exceeds the context; key [REDACTED], or [REDACTED], is unknown");
          assertThat(e.body()).contains("max_tokens").doesNotContain(" x,").doesNotContain("\\u0078");
        });
  }

  @Test
  void aKeyEchoedWithJsonEscapesInAnErrorOrMalformedBodyIsScrubbedToo() {
    String slashKey = "sk-proj/TOPSECRET123";
    // "/" written as "\/", and "-" written as a Unicode escape (either case of hex digits)
    server.enqueue(Fault.status(401, Map.of(), "{\"error\":{\"message\":\"Incorrect API key provided: sk-proj\\/TOPSECRET123\"}}"));
    LlmClient slash = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).apiKey(slashKey).model("m").build();
    assertThatThrownBy(() -> slash.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(AuthenticationException.class, e -> {
          assertThat(e.getMessage()).doesNotContain("TOPSECRET").contains("[REDACTED]");
          assertThat(e.body()).doesNotContain("TOPSECRET");
        });
    for (String escaped : List.of("sk\\u002dtest-SECRET-0123456789", "sk-test\\u002DSECRET\\u002d0123456789",
        "\\u0073k-test-SECRET-0123456789")) {
      server.enqueue(Fault.status(401, Map.of(), "{\"error\":{\"message\":\"Incorrect API key provided: " + escaped + "\"}}"));
      LlmClient c = openAi(EnumSet.noneOf(Capability.class));
      assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT))).as(escaped)
          .isInstanceOfSatisfying(AuthenticationException.class, e -> {
            assertThat(e.getMessage()).doesNotContain(KEY).doesNotContain("SECRET-0123456789").contains("[REDACTED]");
            assertThat(e.body()).doesNotContain("SECRET-0123456789");
          });
    }
    // a 2xx body without choices, kept on the exception: its tree is decoded, so it is scrubbed again
    server.enqueue(Fault.status(200, Map.of("Content-Type", "application/json"), "{\"id\":\"x\",\"echo\":\"sk\\u002dtest-SECRET-0123456789\","
        + "\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}"));
    LlmClient c = openAi(EnumSet.noneOf(Capability.class));
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(MalformedResponseException.class, e -> {
          assertThat(e.body()).doesNotContain(KEY).doesNotContain("SECRET-0123456789").contains("[REDACTED]");
          assertThat(e.getMessage()).doesNotContain("SECRET");
        });
    // an answer that quotes the key with escapes: scrubbed before it is decoded into the text
    server.enqueue(Fault.status(200, Map.of("Content-Type", "application/json"), "{\"choices\":[{\"message\":"
        + "{\"content\":\"my key is sk\\u002Dtest-SECRET-0123456789\\nand more\"}}],"
        + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}"));
    assertThat(c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)).text()).isEqualTo("my key is [REDACTED]\nand more");
    // and one that is not JSON at all
    server.enqueue(Fault.status(200, Map.of("Content-Type", "application/json"), "{\"echo\":\"sk\\u002dtest-SECRET-0123456789\", oops"));
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOfSatisfying(MalformedResponseException.class, e -> {
          assertThat(e.body()).doesNotContain("SECRET-0123456789");
          assertThat(e.getMessage()).doesNotContain("SECRET");
        });
  }

  @Test
  void aRetryAfterTooLargeToReadStillGivesUpAtOnceAndTheObsoleteDateFormsAreRead() {
    for (String huge : List.of("1000000000", "9999999999", "99999999999999999999999999")) {
      sleeps.clear();
      int before = server.requests().size();
      server.enqueue(Fault.status(429, Map.of("Retry-After", huge), "{\"error\":{\"message\":\"daily quota\"}}"));
      LlmClient c = LlmClients.retrying(openAi(EnumSet.noneOf(Capability.class)), policy(5));
      assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT))).as(huge)
          .isInstanceOfSatisfying(RateLimitException.class, e -> {
            assertThat(e.retryAfter()).contains(HttpTransport.MAX_HINT);
            assertThat(e.getSuppressed()).singleElement().satisfies(s -> assertThat(s.getMessage()).contains("gave up at once"));
          });
      assertThat(server.requests()).as(huge).hasSize(before + 1);
      assertThat(sleeps).as(huge).isEmpty();
    }
    server.enqueue(Fault.status(429, Map.of("retry-after-ms", "99999999999999"), "{\"error\":{\"message\":\"quota\"}}"));
    LlmClient c = LlmClients.retrying(openAi(EnumSet.noneOf(Capability.class)), policy(5));
    assertThatThrownBy(() -> c.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT))).isInstanceOf(RateLimitException.class);
    assertThat(sleeps).isEmpty();

    Clock clock = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
    // RFC 9110 section 5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms
    assertThat(HttpTransport.parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", clock)).contains(Duration.ofSeconds(30));
    assertThat(HttpTransport.parseRetryAfter("Thursday, 01-Jan-26 00:00:30 GMT", clock)).contains(Duration.ofSeconds(30));
    assertThat(HttpTransport.parseRetryAfter("Thu Jan  1 00:00:30 2026", clock)).contains(Duration.ofSeconds(30));
    assertThat(HttpTransport.parseRetryAfter("Sat Jan 31 00:00:00 2026", clock)).contains(Duration.ofDays(30));
    // a two-digit year more than 50 years ahead is the past one: a wait of zero
    assertThat(HttpTransport.parseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", clock)).contains(Duration.ZERO);
    assertThat(HttpTransport.parseRetryAfter("Friday, 01-Jan-27 00:00:00 GMT", clock)).contains(Duration.ofDays(365));
    assertThat(HttpTransport.parseRetryAfter("Fri Feb 30 00:00:00 2026", clock)).isEmpty();
    assertThat(HttpTransport.parseRetryAfter("-5", clock)).isEmpty();
    assertThat(HttpTransport.parseRetryAfter("NaN", clock)).isEmpty();
    assertThat(HttpTransport.parseRetryAfter(" 7 ", clock)).contains(Duration.ofSeconds(7));
    server.enqueue(Fault.status(503, Map.of("Retry-After", "Thu Jan  1 00:00:42 2026"), "busy"));
    LlmClient dated = LlmClients.retrying(LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).model("m").clock(clock).build(),
        policy(2));
    dated.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT));
    assertThat(sleeps).singleElement().satisfies(d -> assertThat(d.toMillis()).isBetween(42_000L, 46_200L));
  }
}
