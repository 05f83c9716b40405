package dev.gecko.langchain4j.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gecko.train.llm.BadRequestException;
import dev.gecko.train.llm.ConnectionException;
import dev.gecko.train.llm.GenerationOptions;
import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmClients;
import dev.gecko.train.llm.LlmException;
import dev.gecko.train.llm.LlmRequest;
import dev.gecko.train.llm.LlmTimeoutException;
import dev.gecko.train.llm.Message;
import dev.gecko.train.llm.PriceTable;
import dev.gecko.train.llm.RetryPolicy;
import dev.gecko.train.llm.UsageMeter;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.exception.LangChain4jException;
import dev.langchain4j.exception.NonRetriableException;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.internal.ChatRequestValidationUtils;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.DefaultChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.TokenUsage;
import java.io.IOException;
import java.net.http.HttpTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Runtime exceptions LangChain4j passes through unmapped (its JdkHttpClient wraps an IOException in
 * a plain RuntimeException) become gecko-train's types: I/O failures retryable, the rest not;
 * LangChain4j's own non-retriable exceptions stay not retryable whatever their cause; messages
 * LangChain4j refuses fail as bad requests before anything is sent.
 */
class ChatModelLlmClientFailuresTest {
  private static final String KEY = "sk-proj-SECRET0123456789abcdef";
  private static final LlmRequest REQUEST = LlmRequest.of("hello", GenerationOptions.DEFAULT);

  /** A chat model that throws {@code failure} on its first {@code failures} calls, then answers "ok". */
  private static final class FailingChatModel implements ChatModel {
    final AtomicInteger calls = new AtomicInteger();
    final Supplier<RuntimeException> failure;
    final int failures;

    FailingChatModel(Supplier<RuntimeException> failure, int failures) {
      this.failure = failure;
      this.failures = failures;
    }

    @Override
    public ChatResponse doChat(ChatRequest request) {
      if (calls.getAndIncrement() < failures) {
        throw failure.get();
      }
      return ChatResponse.builder().aiMessage(AiMessage.from("ok")).tokenUsage(new TokenUsage(3, 1)).build();
    }
  }

  /**
   * A chat model without JSON mode, as LangChain4j's providers without it are: LangChain4j's own
   * check refuses {@code ResponseFormat.JSON} before anything is sent.
   */
  private static final class NoJsonChatModel implements ChatModel {
    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger sent = new AtomicInteger();

    @Override
    public ChatResponse doChat(ChatRequest request) {
      calls.incrementAndGet();
      ChatRequestValidationUtils.validate(request.parameters().responseFormat());
      sent.incrementAndGet();
      return ChatResponse.builder().aiMessage(AiMessage.from("ok")).tokenUsage(new TokenUsage(3, 1)).build();
    }
  }

  private static LlmClient standard(ChatModel chat, UsageMeter meter) {
    return LlmClients.standard(ChatModelLlmClient.of(chat, "stub"), 1,
        RetryPolicy.builder().maxRetries(3).sleeper(d -> { }).build(), meter, null);
  }

