package dev.gecko.train.fret;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Finds the JSON objects in an LLM's answer: tolerates code fences, prose before and after, stray
 * braces in that prose, trailing commas ({@code {"a": 1,}}, as models often write), single-quoted
 * strings and keys ({@code {'a': 'b'}}, as a Python dict prints), line and block comments, and
 * answers that wrap the object asked for in another ({@code {"result": {...}}}). Keys an object repeats at
 * its top level are reported ({@link Found#duplicateKeys()}), since a parser keeps only one of the
 * values and the caller must not be left to guess which was meant.
 *
 * <p>The work is bounded on hostile answers: an answer over {@value #MAX_ANSWER_CHARS} chars is
 * not searched, each brace's match is found at most once (one scan from an outer brace finds the
 * matches of the braces nested in it), and the characters scanned and parsed in all are capped at
 * {@value #MAX_WORK_CHARS}; past that cap the search stops with what it has found. Stateless and
 * thread-safe.
 */
final class JsonAnswers {
  private static final JsonMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_TRAILING_COMMA,
      JsonReadFeature.ALLOW_SINGLE_QUOTES, JsonReadFeature.ALLOW_JAVA_COMMENTS).build();
  /** Answers longer than this are not searched. */
  static final int MAX_ANSWER_CHARS = 20_000;
  /**
   * The most characters scanned for matching braces and handed to the parser for one answer (a
   * few passes over the longest answer): bounds the work however many braces an answer holds.
   */
  static final int MAX_WORK_CHARS = 16 * MAX_ANSWER_CHARS;
  /** What a parse costs besides its characters, in characters of {@link #MAX_WORK_CHARS}: bounds the number of parses. */
  private static final int PARSE_COST = 32;
  private static final int UNKNOWN = -2;
  private static final int UNMATCHED = -1;

  private JsonAnswers() {}

  /**
   * A JSON object found in an answer.
   *
   * @param object the object (a parser keeps the last value of a repeated key)
   * @param duplicateKeys the keys its top level repeats, each once, in the order of their second
   *     appearance; empty when none is repeated
   */
  record Found(JsonNode object, List<String> duplicateKeys) {
    Found {
      duplicateKeys = List.copyOf(duplicateKeys);
    }
  }

  /** Returns the first JSON object of the answer, if any. */
  static Optional<JsonNode> firstObject(String answer) {
    return objects(answer).stream().findFirst();
  }

  /** The objects of {@link #found}, without their duplicate keys. */
  static List<JsonNode> objects(String answer) {
    return found(answer).stream().map(Found::object).toList();
  }

  /**
   * Returns every JSON object that starts at an opening brace of the answer, in the order of those
   * braces: an outer object comes before the objects nested in it. A brace inside a string of an
   * object already found starts none. Empty for a null answer or one over {@value
   * #MAX_ANSWER_CHARS} characters; the objects found so far when the work cap is reached.
   */
  static List<Found> found(String answer) {
    if (answer == null || answer.length() > MAX_ANSWER_CHARS) {
      return List.of();
    }
    int[] match = new int[answer.length()];
    Arrays.fill(match, UNKNOWN);
    boolean[] inObjectString = new boolean[answer.length()];
    int[] work = {0};
    List<Found> found = new ArrayList<>();
    for (int start = answer.indexOf('{'); start >= 0 && work[0] < MAX_WORK_CHARS; start = answer.indexOf('{', start + 1)) {
      if (inObjectString[start]) {
        continue; // inside a string of an object parsed before: part of its text, not a start
      }
      if (match[start] == UNKNOWN) {
        scan(answer, start, match, work);
      }
      int end = match[start];
      if (end < 0 || work[0] + (end + 1 - start) + PARSE_COST > MAX_WORK_CHARS) {
        continue;
      }
      work[0] += end + 1 - start + PARSE_COST;
      String text = answer.substring(start, end + 1);
      JsonNode n;
      try {
        n = JSON.readTree(text);
      } catch (IOException e) {
        continue; // not JSON here: try the next brace
      }
      if (n != null && n.isObject()) {
        work[0] += text.length();
        found.add(new Found(n, duplicateKeys(text)));
        markStrings(answer, start, end, inObjectString);
      }
    }
    return found;
  }

  /**
   * Scans from the brace at {@code start}, respecting strings, and records in {@code match} the
   * index of the brace closing it and of every brace nested in it (found on the way: scanned from
   * themselves they would give the same), {@link #UNMATCHED} for those the answer never closes.
   */
  private static void scan(String s, int start, int[] match, int[] work) {
    int[] open = new int[16];
    int depth = 0;
    char quote = 0; // the quote of the string the scan is in: JSON's " or a Python dict's ', which the parser takes
    int i = start;
    for (; i < s.length(); i++) {
      char c = s.charAt(i);
      if (quote != 0) {
        if (c == '\\') {
          i++;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '/') { // a comment (the parser takes them): an apostrophe in it is prose
        i = commentEnd(s, i);
      } else if (c == '{') {
        if (depth == open.length) {
          open = Arrays.copyOf(open, depth * 2);
        }
        open[depth++] = i;
      } else if (c == '}') {
        match[open[--depth]] = i;
        if (depth == 0) {
          break;
        }
      }
    }
    work[0] += Math.min(i, s.length() - 1) + 1 - start;
    for (int d = 0; d < depth; d++) {
      match[open[d]] = UNMATCHED;
    }
  }

  /** Marks the characters inside the strings of the object at {@code [start, end]}. */
  private static void markStrings(String s, int start, int end, boolean[] inObjectString) {
    char quote = 0; // as scan reads strings: either quote, comments skipped
    for (int i = start; i <= end; i++) {
      char c = s.charAt(i);
      if (quote != 0) {
        inObjectString[i] = true;
        if (c == '\\') {
          if (i + 1 <= end) {
            inObjectString[i + 1] = true;
          }
          i++;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '/') {
        i = commentEnd(s, i);
      }
    }
  }

  /**
   * The index of the last character of the comment that starts at {@code i} ({@code //} to the
   * end of the line, {@code /* ... *}{@code /}), or {@code i} where none starts there.
   */
  private static int commentEnd(String s, int i) {
    if (s.charAt(i) != '/' || i + 1 >= s.length()) {
      return i;
    }
    if (s.charAt(i + 1) == '/') {
      int nl = s.indexOf('\n', i + 2);
      return nl < 0 ? s.length() - 1 : nl - 1;
    }
    if (s.charAt(i + 1) == '*') {
      int close = s.indexOf("*/", i + 2);
      return close < 0 ? s.length() - 1 : close + 1;
    }
    return i;
  }

  /** The keys the top level of the (valid) object {@code text} repeats. */
  private static List<String> duplicateKeys(String text) {
    Set<String> seen = new HashSet<>();
    Set<String> repeated = new LinkedHashSet<>();
    try (JsonParser p = JSON.createParser(text)) {
      int depth = 0;
      for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
          depth++;
        } else if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
          depth--;
        } else if (t == JsonToken.FIELD_NAME && depth == 1 && !seen.add(p.currentName())) {
          repeated.add(p.currentName());
        }
      }
    } catch (IOException e) {
      // parsed once already: cannot happen
    }
    return List.copyOf(repeated);
  }
}
