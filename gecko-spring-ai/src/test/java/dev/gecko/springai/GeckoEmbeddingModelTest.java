package dev.gecko.springai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.TaskType;
import dev.gecko.core.vector.VectorOps;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.ai.document.Document;
import org.springframework.ai.embedding.EmbeddingOptions;
import org.springframework.ai.embedding.EmbeddingRequest;
import org.springframework.ai.embedding.EmbeddingResponse;
import org.springframework.ai.embedding.TokenCountBatchingStrategy;

class GeckoEmbeddingModelTest {
  private static GeckoEmbedder gecko;

  @BeforeAll
  static void open() {
    gecko = GeckoEmbedder.builder().model("all-MiniLM-L6-v2").threads(2).build();
  }

  @AfterAll
  static void close() {
    gecko.close();
  }

  /** Plain Spring AI options, as any caller (a vector store) passes them. */
  static EmbeddingOptions options(String model, Integer dims) {
    return new EmbeddingOptions() {
      @Override
      public String getModel() {
        return model;
      }

      @Override
      public Integer getDimensions() {
        return dims;
      }
    };
  }

  private static List<Document> documents(int n) {
    List<Document> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(i % 2 == 0 ? new Document("Document " + i + " is about the ownership of values in Rust.")
          : new Document("Document " + i + " is about tides and the moon.", Map.of("title", "Tides " + i, "source", "x")));
    }
    return out;
  }

  @Test
  void requestDimensionsAreHonouredAndVectorsAreUnitLengthInInputOrderFromZero() {
    GeckoEmbeddingModel model = GeckoEmbeddingModel.of(gecko);
    List<String> texts = List.of("first text", "a second, longer text about something else entirely", "third");
    for (Integer d : new Integer[] {null, 384, 128, 7}) {
      EmbeddingResponse r = model.call(new EmbeddingRequest(texts, options(null, d)));
      assertThat(r.getResults()).hasSize(3);
      for (int i = 0; i < 3; i++) {
        float[] v = r.getResults().get(i).getOutput();
        assertThat(r.getResults().get(i).getIndex()).isEqualTo(i);
        assertThat(v).hasSize(d == null ? 384 : d);
        assertThat(VectorOps.norm(v)).isCloseTo(1f, within(1e-5f));
        assertThat(v).isEqualTo(gecko.embed(EmbedRequest.query(texts.get(i)), v.length));
      }
    }
    assertThat(model.call(new EmbeddingRequest(texts, GeckoEmbeddingOptions.builder().dimensions(32).build()))
        .getResults().get(0).getOutput()).hasSize(32);
    assertThatThrownBy(() -> model.call(new EmbeddingRequest(texts, options(null, 385))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("385");
    assertThatThrownBy(() -> model.call(new EmbeddingRequest(texts, options("text-embedding-3-small", null))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("text-embedding-3-small");
    assertThat(model.call(new EmbeddingRequest(texts, options("all-MiniLM-L6-v2", 16))).getResults()).hasSize(3);
  }

  @Test
  void aRequestWithNullInstructionsIsRefusedNamingThemAndNothingRuns() {
    CountingEmbedder counting = new CountingEmbedder(gecko);
    GeckoEmbeddingModel model = GeckoEmbeddingModel.of(counting);
    // Spring AI's EmbeddingRequest takes a null list
    EmbeddingRequest nullList = new EmbeddingRequest(null, null);
    assertThat(nullList.getInstructions()).isNull();
    assertThatThrownBy(() -> model.call(nullList)).isInstanceOf(NullPointerException.class)
        .hasMessage("the request's instructions are null");
    assertThatThrownBy(() -> model.call(new EmbeddingRequest(null, options(null, 16))))
        .isInstanceOf(NullPointerException.class).hasMessage("the request's instructions are null");
    List<String> withNull = new ArrayList<>(List.of("a text"));
    withNull.add(null);
    assertThatThrownBy(() -> model.call(new EmbeddingRequest(withNull, null))).isInstanceOf(NullPointerException.class)
        .hasMessage("instructions[1] is null");
    assertThatThrownBy(() -> model.call(null)).isInstanceOf(NullPointerException.class).hasMessage("request is null");
    assertThat(counting.embedCalls).hasValue(0);
  }

  @Test
  void dimensionsAndMetadataRunNoInference() {
    CountingEmbedder counting = new CountingEmbedder(gecko);
    GeckoEmbeddingModel model = GeckoEmbeddingModel.builder().embedder(counting).dims(256).build();
    assertThat(model.dimensions()).isEqualTo(256);
    assertThat(model.modelName()).isEqualTo("all-MiniLM-L6-v2");
    assertThat(counting.embedCalls).hasValue(0);
    EmbeddingResponse r = model.call(new EmbeddingRequest(List.of("hello world", "and more"), null));
    assertThat(r.getMetadata().getModel()).isEqualTo("all-MiniLM-L6-v2");
    int tokens = gecko.countTokens(EmbedRequest.query("hello world")) + gecko.countTokens(EmbedRequest.query("and more"));
    assertThat(r.getMetadata().getUsage().getPromptTokens()).isEqualTo(tokens);
    assertThat(r.getResults().get(0).getOutput()).hasSize(256);
  }

  @Test
  void anEmptyRequestAndATitleThatIsNotAString() {
    GeckoEmbeddingModel model = GeckoEmbeddingModel.builder().embedder(gecko).build();
    EmbeddingResponse none = model.call(new EmbeddingRequest(List.of(), null));
    assertThat(none.getResults()).isEmpty();
    assertThat(none.getMetadata().getUsage().getPromptTokens()).isZero();
    assertThat(model.embed(List.of(), options(null, 64), new TokenCountBatchingStrategy())).isEmpty();
    Document numbered = new Document("The harvest of that year.", Map.of("title", 1999));
    assertThat(model.embed(numbered)).isEqualTo(gecko.embed(EmbedRequest.document(numbered.getText()).withTitle("1999"),
        384));
  }

  @Test
  void documentsAreOneCallAsDocumentsWithTitlesWhateverTheBatchingStrategy() {
    CountingEmbedder counting = new CountingEmbedder(gecko);
    GeckoEmbeddingModel model = GeckoEmbeddingModel.builder().embedder(counting).build();
    List<Document> docs = documents(30);
    // a strategy that would cut 30 documents into many small requests
    List<float[]> vectors = model.embed(docs, options(null, 64), new TokenCountBatchingStrategy());
    assertThat(counting.embedCalls).hasValue(1);
    assertThat(vectors).hasSize(30);
    for (int i = 0; i < docs.size(); i++) {
      Object title = docs.get(i).getMetadata().get("title");
      EmbedRequest expected = EmbedRequest.document(docs.get(i).getText()).withTitle(title == null ? null : title.toString());
      assertThat(vectors.get(i)).isEqualTo(gecko.embed(expected, 64));
    }
    // the title matters; other metadata is not mixed into the text
    assertThat(vectors.get(1)).isNotEqualTo(gecko.embed(EmbedRequest.document(docs.get(1).getText()), 64));
    assertThat(model.embed(docs.get(1))).isEqualTo(gecko.embed(EmbedRequest.document(docs.get(1).getText())
        .withTitle("Tides 1"), 384));
  }

  @Test
  void taskTypesAreConfigurableAndPerRequest() {
    // bge (the default model) puts an instruction before queries only: task types show in the vectors
    try (GeckoEmbedder bge = GeckoEmbedder.builder().threads(1).build()) {
      GeckoEmbeddingModel model = GeckoEmbeddingModel.of(bge);
      String q = "who owns a value in rust?";
      assertThat(model.embed(q)).isEqualTo(bge.embed(EmbedRequest.query(q), 384));
      assertThat(model.embed(new Document(q))).isEqualTo(bge.embed(EmbedRequest.document(q), 384))
          .isNotEqualTo(model.embed(q));
      assertThat(model.call(new EmbeddingRequest(List.of(q), GeckoEmbeddingOptions.builder()
          .taskType(TaskType.RETRIEVAL_DOCUMENT).build())).getResults().get(0).getOutput())
          .isEqualTo(model.embed(new Document(q)));
      assertThat(model.embed(List.of(new Document(q)), GeckoEmbeddingOptions.builder().taskType(TaskType.RETRIEVAL_QUERY)
          .build(), new TokenCountBatchingStrategy()).get(0)).isEqualTo(model.embed(q));
      GeckoEmbeddingModel symmetric = GeckoEmbeddingModel.builder().embedder(bge)
          .documentTaskType(TaskType.SEMANTIC_SIMILARITY).queryTaskType(TaskType.SEMANTIC_SIMILARITY).build();
      Document d = new Document(q, Map.of("title", "not used outside RETRIEVAL_DOCUMENT"));
      assertThat(symmetric.embed(d)).isEqualTo(symmetric.embed(q)).isEqualTo(bge.embed(EmbedRequest.of(
          TaskType.SEMANTIC_SIMILARITY, q), 384));
    }
    assertThatThrownBy(() -> GeckoEmbeddingModel.builder().embedder(gecko).threads(2).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> GeckoEmbeddingModel.builder().embedder(gecko).dims(400).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("400");
  }

  @Test
  void aModelItOpensIsClosedWithItAndAGivenEmbedderIsNot() {
    CountingEmbedder given = new CountingEmbedder(gecko);
    GeckoEmbeddingModel.of(given).close();
    assertThat(given.closed).isFalse();
    GeckoEmbeddingModel owned = GeckoEmbeddingModel.builder().model("all-MiniLM-L6-v2-int8").threads(1).dims(32).build();
    assertThat(owned.embed("hi")).hasSize(32);
    owned.close();
    owned.close();
    assertThatThrownBy(() -> owned.embed("hi")).isInstanceOf(IllegalStateException.class);
  }
}
