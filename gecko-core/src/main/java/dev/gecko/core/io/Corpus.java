package dev.gecko.core.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gecko.core.InvalidDataException;
import dev.gecko.core.internal.io.CorpusIds;
import dev.gecko.core.internal.io.Utf16;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Reads corpora: JSON Lines files of passages ({@code .jsonl} or gzip-compressed, recognised by
 * content), the BEIR {@code corpus.jsonl} layout. Every command and evaluator reads corpora
 * through this class, so one file gives the same ids everywhere.
 *
 * <h2>The rule for one line</h2>
 * <ul>
 *   <li>{@code text}: a string, required.
 *   <li>id: {@code _id} (BEIR's name) or {@code id}, a string or an integer; where both are present
 *       they must agree. Where neither is, the id is the line number ({@code "12"}). Ids must be
 *       unique in the file.
 *   <li>{@code title}: a string, optional ({@code null} or absent: no title).
 *   <li>Other fields (BEIR's {@code metadata}, say) are ignored; blank lines are skipped.
 * </ul>
 * Half a UTF-16 surrogate pair without the other (a JSON escape such as
 * <code>"&#92;ud83d"</code> alone) becomes U+FFFD in each, as the tokenizer reads it.
 * A line that breaks the rule is an {@link InvalidDataException} naming the file, the line and the
 * field.
 *
 * <p>Stateless and thread-safe. {@code read} opens and closes its file itself; {@code passage}
 * neither reads from nor closes the reader it is given (it names the file and line in errors).
 */
public final class Corpus {
  private Corpus() {}

  /**
   * Reads every passage of a corpus file.
   *
   * @throws IOException if the file cannot be read
   * @throws InvalidDataException if a line breaks the rule above (naming file, line and field)
   */
  public static List<Passage> read(Path file) throws IOException {
    return read(file, Integer.MAX_VALUE);
  }

  /**
   * Reads the first {@code limit} passages of a corpus file.
   *
   * @throws IllegalArgumentException if {@code limit < 0}
   * @throws IOException if the file cannot be read
   * @throws InvalidDataException if a line breaks the rule above
   */
  public static List<Passage> read(Path file, int limit) throws IOException {
    Objects.requireNonNull(file, "file is null");
    if (limit < 0) {
      throw new IllegalArgumentException("limit must be >= 0, was " + limit);
    }
    List<Passage> out = new ArrayList<>();
    CorpusIds ids = new CorpusIds();
    try (JsonlReader in = JsonlReader.open(file)) {
      ObjectNode o;
      while (out.size() < limit && (o = in.next()) != null) {
        Passage p = passage(o, in);
        ids.add(p.id(), in);
        out.add(p);
      }
    }
    return out;
  }

  /**
   * Reads one corpus line's object by the rule above.
   *
   * @param in the reader that returned {@code o}, for the file and line in errors
   * @throws InvalidDataException if it breaks the rule
   */
  public static Passage passage(ObjectNode o, JsonlReader in) {
    String id = id(o, in);
    JsonNode text = o.get("text");
    if (text == null || !text.isTextual()) {
      throw in.invalid("field 'text' must be a string" + (text == null ? " (missing)" : ""));
    }
    JsonNode title = o.get("title");
    if (title != null && !title.isNull() && !title.isTextual()) {
      throw in.invalid("field 'title' must be a string");
    }
    // half a surrogate pair (a JSON escape such as "\\ud83d" alone, as text cut by UTF-16 unit
    // leaves it) becomes U+FFFD, the tokenizer's rule: UTF-8 writes it back as read (it wrote '?',
    // so a FRet seed id was stored as another id and redone on resume), as SparkCorpus does
    String titleText = title == null || title.isNull() ? "" : title.asText();
    return new Passage(Utf16.wellFormed(id != null ? id : Integer.toString(in.lineNumber())),
        Utf16.wellFormed(titleText), Utf16.wellFormed(text.asText()));
  }

  /** The line's id by the rule above, or null when it has none. */
  static String id(ObjectNode o, JsonlReader in) {
    String underscore = idField(o, "_id", in);
    String plain = idField(o, "id", in);
    if (underscore != null && plain != null && !underscore.equals(plain)) {
      throw in.invalid("fields '_id' (" + underscore + ") and 'id' (" + plain + ") disagree");
    }
    return underscore != null ? underscore : plain;
  }

  private static String idField(ObjectNode o, String name, JsonlReader in) {
    JsonNode v = o.get(name);
    if (v == null || v.isNull()) {
      return null;
    }
    if (v.isTextual() && !v.asText().isBlank()) {
      return v.asText();
    }
    if (v.isIntegralNumber()) {
      return v.bigIntegerValue().toString();
    }
    throw in.invalid("field '" + name + "' must be a non-empty string or an integer");
  }
}
