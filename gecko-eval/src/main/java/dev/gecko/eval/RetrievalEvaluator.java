package dev.gecko.eval;

import dev.gecko.core.Progress;
import dev.gecko.core.ProgressListener;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.TaskType;
import dev.gecko.core.GeckoException;
import dev.gecko.core.InputTooLongException;
import dev.gecko.core.index.FlatIndex;
import dev.gecko.core.internal.model.PythonStrings;
import dev.gecko.core.index.SearchHit;
import dev.gecko.core.vector.VectorOps;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.IntFunction;

/**
 * BEIR-style retrieval as MTEB scores it: queries embedded as {@link TaskType#RETRIEVAL_QUERY},
 * documents as {@link TaskType#RETRIEVAL_DOCUMENT} with their title (each model applies its own
 * prompts; a model whose document prompt has no title slot sees {@code (title + " " + text).strip()},
 * as MTEB embeds it: {@link #documentText}),
 * exact top-k by cosine over the whole corpus ({@link FlatIndex}), then the metrics of {@link
 * RetrievalMetrics} x100 for each cutoff. The main score is {@code ndcg_at_10}.
 *
 * <p>As in MTEB, the top {@code max(ks)} documents are retrieved per query and, when {@link
 * Builder#ignoreIdenticalIds(boolean)} is set (MTEB does for ArguAna and Quora), a document whose
 * id equals the query id is removed from them afterwards.
 *
 * <p>Texts are embedded once at full width; each width truncates and renormalises them and
 * searches its own index. Thread-safe if its embedder is; does not own the embedder or the cache.
 */
public final class RetrievalEvaluator {
  /** The main metric's name. */
  public static final String MAIN_METRIC = "ndcg_at_10";

  private final GeckoEmbedder embedder;
  private final List<Integer> dims;
  private final List<Integer> ks;
  private final boolean ignoreIdenticalIds;
  private final EmbeddingCache cache;
  private final ProgressListener progress;

  private RetrievalEvaluator(Builder b) {
    this.embedder = b.embedder;
    this.dims = b.widths();
    this.ks = b.ks;
    this.ignoreIdenticalIds = b.ignoreIdenticalIds;
    this.cache = b.cacheOrMemory();
    this.progress = b.progress;
  }

  /** Returns a builder for an evaluator that uses {@code embedder}. */
  public static Builder builder(GeckoEmbedder embedder) {
    return new Builder(embedder);
  }

  /**
   * Scores a data set at every configured width.
   *
   * @throws java.io.IOException if the embedding cache cannot be read or written
   * @throws GeckoException if the model gives a query or document a vector with NaN or infinite
   *     components (the message names its id)
   * @throws InputTooLongException if the embedder refuses to truncate a text ({@code
   *     failOnTruncation}); the message names the query or document by its id, and {@code index()}
   *     is its position in the data set's queries or corpus
   * @throws IllegalStateException if the embedder is closed
   */
  public EvalReport evaluate(BeirDataset data) throws java.io.IOException {
    Objects.requireNonNull(data, "data is null");
    long start = System.nanoTime();
    List<EmbedRequest> queryRequests = new ArrayList<>(data.queries().size());
    for (BeirDataset.Query q : data.queries()) {
      queryRequests.add(EmbedRequest.query(q.text()));
    }
    List<EmbedRequest> docRequests = new ArrayList<>(data.corpus().size());
    for (dev.gecko.core.io.Passage d : data.corpus()) {
      docRequests.add(EmbedRequest.document(documentText(d.title(), d.text())).withTitle(d.title()));
    }
    List<float[]> queryVectors = embed(queryRequests, "embedding queries", "query", i -> data.queries().get(i).id(),
        data);
    List<float[]> docVectors = embed(docRequests, "embedding corpus", "document", i -> data.corpus().get(i).id(),
        data);
    requireFinite(queryVectors, "query", i -> data.queries().get(i).id(), data);
    requireFinite(docVectors, "document", i -> data.corpus().get(i).id(), data);

    int maxK = Collections.max(ks);
    int topK = Math.min(maxK, data.corpus().size());
    // The index keeps the lower ordinal of two equal scores at the top-k cut; documents go in by id
    // descending (trec_eval's order), so that the larger id stays, as in MTEB's search and
    // trec_eval's ranking: duplicate passages at rank 1000 then give MTEB's @1000 metrics.
    Integer[] order = new Integer[data.corpus().size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> RetrievalMetrics.compareCodePoints(data.corpus().get(b).id(),
        data.corpus().get(a).id()));
    Map<Integer, Double> scores = new LinkedHashMap<>();
    Map<Integer, Map<String, Double>> metrics = new LinkedHashMap<>();
    for (int d : dims) {
      FlatIndex index = FlatIndex.builder(d).build();
      for (int o : order) {
        index.add(VectorOps.truncateAndNormalize(docVectors.get(o), d));
      }
      Map<String, Map<String, Double>> run = new HashMap<>();
      String phase = "searching at " + d + " dims";
      int total = data.queries().size();
      // a hundred queries per scan: the index reads its vectors once for many queries, and progress
      // is reported as often as before
      for (int from = 0; from < total; from += 100) {
        List<float[]> chunk = new ArrayList<>();
        for (int i = from; i < Math.min(total, from + 100); i++) {
          chunk.add(VectorOps.truncateAndNormalize(queryVectors.get(i), d));
        }
        List<List<SearchHit>> all = index.searchAll(chunk, topK);
        for (int c = 0; c < chunk.size(); c++) {
          BeirDataset.Query q = data.queries().get(from + c);
          Map<String, Double> ranked = new HashMap<>(all.get(c).size() * 2);
          for (SearchHit h : all.get(c)) {
            ranked.put(data.corpus().get(order[h.ordinal()]).id(), (double) h.score());
          }
          if (ignoreIdenticalIds) {
            ranked.remove(q.id());
          }
          run.put(q.id(), ranked);
        }
        progress.onProgress(Progress.of(phase, "queries", from + chunk.size(), total));
      }
      Map<String, Double> m = new LinkedHashMap<>();
      RetrievalMetrics.evaluate(data.qrels(), run, ks).forEach((name, v) -> m.put(name, 100 * v));
      metrics.put(d, m);
      scores.put(d, m.getOrDefault(MAIN_METRIC, Double.NaN));
    }
    Map<String, String> prompts = new LinkedHashMap<>();
    prompts.put("query", embedder.model().promptTemplate(TaskType.RETRIEVAL_QUERY).orElse("{text}"));
    prompts.put("document", embedder.model().promptTemplate(TaskType.RETRIEVAL_DOCUMENT).orElse("{text}"));
    Map<String, Integer> sizes = new LinkedHashMap<>();
    sizes.put("queries", data.queries().size());
    sizes.put("documents", data.corpus().size());
    double seconds = (System.nanoTime() - start) / 1e9;
    return new EvalReport(embedder.model().name(), data.name(), "retrieval", MAIN_METRIC, scores, metrics, prompts,
        sizes, seconds);
  }