  @Test
  void aWrappedIoExceptionIsARetryableConnectionErrorThatIsRetriedAndMetered() {
    Supplier<RuntimeException> reset = () -> new RuntimeException(new IOException("Connection reset"));
    LlmException e = catchThrowableOfType(LlmException.class,
        () -> ChatModelLlmClient.of(new FailingChatModel(reset, 1), "stub").generate(REQUEST));
    assertThat(e).isInstanceOf(ConnectionException.class).hasMessageContaining("stub").hasMessageContaining("Connection reset");
    assertThat(e.retryable()).isTrue();
    // deeper in the chain too
    LlmException deep = catchThrowableOfType(LlmException.class, () -> ChatModelLlmClient.of(new FailingChatModel(
        () -> new IllegalStateException("outer", new RuntimeException(new java.net.ConnectException("Connection refused"))), 1),
        "stub").generate(REQUEST));
    assertThat(deep).isInstanceOf(ConnectionException.class).hasMessageContaining("Connection refused");
    LlmException timeout = catchThrowableOfType(LlmException.class, () -> ChatModelLlmClient.of(new FailingChatModel(
        () -> new RuntimeException(new HttpTimeoutException("request timed out")), 1), "stub").generate(REQUEST));
    assertThat(timeout).isInstanceOf(LlmTimeoutException.class);
    assertThat(timeout.retryable()).isTrue();

    // through the standard stack: retried, then answered
    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    FailingChatModel twice = new FailingChatModel(reset, 2);
    assertThat(standard(twice, meter).generate(REQUEST).text()).isEqualTo("ok");
    assertThat(twice.calls).hasValue(3);
    assertThat(meter.snapshot().calls()).isEqualTo(1);
    // and a server that stays unreachable is a counted failure after the retries
    FailingChatModel down = new FailingChatModel(reset, Integer.MAX_VALUE);
    assertThat(catchThrowableOfType(ConnectionException.class, () -> standard(down, meter).generate(REQUEST))).isNotNull();
    assertThat(down.calls).hasValue(4);
    assertThat(meter.snapshot().failures()).isEqualTo(1);
  }

  /**
   * What some provider models (Vertex AI Gemini) and LangChain4j's own HTTP client wrap in a plain
   * runtime exception keeps its meaning: a LangChain4j rate limit or server error is retried, an
   * interrupt stops (not retried, the flag kept), and a body its JSON codec cannot read is a
   * malformed answer. Before, each was a not retried "failed unexpectedly", so one quota error
   * stopped a FRet run.
   */
  @Test
  void wrappedLangChain4jErrorsInterruptsAndUnreadableBodiesKeepTheirMeaning() throws Exception {
    LlmException limited = catchThrowableOfType(LlmException.class, () -> ChatModelLlmClient.of(new FailingChatModel(
        () -> new RuntimeException(new dev.langchain4j.exception.RateLimitException("quota exceeded")), 1), "stub")
        .generate(REQUEST));
    assertThat(limited).isInstanceOf(dev.gecko.train.llm.RateLimitException.class).hasMessageContaining("quota exceeded");
    assertThat(limited.retryable()).isTrue();
    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    FailingChatModel busy = new FailingChatModel(() -> new RuntimeException("vertex",
        new dev.langchain4j.exception.InternalServerException("backend error")), 1);
    assertThat(standard(busy, meter).generate(REQUEST).text()).as("retried, then answered").isEqualTo("ok");
    assertThat(busy.calls).hasValue(2);

    LlmException garbled = catchThrowableOfType(LlmException.class, () -> ChatModelLlmClient.of(new FailingChatModel(
        () -> new RuntimeException(new com.fasterxml.jackson.core.JsonParseException(null, "Unexpected character ('<')")),
        1), "stub").generate(REQUEST));
    assertThat(garbled).isInstanceOf(dev.gecko.train.llm.MalformedResponseException.class)
        .hasMessageContaining("does not parse").hasMessageContaining("Unexpected character");
    assertThat(garbled.retryable()).isTrue();

    java.util.concurrent.atomic.AtomicReference<Throwable> thrown = new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.atomic.AtomicBoolean flagKept = new java.util.concurrent.atomic.AtomicBoolean();
    FailingChatModel interrupted = new FailingChatModel(() -> {
      Thread.currentThread().interrupt(); // as JdkHttpClient leaves it: the flag set, the exception wrapped
      return new RuntimeException(new InterruptedException());
    }, Integer.MAX_VALUE);
    Thread t = new Thread(() -> {
      try {
        standard(interrupted, new UsageMeter(PriceTable.FREE)).generate(REQUEST);
      } catch (Throwable x) {
        thrown.set(x);
      }
      flagKept.set(Thread.currentThread().isInterrupted());
    });
    t.start();
    t.join();
    assertThat(thrown.get()).isInstanceOf(LlmException.class).isNotInstanceOf(ChatModelFailureException.class)
        .hasMessageContaining("interrupted while calling the chat model");
    assertThat(((LlmException) thrown.get()).retryable()).isFalse();
    assertThat(flagKept).isTrue();
    assertThat(interrupted.calls).as("not retried").hasValue(1);
  }

