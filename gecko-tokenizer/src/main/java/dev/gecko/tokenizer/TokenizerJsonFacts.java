package dev.gecko.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * What gecko reads from a {@code tokenizer.json} itself (the native tokenizer reads the rest):
 * that it has a model, its truncation length, and its padding id. Streams through the text with
 * Jackson's parser, building no tree: Jackson's databind would load about 375 classes for this,
 * a third of a second of a model's first open in an application that does not use it already.
 */
final class TokenizerJsonFacts {
  private static final JsonFactory JSON = new JsonFactory();

  private boolean hasModel;
  private Integer truncation;
  private Long paddingId;
  private Long addedPad;
  private Long vocabBracketPad;
  private Long vocabAnglePad;

  private TokenizerJsonFacts() {}

  /**
   * Reads the facts.
   *
   * @throws IllegalArgumentException if the text is not valid JSON, or not a tokenizer.json (the
   *     message names {@code source})
   */
  static TokenizerJsonFacts read(String json, String source) {
    TokenizerJsonFacts facts = new TokenizerJsonFacts();
    try (JsonParser p = JSON.createParser(json)) {
      // fields of the root object; anything after it is not looked at (as Jackson's readTree)
      forEachField(p, p.nextToken(), (field, value) -> {
        switch (field) {
          case "model":
            facts.hasModel = true;
            facts.vocabBracketPad = null;
            facts.vocabAnglePad = null;
            forEachField(p, value, (name, v) -> {
              if (name.equals("vocab")) {
                forEachField(p, v, (token, id) -> {
                  if (token.equals("[PAD]")) {
                    facts.vocabBracketPad = longValue(p, id);
                  } else if (token.equals("<pad>")) {
                    facts.vocabAnglePad = longValue(p, id);
                  }
                });
              }
            });
            break;
          case "truncation":
            facts.truncation = null;
            forEachField(p, value, (name, v) -> {
              if (name.equals("max_length")) {
                facts.truncation = v == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT
                    ? p.getIntValue() : null;
              }
            });
            break;
          case "padding":
            facts.paddingId = null;
            forEachField(p, value, (name, v) -> {
              if (name.equals("pad_id")) {
                facts.paddingId = longValue(p, v);
              }
            });
            break;
          case "added_tokens":
            facts.addedPad = null;
            if (value == JsonToken.START_ARRAY) {
              for (JsonToken t; (t = p.nextToken()) != JsonToken.END_ARRAY; ) {
                facts.readAddedToken(p, t);
              }
            } else {
              p.skipChildren();
            }
            break;
          default:
            break; // skipped by forEachField
        }
      });
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(source + ": not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // not from a String
    }
    if (!facts.hasModel) {
      throw new IllegalArgumentException(source + ": not a tokenizer.json (no \"model\" field)");
    }
    return facts;
  }

  /** The truncation length the file declares, if it is at least 2; else {@code fallback}. */
  int maxLength(int fallback) {
    return truncation != null && truncation >= 2 ? truncation : fallback;
  }

  /**
   * The padding id: the padding section's, else the added token {@code [PAD]} or {@code <pad>},
   * else the vocabulary's {@code [PAD]}, else its {@code <pad>}, else 0.
   */
  long padId() {
    for (Long id : new Long[] {paddingId, addedPad, vocabBracketPad, vocabAnglePad}) {
      if (id != null) {
        return id;
      }
    }
    return 0;
  }

  /** Reads one element of {@code added_tokens}: a {@code [PAD]} or {@code <pad>} token's id. */
  private void readAddedToken(JsonParser p, JsonToken element) throws IOException {
    String[] content = {null};
    Long[] id = {null};
    forEachField(p, element, (name, v) -> {
      if (name.equals("content") && v == JsonToken.VALUE_STRING) {
        content[0] = p.getText();
      } else if (name.equals("id")) {
        id[0] = longValue(p, v);
      }
    });
    if (addedPad == null && ("[PAD]".equals(content[0]) || "<pad>".equals(content[0]))) {
      addedPad = id[0] != null ? id[0] : 0L;
    }
  }

  private interface FieldVisitor {
    void visit(String name, JsonToken value) throws IOException;
  }

  /**
   * Calls {@code visitor} on each field of an object value, the parser at the field's value; what
   * the visitor leaves unread is skipped, and so is a value that is not an object. Leaves the
   * parser at the end of the value.
   */
  private static void forEachField(JsonParser p, JsonToken value, FieldVisitor visitor) throws IOException {
    if (value != JsonToken.START_OBJECT) {
      p.skipChildren();
      return;
    }
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      visitor.visit(name, v);
      p.skipChildren();
    }
  }

  /** A value as a long, leniently (numbers, numeric strings), as Jackson's {@code asLong}; 0 otherwise. */
  private static Long longValue(JsonParser p, JsonToken v) throws IOException {
    return v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY ? 0 : p.getValueAsLong(0);
  }
}
