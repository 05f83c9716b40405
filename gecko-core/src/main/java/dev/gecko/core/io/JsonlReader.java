package dev.gecko.core.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gecko.core.InvalidDataException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Reads JSON Lines: one JSON object per line, blank lines skipped, over a {@link LineReader} (so
 * gzip, strict UTF-8 and errors naming the file and line come with it). A line must hold exactly
 * one object: trailing content after it ({@code {"id":1} {"id":2}}) is an error, not silently
 * dropped.
 *
 * <p>Lines can be read as trees ({@link #next()}) or bound to a record or class with Jackson
 * databind ({@link #next(Class)}); unknown fields are ignored in bound reads, and a field of the
 * wrong type or a value the type's constructor refuses becomes an {@link InvalidDataException}
 * naming the file, line and field.
 *
 * <p>Not thread-safe. Owns its {@link LineReader}, and through it the file or stream:
 * {@link #close()} closes them; the caller closes the reader.
 */
public final class JsonlReader implements Closeable {
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION) // {"_id": "a", "_id": "b"} is an error, not "b"
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .build();

  private final LineReader lines;

  private JsonlReader(LineReader lines) {
    this.lines = lines;
  }

  /**
   * Opens a JSON Lines file, plain or gzip-compressed.
   *
   * @throws IOException if it does not exist or cannot be read
   */
  public static JsonlReader open(Path file) throws IOException {
    return new JsonlReader(LineReader.open(file));
  }

  /** Reads JSON Lines from a line reader, which it then owns. */
  public static JsonlReader of(LineReader lines) {
    return new JsonlReader(Objects.requireNonNull(lines, "lines is null"));
  }

  /**
   * Returns the next non-blank line's object, or null at the end.
   *
   * @throws InvalidDataException if the line is not one JSON object (the message names the file,
   *     the line and the parser's reason), or the bytes are not UTF-8 or not valid gzip
   * @throws IOException if reading fails
   * @throws IllegalStateException if the reader is closed
   */
  public ObjectNode next() throws IOException {
    String line;
    do {
      line = lines.readLine();
      if (line == null) {
        return null;
      }
    } while (line.isBlank());
    JsonNode node;
    try {
      node = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      String m = e.getOriginalMessage();
      throw lines.invalid(m != null && m.startsWith("Trailing token")
          ? "more content after the JSON object (one object per line)" : reason(e), e);
    }
    if (!(node instanceof ObjectNode)) {
      throw lines.invalid("expected a JSON object, found " + (node == null ? "nothing" : node.getNodeType()
          .name().toLowerCase(java.util.Locale.ROOT)));
    }
    return (ObjectNode) node;
  }

  /**
   * Returns the next non-blank line bound to {@code type}, or null at the end.
   *
   * @throws InvalidDataException if the line is not one JSON object or does not fit {@code type}
   *     (the message names the file, line and field)
   * @throws IOException if reading fails
   */
  public <T> T next(Class<T> type) throws IOException {
    ObjectNode node = next();
    return node == null ? null : bind(node, type);
  }

  /**
   * Binds an object of the line last read to {@code type}.
   *
   * @throws InvalidDataException if it does not fit, naming the file, line and field
   */
  public <T> T bind(JsonNode node, Class<T> type) {
    try {
      return JSON.treeToValue(node, type);
    } catch (ValueInstantiationException e) {
      // the record's constructor refused a value: its message says why; a nested record's field is named
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      String field = field(e);
      throw lines.invalid((field.isEmpty() ? "" : "field '" + field + "': ")
          + (cause.getMessage() == null ? cause.toString() : cause.getMessage()), cause);
    } catch (JsonMappingException e) {
      String field = field(e);
      throw lines.invalid((field.isEmpty() ? "" : "field '" + field + "': ") + reason(e), e);
    } catch (JsonProcessingException e) {
      throw lines.invalid(reason(e), e);
    }
  }

  /** The path of the field at fault ({@code a.b[2].c}), or empty at the top level. */
  private static String field(JsonMappingException e) {
    StringBuilder path = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        path.append(path.length() == 0 ? "" : ".").append(r.getFieldName());
      } else {
        path.append('[').append(r.getIndex()).append(']');
      }
    }
    return path.toString();
  }

  /** Returns the number of the line last returned (1-based). */
  public int lineNumber() {
    return lines.lineNumber();
  }

  /** Returns the name used in errors. */
  public String source() {
    return lines.source();
  }

  /** Returns an {@link InvalidDataException} for the line last returned. */
  public InvalidDataException invalid(String reason) {
    return lines.invalid(reason);
  }

  private static String reason(JsonProcessingException e) {
    String m = e.getOriginalMessage();
    if (m == null) {
      return "not valid JSON";
    }
    String first = JACKSON_LOCATION.matcher(m.lines().findFirst().orElse(m)).replaceAll("column $1");
    return (e instanceof JsonMappingException ? "" : "not valid JSON: ") + first;
  }

  /**
   * The location Jackson writes inside some messages ("start marker at [Source: REDACTED (...);
   * line: 1, column: 1]"): each line is parsed alone, so only its column means anything.
   */
  private static final java.util.regex.Pattern JACKSON_LOCATION =
      java.util.regex.Pattern.compile("\\[Source: [^\\]]*?line: \\d+, column: (\\d+)\\]");

  @Override
  public void close() throws IOException {
    lines.close();
  }
}
