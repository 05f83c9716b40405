package dev.gecko.train.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The four decorators over an in-memory client: what they forward, and that both kinds of call go through them. */
class DecoratorsTest {
  private static final Usage GENERATE_USAGE = new Usage(7, 3);
  private static final Usage PROMPT_USAGE = new Usage(5, 1);
  private final List<Duration> sleeps = Collections.synchronizedList(new ArrayList<>());

  /**
   * Answers from memory, naming its endpoint in each answer; fails with the queued exceptions first;
   * can hold a call until released.
   */
  private static final class StubClient implements LlmClient {
    final Set<Capability> capabilities = Set.of(Capability.PROMPT_LOGPROBS);
    final String endpoint;
    final ConcurrentLinkedQueue<LlmException> failures = new ConcurrentLinkedQueue<>();
    final AtomicInteger generateCalls = new AtomicInteger();
    final AtomicInteger promptCalls = new AtomicInteger();
    volatile CountDownLatch entered;
    volatile CountDownLatch release;

    StubClient() {
      this("stub http://stub.test/v1");
    }

    StubClient(String endpoint) {
      this.endpoint = endpoint;
    }

    @Override
    public String model() {
      return "stub-model";
    }

    @Override
    public String endpoint() {
      return endpoint;
    }

    @Override
    public Set<Capability> capabilities() {
      return capabilities;
    }

    @Override
    public LlmResponse generate(LlmRequest request) {
      generateCalls.incrementAndGet();
      enter();
      return new LlmResponse("answer to " + request.messages().get(0).content() + " from " + endpoint, List.of(),
          GENERATE_USAGE, "stop", "");
    }

    @Override
    public PromptLogprobs promptLogprobs(String prompt) {
      promptCalls.incrementAndGet();
      enter();
      return new PromptLogprobs(prompt, List.of(prompt, endpoint), List.of(Double.NaN, -1.0), List.of(0, prompt.length()),
          PROMPT_USAGE);
    }

