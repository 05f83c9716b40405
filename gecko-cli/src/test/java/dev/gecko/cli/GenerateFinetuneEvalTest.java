package dev.gecko.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.train.testing.FakeLlmServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole Gecko recipe in one process: {@code gecko generate} against a loopback fake LLM writes
 * FRet examples, {@code gecko finetune} trains the whole encoder on them (Gecko's prompt format,
 * since the examples carry tasks; an int8 twin too), and {@code gecko eval retrieval} scores the
 * trained folder on a BEIR folder built from the same run.
 */
class GenerateFinetuneEvalTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MODEL = "bge-small-en-v1.5-int8";
  private FakeLlmServer server;

  @BeforeEach
  void start() throws Exception {
    server = FakeLlmServer.start();
    GenerateCommand.environment = Map.of("OPENAI_API_KEY", "sk-e2e-SECRET");
  }

  @AfterEach
  void stop() {
    server.close();
    GenerateCommand.environment = System.getenv();
  }

  @Test
  void generatedExamplesFineTuneAModelThatEvalScores(@TempDir Path dir) throws Exception {
    // 1. distil: 12 seeds of a 22-passage corpus through the fake LLM
    Path corpus = GenerateCommandTest.corpus(dir);
    Path run = dir.resolve("run");
    GenerateCommandTest.Run g = GenerateCommandTest.gecko("generate", "--corpus", corpus.toString(), "--out",
        run.toString(), "--llm", "openai", "--base-url", server.openAiBaseUrl(), "--llm-model", "fake-llm", "--limit",
        "12", "--prompt-logprobs", "--model", MODEL, "--threads", "2", "--no-cache");
    assertThat(g.code()).as(g.err()).isZero();
    List<String> examples = Files.readAllLines(run.resolve("examples.jsonl"));
    assertThat(examples).hasSize(12);

    // 2. train on the pipeline's file as written; the last 3 examples validate
    Path train = dir.resolve("train.jsonl");
    Path validation = dir.resolve("validation.jsonl");
    Files.write(train, examples.subList(0, 9));
    Files.write(validation, examples.subList(9, 12));
    Path model = dir.resolve("trained");
    Path cacheFile = Files.writeString(dir.resolve("cache-is-a-file"), "mine");
    EmbedCommandTest.Run t = EmbedCommandTest.gecko("finetune", "--model", "all-MiniLM-L6-v2", "--data",
        train.toString(), "--validation", validation.toString(), "--out", model.toString(), "--dims", "384,64",
        "--dim-weights", "1,2.5", "--batch-size", "4", "--mini-batch-size", "4", "--max-length", "48", "--lr", "1e-4",
        "--quantize", "int8", "--reorder-dims", "--cache", cacheFile.toString());
    assertThat(t.code()).as(t.err()).isZero();
    // a cache that cannot be used (here by --reorder-dims, which orders the hidden coordinates by the
    // base model's vectors) costs only speed, as in gecko train and gecko eval
    assertThat(t.err()).contains("gecko: warning: cannot use the embedding cache").contains(cacheFile.toString());
    assertThat(Files.readString(cacheFile)).isEqualTo("mine");
    JsonNode summary = JSON.readTree(t.out());
    assertThat(summary.get("model").asText()).isEqualTo(model.toString());
    assertThat(summary.get("steps").asInt()).isEqualTo(3);
    // retrieval validation on 3 generated rows: nDCG@10 x 100 of each query's positive
    assertThat(summary.get("baseValidationScore").asDouble()).isBetween(0.0, 100.0);
    JsonNode manifest = JSON.readTree(model.resolve(ModelPackage.MANIFEST).toFile());
    assertThat(manifest.path("training").path("objective").asText()).isEqualTo("GECKO");
    assertThat(manifest.path("promptFormat").asText()).isEqualTo("gecko");
    assertThat(manifest.path("training").path("widths").toString()).isEqualTo("[384,64]");
    assertThat(manifest.path("training").path("widthWeights").toString()).isEqualTo("[1.0,2.5]");

    // the trained folder and its int8 twin load and embed at a Matryoshka width
    for (Path m : List.of(model, model.resolve("int8"))) {
      try (GeckoEmbedder e = GeckoEmbedder.builder().model(m.toString()).build()) {
        assertThat(e.embed("claims about school uniforms", 64)).hasSize(64);
        assertThat(e.model().render(dev.gecko.core.EmbedRequest.query("uniforms"))).startsWith("task: ");
      }
    }

    // 3. evaluate: a BEIR folder whose queries are the generated ones, relevant = their positive
    Path beir = dir.resolve("beir");
    Files.createDirectories(beir.resolve("qrels"));
    Files.copy(corpus, beir.resolve("corpus.jsonl"));
    List<String> queries = new ArrayList<>();
    List<String> qrels = new ArrayList<>(List.of("query-id\tcorpus-id\tscore"));
    for (int i = 0; i < examples.size(); i++) {
      JsonNode e = JSON.readTree(examples.get(i));
      ObjectNode q = JSON.createObjectNode().put("_id", "q" + i).put("text", e.get("anchor").asText());
      queries.add(JSON.writeValueAsString(q));
      qrels.add("q" + i + "\t" + e.get("positive_id").asText() + "\t1");
    }
    Files.write(beir.resolve("queries.jsonl"), queries, StandardCharsets.UTF_8);
    Files.write(beir.resolve("qrels/test.tsv"), qrels, StandardCharsets.UTF_8);
    Path json = dir.resolve("eval.json");
    EmbedCommandTest.Run ev = EmbedCommandTest.gecko("eval", "retrieval", "--model", model.toString(), "--data",
        beir.toString(), "--dims", "384,64", "--json", json.toString(), "--no-cache", "--threads", "2");
    assertThat(ev.code()).as(ev.err()).isZero();
    assertThat(ev.out()).contains("ndcg_at_10");
    JsonNode report = JSON.readTree(json.toFile());
    assertThat(report.get("model").asText()).contains("finetuned");
    for (String width : List.of("384", "64")) {
      double ndcg = report.path("metrics").path(width).path("ndcg_at_10").asDouble(-1);
      assertThat(ndcg).as("nDCG@10 at %s", width).isBetween(0.0, 100.0);
    }
    // the fake LLM's queries are the passages' own words: retrieval with them is easy
    assertThat(report.path("metrics").path("384").path("ndcg_at_10").asDouble()).isGreaterThan(50);
  }
}
