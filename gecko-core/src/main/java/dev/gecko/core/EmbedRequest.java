package dev.gecko.core;

import java.util.Objects;

/**
 * A text to embed, with what it is for and, for documents, its title. Immutable and thread-safe.
 *
 * <pre>{@code
 * EmbedRequest.query("who owns a value in rust?");
 * EmbedRequest.document("Each value in Rust has an owner.").withTitle("Ownership");
 * EmbedRequest.of(TaskType.CLUSTERING, "a news headline");
 * }</pre>
 *
 * @param text the text; never null (may be empty)
 * @param taskType the task type, or null for the model's default prompt (as sentence-transformers'
 *     {@code encode(text)} without a prompt name)
 * @param title a document title, or null; used by {@link TaskType#RETRIEVAL_DOCUMENT} prompts, and
 *     prepended as {@code title + " " + text} where the model's prompt has no title slot
 */
public record EmbedRequest(String text, TaskType taskType, String title) {
  /**
   * Validates the fields.
   *
   * @throws NullPointerException if {@code text} is null
   */
  public EmbedRequest {
    Objects.requireNonNull(text, "text is null");
  }

  /** A text with the model's default prompt. */
  public static EmbedRequest of(String text) {
    return new EmbedRequest(text, null, null);
  }

  /** A text for the given task type. */
  public static EmbedRequest of(TaskType taskType, String text) {
    return new EmbedRequest(text, Objects.requireNonNull(taskType, "taskType is null"), null);
  }

  /** A search query. */
  public static EmbedRequest query(String text) {
    return of(TaskType.RETRIEVAL_QUERY, text);
  }

  /** A corpus document, without a title (add one with {@link #withTitle(String)}). */
  public static EmbedRequest document(String text) {
    return new EmbedRequest(text, TaskType.RETRIEVAL_DOCUMENT, null);
  }

  /** Returns this request with a title (null or blank for none). */
  public EmbedRequest withTitle(String newTitle) {
    return new EmbedRequest(text, taskType, newTitle);
  }
}
