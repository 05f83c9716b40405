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
      if (p.nextToken() == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String field = p.currentName();
          JsonToken value = p.nextToken();
          switch (field) {
            case "model":
              facts.hasModel = true;
              facts.readModel(p, value);
              break;
            case "truncation":
              facts.truncation = fieldOf(p, value, "max_length", (q, v) ->
                  v == JsonToken.VALUE_NUMBER_INT && q.getNumberType() == JsonParser.NumberType.INT ? q.getIntValue() : null);
              break;
            case "padding":
              facts.paddingId = fieldOf(p, value, "pad_id", TokenizerJsonFacts::longValue);
              break;
            case "added_tokens":
              facts.addedPad = null;
              if (value == JsonToken.START_ARRAY) {
                for (JsonToken t; (t = p.nextToken()) != JsonToken.END_ARRAY; ) {
                  if (t == JsonToken.START_OBJECT) {
                    facts.readAddedToken(p);
                  } else {
                    p.skipChildren();
                  }
                }
              } else {
                p.skipChildren();
              }
              break;
            default:
              p.skipChildren();
          }
        }
        // the end of the root object: anything after it is not looked at (as Jackson's readTree)
      }
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

  private void readModel(JsonParser p, JsonToken value) throws IOException {
    vocabBracketPad = null;
    vocabAnglePad = null;
    if (value != JsonToken.START_OBJECT) {
      p.skipChildren();
      return;
    }
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      if (name.equals("vocab") && v == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String token = p.currentName();
          JsonToken id = p.nextToken();
          if (token.equals("[PAD]")) {
            vocabBracketPad = longValue(p, id);
          } else if (token.equals("<pad>")) {
            vocabAnglePad = longValue(p, id);
          }
          p.skipChildren();
        }
      } else {
        p.skipChildren();
      }
    }
  }

  private void readAddedToken(JsonParser p) throws IOException {
    String content = null;
    Long id = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      if (name.equals("content") && v == JsonToken.VALUE_STRING) {
        content = p.getText();
      } else if (name.equals("id")) {
        id = longValue(p, v);
      }
      p.skipChildren();
    }
    if (addedPad == null && ("[PAD]".equals(content) || "<pad>".equals(content))) {
      addedPad = id != null ? id : 0L;
    }
  }

  private interface ValueReader<T> {
    T read(JsonParser p, JsonToken value) throws IOException;
  }

  /**
   * Reads one field of an object value with {@code reader} and skips the rest; null where the
   * value is not an object or lacks the field. Leaves the parser after the value.
   */
  private static <T> T fieldOf(JsonParser p, JsonToken value, String field, ValueReader<T> reader) throws IOException {
    if (value != JsonToken.START_OBJECT) {
      p.skipChildren();
      return null;
    }
    T result = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      if (name.equals(field)) {
        result = reader.read(p, v);
      }
      p.skipChildren();
    }
    return result;
  }

  /** A value as a long, leniently (numbers, numeric strings), as Jackson's {@code asLong}; 0 otherwise. */
  private static Long longValue(JsonParser p, JsonToken v) throws IOException {
    return v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY ? 0 : p.getValueAsLong(0);
  }
}
