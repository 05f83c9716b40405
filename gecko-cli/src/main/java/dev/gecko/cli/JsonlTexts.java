package dev.gecko.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;

/**
 * Reads JSONL text inputs shared by the commands: one object per line with a string {@code
 * text}, an optional {@code id} (or BEIR's {@code _id}), string or number, and an optional string
 * {@code title}. Blank lines are skipped; a bad line fails with the source and line number.
 */
final class JsonlTexts {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One input line: its text, id node (null when absent) and title (null when absent). */
  record Entry(int line, String text, JsonNode id, String title) {}

  /** Receives entries; may throw I/O errors. */
  interface Sink {
    void accept(Entry entry) throws IOException;
  }

  private JsonlTexts() {}

  /**
   * Reads every line of {@code reader}, naming {@code source} in errors.
   *
   * @throws IllegalArgumentException for a line that is not a JSON object with a string "text",
   *     or whose id is not a string or number
   */
  static void read(BufferedReader reader, String source, Sink sink) throws IOException {
    String line;
    int lineNo = 0;
    while ((line = reader.readLine()) != null) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      JsonNode node;
      try {
        node = JSON.readTree(line);
      } catch (IOException e) {
        throw new IllegalArgumentException(source + ":" + lineNo + ": not valid JSON");
      }
      JsonNode text = node == null ? null : node.get("text");
      if (text == null || !text.isTextual()) {
        throw new IllegalArgumentException(source + ":" + lineNo + ": field \"text\" must be a string");
      }
      JsonNode id = node.has("id") ? node.get("id") : node.get("_id");
      if (id != null && id.isNull()) {
        id = null;
      }
      if (id != null && !id.isValueNode()) {
        throw new IllegalArgumentException(source + ":" + lineNo + ": field \"id\" must be a string or number");
      }
      JsonNode title = node.get("title");
      sink.accept(new Entry(lineNo, text.asText(), id, title != null && title.isTextual() ? title.asText() : null));
    }
  }
}
