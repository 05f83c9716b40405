package dev.gecko.train.adapter;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.TaskType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The distinct texts of a training run, each with a vector id, and the requests that embed them
 * (in id order). Queries and documents may render differently (task prompts), so with a query task
 * type the same text is two ids. Not thread-safe.
 */
final class Texts {
  private final TaskType queryTaskType;
  private final TaskType documentTaskType;
  private final List<EmbedRequest> requests = new ArrayList<>();
  private final Map<String, Integer> index = new HashMap<>();

  Texts(TaskType queryTaskType, TaskType documentTaskType) {
    this.queryTaskType = queryTaskType;
    this.documentTaskType = documentTaskType;
  }

  /** Returns the vector id of a text in the role of a query (anchor) or of a document. */
  int id(String text, boolean isQuery) {
    boolean asQuery = isQuery && queryTaskType != null;
    String key = (asQuery ? "q\u0000" : "d\u0000") + text;
    Integer i = index.get(key);
    if (i == null) {
      i = requests.size();
      index.put(key, i);
      TaskType tt = asQuery ? queryTaskType : documentTaskType;
      requests.add(tt == null ? EmbedRequest.of(text) : EmbedRequest.of(tt, text));
    }
    return i;
  }

  /** The requests to embed, vector id {@code i} at index {@code i}. */
  List<EmbedRequest> requests() {
    return requests;
  }
}
