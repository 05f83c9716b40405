package dev.gecko.eval;

import dev.gecko.core.internal.io.AtomicFiles;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The result of one evaluation at one or more widths. Scores are x100, as MTEB's leaderboard shows
 * them.
 *
 * <p>JSON form ({@link #toJson()}), stable: {@code {"model", "data", "task", "metric", "scores":
 * {"<width>": main score}, "metrics": {"<width>": {"<name>": value}}, "prompts": {"<role>":
 * template}, "sizes": {"<what>": count}, "seconds"}}.
 *
 * <p>Immutable and thread-safe: every map is copied, in its order, into an unmodifiable one.
 *
 * @param model the model name
 * @param data the data set label
 * @param task {@code "sts"} or {@code "retrieval"}
 * @param metric the name of the main metric, e.g. {@code "cosine_spearman"}, {@code "ndcg_at_10"}
 * @param scores width to main score x100, in the order evaluated; immutable
 * @param metrics width to every metric x100 (the main one included); immutable
 * @param prompts role ({@code "sentence"}, {@code "query"}, {@code "document"}) to the prompt
 *     template the model applied ({@code "{text}"} for none)
 * @param sizes counts, e.g. {@code "pairs"}, {@code "queries"}, {@code "documents"}
 * @param seconds wall time of the evaluation, embedding included
 */
@JsonPropertyOrder({"model", "data", "task", "metric", "scores", "metrics", "prompts", "sizes", "seconds"})
public record EvalReport(
    String model,
    String data,
    String task,
    String metric,
    Map<Integer, Double> scores,
    Map<Integer, Map<String, Double>> metrics,
    Map<String, String> prompts,
    Map<String, Integer> sizes,
    double seconds) {

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Copies the maps, keeping their order. */
  public EvalReport {
    Objects.requireNonNull(model, "model is null");
    Objects.requireNonNull(data, "data is null");
    Objects.requireNonNull(task, "task is null");
    Objects.requireNonNull(metric, "metric is null");
    scores = Collections.unmodifiableMap(new LinkedHashMap<>(scores));
    Map<Integer, Map<String, Double>> m = new LinkedHashMap<>();
    metrics.forEach((w, v) -> m.put(w, Collections.unmodifiableMap(new LinkedHashMap<>(v))));
    metrics = Collections.unmodifiableMap(m);
    prompts = Collections.unmodifiableMap(new LinkedHashMap<>(prompts));
    sizes = Collections.unmodifiableMap(new LinkedHashMap<>(sizes));
  }

  /** Returns a copy with another data label (for example the path the user gave). */
  public EvalReport withData(String data) {
    return new EvalReport(model, data, task, metric, scores, metrics, prompts, sizes, seconds);
  }

  /** Returns the report as pretty-printed JSON (see the class comment). */
  public String toJson() {
    EvalReport rounded = new EvalReport(model, data, task, metric, scores, metrics, prompts, sizes,
        Math.round(seconds * 10) / 10.0);
    try {
      return JSON.writeValueAsString(rounded);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Writes {@link #toJson()} to a file atomically, creating parent folders.
   *
   * @throws IOException if it cannot be written
   */
  public void writeJson(Path file) throws IOException {
    AtomicFiles.write(file, (toJson() + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }
}
