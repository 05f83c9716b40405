package dev.gecko.langchain4j.spi;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.EmbedderMetrics;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.ProgressListener;
import dev.gecko.langchain4j.GeckoEmbeddingModel;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.spi.model.embedding.EmbeddingModelFactory;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * LangChain4j's {@link EmbeddingModelFactory} for Gecko: the embedding model that LangChain4j uses
 * where none is given ({@code EmbeddingStoreIngestor} built without one, Easy RAG). Registered in
 * {@code META-INF/services} of this artifact only, so that adding the artifact is the opt-in:
 * LangChain4j refuses to choose between two factories, so an application that has another
 * (LangChain4j's {@code langchain4j-embeddings-*} jars, which {@code langchain4j-easy-rag} brings)
 * must exclude it.
 *
 * <h2>One shared model</h2>
 * LangChain4j calls {@link #create()} each time it builds an ingestor or retriever without a model
 * (every static {@code EmbeddingStoreIngestor.ingest(documents, store)} call, for one) and never
 * closes what it gets. So every {@link #create()} returns the same model: the default model ({@code
 * bge-small-en-v1.5-int8}) at full width, embedding as documents, opened on the first call (one
 * ONNX session, tokenizer and thread pool per class loader that loads this class) and kept until
 * the JVM exits. No caller can close it under another: the model does not own its embedder, so
 * {@link GeckoEmbeddingModel#close()} on it does nothing, and its {@link
 * GeckoEmbeddingModel#embedder()} is a view of the embedder whose {@code close()} does nothing
 * either. An opening that fails is not remembered: the next {@link #create()} tries again.
 * Thread-safe.
 */
public final class GeckoEmbeddingModelFactory implements EmbeddingModelFactory {
  /** The shared model, once opened; guarded by {@code GeckoEmbeddingModelFactory.class}. */
  private static volatile GeckoEmbeddingModel shared;

  /** Called by LangChain4j's service loader. */
  public GeckoEmbeddingModelFactory() {}

  /**
   * Returns the shared model (see the class description), opening it on the first call.
   *
   * @throws dev.gecko.core.ModelLoadException if it cannot be opened
   */
  @Override
  public EmbeddingModel create() {
    GeckoEmbeddingModel m = shared;
    if (m == null) {
      synchronized (GeckoEmbeddingModelFactory.class) {
        m = shared;
        if (m == null) {
          // built from an embedder, the model does not own it: close() on the model is a no-op
          m = GeckoEmbeddingModel.of(new Unclosable(GeckoEmbedder.createDefault()));
          shared = m;
        }
      }
    }
    return m;
  }

  /** The shared embedder as callers see it: everything but {@code close()}, which does nothing. */
  private static final class Unclosable implements GeckoEmbedder {
    private final GeckoEmbedder embedder;

    Unclosable(GeckoEmbedder embedder) {
      this.embedder = embedder;
    }

    @Override
    public ModelPackage model() {
      return embedder.model();
    }

    @Override
    public int dimensions() {
      return embedder.dimensions();
    }

    @Override
    public List<float[]> embedAll(List<String> texts, int dims) {
      return embedder.embedAll(texts, dims);
    }

    @Override
    public List<float[]> embedRequests(List<EmbedRequest> requests, int dims, ProgressListener progress) {
      return embedder.embedRequests(requests, dims, progress);
    }

    @Override
    public CompletableFuture<List<float[]>> embedRequestsAsync(List<EmbedRequest> requests, int dims) {
      return embedder.embedRequestsAsync(requests, dims);
    }

    @Override
    public EmbedderMetrics metrics() {
      return embedder.metrics();
    }

    @Override
    public int countTokens(EmbedRequest request) {
      return embedder.countTokens(request);
    }

    /** Does nothing: the embedder is shared by every model-less ingestor and retriever of the JVM. */
    @Override
    public void close() {}

    @Override
    public String toString() {
      return embedder.toString();
    }
  }
}
