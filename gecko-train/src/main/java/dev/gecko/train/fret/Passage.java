package dev.gecko.train.fret;

import java.util.Objects;

/**
 * One corpus passage, as in a BEIR {@code corpus.jsonl} line.
 *
 * @param id the {@code _id}; never null or blank
 * @param title the title; empty when none
 * @param text the text; never null
 */
public record Passage(String id, String title, String text) {
  /**
   * Validates the fields.
   *
   * @throws IllegalArgumentException if the id is blank
   * @throws NullPointerException if id or text is null
   */
  public Passage {
    Objects.requireNonNull(id, "id is null");
    Objects.requireNonNull(text, "text is null");
    if (id.isBlank()) {
      throw new IllegalArgumentException("passage id is blank");
    }
    title = title == null ? "" : title;
  }
}
