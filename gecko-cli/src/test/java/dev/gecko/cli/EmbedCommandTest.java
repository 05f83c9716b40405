package dev.gecko.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.TaskType;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbedCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  record Run(int code, String out, String err) {}

  static Run gecko(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = GeckoCli.run(args, new PrintWriter(out), new PrintWriter(err));
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void embedsArgumentsInOrderAsJsonLinesMatchingTheLibrary() throws Exception {
    Run r = gecko("embed", "--dims", "16", "first text", "second text");
    assertThat(r.code()).as(r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(2);
    try (GeckoEmbedder e = GeckoEmbedder.createDefault()) {
      List<float[]> expected = e.embedAll(List.of("first text", "second text"), 16);
      for (int i = 0; i < 2; i++) {
        JsonNode n = JSON.readTree(lines.get(i));
        assertThat(n.has("id")).isFalse();
        assertThat(n.get("embedding")).hasSize(16);
        for (int d = 0; d < 16; d++) {
          assertThat((float) n.get("embedding").get(d).asDouble()).isEqualTo(expected.get(i)[d]);
        }
      }
    }
  }

  @Test
  void jsonlInputKeepsIdsAndUsesTitlesAndTask(@TempDir Path dir) throws Exception {
    Path in = dir.resolve("in.jsonl");
    Files.writeString(in, "{\"id\": \"a\", \"text\": \"rust ownership\", \"title\": \"Rust\"}\n\n{\"id\": 2, \"text\": \"borrowing\"}\n");
    Run r = gecko("embed", "--input", in.toString(), "--task", "RETRIEVAL_DOCUMENT", "--dims", "8");
    assertThat(r.code()).as(r.err()).isZero();
    List<JsonNode> rows = r.out().lines().map(l -> {
      try {
        return JSON.readTree(l);
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }).toList();
    assertThat(rows).hasSize(2);
    assertThat(rows.get(0).get("id").asText()).isEqualTo("a");
    assertThat(rows.get(1).get("id").asInt()).isEqualTo(2);
    try (GeckoEmbedder e = GeckoEmbedder.createDefault()) {
      // the same batch as the CLI's (the int8 model's vectors depend on batch composition)
      List<float[]> expected = e.embedRequests(List.of(
          new EmbedRequest("rust ownership", TaskType.RETRIEVAL_DOCUMENT, "Rust"),
          new EmbedRequest("borrowing", TaskType.RETRIEVAL_DOCUMENT, null)), 8);
      for (int i = 0; i < 2; i++) {
        for (int d = 0; d < 8; d++) {
          assertThat((float) rows.get(i).get("embedding").get(d).asDouble()).isEqualTo(expected.get(i)[d]);
        }
      }
    }
  }

  @Test
  void usageErrorsExitWith2AndFailuresWith1(@TempDir Path dir) throws Exception {
    assertThat(gecko("embed", "--dims", "0", "x").code()).isEqualTo(2);
    assertThat(gecko("embed", "--no-such-flag").code()).isEqualTo(2);
    assertThat(gecko("embed", "--model", "no-such-model", "x").code()).isEqualTo(2);
    assertThat(gecko().code()).isEqualTo(2);
    Path bad = dir.resolve("bad.jsonl");
    Files.writeString(bad, "{\"text\": \"ok\"}\n{\"txt\": \"typo\"}\n");
    Run r = gecko("embed", "--input", bad.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("bad.jsonl:2: field 'text' must be a string (missing)");
    assertThat(r.out()).isEmpty();
  }
}
