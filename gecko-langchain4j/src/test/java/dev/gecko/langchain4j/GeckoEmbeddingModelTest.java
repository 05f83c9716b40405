package dev.gecko.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.TaskType;
import dev.gecko.core.vector.VectorOps;
import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.output.Response;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GeckoEmbeddingModelTest {
  private static GeckoEmbedder gecko;

  @BeforeAll
  static void open() {
    // fp32: vectors do not depend on the batch, so a single call can be compared with a list
    gecko = GeckoEmbedder.builder().model("bge-small-en-v1.5").threads(2).build();
  }

  @AfterAll
  static void close() {
    gecko.close();
  }

  private static List<TextSegment> segments(int n) {
    List<TextSegment> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(i % 2 == 0 ? TextSegment.from("Passage number " + i + " talks about the ownership of values in Rust.")
          : TextSegment.from("Passage " + i + " is about tides.", Metadata.from("title", "Tides " + i)));
    }
    return out;
  }

  @Test
  void embedAllIsOneEmbedderCallAsDocumentsWithTitlesAndTokenUsage() {
    CountingEmbedder counting = new CountingEmbedder(gecko);
    GeckoEmbeddingModel model = GeckoEmbeddingModel.builder().embedder(counting).dims(128).build();
    assertThat(counting.embedCalls).hasValue(0);
    assertThat(model.dimension()).isEqualTo(128);
    assertThat(model.modelName()).isEqualTo("bge-small-en-v1.5");
    assertThat(counting.embedCalls).as("dimension() and modelName() run no inference").hasValue(0);

    List<TextSegment> segments = segments(40);
    Response<List<Embedding>> r = model.embedAll(segments);
    assertThat(counting.embedCalls).as("one call for 40 segments").hasValue(1);
    assertThat(r.content()).hasSize(40);
    List<EmbedRequest> expected = new ArrayList<>();
    int tokens = 0;
    for (TextSegment s : segments) {
      EmbedRequest e = EmbedRequest.document(s.text()).withTitle(s.metadata().getString("title"));
      expected.add(e);
      tokens += gecko.countTokens(e);
    }
    List<float[]> direct = gecko.embedRequests(expected, 128);
    for (int i = 0; i < segments.size(); i++) {
      assertThat(r.content().get(i).vector()).isEqualTo(direct.get(i));
      assertThat(VectorOps.norm(r.content().get(i).vector())).isCloseTo(1f, within(1e-5f));
    }
    // in input order: each vector is its segment's own, embedded alone (fp32: up to float rounding)
    for (int i : new int[] {0, 1, 17, 39}) {
      assertThat(VectorOps.cosine(r.content().get(i).vector(), gecko.embed(expected.get(i), 128))).as("segment %d", i)
          .isGreaterThan(0.99999f);
    }
    // a title changes the vector (bge has no title slot: "title text")
    assertThat(direct.get(1)).isNotEqualTo(gecko.embed(EmbedRequest.document(segments.get(1).text()), 128));
    assertThat(r.tokenUsage().inputTokenCount()).isEqualTo(tokens);
  }

  @Test
  void anEmptyListAndATitleThatIsNotAString() {
    GeckoEmbeddingModel model = GeckoEmbeddingModel.of(gecko);
    Response<List<Embedding>> none = model.embedAll(List.of());
    assertThat(none.content()).isEmpty();
    assertThat(none.tokenUsage().inputTokenCount()).isZero();
    TextSegment numbered = TextSegment.from("The harvest of that year.", new Metadata().put("title", 1999));
    assertThat(model.embed(numbered).content().vector())
        .isEqualTo(gecko.embed(EmbedRequest.document(numbered.text()).withTitle("1999"), 384));
  }

  @Test
  void queriesEmbedWithTheModelsQueryPromptThroughTheView() {
    GeckoEmbeddingModel model = GeckoEmbeddingModel.of(gecko);
    GeckoEmbeddingModel queries = model.forQueries();
    assertThat(queries.taskType()).isEqualTo(TaskType.RETRIEVAL_QUERY);
    assertThat(model.taskType()).isEqualTo(TaskType.RETRIEVAL_DOCUMENT);
    String q = "who owns a value in rust?";
    assertThat(queries.embed(q).content().vector()).isEqualTo(gecko.embed(EmbedRequest.query(q), 384));
    assertThat(model.embed(q).content().vector()).isEqualTo(gecko.embed(EmbedRequest.document(q), 384));
    // bge's query instruction: the two differ, and so do their token counts
    assertThat(queries.embed(q).content().vector()).isNotEqualTo(model.embed(q).content().vector());
    assertThat(queries.estimateTokenCountInText(q)).isEqualTo(gecko.countTokens(EmbedRequest.query(q)))
        .isGreaterThan(model.estimateTokenCountInText(q));
    assertThat(model.forTask(TaskType.CLUSTERING).embed(q).content().vector())
        .isEqualTo(gecko.embed(EmbedRequest.of(TaskType.CLUSTERING, q), 384));
    assertThat(queries.forDocuments().taskType()).isEqualTo(TaskType.RETRIEVAL_DOCUMENT);
  }

  @Test
  void theTitleKeyAndTaskTypesAreConfigurable() {
    TextSegment s = TextSegment.from("Passage about tides.", Metadata.from("heading", "Tides").put("title", "Other"));
    GeckoEmbeddingModel byHeading = GeckoEmbeddingModel.builder().embedder(gecko).titleMetadataKey("heading").build();
    assertThat(byHeading.embed(s).content().vector())
        .isEqualTo(gecko.embed(EmbedRequest.document(s.text()).withTitle("Tides"), 384));
    GeckoEmbeddingModel noTitle = GeckoEmbeddingModel.builder().embedder(gecko).titleMetadataKey(null).build();
    assertThat(noTitle.embed(s).content().vector()).isEqualTo(gecko.embed(EmbedRequest.document(s.text()), 384));
    GeckoEmbeddingModel symmetric = GeckoEmbeddingModel.builder().embedder(gecko)
        .documentTaskType(TaskType.SEMANTIC_SIMILARITY).queryTaskType(TaskType.SEMANTIC_SIMILARITY).build();
    assertThat(symmetric.forQueries().embed(s).content().vector())
        .as("titles only for RETRIEVAL_DOCUMENT").isEqualTo(symmetric.embed(s).content().vector())
        .isEqualTo(gecko.embed(EmbedRequest.of(TaskType.SEMANTIC_SIMILARITY, s.text()), 384));
    assertThatThrownBy(() -> GeckoEmbeddingModel.builder().embedder(gecko).dims(385).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("385");
    assertThatThrownBy(() -> GeckoEmbeddingModel.builder().dims(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> GeckoEmbeddingModel.builder().titleMetadataKey(" "))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void tokenCountsOfMessagesUseTheirText() {
    GeckoEmbeddingModel model = GeckoEmbeddingModel.of(gecko);
    int user = model.estimateTokenCountInMessage(UserMessage.from("hello there"));
    assertThat(user).isEqualTo(gecko.countTokens(EmbedRequest.document("hello there")));
    assertThat(model.estimateTokenCountInMessages(List.of(SystemMessage.from("hello there"), AiMessage.from("hello there"),
        UserMessage.from("hello there")))).isEqualTo(3 * user);
  }

  @Test
  void aModelOpenedByNameOwnsItsEmbedderAndAGivenOneIsLeftOpen() {
    CountingEmbedder given = new CountingEmbedder(gecko);
    GeckoEmbeddingModel.builder().embedder(given).build().close();
    assertThat(given.closed).isFalse();

    GeckoEmbeddingModel owned = GeckoEmbeddingModel.builder().model("all-MiniLM-L6-v2").dims(64).build();
    GeckoEmbeddingModel view = owned.forQueries();
    assertThat(view.embed("a sentence").content().vector()).hasSize(64);
    view.close(); // a view owns nothing
    assertThat(owned.embed("still open").content().vector()).hasSize(64);
    owned.close();
    assertThatThrownBy(() -> owned.embed("closed")).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> view.embed("closed")).isInstanceOf(IllegalStateException.class);
  }
}
