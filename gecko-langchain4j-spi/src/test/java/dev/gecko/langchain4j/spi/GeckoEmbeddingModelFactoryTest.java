package dev.gecko.langchain4j.spi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.vector.VectorOps;
import dev.gecko.langchain4j.GeckoEmbeddingModel;
import dev.langchain4j.data.document.Document;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.retriever.EmbeddingStoreContentRetriever;
import dev.langchain4j.rag.query.Query;
import dev.langchain4j.spi.model.embedding.EmbeddingModelFactory;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingStoreIngestor;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** With this artifact on the classpath, LangChain4j's model-less ingestor and retriever run Gecko. */
class GeckoEmbeddingModelFactoryTest {
  private static final List<String> TEXTS = List.of(
      "Each value in Rust has a variable that is its owner; when the owner goes out of scope, the value is dropped.",
      "The Treaty of Westphalia ended the Thirty Years' War in 1648.",
      "Photosynthesis turns light, water and carbon dioxide into glucose and oxygen.");

  @Test
  void theOnlyRegisteredFactoryIsGeckos() {
    List<EmbeddingModelFactory> factories = ServiceLoader.load(EmbeddingModelFactory.class).stream()
        .map(ServiceLoader.Provider::get).toList();
    assertThat(factories).hasSize(1);
    assertThat(factories.get(0)).isInstanceOf(GeckoEmbeddingModelFactory.class);
    try (GeckoEmbeddingModel model = (GeckoEmbeddingModel) factories.get(0).create()) {
      assertThat(model.modelName()).isEqualTo(GeckoEmbedder.Builder.DEFAULT_MODEL);
      assertThat(model.dimension()).isEqualTo(384);
    }
  }

  @Test
  void everyCreateReturnsOneSharedModelThatNoCallerCanClose() {
    // LangChain4j's service loader makes a new factory each time: the model is shared across them
    GeckoEmbeddingModel first = (GeckoEmbeddingModel) new GeckoEmbeddingModelFactory().create();
    GeckoEmbeddingModel second = (GeckoEmbeddingModel) new GeckoEmbeddingModelFactory().create();
    assertThat(second).isSameAs(first);
    first.close(); // a caller closing "its" model must not break the next one
    first.embedder().close(); // nor closing the embedder the model shows
    GeckoEmbeddingModel third = (GeckoEmbeddingModel) new GeckoEmbeddingModelFactory().create();
    assertThat(third).isSameAs(first);
    assertThat(third.embed("still open").content().vector()).hasSize(384);
  }

  @Test
  void modelLessIngestsAndRetrieversShareOneEmbedder() {
    GeckoEmbedder shared = ((GeckoEmbeddingModel) new GeckoEmbeddingModelFactory().create()).embedder();
    long before = shared.metrics().calls();
    InMemoryEmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
    for (String text : TEXTS) {
      EmbeddingStoreIngestor.ingest(Document.from(text), store); // each call asks the factory for a model
    }
    List<Content> hits = EmbeddingStoreContentRetriever.builder().embeddingStore(store).maxResults(1).build()
        .retrieve(Query.from("when did the thirty years' war end?"));
    assertThat(hits.get(0).textSegment().text()).isEqualTo(TEXTS.get(1));
    // every ingest and the retriever's query ran on the one shared embedder
    assertThat(shared.metrics().calls() - before).isEqualTo(TEXTS.size() + 1);
  }

  @Test
  void aModelLessIngestorAndRetrieverEmbedWithGecko() {
    InMemoryEmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
    EmbeddingStoreIngestor.builder().embeddingStore(store).build()
        .ingest(TEXTS.stream().map(Document::from).toList());
    List<Content> hits = EmbeddingStoreContentRetriever.builder().embeddingStore(store).maxResults(1).build()
        .retrieve(Query.from("who owns a value in rust?"));
    assertThat(hits).hasSize(1);
    assertThat(hits.get(0).textSegment().text()).isEqualTo(TEXTS.get(0));

    try (GeckoEmbedder gecko = GeckoEmbedder.createDefault()) {
      for (String text : TEXTS) {
        float[] expected = gecko.embed(EmbedRequest.document(text), 384);
        List<EmbeddingMatch<TextSegment>> m = store.search(EmbeddingSearchRequest.builder()
            .queryEmbedding(dev.langchain4j.data.embedding.Embedding.from(expected)).maxResults(1).build()).matches();
        assertThat(m.get(0).embedded().text()).isEqualTo(text);
        // int8 vectors depend slightly on their batch (README): the same vector up to that noise
        assertThat((double) VectorOps.dot(expected, m.get(0).embedding().vector())).isGreaterThan(0.99);
      }
    }
  }
}
