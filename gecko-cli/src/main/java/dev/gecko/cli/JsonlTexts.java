package dev.gecko.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.gecko.core.internal.io.Utf16;
import dev.gecko.core.io.JsonlReader;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Reads {@code gecko embed --input}: JSON Lines with a string {@code text}, an optional {@code id}
 * (or BEIR's {@code _id}; they must agree where both are given), a string or an integer, echoed as
 * given, and an optional string {@code title}. Blank lines are skipped; gzip, strict UTF-8 and errors
 * naming the file and line come from {@link JsonlReader}.
 */
final class JsonlTexts {
  /** One input line: its text, id node (null when absent) and title (null when absent). */
  record Entry(int line, String text, JsonNode id, String title) {}

  /** Receives entries. */
  interface Sink {
    void accept(Entry entry) throws IOException;
  }

  private JsonlTexts() {}

  /**
   * Reads every line of {@code file}.
   *
   * @throws IOException if it cannot be read
   * @throws dev.gecko.core.InvalidDataException for a line that is not a JSON object with a string
   *     {@code text}, or whose id or title is malformed (naming the file and line), or a file that
   *     holds no line
   */
  static void read(Path file, Sink sink) throws IOException {
    try (JsonlReader in = JsonlReader.open(file)) {
      ObjectNode o = in.next();
      if (o == null) { // an empty output with exit 0 would pass for a file embedded
        throw new dev.gecko.core.InvalidDataException(file.toString(), 0, "holds no texts");
      }
      for (; o != null; o = in.next()) {
        JsonNode text = o.get("text");
        if (text == null || !text.isTextual()) {
          throw in.invalid("field 'text' must be a string" + (text == null ? " (missing)" : ""));
        }
        JsonNode id = o.hasNonNull("_id") ? o.get("_id") : o.get("id");
        if (id != null && id.isNull()) {
          id = null;
        } else if (id != null && id.isTextual()) { // half a surrogate pair: U+FFFD, as the corpus rule reads it
          id = TextNode.valueOf(Utf16.wellFormed(id.asText()));
        }
        dev.gecko.core.io.Corpus.passage(o, in); // the corpus rule for id and title, so that errors match
        JsonNode title = o.get("title");
        sink.accept(new Entry(in.lineNumber(), text.asText(), id, title != null && title.isTextual() ? title.asText() : null));
      }
    }
  }
}
