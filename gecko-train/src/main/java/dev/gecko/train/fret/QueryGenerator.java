package dev.gecko.train.fret;

import dev.gecko.core.io.Passage;
import com.fasterxml.jackson.databind.JsonNode;
import dev.gecko.train.llm.GenerationOptions;
import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmRequest;
import dev.gecko.train.llm.LlmResponse;
import dev.gecko.train.llm.Message;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * FRet step 1: {@code LLM(P_QG, p_seed) -> (t, q)}. The answer must contain a JSON object with the
 * string keys {@code task} and {@code query}; the first object that passes is used, wherever it
 * stands (code fences, prose and stray braces around it are fine, and so are trailing commas, as
 * in {@code {"query": "...",}}). An object that repeats the key it would give the task or query
 * is refused (a parser keeps only one of the values). A refused answer is sent back with the
 * reason, at most {@code attempts} times in all.
 *
 * <p>Keys: the exact names win; a single case variant ({@code "Query"}) stands in for a missing
 * one, two variants ({@code "Query"} and {@code "QUERY"}) are refused as ambiguous. Other keys, as
 * chat models often add ({@code task_description}, {@code question}), are accepted and kept only as
 * provenance ({@link GeneratedQuery#extra()}: at most {@link #MAX_EXTRA_KEYS}, names and values cut
 * to {@link #MAX_EXTRA_CHARS} chars); they never become the task or the query.
 *
 * <p>Validation of the two values: task 8-300 chars, query 2-{@link #MAX_QUERY_CHARS} chars,
 * single lines (no control characters, and no U+2028/U+2029 line and paragraph separators), no
 * bidirectional embedding, override or isolate controls (U+202A-U+202E, U+2066-U+2069; joiners
 * and the bidi marks used in ordinary text pass), no delimiter tags (as {@link Prompts} finds
 * them, {@code </ passage>} too, or the opening of one), query not the passage copied.
 * Thread-safe.
 */
public final class QueryGenerator {
  /** Longest accepted query. */
  public static final int MAX_QUERY_CHARS = 400;
  /** Most extra keys recorded per answer. */
  public static final int MAX_EXTRA_KEYS = 8;
  /** Longest extra key name or value recorded (longer ones are cut to this). */
  public static final int MAX_EXTRA_CHARS = 200;
  private final LlmClient llm;
  private final Prompts prompts;
  private final GenerationOptions options;
  private final int attempts;
  /** {@link Prompts#generationExampleQueries}: answers that copy them for another passage are refused. */
  private final Map<String, String> exampleQueries;

  /**
   * Creates a generator.
   *
   * @param temperature sampling temperature for generation
   * @param attempts answers to try per seed, at least 1
   */
  public QueryGenerator(LlmClient llm, Prompts prompts, double temperature, int attempts) {
    this.llm = Objects.requireNonNull(llm, "llm is null");
    this.prompts = Objects.requireNonNull(prompts, "prompts is null");
    this.exampleQueries = prompts.generationExampleQueries();
    if (attempts < 1) {
      throw new IllegalArgumentException("attempts must be >= 1, was " + attempts);
    }
    this.options = GenerationOptions.DEFAULT.withTemperature(temperature).withJsonOutput(true).withMaxTokens(300);
    this.attempts = attempts;
  }

  /**
   * Generates a task and query for a seed passage.
   *
   * @throws RejectedAnswerException if no valid answer came in {@code attempts} tries
   * @throws dev.gecko.train.llm.LlmException if the LLM call fails (after the client's retries)
   */
  public GeneratedQuery generate(Passage seed) {
    List<Message> messages = new ArrayList<>(prompts.generationMessages(seed));
    String reason = "";
    String answer = "";
    for (int i = 0; i < attempts; i++) {
      LlmRequest request = new LlmRequest(messages, options);
      LlmResponse r = llm.generate(request);
      answer = r.text();
      Object v = validate(answer, seed, exampleQueries);
      if (v instanceof GeneratedQuery) {
        return (GeneratedQuery) v;
      }
      llm.refused(request);
      reason = answer.isBlank() ? v + " (finish reason '" + r.finishReason() + "')" : (String) v;
      if (answer.isBlank()) {
        // nothing to show back (providers refuse an empty assistant turn): the same request again
        continue;
      }
      messages.add(Message.assistant(cut(answer, 2000)));
      messages.add(Message.user("That answer was refused: " + reason + ". Reply with only a JSON object with exactly "
          + "two string keys, \"task\" and \"query\", for the passage above."));
    }
    throw new RejectedAnswerException("generate", reason + " (after " + attempts + " attempts)", answer);
  }

  /** Returns a GeneratedQuery or the reason for refusing the answer. */
  static Object validate(String answer, Passage seed) {
    return validate(answer, seed, Map.of());
  }

  /**
   * Returns a GeneratedQuery or the reason for refusing the answer; a query among {@code
   * exampleQueries} (the prompt's, stripped and in lower case, with the text of their passages) is
   * refused as copied from the prompt, unless the seed is that example's own passage.
   */
  static Object validate(String answer, Passage seed, Map<String, String> exampleQueries) {
    if (answer.isBlank()) {
      return "the answer is empty";
    }
    List<JsonAnswers.Found> objects = JsonAnswers.found(answer);
    if (objects.isEmpty()) {
      return "no JSON object in the answer";
    }
    // the first object that passes, so that a wrapper ({"result": {...}}) or an example echoed
    // before the answer does not cost the seed; else the first object's reason
    Object firstReason = null;
    for (JsonAnswers.Found o : objects) {
      Object v = validate(o, seed, exampleQueries);
      if (v instanceof GeneratedQuery) {
        return v;
      }
      if (firstReason == null) {
        firstReason = v;
      }
    }
    return firstReason;
  }

  private static Object validate(JsonAnswers.Found f, Passage seed, Map<String, String> exampleQueries) {
    JsonNode o = f.object();
    String[] names = {"task", "query"};
    for (int i = 0; i < names.length; i++) {
      List<String> found = keys(o, names[i]);
      if (found.isEmpty()) {
        return "the answer has no '" + names[i] + "' key";
      }
      if (found.size() > 1) {
        return "ambiguous keys '" + String.join("', '", found) + "' for '" + names[i] + "'";
      }
      names[i] = found.get(0);
      if (f.duplicateKeys().contains(names[i])) { // a parser keeps one value: which was meant is unknown
        return "the JSON object repeats the key '" + names[i] + "'";
      }
    }
    JsonNode t = o.get(names[0]);
    JsonNode q = o.get(names[1]);
    if (!t.isTextual() || !q.isTextual()) {
      return "keys 'task' and 'query' must both be strings";
    }
    String task = t.asText().strip();
    String query = q.asText().strip();
    if (task.length() < 8 || task.length() > 300) {
      return "task must be 8 to 300 characters";
    }
    if (query.length() < 2 || query.length() > MAX_QUERY_CHARS) {
      return "query must be 2 to " + MAX_QUERY_CHARS + " characters";
    }
    for (String s : List.of(task, query)) {
      if (s.chars().anyMatch(c -> Character.isISOControl(c) || c == 0x2028 || c == 0x2029)) {
        return "task and query must be single lines without control characters";
      }
      if (hasLoneSurrogate(s)) { // written as '?' in UTF-8: the query stored would not be the query scored
        return "task and query must be valid Unicode (a lone surrogate)";
      }
      if (s.chars().anyMatch(QueryGenerator::isBidiControl)) {
        return "task and query must not contain bidirectional embedding, override or isolate controls";
      }
      // the rule the prompts neutralise tags by, so that the query stored is the query scored;
      // and any opening of a tag name, which a model may read as one all the same
      String lower = s.toLowerCase(Locale.ROOT);
      if (Prompts.hasDelimiterTag(s) || lower.contains("<passage") || lower.contains("</passage") || lower.contains("<query")
          || lower.contains("</query")) {
        return "task and query must not contain delimiter tags";
      }
    }
    if (query.length() > 40 && seed.text().strip().equals(query)) {
      return "query copies the passage";
    }
    String examplePassage = exampleQueries.get(query.toLowerCase(Locale.ROOT));
    if (examplePassage != null && !examplePassage.equals(seed.text().strip())) {
      return "the query is one of the prompt's examples, not one for this passage";
    }
    return new GeneratedQuery(task, query, extra(o, Set.of(names)));
  }

  /** Whether {@code s} holds half of a UTF-16 surrogate pair without the other half. */
  static boolean hasLoneSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code c} is a bidirectional embedding, override or isolate control (U+202A-U+202E,
   * U+2066-U+2069): invisible, they reorder the text shown around them. The marks U+200E, U+200F
   * and U+061C, and joiners such as U+200D, are ordinary text and pass.
   */
  static boolean isBidiControl(int c) {
    return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
  }

  /** The field holding {@code name}: the exact name if present, else all its case variants ({@code "Query"}). */
  private static List<String> keys(JsonNode o, String name) {
    if (o.has(name)) {
      return List.of(name);
    }
    List<String> variants = new ArrayList<>();
    for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (f.equalsIgnoreCase(name)) {
        variants.add(f);
      }
    }
    return variants;
  }

  /** The other keys, in answer order: at most {@link #MAX_EXTRA_KEYS}, names and values cut to {@link #MAX_EXTRA_CHARS}. */
  private static Map<String, String> extra(JsonNode o, Set<String> used) {
    Map<String, String> extra = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext() && extra.size() < MAX_EXTRA_KEYS; ) {
      Map.Entry<String, JsonNode> f = it.next();
      if (!used.contains(f.getKey())) {
        String value = f.getValue().isTextual() ? f.getValue().asText() : f.getValue().toString();
        extra.putIfAbsent(cut(f.getKey()), cut(value));
      }
    }
    return extra;
  }

  private static String cut(String s) {
    return cut(s, MAX_EXTRA_CHARS);
  }

  /** The first {@code max} chars of {@code s}, one fewer where that would end in half a surrogate pair. */
  static String cut(String s, int max) {
    if (s.length() <= max) {
      return s;
    }
    int end = Character.isHighSurrogate(s.charAt(max - 1)) ? max - 1 : max;
    return s.substring(0, end); // never half a surrogate pair (sent on, a lone half is invalid JSON text)
  }
}
