package dev.gecko.langchain4j.spi;

import dev.gecko.langchain4j.GeckoEmbeddingModel;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.spi.model.embedding.EmbeddingModelFactory;

/**
 * LangChain4j's {@link EmbeddingModelFactory} for Gecko: the embedding model that LangChain4j uses
 * where none is given ({@code EmbeddingStoreIngestor} built without one, Easy RAG). Registered in
 * {@code META-INF/services} of this artifact only, so that adding the artifact is the opt-in:
 * LangChain4j refuses to choose between two factories, so an application that has another
 * (LangChain4j's {@code langchain4j-embeddings-*} jars, which {@code langchain4j-easy-rag} brings)
 * must exclude it.
 *
 * <p>Each {@link #create()} opens the default model ({@code bge-small-en-v1.5-int8}) at full width,
 * embedding as documents; the returned model owns its embedder (LangChain4j never closes it, so its
 * native memory lives until exit). Stateless and thread-safe.
 */
public final class GeckoEmbeddingModelFactory implements EmbeddingModelFactory {
  /** Called by LangChain4j's service loader. */
  public GeckoEmbeddingModelFactory() {}

  /**
   * Opens the default model.
   *
   * @throws dev.gecko.core.ModelLoadException if it cannot be opened
   */
  @Override
  public EmbeddingModel create() {
    return GeckoEmbeddingModel.builder().build();
  }
}
