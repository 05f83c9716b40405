package dev.gecko.core;

import java.util.Objects;

/**
 * Content that cannot be used: a malformed line of a data file, a corrupt index or model file, an
 * LLM answer outside its schema. The message starts with where the problem is ({@code file:line:}
 * for line-oriented files, {@code file:} otherwise), then says what is wrong.
 *
 * <p>Immutable once thrown; safe to hand to another thread.
 */
public class InvalidDataException extends GeckoException {
  private static final long serialVersionUID = 1L;
  private final String source;
  private final int line;

  /**
   * Creates an exception for a line of a source.
   *
   * @param source the file (or other source) at fault
   * @param line its 1-based line number, or 0 when the problem is not on one line
   * @param reason what is wrong
   */
  public InvalidDataException(String source, int line, String reason) {
    this(source, line, reason, null);
  }

  /** As {@link #InvalidDataException(String, int, String)}, with a cause. */
  public InvalidDataException(String source, int line, String reason, Throwable cause) {
    super(Objects.requireNonNull(source, "source is null") + (line > 0 ? ":" + line : "") + ": " + reason, cause);
    this.source = source;
    this.line = line;
  }

  /** Returns the file (or other source) at fault. */
  public String source() {
    return source;
  }

  /** Returns the 1-based line at fault, or 0 when the problem is not on one line. */
  public int line() {
    return line;
  }
}
