package dev.gecko.langchain4j.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gecko.train.llm.ConnectionException;
import dev.gecko.train.llm.GenerationOptions;
import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmClients;
import dev.gecko.train.llm.LlmException;
import dev.gecko.train.llm.LlmRequest;
import dev.gecko.train.llm.LlmTimeoutException;
import dev.gecko.train.llm.PriceTable;
import dev.gecko.train.llm.RetryPolicy;
import dev.gecko.train.llm.UsageMeter;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.TokenUsage;
import java.io.IOException;
import java.net.http.HttpTimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Runtime exceptions LangChain4j passes through unmapped (its JdkHttpClient wraps an IOException in
 * a plain RuntimeException) become gecko-train's types: I/O failures retryable, the rest not.
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
    assertThat(e.getCause()).isInstanceOf(IllegalStateException.class);

    UsageMeter meter = new UsageMeter(PriceTable.FREE);
    FailingChatModel always = new FailingChatModel(bug, Integer.MAX_VALUE);
    assertThat(catchThrowableOfType(ChatModelFailureException.class, () -> standard(always, meter).generate(REQUEST))).isNotNull();
    assertThat(always.calls).as("not retried").hasValue(1);
    assertThat(meter.snapshot().failures()).isEqualTo(1);
    assertThat(ChatModelLlmClient.redact("x-api-key: " + KEY + " token=abc")).doesNotContain(KEY).doesNotContain("abc");
  }
}