  /**
   * The text of a document's {@link TaskType#RETRIEVAL_DOCUMENT} request, to go with its title, so
   * that the model sees what MTEB embeds: MTEB joins {@code (title + " " + text).strip()} on the raw
   * text, and {@link dev.gecko.core.ModelPackage#render} joins a non-blank title the same way (for
   * a prompt without a title slot). So the text is kept as it is, leading whitespace and line breaks
   * included, but for its trailing whitespace, which that strip removes (a prompt with a title
   * slot gets this text in its {@code {text}} slot); with a blank or null title MTEB's join is
   * {@code text.strip()}, and so is the text. Whitespace is Python's ({@code strip()} there removes
   * U+0085 and the no-break spaces too, which Java's {@link String#strip()} keeps). gecko-spark's
   * evaluator embeds documents by this rule too.
   */
  public static String documentText(String title, String text) {
    Objects.requireNonNull(text, "text is null");
    return title == null || PythonStrings.isBlank(title) ? PythonStrings.strip(text) : PythonStrings.stripTrailing(text);
  }

  /** Embeds through the cache, naming a text that is too long by {@code kind} and its id. */
  private List<float[]> embed(List<EmbedRequest> requests, String phase, String kind, IntFunction<String> id,
      BeirDataset data) throws java.io.IOException {
    try {
      return cache.embed(embedder, requests, phase, progress);
    } catch (InputTooLongException e) {
      throw e.describedAs(e.index(), kind + " " + id.apply(e.index()) + " of " + data.name());
    }
  }

  /**
   * Refuses the first of {@code vectors} with NaN or an infinity, naming its text ({@code kind} and
   * its id; the id and message are built only then). {@link FlatIndex} refuses such a vector too,
   * but names only its component, and only once some width's index meets it (a component past that
   * width is never seen there); this check runs once, at full width, before any index is built,
   * queries first.
   */
  private void requireFinite(List<float[]> vectors, String kind, IntFunction<String> id, BeirDataset data) {
    int broken = FiniteVectors.firstNotFinite(vectors);
    if (broken >= 0) {
      throw new GeckoException(embedder.model().name() + " gives a vector with NaN or infinite components for "
          + kind + " " + id.apply(broken) + " of " + data.name() + ": it cannot be ranked");
    }
  }

  /**
   * Builds a {@link RetrievalEvaluator}. Setters validate at once. Reusable; not thread-safe. It
   * keeps a reference to the embedder, not ownership (see {@link EvaluatorBuilder}).
   */
  public static final class Builder extends EvaluatorBuilder<Builder> {
    private List<Integer> ks = RetrievalMetrics.DEFAULT_KS;
    private boolean ignoreIdenticalIds;

    private Builder(GeckoEmbedder embedder) {
      super(embedder);
    }

    @Override
    Builder self() {
      return this;
    }

    /**
     * Sets the cutoffs (default {@link RetrievalMetrics#DEFAULT_KS}); 10 is added where it is not
     * among them, since the main score is nDCG@10 (its metrics are then reported too).
     *
     * @throws IllegalArgumentException if the list is empty or a cutoff is below 1
     */
    public Builder ks(List<Integer> ks) {
      Objects.requireNonNull(ks, "ks is null");
      if (ks.isEmpty()) {
        throw new IllegalArgumentException("ks must not be empty");
      }
      for (Integer k : ks) {
        if (k == null || k < 1) {
          throw new IllegalArgumentException("every cutoff must be >= 1, got " + ks);
        }
      }
      this.ks = RetrievalMetrics.withMainCutoff(ks);
      return this;
    }

    /** When true, a retrieved document whose id equals the query's id is dropped (ArguAna). */
    public Builder ignoreIdenticalIds(boolean ignore) {
      this.ignoreIdenticalIds = ignore;
      return this;
    }

    /**
     * Builds the evaluator.
     *
     * @throws IllegalArgumentException if a width exceeds the model's dimensions
     */
    public RetrievalEvaluator build() {
      return new RetrievalEvaluator(this);
    }
  }
}