  /** A negative token count a chat model reports is read as 0, as gecko's own clients read one. */
  @Test
  void aBrokenTokenCountIsBounded() {
    ChatModel negative = new ChatModel() {
      @Override
      public ChatResponse doChat(ChatRequest request) {
        return ChatResponse.builder().aiMessage(AiMessage.from("ok")).tokenUsage(new TokenUsage(-5, 7)).build();
      }
    };
    assertThat(ChatModelLlmClient.of(negative, "stub").generate(REQUEST).usage()).isEqualTo(new dev.gecko.train.llm.Usage(0, 7));
  }

  @Test
  void anyOtherRuntimeExceptionIsANotRetryableFailureNamingItWithoutTheKey() {
    Supplier<RuntimeException> bug = () -> new IllegalStateException("no serializer for request (Authorization: Bearer " + KEY
        + ", url https://host/v1?key=" + KEY + ")");
    LlmException e = catchThrowableOfType(LlmException.class,
        () -> ChatModelLlmClient.of(new FailingChatModel(bug, 1), "stub").generate(REQUEST));
    assertThat(e).isInstanceOf(ChatModelFailureException.class).hasMessageContaining("stub")
        .hasMessageContaining("failed unexpectedly").hasMessageContaining("IllegalStateException")
        .hasMessageContaining("no serializer for request").hasMessageNotContaining(KEY).hasMessageNotContaining("SECRET");
    assertThat(e.retryable()).isFalse();
    // the cause stands for LangChain4j's exception: its class, stack trace and redacted message, never its key
    assertThat(e.getCause()).isInstanceOf(ChatModelLlmClient.RedactedCause.class)
        .hasMessageStartingWith("java.lang.IllegalStateException: no serializer for request").hasMessageNotContaining("SECRET");
    assertThat(e.getCause().getStackTrace()).isNotEmpty();
    java.io.StringWriter trace = new java.io.StringWriter();
    e.printStackTrace(new java.io.PrintWriter(trace));
    assertThat(trace.toString()).as("what a logger prints").doesNotContain("SECRET").contains("IllegalStateException");
    // a server's raw body in LangChain4j's message reaches ours on one visible line
    LlmException http = catchThrowableOfType(LlmException.class, () -> ChatModelLlmClient.of(new FailingChatModel(
        () -> new dev.langchain4j.exception.HttpException(500, "{\"error\": \"\u001b[2Jdown\nINFO all fine\"}"), 1), "stub")
        .generate(REQUEST));
    assertThat(http.getMessage()).contains("U+001B[2Jdown INFO all fine").doesNotContain("\u001b").doesNotContain("\n");
    String google = "AIzaSyA-0123456789abcdefghijklmnopqrstu";
    assertThat(ChatModelLlmClient.redact("url https://host/v1/models/g?alt=sse " + google)).doesNotContain(google);

    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    FailingChatModel always = new FailingChatModel(bug, Integer.MAX_VALUE);
    assertThat(catchThrowableOfType(ChatModelFailureException.class, () -> standard(always, meter).generate(REQUEST))).isNotNull();
    assertThat(always.calls).as("not retried").hasValue(1);
    assertThat(meter.snapshot().failures()).isEqualTo(1);
    assertThat(ChatModelLlmClient.redact("x-api-key: " + KEY + " token=abc")).doesNotContain(KEY).doesNotContain("abc");
  }

