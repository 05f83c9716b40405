package dev.gecko.train.fret;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.TaskType;
import dev.gecko.core.io.Passage;
import dev.gecko.train.llm.Capability;
import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmClients;
import dev.gecko.train.testing.FakeLlmServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The public hooks other runners (gecko-spark) use: one seed's example as a function, the query request, prompts that travel. */
class FretExamplesTest {
  private static final Passage SEED = new Passage("s1", "Bees", "Honey bees dance to show other bees where the flowers are.");
  private static final List<Passage> CANDIDATES = List.of(
      SEED,
      new Passage("p2", "", "Wasps build paper nests and hunt other insects."),
      new Passage("p3", "Flowers", "Flowers attract honey bees with nectar; bees dance to share where flowers grow."),
      new Passage("p4", "", "Granite is an igneous rock."));
  private static final float[] SCORES = {0.9f, 0.5f, 0.7f, 0.1f};
  private static FakeLlmServer server;
  private static Relabeler relabeler;

  @BeforeAll
  static void start() throws Exception {
    server = FakeLlmServer.start();
    LlmClient llm = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).model("fake-llm")
        .capabilities(EnumSet.of(Capability.TOP_LOGPROBS)).requestTimeout(Duration.ofSeconds(20)).build();
    relabeler = new Relabeler(llm, Prompts.defaults(), 2);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** A written line read back: the assertions check the file format, not only the record. */
  private static ObjectNode line(String json) {
    assertThat(json).doesNotContain("\n");
    try {
      return (ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AssertionError(e);
    }
  }

  private static GeneratedQuery query() {
    return new GeneratedQuery("Given a query, find a passage that has the answer to the query.", "bees dance flowers",
        Map.of("question", "why do bees dance?"));
  }

  @Test
  void exampleRanksByTheFusedScoresAndRecordsEveryCandidate() {
    ObjectNode ex = line(FretExamples.jsonLine(
        FretExamples.example(SEED, query(), CANDIDATES, SCORES, relabeler, NegativeSelection.LAST, 42)));
    List<ScoredCandidate> ranked = relabeler.relabel("bees dance flowers", CANDIDATES, SCORES);

    assertThat(ex.path("anchor").asText()).isEqualTo("bees dance flowers");
    assertThat(ex.path("query").asText()).isEqualTo("bees dance flowers");
    assertThat(ex.path("task").asText()).startsWith("Given a query");
    assertThat(ex.path("extra").path("question").asText()).isEqualTo("why do bees dance?");
    assertThat(ex.path("seed_id").asText()).isEqualTo("s1");
    assertThat(ex.path("positive_id").asText()).isEqualTo(ranked.get(0).passage().id());
    assertThat(ex.path("positive").asText()).isEqualTo(ranked.get(0).passage().text());
    assertThat(ex.path("negative_id").asText()).isEqualTo(ranked.get(3).passage().id());
    assertThat(ex.path("positive_changed").asBoolean()).isEqualTo(!ranked.get(0).passage().id().equals("s1"));
    assertThat(ex.path("scorer").path("rc").asText()).isEqualTo(relabeler.rcScorer().id());
    List<String> ids = new ArrayList<>();
    for (JsonNode c : ex.path("candidates")) {
      ids.add(c.path("id").asText());
      assertThat(c.path("retrieval_score").floatValue())
          .isEqualTo(SCORES[CANDIDATES.indexOf(byId(c.path("id").asText()))]);
    }
    assertThat(ids).containsExactlyElementsOf(ranked.stream().map(c -> c.passage().id()).toList());
    int seedRank = ranked.stream().filter(c -> c.passage().id().equals("s1")).findFirst().orElseThrow().rank();
    assertThat(ex.path("seed_rank").asInt()).isEqualTo(seedRank);
  }

  @Test
  void theHardNegativeIsNeverTheSeedNorACandidateLeftUngradedAndARefusedRequestCostsOnlyItsGrade() {
    // the seed's grades come back without a grade (it sinks to the bottom of the fusion), and one
    // candidate's grading prompt is refused by the server as too long (HTTP 400): the seed goes on
    Passage seed = new Passage("s9", "", "UNGRADABLE Honey bees dance to show other bees where the flowers are.");
    List<Passage> candidates = List.of(seed,
        new Passage("p2", "", "Wasps build paper nests and hunt other insects."),
        new Passage("p3", "Flowers", "Flowers attract honey bees with nectar; bees dance to share where flowers grow."),
        new Passage("p5", "", "CONTEXT-OVERFLOW Granite is an igneous rock found in mountains."),
        new Passage("p4", "", "Granite is an igneous rock."));
    float[] scores = {0.9f, 0.5f, 0.7f, 0.2f, 0.1f};
    List<ScoredCandidate> ranked = relabeler.relabel("bees dance flowers", candidates, scores);
    assertThat(ranked.get(ranked.size() - 1).passage().id()).isIn("s9", "p5"); // the ungraded sink to the bottom
    ObjectNode last = line(FretExamples.jsonLine(
        FretExamples.example(seed, query(), candidates, scores, relabeler, NegativeSelection.LAST, 42)));
    assertThat(last.path("positive_id").asText()).isEqualTo("p3");
    assertThat(last.path("negative_id").asText()).isEqualTo("p4"); // the lowest that was graded both ways
    for (long r = 0; r < 8; r++) {
      ObjectNode random = line(FretExamples.jsonLine(
          FretExamples.example(seed, query(), candidates, scores, relabeler, NegativeSelection.RANDOM, r)));
      assertThat(random.path("negative_id").asText()).isIn("p2", "p4");
    }
    // a seed left with no candidate fit to be a negative (the rest: a copy of the positive) is rejected
    Passage copy = new Passage("p3-copy", "Flowers", candidates.get(2).text());
    RejectedAnswerException none = org.assertj.core.api.Assertions.catchThrowableOfType(RejectedAnswerException.class,
        () -> FretExamples.example(seed, query(), List.of(seed, candidates.get(2), copy),
            new float[] {0.9f, 0.7f, 0.6f}, relabeler, NegativeSelection.LAST, 1));
    assertThat(none.stage()).isEqualTo("select");
    assertThat(none.getMessage()).contains("no candidate fits as the hard negative");
    // the first two grading requests refused alike: the request is at fault, not a passage, and the
    // seed goes at once, as a refused request always did (the pipeline rejects it at stage request)
    List<Passage> refusedFirst = List.of(candidates.get(3),
        new Passage("p6", "", "CONTEXT-OVERFLOW Basalt is a volcanic rock."), candidates.get(1), candidates.get(2));
    assertThatThrownBy(() -> FretExamples.example(seed, query(), refusedFirst, new float[] {0.9f, 0.8f, 0.5f, 0.4f},
        relabeler, NegativeSelection.LAST, 1)).isInstanceOf(dev.gecko.train.llm.BadRequestException.class);
  }

  @Test
  void seedRankIsNullWhenTheSeedWasNotRetrievedAndRandomNegativesAreReproducible() {
    List<Passage> others = CANDIDATES.subList(1, 4);
    float[] scores = {0.5f, 0.7f, 0.1f};
    ObjectNode a = line(FretExamples.jsonLine(FretExamples.example(SEED, query(), others, scores, relabeler, NegativeSelection.RANDOM, 7)));
    ObjectNode b = line(FretExamples.jsonLine(FretExamples.example(SEED, query(), others, scores, relabeler, NegativeSelection.RANDOM, 7)));
    assertThat(a.path("seed_rank").isNull()).isTrue();
    assertThat(a.path("positive_changed").asBoolean()).isTrue();
    assertThat(a).isEqualTo(b);
    assertThat(a.path("negative_id").asText()).isNotEqualTo(a.path("positive_id").asText());
  }

  @Test
  void tooFewCandidatesIsARejectAndRejectLinesCarryStageReasonAndAnswer() {
    RejectedAnswerException e = org.assertj.core.api.Assertions.catchThrowableOfType(RejectedAnswerException.class,
        () -> FretExamples.example(SEED, query(), List.of(SEED), new float[] {1f}, relabeler, NegativeSelection.LAST, 1));
    assertThat(e.stage()).isEqualTo("retrieve");
    ObjectNode r = line(FretExamples.jsonLine(
        FretExamples.reject("s1", new RejectedAnswerException("generate", "no JSON object", "x".repeat(600)))));
    assertThat(r.path("seed_id").asText()).isEqualTo("s1");
    assertThat(r.path("stage").asText()).isEqualTo("generate");
    assertThat(r.path("reason").asText()).isEqualTo("generate: no JSON object");
    assertThat(r.path("answer").asText()).hasSize(500);
    assertThatThrownBy(() -> FretExamples.example(SEED, query(), CANDIDATES, new float[] {1f}, relabeler, NegativeSelection.LAST, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4 candidates but 1 scores");
  }

  @Test
  void queryRequestFollowsTheModelsFormat() {
    ModelPackage bge = ModelPackage.builtIn("bge-small-en-v1.5-int8");
    assertThat(Retriever.queryRequest(bge, "Find it.", "bees")).isEqualTo(EmbedRequest.query("bees"));
    ModelPackage gecko = bge.toBuilder().geckoPrompts().build();
    assertThat(Retriever.queryRequest(gecko, "Find it.", "bees")).isEqualTo(EmbedRequest.of("task: Find it. | query: bees"));
    assertThat(Retriever.passageRequest(new Passage("a", " ", "text")))
        .isEqualTo(new EmbedRequest("text", TaskType.RETRIEVAL_DOCUMENT, null));
    assertThat(Retriever.passageRequest(SEED)).isEqualTo(EmbedRequest.document(SEED.text()).withTitle("Bees"));
  }

  @Test
  void promptsSurviveJavaSerialization() throws Exception {
    Prompts p = Prompts.defaults().withMaxPassageChars(1234)
        .withGenerationExamples(List.of(new Prompts.GenerationExample("t", "a passage", "Find things.", "q")));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(p);
    }
    Prompts back;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      back = (Prompts) in.readObject();
    }
    assertThat(back.toJson()).isEqualTo(p.toJson());
    assertThat(back.digest()).isEqualTo(p.digest()).isNotEqualTo(Prompts.defaults().digest());
    assertThat(back.generationMessages(SEED)).isEqualTo(p.generationMessages(SEED));
  }

  private static Passage byId(String id) {
    return CANDIDATES.stream().filter(p -> p.id().equals(id)).findFirst().orElseThrow();
  }
}
