package dev.gecko.train.fret;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gecko.train.llm.GenerationOptions;
import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmRequest;
import dev.gecko.train.llm.LlmResponse;
import dev.gecko.train.llm.Message;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * FRet step 1: {@code LLM(P_QG, p_seed) -> (t, q)}. The answer must be a JSON object with exactly
 * the string keys {@code task} and {@code query} (lenient about code fences and surrounding prose);
 * a refused answer is sent back with the reason, at most {@code attempts} times in all.
 *
 * <p>Validation: task 8-300 chars, query 2-{@link #MAX_QUERY_CHARS} chars, single lines, no
 * control characters, no delimiter tags, query not the passage copied. Thread-safe.
 */
public final class QueryGenerator {
  /** Longest accepted query. */
  public static final int MAX_QUERY_CHARS = 400;
  private final LlmClient llm;
  private final Prompts prompts;
  private final GenerationOptions options;
  private final int attempts;

  /**
   * Creates a generator.
   *
   * @param temperature sampling temperature for generation
   * @param attempts answers to try per seed, at least 1
   */
  public QueryGenerator(LlmClient llm, Prompts prompts, double temperature, int attempts) {
    this.llm = Objects.requireNonNull(llm, "llm is null");
    this.prompts = Objects.requireNonNull(prompts, "prompts is null");
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
      LlmResponse r = llm.generate(new LlmRequest(messages, options));
      answer = r.text();
      Object v = validate(answer, seed);
      if (v instanceof GeneratedQuery) {
        return (GeneratedQuery) v;
      }
      reason = (String) v;
      messages.add(Message.assistant(answer.length() > 2000 ? answer.substring(0, 2000) : answer));
      messages.add(Message.user("That answer was refused: " + reason + ". Reply with only a JSON object with exactly "
          + "two string keys, \"task\" and \"query\", for the passage above."));
    }
    throw new RejectedAnswerException("generate", reason + " (after " + attempts + " attempts)", answer);
  }

  /** Returns a GeneratedQuery or the reason for refusing the answer. */
  static Object validate(String answer, Passage seed) {
    Optional<JsonNode> parsed = JsonAnswers.firstObject(answer);
    if (parsed.isEmpty()) {
      return "no JSON object in the answer";
    }
    JsonNode o = parsed.get();
    for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!f.equals("task") && !f.equals("query")) {
        return "unexpected key '" + f + "'";
      }
    }
    JsonNode t = o.get("task");
    JsonNode q = o.get("query");
    if (t == null || !t.isTextual() || q == null || !q.isTextual()) {
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
      if (s.chars().anyMatch(c -> Character.isISOControl(c))) {
        return "task and query must be single lines without control characters";
      }
      String lower = s.toLowerCase(Locale.ROOT);
      if (lower.contains("<passage") || lower.contains("</passage") || lower.contains("<query") || lower.contains("</query")) {
        return "task and query must not contain delimiter tags";
      }
    }
    if (query.length() > 40 && seed.text().strip().equals(query)) {
      return "query copies the passage";
    }
    return new GeneratedQuery(task, query);
  }
}
