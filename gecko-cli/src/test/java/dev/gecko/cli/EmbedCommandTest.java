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
  void standardInputGivesOneVectorPerLineEmptyLinesIncludedWithNoTextOrADash() throws Exception {
    java.io.InputStream kept = System.in;
    try (GeckoEmbedder e = GeckoEmbedder.createDefault()) {
      List<float[]> expected = e.embedAll(List.of("one", "", "two"), 8);
      for (String[] args : new String[][] {{"embed", "--dims", "8"}, {"embed", "--dims", "8", "-"}}) {
        System.setIn(new java.io.ByteArrayInputStream("one\n\ntwo\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        Run r = gecko(args);
        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).as(String.join(" ", args)).hasSize(3);
        for (int i = 0; i < 3; i++) {
          JsonNode v = JSON.readTree(lines.get(i)).get("embedding");
          for (int d = 0; d < 8; d++) {
            assertThat((float) v.get(d).asDouble()).isEqualTo(expected.get(i)[d]);
          }
        }
      }
    } finally {
      System.setIn(kept);
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
    Path empty = Files.writeString(dir.resolve("empty.jsonl"), "\n \n"); // an empty output would pass for done
    Run none = gecko("embed", "--input", empty.toString());
    assertThat(none.code()).isEqualTo(1);
    assertThat(none.err()).isEqualTo("gecko: error: " + empty + ": holds no texts\n");
    assertThat(none.out()).isEmpty();
  }

  /**
   * Ids are corpus text: one with half a surrogate pair is written as U+FFFD (as index and search
   * read it; UTF-8 wrote '?'), and one with a C1 control is escaped in the JSON, safe on a terminal.
   */
  @Test
  void idsAreWrittenAsTheCorpusRuleReadsThemAndSafeOnATerminal(@TempDir Path dir) throws Exception {
    Path in = dir.resolve("odd-ids.jsonl");
    Files.writeString(in, "{\"id\": \"s\\ud800\", \"text\": \"a\"}\n{\"_id\": \"c\\u009b2J\", \"text\": \"b\"}\n");
    Run r = gecko("embed", "--input", in.toString(), "--dims", "4", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(2);
    assertThat(JSON.readTree(lines.get(0)).get("id").asText()).isEqualTo("s\uFFFD");
    assertThat(lines.get(1)).startsWith("{\"id\":\"c\\u009B2J\"");
    assertThat(JSON.readTree(lines.get(1)).get("id").asText()).isEqualTo("c\u009b2J");
  }

  /** Standard output as a pipe whose reader left ({@code gecko embed ... | head -1}): the first bytes go, then EPIPE. */
  /** An output stream that takes 100 bytes, then fails every write as a closed pipe does. */
  static final class ClosingPipe extends java.io.OutputStream {
    private int accepted;
    int refused;

    @Override
    public void write(int b) throws java.io.IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws java.io.IOException {
      if (accepted >= 100) {
        refused++;
        throw new java.io.IOException("Broken pipe");
      }
      accepted += len;
    }
  }

  @Test
  void aClosedStandardOutputStopsTheRunWithExitOne(@TempDir Path dir) throws Exception {
    // more texts than one chunk of output (256): the first chunk's lines meet the closed pipe
    List<String> lines = new java.util.ArrayList<>();
    for (int i = 0; i < 300; i++) {
      lines.add("{\"id\": " + i + ", \"text\": \"text number " + i + "\"}");
    }
    Path in = Files.write(dir.resolve("big.jsonl"), lines);
    ClosingPipe pipe = new ClosingPipe();
    StringWriter err = new StringWriter();
    int code = GeckoCli.run(new String[] {"embed", "--input", in.toString(), "--dims", "4", "--threads", "1"},
        new PrintWriter(pipe, true), new PrintWriter(err));
    assertThat(code).as(err.toString()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(pipe.refused).isPositive();
    assertThat(err.toString()).contains("gecko: error: standard output closed").doesNotContain("Exception")
        .doesNotContain("\tat ");
  }

  @Test
  void aModelFolderWithABadValueIsAFailureNamingItsFileNotAUsageError(@TempDir Path dir) throws Exception {
    // a sentence-transformers export whose sentence_bert_config.json holds a value the model refuses
    Path model = dir.resolve("st-model");
    extract("gecko-models/all-minilm-l6-v2-q.onnx", model.resolve("onnx/model.onnx"));
    extract("gecko-models/all-minilm-l6-v2-q-tokenizer.json", model.resolve("tokenizer.json"));
    Files.writeString(model.resolve("modules.json"),
        "[{\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": \"sentence_transformers.models.Pooling\"}]");
    Files.createDirectories(model.resolve("1_Pooling"));
    Files.writeString(model.resolve("1_Pooling/config.json"),
        "{\"word_embedding_dimension\": 384, \"pooling_mode_mean_tokens\": true}");
    Path sbert = Files.writeString(model.resolve("sentence_bert_config.json"), "{\"max_seq_length\": 1}");
    Run bad = gecko("embed", "--model", model.toString(), "--threads", "1", "hello");
    assertThat(bad.code()).as(bad.err()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(bad.err()).contains(sbert.toString()).contains("max_seq_length").doesNotContain("usage error")
        .doesNotContain("Exception");
    assertThat(bad.out()).isEmpty();
    // the same folder with a good value loads: the value was the fault
    Files.writeString(sbert, "{\"max_seq_length\": 256}");
    Run good = gecko("embed", "--model", model.toString(), "--dims", "8", "--threads", "1", "hello");
    assertThat(good.code()).as(good.err()).isZero();
    // a value that is neither a built-in name nor a folder stays a usage error
    Run unknown = gecko("embed", "--model", dir.resolve("no-such-folder").toString(), "hello");
    assertThat(unknown.code()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(unknown.err()).contains("--model: unknown model");
  }

  private static void extract(String resource, Path target) throws java.io.IOException {
    Files.createDirectories(target.getParent());
    try (java.io.InputStream in = EmbedCommandTest.class.getClassLoader().getResourceAsStream(resource)) {
      assertThat(in).as(resource).isNotNull();
      Files.copy(in, target);
    }
  }
}
