package dev.gecko.train.adapter;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.TaskType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The distinct texts of a training run, each with a vector id, and the requests that embed them
 * (in id order). A text is distinct by what the model sees (its rendering, task prompt included):
 * with a query task type whose prompt differs from the documents' the same text is two ids, and
 * otherwise one, so that the losses' masks, which compare ids, see that a query and a document
 * are the same input. Not thread-safe.
 */
final class Texts {
  private final TaskType queryTaskType;
  private final TaskType documentTaskType;
  private final Function<EmbedRequest, String> render;
  private final List<EmbedRequest> requests = new ArrayList<>();
  private final Map<String, Integer> index = new HashMap<>();

  /**
   * Starts an empty set of texts.
   *
   * @param render what the model sees of a request ({@code ModelPackage::render})
   */
  Texts(TaskType queryTaskType, TaskType documentTaskType, Function<EmbedRequest, String> render) {
    this.queryTaskType = queryTaskType;
    this.documentTaskType = documentTaskType;
    this.render = render;
  }

  /** Returns the vector id of a text in the role of a query (anchor) or of a document. */
  int id(String text, boolean isQuery) {
    TaskType tt = isQuery && queryTaskType != null ? queryTaskType : documentTaskType;
    EmbedRequest request = tt == null ? EmbedRequest.of(text) : EmbedRequest.of(tt, text);
    String key = render.apply(request);
    Integer i = index.get(key);
    if (i == null) {
      i = requests.size();
      index.put(key, i);
      requests.add(request);
    }
    return i;
  }

  /** The requests to embed, vector id {@code i} at index {@code i}. */
  List<EmbedRequest> requests() {
    return requests;
  }
}