    private void enter() {
      LlmException f = failures.poll();
      if (f != null) {
        throw f;
      }
      CountDownLatch hold = release;
      if (hold != null) {
        entered.countDown();
        try {
          hold.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    @Override
    public String toString() {
      return "Stub";
    }
  }

  private RetryPolicy policy(int retries) {
    return RetryPolicy.builder().maxRetries(retries).sleeper(sleeps::add).random(new Random(1)).build();
  }

  private static ServerException serverError() {
    return new ServerException("HTTP 503: busy", 503, "busy", "", null, null);
  }

  @Test
  void everyDecoratorReportsTheInnerModelAndCapabilitiesAndNamesItselfAroundTheInnerClient(@TempDir Path dir) {
    StubClient stub = new StubClient();
    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    Map<String, LlmClient> decorators = new LinkedHashMap<>();
    decorators.put("Retrying[Stub]", LlmClients.retrying(stub, policy(1)));
    decorators.put("ConcurrencyLimited[Stub]", LlmClients.concurrencyLimited(stub, 2));
    decorators.put("Metered[Stub]", LlmClients.metered(stub, meter));
    decorators.put("Caching[Stub, " + dir + "]", LlmClients.caching(stub, dir, meter));
    decorators.forEach((name, d) -> {
      assertThat(d.model()).as(name).isEqualTo("stub-model");
      assertThat(d.capabilities()).as(name).isEqualTo(Set.of(Capability.PROMPT_LOGPROBS));
      assertThat(d.endpoint()).as(name).isEqualTo("stub http://stub.test/v1");
      assertThat(d).as(name).hasToString(name);
    });
    LlmClient standard = LlmClients.standard(stub, 2, policy(1), meter, dir);
    assertThat(standard).hasToString("Caching[Metered[ConcurrencyLimited[Retrying[Stub]]], " + dir + "]");
    assertThat(standard.model()).isEqualTo("stub-model");
    assertThat(standard.capabilities()).isEqualTo(Set.of(Capability.PROMPT_LOGPROBS));
    assertThat(standard.endpoint()).isEqualTo("stub http://stub.test/v1");
  }

  @Test
  void everyDecoratorForwardsTheInnerClientsRefusalOfPromptLogprobs(@TempDir Path dir) {
    LlmClient plain = new LlmClient() {
      @Override
      public String model() {
        return "chat-only";
      }

      @Override
      public Set<Capability> capabilities() {
        return EnumSet.noneOf(Capability.class);
      }

      @Override
      public LlmResponse generate(LlmRequest request) {
        throw new AssertionError("not called");
      }
    };
    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    LlmClient stack = LlmClients.standard(plain, 1, policy(3), meter, dir);
    assertThat(stack.endpoint()).as("the default: the implementing class").isEqualTo(plain.getClass().getName());
    assertThatThrownBy(() -> stack.promptLogprobs("hello"))
        .isInstanceOfSatisfying(UnsupportedCapabilityException.class, e -> {
          assertThat(e.capability()).isEqualTo(Capability.PROMPT_LOGPROBS);
          assertThat(e.getMessage()).contains("chat-only");
        });
    assertThat(sleeps).isEmpty();
    assertThat(meter.snapshot().failures()).isEqualTo(1);
  }

  @Test
  void cachingAnswersBothKindsOfCallFromDiskAndReplacesUnreadableEntries(@TempDir Path dir) throws Exception {
    StubClient stub = new StubClient();
    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    LlmClient caching = LlmClients.caching(stub, dir, meter);
    LlmRequest request = LlmRequest.of("hi", GenerationOptions.DEFAULT);
    LlmResponse answer = caching.generate(request);
    PromptLogprobs scored = caching.promptLogprobs("Query: honey");
    assertThat(caching.generate(request)).isEqualTo(answer);
    assertThat(caching.promptLogprobs("Query: honey").usage()).isEqualTo(scored.usage());
    assertThat(stub.generateCalls).hasValue(1);
    assertThat(stub.promptCalls).hasValue(1);
    assertThat(meter.snapshot().cacheHits()).isEqualTo(2);

    List<Path> entries;
    try (Stream<Path> files = Files.walk(dir)) {
      entries = files.filter(f -> f.toString().endsWith(".json")).toList();
    }
    assertThat(entries).hasSize(2);
    for (Path f : entries) {
      Files.writeString(f, "{\"neither\": \"a response\", \"nor\": \"prompt logprobs\"}");
    }
    assertThat(caching.generate(request)).isEqualTo(answer);
    assertThat(caching.promptLogprobs("Query: honey").tokens()).isEqualTo(scored.tokens());
    assertThat(stub.generateCalls).hasValue(2);
    assertThat(stub.promptCalls).hasValue(2);
    assertThat(meter.snapshot().cacheHits()).isEqualTo(2);
    caching.generate(request);
    caching.promptLogprobs("Query: honey");
    assertThat(stub.generateCalls).as("the unreadable entry was replaced").hasValue(2);
    assertThat(stub.promptCalls).hasValue(2);
    assertThat(meter.snapshot().cacheHits()).isEqualTo(4);
  }

  @Test
  void cachingKeepsTheAnswersOfTwoEndpointsOfOneModelNameApartInOneFolder(@TempDir Path dir) {
    StubClient ollama = new StubClient("openai-compatible http://localhost:11434/v1");
    StubClient vllm = new StubClient("openai-compatible http://localhost:8000/v1");
    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    LlmClient fromOllama = LlmClients.caching(ollama, dir, meter);
    LlmClient fromVllm = LlmClients.caching(vllm, dir, meter);
    assertThat(fromOllama.model()).isEqualTo(fromVllm.model());
    LlmRequest request = LlmRequest.of("hi", GenerationOptions.DEFAULT);
    assertThat(fromOllama.generate(request).text()).isEqualTo("answer to hi from " + ollama.endpoint);
    assertThat(fromOllama.promptLogprobs("Query: honey").tokens()).containsExactly("Query: honey", ollama.endpoint);
    // the same request at the other server is asked there, not answered with the first one's entry
    assertThat(fromVllm.generate(request).text()).isEqualTo("answer to hi from " + vllm.endpoint);
    assertThat(fromVllm.promptLogprobs("Query: honey").tokens()).containsExactly("Query: honey", vllm.endpoint);
    assertThat(vllm.generateCalls).hasValue(1);
    assertThat(vllm.promptCalls).hasValue(1);
    assertThat(meter.snapshot().cacheHits()).isZero();
    // each endpoint still hits its own entries, through a new client and through the decorators too
    StubClient ollamaAgain = new StubClient(ollama.endpoint);
    LlmClient again = LlmClients.caching(LlmClients.retrying(ollamaAgain, policy(1)), dir, meter);
    assertThat(again.generate(request).text()).isEqualTo("answer to hi from " + ollama.endpoint);
    assertThat(again.promptLogprobs("Query: honey").tokens()).containsExactly("Query: honey", ollama.endpoint);
    assertThat(fromVllm.generate(request).text()).isEqualTo("answer to hi from " + vllm.endpoint);
    assertThat(ollamaAgain.generateCalls).hasValue(0);
    assertThat(ollamaAgain.promptCalls).hasValue(0);
    assertThat(ollama.generateCalls).hasValue(1);
    assertThat(vllm.generateCalls).hasValue(1);
    assertThat(meter.snapshot().cacheHits()).isEqualTo(3);
    // refusing one endpoint's answer forgets that one only
    fromVllm.refused(request);
    fromOllama.generate(request);
    fromVllm.generate(request);
    assertThat(ollama.generateCalls).hasValue(1);
    assertThat(vllm.generateCalls).hasValue(2);
  }

  @Test
  void meteringCountsTheUsageOfPromptLogprobsAsOfGenerateAndEachFailure() {
    StubClient stub = new StubClient();
    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    LlmClient metered = LlmClients.metered(stub, meter);

    metered.promptLogprobs("Query: honey");
    UsageMeter.Snapshot s = meter.snapshot();
    assertThat(s.calls()).isEqualTo(1);
    assertThat(s.promptTokens()).isEqualTo(5);
    assertThat(s.completionTokens()).isEqualTo(1);

    metered.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT));
    s = meter.snapshot();
    assertThat(s.calls()).isEqualTo(2);
    assertThat(s.promptTokens()).isEqualTo(12);
    assertThat(s.completionTokens()).isEqualTo(4);

    stub.failures.add(serverError());
    assertThatThrownBy(() -> metered.promptLogprobs("again")).isInstanceOf(ServerException.class);
    stub.failures.add(serverError());
    assertThatThrownBy(() -> metered.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT))).isInstanceOf(ServerException.class);
    s = meter.snapshot();
    assertThat(s.failures()).isEqualTo(2);
    assertThat(s.calls()).isEqualTo(2);
    assertThat(s.totalTokens()).isEqualTo(16);
  }

  @Test
  void theStandardStackMetersAFailedCallOnceHoweverManyAttemptsItTook() {
    StubClient stub = new StubClient();
    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    LlmClient stack = LlmClients.standard(stub, 1, policy(2), meter, null);
    for (int i = 0; i < 3; i++) {
      stub.failures.add(serverError());
    }
    assertThatThrownBy(() -> stack.promptLogprobs("down")).isInstanceOf(ServerException.class);
    assertThat(stub.promptCalls).hasValue(3);
    assertThat(meter.snapshot().failures()).isEqualTo(1);
    assertThat(meter.snapshot().calls()).isZero();
  }

  /** A 2xx answer that was billed and then rejected. */
  private static MalformedResponseException billedRejection() {
    return new MalformedResponseException("chat completion has no choices", 200, "{}", "", new Usage(7, 3));
  }

  @Test
  void nestedRetriesAndAnInterruptedWaitLetTheMeterCountEachBilledAttemptOnce() {
    StubClient stub = new StubClient();
    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    LlmClient nested = LlmClients.metered(LlmClients.retrying(LlmClients.retrying(stub, policy(1)), policy(1)), meter);
    for (int i = 0; i < 4; i++) {
      stub.failures.add(billedRejection());
    }
    assertThatThrownBy(() -> nested.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)))
        .isInstanceOf(MalformedResponseException.class);
    assertThat(stub.generateCalls).hasValue(4);
    UsageMeter.Snapshot s = meter.snapshot();
    assertThat(s.failures()).isEqualTo(1);
    assertThat(s.promptTokens()).isEqualTo(4 * 7);
    assertThat(s.completionTokens()).isEqualTo(4 * 3);

    // the wait before a retry is interrupted: the swallowed attempt was billed, the interruption adds nothing
    UsageMeter other = new UsageMeter(PriceTable.FREE);
    RetryPolicy interrupted = RetryPolicy.builder().maxRetries(3).sleeper(d -> {
      throw new InterruptedException("stop");
    }).build();
    LlmClient c = LlmClients.metered(LlmClients.retrying(stub, interrupted), other);
    stub.failures.add(billedRejection());
    try {
      assertThatThrownBy(() -> c.promptLogprobs("Query: honey")).isInstanceOf(LlmException.class)
          .hasMessageContaining("interrupted while waiting to retry")
          .satisfies(e -> assertThat(((LlmException) e).billedUsage()).isEqualTo(Usage.ZERO));
    } finally {
      assertThat(Thread.interrupted()).isTrue(); // and cleared for the next test
    }
    s = other.snapshot();
    assertThat(s.calls()).isZero();
    assertThat(s.failures()).isEqualTo(1);
    assertThat(s.promptTokens()).isEqualTo(7);
    assertThat(s.completionTokens()).isEqualTo(3);
    assertThat(meter.snapshot().promptTokens()).as("a meter not around the call").isEqualTo(4 * 7);
  }

  @Test
  void retryingRetriesPromptLogprobsAsGenerateAndNeverAProgrammingError() {
    StubClient stub = new StubClient();
    LlmClient retrying = LlmClients.retrying(stub, policy(3));
    stub.failures.add(serverError());
    stub.failures.add(serverError());
    assertThat(retrying.promptLogprobs("Query: honey").usage()).isEqualTo(PROMPT_USAGE);
    assertThat(stub.promptCalls).hasValue(3);
    assertThat(sleeps).hasSize(2);

    stub.failures.add(new BadRequestException("HTTP 400", 400, "", "", null, null));
    assertThatThrownBy(() -> retrying.promptLogprobs("bad")).isInstanceOf(BadRequestException.class);
    assertThat(stub.promptCalls).hasValue(4);
    assertThat(sleeps).hasSize(2);

    stub.failures.add(serverError());
    assertThat(retrying.generate(LlmRequest.of("hi", GenerationOptions.DEFAULT)).usage()).isEqualTo(GENERATE_USAGE);
    assertThat(stub.generateCalls).hasValue(2);
    assertThat(sleeps).hasSize(3);
  }

  @Test
  void concurrencyLimitHoldsPromptLogprobsAndGenerateAlikeAndFreesThePermitOnFailure() throws Exception {
    StubClient stub = new StubClient();
    LlmClient limited = LlmClients.concurrencyLimited(stub, 1);
    stub.failures.add(serverError());
    assertThatThrownBy(() -> limited.promptLogprobs("fails")).isInstanceOf(ServerException.class);

    stub.entered = new CountDownLatch(1);
    stub.release = new CountDownLatch(1);
    Thread first = new Thread(() -> limited.promptLogprobs("held"), "first");
    first.setDaemon(true); // a broken limit must fail the test, not hang the fork
    first.start();
    assertThat(stub.entered.await(60, TimeUnit.SECONDS)).as("the permit freed after the failure lets a call in").isTrue();
    Thread second = new Thread(() -> limited.generate(LlmRequest.of("waits", GenerationOptions.DEFAULT)), "second");
    second.setDaemon(true);
    second.start();
    while (second.isAlive() && LockSupport.getBlocker(second) == null) {
      Thread.onSpinWait(); // until the second caller parks: on the permit, or (were it let through) in the stub
    }
    assertThat(stub.generateCalls).as("a generate call waits while a promptLogprobs call holds the only permit").hasValue(0);
    stub.release.countDown();
    first.join();
    second.join();
    assertThat(stub.promptCalls).hasValue(2);
    assertThat(stub.generateCalls).hasValue(1);
  }

  /**
   * A call queued on the standard stack's concurrency limit while another call meets a rate limit
   * waits out the server's Retry-After before its first request: the limit sits above the retries,
   * so a queued call enters them only once a permit is free, and then sees the pause. (With the
   * limit beneath them, it had passed the pause check already and was sent as soon as the
   * rate-limited call freed its permit to wait.)
   */
  @Test
  void aCallQueuedOnTheConcurrencyLimitWaitsOutARateLimitMetMeanwhile() throws Exception {
    List<String> requests = Collections.synchronizedList(new ArrayList<>());
    List<String> waits = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger calls = new AtomicInteger();
    LlmClient server = new LlmClient() {
      @Override
      public String model() {
        return "stub-model";
      }

      @Override
      public String endpoint() {
        return "stub http://stub.test/v1";
      }

      @Override
      public Set<Capability> capabilities() {
        return Set.of();
      }

      @Override
      public LlmResponse generate(LlmRequest request) {
        requests.add(Thread.currentThread().getName());
        if (calls.incrementAndGet() == 1) { // the first request is answered 429 once the second call queues
          entered.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          throw new RateLimitException("HTTP 429: slow down", 429, "slow down", "", Duration.ofSeconds(30), null);
        }
        return new LlmResponse("ok", List.of(), GENERATE_USAGE, "stop", "");
      }

      @Override
      public PromptLogprobs promptLogprobs(String prompt) {
        throw new UnsupportedOperationException();
      }
    };
    // a sleeper that records who waited how long, without waiting: the pause stays on for the test
    RetryPolicy policy = RetryPolicy.builder().maxRetries(2).random(new Random(1))
        .sleeper(d -> waits.add(Thread.currentThread().getName() + " " + d.toSeconds())).build();
    LlmClient stack = LlmClients.standard(server, 1, policy, new UsageMeter(PriceTable.FREE), null);
    Thread first = new Thread(() -> stack.generate(LlmRequest.of("a", GenerationOptions.DEFAULT)), "first");
    first.setDaemon(true);
    first.start();
    assertThat(entered.await(60, TimeUnit.SECONDS)).isTrue();
    Thread second = new Thread(() -> stack.generate(LlmRequest.of("b", GenerationOptions.DEFAULT)), "second");
    second.setDaemon(true);
    second.start();
    while (second.isAlive() && LockSupport.getBlocker(second) == null) {
      Thread.onSpinWait(); // until the second call parks on the permit the first holds
    }
    release.countDown();
    first.join(60_000);
    second.join(60_000);
    assertThat(requests).as("the rate-limited call retries before the queued one is sent")
        .containsExactly("first", "first", "second");
    assertThat(waits).as("the queued call waits out the pause before its first request")
        .anySatisfy(w -> assertThat(w).matches("second (29|3[0-3])"));
  }
}
