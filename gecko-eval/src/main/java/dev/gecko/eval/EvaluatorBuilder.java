package dev.gecko.eval;

import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ProgressListener;
import java.util.List;
import java.util.Objects;

/**
 * What every evaluator's builder sets: the embedder, the Matryoshka widths to report, an
 * embedding cache and a progress listener. Setters validate at once. Reusable; not thread-safe.
 * It keeps references to the embedder, cache and listener it is given, not ownership: the caller
 * closes the embedder.
 *
 * @param <B> the concrete builder
 */
public abstract class EvaluatorBuilder<B extends EvaluatorBuilder<B>> {
  final GeckoEmbedder embedder;
  List<Integer> dims = List.of();
  EmbeddingCache cache;
  ProgressListener progress = ProgressListener.none();

  EvaluatorBuilder(GeckoEmbedder embedder) {
    this.embedder = Objects.requireNonNull(embedder, "embedder is null");
  }

  /**
   * Sets the widths to report (default: the model's full width).
   *
   * @throws IllegalArgumentException if the list is empty or a width is below 1
   */
  public B dims(List<Integer> dims) {
    this.dims = Widths.check(Objects.requireNonNull(dims, "dims is null"));
    return self();
  }

  /** Sets an embedding cache, or null to keep vectors in memory for the run only (the default). */
  public B cache(EmbeddingCache cache) {
    this.cache = cache;
    return self();
  }

  /** Sets the progress listener (default: none). */
  public B progress(ProgressListener progress) {
    this.progress = Objects.requireNonNull(progress, "progress is null");
    return self();
  }

  /** The widths to evaluate: those set, else the full width; each checked against the model. */
  List<Integer> widths() {
    return Widths.resolve(dims, embedder.dimensions(), embedder.model().name());
  }

  /** The cache to use: the one set, else one in memory. */
  EmbeddingCache cacheOrMemory() {
    return cache != null ? cache : EmbeddingCache.inMemory();
  }

  abstract B self();
}
