package dev.gecko.eval;


import dev.gecko.core.ProgressListener;
import dev.gecko.core.GeckoException;
import dev.gecko.core.InvalidDataException;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.InputTooLongException;
import dev.gecko.core.TaskType;
import dev.gecko.core.vector.VectorOps;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Semantic textual similarity as MTEB scores it: both sentences of each pair are embedded the same
 * way (task type {@link TaskType#SEMANTIC_SIMILARITY} by default, so each model applies its own
 * symmetric prompt), the cosine of the two vectors is compared with the gold score by Spearman's
 * rank correlation (ties averaged), reported x100 as {@code cosine_spearman}; {@code
 * cosine_pearson} is reported beside it.
 *
 * <p>Sentences are embedded once at full width; each requested width truncates and renormalises
 * those vectors. Thread-safe if its embedder is; does not own the embedder or the cache.
 */
public final class StsEvaluator {
  /** The main metric's name. */
  public static final String MAIN_METRIC = "cosine_spearman";

  private final GeckoEmbedder embedder;
  private final List<Integer> dims;
  private final TaskType taskType;
  private final EmbeddingCache cache;
  private final ProgressListener progress;

  private StsEvaluator(Builder b) {
    this.embedder = b.embedder;
    this.dims = b.widths();
    this.taskType = b.taskType;
    this.cache = b.cacheOrMemory();
    this.progress = b.progress;
  }

  private GeckoException notFinite(StsDataset data, int i) {
    StsDataset.Pair p = data.pairs().get(i);
    return new GeckoException(embedder.model().name() + " gives a vector with NaN or infinite components for pair "
        + (i + 1) + " of " + data.name() + " (\"" + shorten(p.sentence1()) + "\" / \"" + shorten(p.sentence2())
        + "\"): its cosine is undefined");
  }

  /** Returns a builder for an evaluator that uses {@code embedder}. */
  public static Builder builder(GeckoEmbedder embedder) {
    return new Builder(embedder);
  }

  /**
   * Scores a data set at every configured width.
   *
   * @throws InvalidDataException if every gold score is the same (a correlation with them is
   *     undefined), checked before anything is embedded
   * @throws UndefinedScoreException if the model gives every pair the same cosine at a width
   * @throws dev.gecko.core.GeckoException if the model gives a vector with NaN or infinite
   *     components (the message names the pair)
   * @throws java.io.IOException if the embedding cache cannot be read or written
   * @throws InputTooLongException if the embedder refuses to truncate a sentence ({@code
   *     failOnTruncation}); the message names its pair, counted from 1, and {@code index()} is
   *     {@code 2 * (pair - 1)} for its first sentence, one more for its second
   * @throws IllegalStateException if the embedder is closed
   */
  public EvalReport evaluate(StsDataset data) throws java.io.IOException {
    Objects.requireNonNull(data, "data is null");
    long start = System.nanoTime();
    double first = data.pairs().get(0).score();
    if (data.pairs().stream().allMatch(p -> p.score() == first)) {
      throw new InvalidDataException(data.name(), 0, "all " + data.pairs().size() + " gold scores are " + first
          + ": a correlation with constant scores is undefined");
    }
    List<EmbedRequest> requests = new ArrayList<>(2 * data.pairs().size());
    for (StsDataset.Pair p : data.pairs()) {
      requests.add(request(p.sentence1()));
      requests.add(request(p.sentence2()));
    }
    List<float[]> full;
    try {
      full = cache.embed(embedder, requests, "embedding sentences", progress);
    } catch (InputTooLongException e) { // texts 2i and 2i + 1 are pair i's: name it as the data does
      throw e.describedAs(e.index(), "sentence " + (e.index() % 2 + 1) + " of pair " + (e.index() / 2 + 1) + " of "
          + data.name());
    }
    int broken = FiniteVectors.firstNotFinite(full); // an infinite component survives normalising: no cosine to trust
    if (broken >= 0) {
      throw notFinite(data, broken / 2); // the sentences of pair i are texts 2i and 2i + 1
    }
    double[] gold = new double[data.pairs().size()];
    for (int i = 0; i < gold.length; i++) {
      gold[i] = data.pairs().get(i).score();
    }
    Map<Integer, Double> scores = new LinkedHashMap<>();
    Map<Integer, Map<String, Double>> metrics = new LinkedHashMap<>();
    for (int d : dims) {
      double[] cos = new double[gold.length];
      for (int i = 0; i < gold.length; i++) {
        float[] a = VectorOps.truncateAndNormalize(full.get(2 * i), d);
        float[] b = VectorOps.truncateAndNormalize(full.get(2 * i + 1), d);
        cos[i] = VectorOps.cosine(a, b);
        if (Double.isNaN(cos[i])) {
          throw notFinite(data, i);
        }
      }
      double spearman = 100 * Correlation.spearman(gold, cos);
      if (Double.isNaN(spearman)) {
        throw new UndefinedScoreException(embedder.model().name() + " gives every pair of " + data.name()
            + " the same cosine at width " + d + ": the correlation is undefined");
      }
      Map<String, Double> m = new LinkedHashMap<>();
      m.put(MAIN_METRIC, spearman);
      m.put("cosine_pearson", 100 * Correlation.pearson(gold, cos));
      scores.put(d, spearman);
      metrics.put(d, m);
    }
    String template = taskType == null
        ? embedder.model().defaultPrompt().orElse("{text}")
        : embedder.model().promptTemplate(taskType).orElse("{text}");
    double seconds = (System.nanoTime() - start) / 1e9;
    return new EvalReport(embedder.model().name(), data.name(), "sts", MAIN_METRIC, scores, metrics,
        Map.of("sentence", template), Map.of("pairs", data.pairs().size()), seconds);
  }

  private static String shorten(String text) {
    return text.length() <= 60 ? text : text.substring(0, 57) + "...";
  }

  private EmbedRequest request(String text) {
    return taskType == null ? EmbedRequest.of(text) : EmbedRequest.of(taskType, text);
  }

  /**
   * Builds a {@link StsEvaluator}. Setters validate at once. Reusable; not thread-safe. It keeps a
   * reference to the embedder, not ownership (see {@link EvaluatorBuilder}).
   */
  public static final class Builder extends EvaluatorBuilder<Builder> {
    private TaskType taskType = TaskType.SEMANTIC_SIMILARITY;

    private Builder(GeckoEmbedder embedder) {
      super(embedder);
    }

    @Override
    Builder self() {
      return this;
    }

    /** Sets the task type both sentences are embedded with; null for the model's default prompt. */
    public Builder taskType(TaskType taskType) {
      this.taskType = taskType;
      return this;
    }

    /**
     * Builds the evaluator.
     *
     * @throws IllegalArgumentException if a width exceeds the model's dimensions
     */
    public StsEvaluator build() {
      return new StsEvaluator(this);
    }
  }
}