  @Test
  void aBlankSystemOrUserMessageIsANotRetryableBadRequestNamingItAndNothingIsSent() {
    FailingChatModel chat = new FailingChatModel(() -> new IllegalStateException("never called"), 0);
    ChatModelLlmClient client = ChatModelLlmClient.of(chat, "stub");
    LlmRequest blankUser = new LlmRequest(List.of(Message.system("Answer briefly."), Message.user(" \n\t")),
        GenerationOptions.DEFAULT);
    LlmException e = catchThrowableOfType(LlmException.class, () -> client.generate(blankUser));
    assertThat(e).isInstanceOf(BadRequestException.class).hasMessageContaining("stub")
        .hasMessageContaining("messages[1] (user) is blank");
    assertThat(e.retryable()).isFalse();
    LlmRequest blankSystem = new LlmRequest(List.of(Message.system(""), Message.user("hello")), GenerationOptions.DEFAULT);
    assertThat(catchThrowableOfType(BadRequestException.class, () -> client.generate(blankSystem)))
        .hasMessageContaining("messages[0] (system) is blank");
    // what LangChain4j counts as blank: nothing left after trim(), control characters included
    LlmRequest control = new LlmRequest(List.of(Message.user("\u0001")), GenerationOptions.DEFAULT);
    assertThat(catchThrowableOfType(BadRequestException.class, () -> client.generate(control)))
        .hasMessageContaining("messages[0] (user) is blank");
    assertThat(chat.calls).as("nothing sent").hasValue(0);
    // an empty assistant turn is a message LangChain4j takes: sent
    LlmRequest emptyAnswer = new LlmRequest(List.of(Message.user("hello"), Message.assistant(""), Message.user("again")),
        GenerationOptions.DEFAULT);
    assertThat(client.generate(emptyAnswer).text()).isEqualTo("ok");
    assertThat(chat.calls).hasValue(1);

    // through the standard stack: not retried, a counted failure
    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    FailingChatModel fresh = new FailingChatModel(() -> new IllegalStateException("never called"), 0);
    assertThat(catchThrowableOfType(BadRequestException.class, () -> standard(fresh, meter).generate(blankUser))).isNotNull();
    assertThat(fresh.calls).hasValue(0);
    assertThat(meter.snapshot().failures()).isEqualTo(1);
  }

  @Test
  void aNonRetriableExceptionIsNotRetriedEvenWithAnIoCause() {
    IOException io = new IOException("stream closed");
    List<Supplier<RuntimeException>> nonRetriable = List.of(
        () -> new NonRetriableException("request refused", io),
        () -> new NonRetriableException("request refused by a provider's own type", io) { }); // a subclass not listed
    for (Supplier<RuntimeException> failure : nonRetriable) {
      LlmException e = catchThrowableOfType(LlmException.class,
          () -> ChatModelLlmClient.of(new FailingChatModel(failure, 1), "stub").generate(REQUEST));
      assertThat(e).isNotInstanceOf(ConnectionException.class).hasMessageContaining("stub")
          .hasMessageContaining("request refused");
      assertThat(e.getCause()).hasMessage(failure.get().getClass().getName() + ": " + failure.get().getMessage());
      assertThat(e.getCause().getCause()).hasMessage("java.io.IOException: stream closed");
      assertThat(e.retryable()).isFalse();

      UsageMeter meter = new UsageMeter(PriceTable.FREE);
      FailingChatModel always = new FailingChatModel(failure, Integer.MAX_VALUE);
      assertThat(catchThrowableOfType(LlmException.class, () -> standard(always, meter).generate(REQUEST))).isNotNull();
      assertThat(always.calls).as("not retried").hasValue(1);
      assertThat(meter.snapshot().failures()).isEqualTo(1);
    }
    // a LangChain4j exception that says neither, over an I/O failure, stays a retryable connection error
    LlmException plain = catchThrowableOfType(LlmException.class, () -> ChatModelLlmClient.of(
        new FailingChatModel(() -> new LangChain4jException("stream closed", io), 1), "stub").generate(REQUEST));
    assertThat(plain).isInstanceOf(ConnectionException.class);
    assertThat(plain.retryable()).isTrue();
  }

