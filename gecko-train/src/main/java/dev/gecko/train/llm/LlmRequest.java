package dev.gecko.train.llm;

import java.util.List;
import java.util.Objects;

/**
 * A chat generation request: messages and options. The model is the client's. Immutable and
 * thread-safe: it holds its own unmodifiable copy of the messages.
 *
 * @param messages the conversation, at least one message
 * @param options sampling options
 */
public record LlmRequest(List<Message> messages, GenerationOptions options) {
  /**
   * Validates and copies the fields.
   *
   * @throws NullPointerException if a field or message is null
   * @throws IllegalArgumentException if there are no messages
   */
  public LlmRequest {
    messages = List.copyOf(Objects.requireNonNull(messages, "messages is null"));
    Objects.requireNonNull(options, "options is null");
    if (messages.isEmpty()) {
      throw new IllegalArgumentException("a request needs at least one message");
    }
  }

  /** A single user message with the given options. */
  public static LlmRequest of(String userText, GenerationOptions options) {
    return new LlmRequest(List.of(Message.user(userText)), options);
  }
}
