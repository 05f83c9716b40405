package dev.gecko.core.io;

import java.util.Objects;

/**
 * One passage of a corpus, as a line of a BEIR {@code corpus.jsonl} holds it. Read by {@link
 * Corpus#read(java.nio.file.Path)}. Immutable and thread-safe.
 *
 * @param id the passage's id; never null or blank
 * @param title its title; empty when it has none
 * @param text its text; never null (may be empty)
 */
public record Passage(String id, String title, String text) {
  /**
   * Validates the fields; a null title becomes empty.
   *
   * @throws NullPointerException if {@code id} or {@code text} is null
   * @throws IllegalArgumentException if {@code id} is blank
   */
  public Passage {
    Objects.requireNonNull(id, "id is null");
    Objects.requireNonNull(text, "text is null");
    if (id.isBlank()) {
      throw new IllegalArgumentException("passage id is blank");
    }
    title = title == null ? "" : title;
  }

  /** Whether the passage has a non-blank title. */
  public boolean hasTitle() {
    return !title.isBlank();
  }
}
