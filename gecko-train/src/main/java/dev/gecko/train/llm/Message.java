package dev.gecko.train.llm;

import java.util.Objects;

/**
 * One chat message. Immutable and thread-safe.
 *
 * @param role who says it
 * @param content the text; never null
 */
public record Message(Role role, String content) {
  /** Who says a message. Immutable and thread-safe. */
  public enum Role {
    /** Instructions to the model. */
    SYSTEM,
    /** The user's turn. */
    USER,
    /** The model's turn (few-shot answers, or earlier replies). */
    ASSISTANT
  }

  /**
   * Validates the fields.
   *
   * @throws NullPointerException if a field is null
   */
  public Message {
    Objects.requireNonNull(role, "role is null");
    Objects.requireNonNull(content, "content is null");
  }

  /** A system message. */
  public static Message system(String content) {
    return new Message(Role.SYSTEM, content);
  }

  /** A user message. */
  public static Message user(String content) {
    return new Message(Role.USER, content);
  }

  /** An assistant message. */
  public static Message assistant(String content) {
    return new Message(Role.ASSISTANT, content);
  }
}
