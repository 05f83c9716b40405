package dev.gecko.train.fret;

import dev.gecko.core.io.Passage;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.TaskType;
import dev.gecko.core.index.FlatIndex;
import dev.gecko.core.index.SearchHit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * FRet step 2's retrieval: the corpus embedded as documents into an exact {@link FlatIndex}, queried
 * with the embedder's own query format. For Gecko-format models (whose query template contains
 * {@code "task: "}) the query text is {@code "task: {t} | query: {q}"}; for other models it is
 * {@link EmbedRequest#query(String)} (e.g. bge's instruction, e5's {@code "query: "}), and the task
 * is not part of the text.
 *
 * <p>Building embeds every passage once. Thread-safe for searches after construction. Does not own
 * the embedder.
 */
public final class Retriever {
  private static final int BATCH = 256;
  private final GeckoEmbedder embedder;
  private final List<Passage> passages;
  private final FlatIndex index;
  private final boolean geckoFormat;

  /**
   * Embeds {@code passages} (as {@link EmbedRequest#document(String)} with their title) at full width.
   *
   * @throws IllegalArgumentException if {@code passages} is empty
   */
  public Retriever(GeckoEmbedder embedder, List<Passage> passages) {
    this.embedder = Objects.requireNonNull(embedder, "embedder is null");
    this.passages = List.copyOf(passages);
    if (this.passages.isEmpty()) {
      throw new IllegalArgumentException("the corpus is empty");
    }
    this.index = FlatIndex.builder(embedder.dimensions()).build();
    for (int from = 0; from < this.passages.size(); from += BATCH) {
      List<EmbedRequest> batch = new ArrayList<>();
      for (Passage p : this.passages.subList(from, Math.min(this.passages.size(), from + BATCH))) {
        batch.add(passageRequest(p));
      }
      for (float[] v : embedder.embedRequests(batch, embedder.dimensions())) {
        index.add(v);
      }
    }
    this.geckoFormat = isGeckoFormat(embedder.model());
  }

  /** Returns the embedder (not owned). */
  public GeckoEmbedder embedder() {
    return embedder;
  }

  /** Returns the passages, in index order. */
  public List<Passage> passages() {
    return passages;
  }

  /** Returns the request embedded for a task and query (see the class comment). */
  public EmbedRequest queryRequest(String task, String query) {
    return queryRequest(geckoFormat, task, query);
  }

  /**
   * Returns the request a retriever over {@code model} embeds for a task and query (see the class
   * comment), for runners that embed queries themselves (gecko-spark) and must match this class.
   */
  public static EmbedRequest queryRequest(ModelPackage model, String task, String query) {
    return queryRequest(isGeckoFormat(model), task, query);
  }

  private static EmbedRequest queryRequest(boolean geckoFormat, String task, String query) {
    if (geckoFormat) {
      return EmbedRequest.of("task: " + task + " | query: " + query);
    }
    return EmbedRequest.query(query);
  }

  /**
   * Returns the request a retriever embeds for a passage: a document with its title (none when
   * blank), for runners that embed the corpus themselves.
   */
  public static EmbedRequest passageRequest(Passage p) {
    return EmbedRequest.document(p.text()).withTitle(p.title().isBlank() ? null : p.title());
  }

  private static boolean isGeckoFormat(ModelPackage model) {
    return model.promptTemplate(TaskType.RETRIEVAL_QUERY).map(t -> t.contains("task: ")).orElse(false);
  }

  /**
   * Returns the {@code n} nearest passages, best first.
   *
   * @throws IllegalArgumentException if {@code n < 1}
   */
  public List<SearchHit> search(String task, String query, int n) {
    float[] q = embedder.embed(queryRequest(task, query), embedder.dimensions());
    return index.search(q, Math.min(n, passages.size()));
  }
}
