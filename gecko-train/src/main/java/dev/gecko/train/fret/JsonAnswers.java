package dev.gecko.train.fret;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds the JSON objects in an LLM's answer: tolerates code fences, prose before and after, and
 * answers that wrap the object asked for in another ({@code {"result": {...}}}).
 */
final class JsonAnswers {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Answers longer than this are not searched. */
  static final int MAX_ANSWER_CHARS = 20_000;
  /** Opening braces tried before giving up (bounds the work on adversarial answers). */
  static final int MAX_STARTS = 16;

  private JsonAnswers() {}

  /** Returns the first JSON object of the answer, if any. */
  static Optional<JsonNode> firstObject(String answer) {
    return objects(answer).stream().findFirst();
  }

  /**
   * Returns every JSON object that starts at one of the answer's first {@value #MAX_STARTS}
   * opening braces, in the order of those braces: an outer object comes before the objects nested
   * in it. Empty for a null answer or one over {@value #MAX_ANSWER_CHARS} characters.
   */
  static List<JsonNode> objects(String answer) {
    if (answer == null || answer.length() > MAX_ANSWER_CHARS) {
      return List.of();
    }
    List<JsonNode> found = new ArrayList<>();
    int tries = 0;
    for (int start = answer.indexOf('{'); start >= 0 && tries < MAX_STARTS; start = answer.indexOf('{', start + 1), tries++) {
      int end = matchingBrace(answer, start);
      if (end < 0) {
        continue;
      }
      try {
        JsonNode n = JSON.readTree(answer.substring(start, end + 1));
        if (n != null && n.isObject()) {
          found.add(n);
        }
      } catch (IOException e) {
        // not JSON here: try the next brace
      }
    }
    return found;
  }

  /** Returns the index of the brace closing the one at {@code start}, respecting strings; -1 if none. */
  private static int matchingBrace(String s, int start) {
    int depth = 0;
    boolean inString = false;
    for (int i = start; i < s.length(); i++) {
      char c = s.charAt(i);
      if (inString) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
      } else if (c == '{') {
        depth++;
      } else if (c == '}') {
        if (--depth == 0) {
          return i;
        }
      }
    }
    return -1;
  }
}