  @Test
  void anUnsupportedFeatureIsANotRetryableFailureThatStopsTheRunNotABadRequestOfOneSeed() {
    NoJsonChatModel chat = new NoJsonChatModel();
    ChatModelLlmClient client = ChatModelLlmClient.builder().chatModel(chat).modelName("stub").jsonMode(true).build();
    LlmRequest json = LlmRequest.of("Answer in JSON.", GenerationOptions.DEFAULT.withJsonOutput(true));
    LlmException e = catchThrowableOfType(LlmException.class, () -> client.generate(json));
    // not a BadRequestException: FretPipeline would reject this one seed and go on failing every other alike
    assertThat(e).isNotInstanceOf(BadRequestException.class).hasMessageContaining("stub")
        .hasMessageContaining("JSON response format is not supported").hasMessageContaining("before sending it")
        .hasMessageContaining("jsonMode(false)");
    assertThat(e.getCause()).hasMessageStartingWith(UnsupportedFeatureException.class.getName());
    assertThat(e.retryable()).isFalse();
    assertThat(chat.sent).as("nothing sent").hasValue(0);
    // a plain request still goes through
    assertThat(client.generate(REQUEST).text()).isEqualTo("ok");

    // through the standard stack: not retried, a counted failure, still not a bad request
    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    NoJsonChatModel fresh = new NoJsonChatModel();
    LlmClient stack = LlmClients.standard(ChatModelLlmClient.builder().chatModel(fresh).modelName("stub").jsonMode(true)
        .build(), 1, RetryPolicy.builder().maxRetries(3).sleeper(d -> { }).build(), meter, null);
    LlmException viaStack = catchThrowableOfType(LlmException.class, () -> stack.generate(json));
    assertThat(viaStack).isNotInstanceOf(BadRequestException.class);
    assertThat(fresh.calls).as("not retried").hasValue(1);
    assertThat(meter.snapshot().failures()).isEqualTo(1);
  }

  @Test
  void aChatModelThatNamesNoModelGetsNoModelNameInItsRequestsAndOneThatNamesItGetsItsOwn() {
    List<ChatRequest> seen = new ArrayList<>();
    // a chat model of one's own, with no default parameters: the name cannot be checked, so it is not sent
    // (a provider without per-request model names refuses a request that names one: LangChain4j's own check,
    // ChatRequestValidationUtils.validateParameters)
    ChatModel nameless = new ChatModel() {
      @Override
      public ChatResponse doChat(ChatRequest request) {
        seen.add(request);
        return ChatResponse.builder().aiMessage(AiMessage.from("ok")).build();
      }
    };
    ChatModelLlmClient any = ChatModelLlmClient.builder().chatModel(nameless).modelName("my-model").build();
    assertThat(any.model()).isEqualTo("my-model");
    assertThat(any.generate(REQUEST).text()).isEqualTo("ok");
    assertThat(seen).hasSize(1);
    assertThat(seen.get(0).parameters().modelName()).isNull();

    // a chat model that names its model, answering chat(ChatRequest) itself (no merging of its defaults):
    // the request names the model the cache key names
    ChatRequestParameters defaults = DefaultChatRequestParameters.builder().modelName("m-1").build();
    ChatModel named = new ChatModel() {
      @Override
      public ChatRequestParameters defaultRequestParameters() {
        return defaults;
      }

      @Override
      public ChatResponse chat(ChatRequest request) {
        seen.add(request);
        return ChatResponse.builder().aiMessage(AiMessage.from("ok")).build();
      }
    };
    seen.clear();
    assertThat(ChatModelLlmClient.of(named, "m-1").generate(REQUEST).text()).isEqualTo("ok");
    assertThat(seen).hasSize(1);
    assertThat(seen.get(0).parameters().modelName()).isEqualTo("m-1");
    assertThat(seen.get(0).modelName()).isEqualTo("m-1");
  }
}
