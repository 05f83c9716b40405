package dev.gecko.train.fret;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The output of step 1: a task description and a query for it. Immutable.
 *
 * @param task the task, e.g. "Given a query, find a passage that has the answer to the query."
 * @param query the query
 * @param extra the other keys of the answer, in answer order, with their values as text (a string's
 *     value, otherwise its JSON), already bounded by {@link QueryGenerator}: provenance only, never
 *     used as the task or the query
 */
public record GeneratedQuery(String task, String query, Map<String, String> extra) {
  /** Copies {@code extra} (keeping its order). */
  public GeneratedQuery {
    Objects.requireNonNull(task, "task is null");
    Objects.requireNonNull(query, "query is null");
    extra = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(extra, "extra is null")));
  }

  /** A task and query from an answer with no other keys. */
  public GeneratedQuery(String task, String query) {
    this(task, query, Map.of());
  }
}
