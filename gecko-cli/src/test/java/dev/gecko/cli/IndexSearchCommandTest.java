package dev.gecko.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.core.index.FlatIndex;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IndexSearchCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  record Run(int code, String out, String err) {}

  static Run gecko(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = GeckoCli.run(args, new PrintWriter(out), new PrintWriter(err));
    return new Run(code, out.toString(), err.toString());
  }

  static final List<String> CORPUS = List.of(
      "{\"id\": \"rust\", \"title\": \"Ownership\", \"text\": \"Rust's borrow checker enforces ownership rules so that references never outlive the data they point to.\"}",
      "{\"id\": \"bread\", \"title\": \"Sourdough\", \"text\": \"Feed the sourdough starter with flour and water, then let the dough rise overnight before baking.\"}",
      "{\"_id\": \"tides\", \"text\": \"Ocean tides are caused mainly by the gravitational pull of the Moon on the Earth's oceans.\"}",
      "{\"id\": 7, \"title\": \"Chess\", \"text\": \"In chess, castling moves the king two squares towards a rook and puts the rook beside it.\"}",
      "",
      "{\"id\": \"jvm\", \"title\": \"Garbage collection\", \"text\": \"The JVM's garbage collector reclaims memory of objects that are no longer reachable.\"}",
      "{\"id\": \"bees\", \"title\": \"Pollination\", \"text\": \"Bees carry pollen between flowers, which lets many plants produce fruit and seeds.\"}");

  @ParameterizedTest
  @ValueSource(strings = {"float32", "int8", "binary"})
  void indexesACorpusAndFindsTheRightDocument(String precision) throws Exception {
    Path corpus = dir.resolve("corpus.jsonl");
    Files.write(corpus, CORPUS);
    Path out = dir.resolve("idx");
    Run r = gecko("index", "--corpus", corpus.toString(), "--out", out.toString(), "--dims", "256", "--precision",
        precision);
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).isEmpty(); // data output only; progress goes to stderr
    assertThat(r.err()).contains("gecko: indexing: 6/6 docs (100%)").doesNotContain("\r");
    JsonNode manifest = JSON.readTree(out.resolve("index.json").toFile());
    assertThat(manifest.get("dims").asInt()).isEqualTo(256);
    assertThat(manifest.get("precision").asText()).isEqualTo(precision);
    assertThat(manifest.get("count").asInt()).isEqualTo(6);
    assertThat(manifest.get("model").asText()).isEqualTo("bge-small-en-v1.5-int8");
    assertThat(FlatIndex.load(out.resolve("vectors.gkfx")).precision()).isEqualTo(FlatIndex.Precision.parse(precision));

    Run s = gecko("search", "--index", out.toString(), "--k", "3", "how", "does", "the", "borrow", "checker", "work");
    assertThat(s.code()).as(s.err()).isZero();
    List<String> lines = s.out().lines().toList();
    assertThat(lines).hasSize(6);
    assertThat(lines.get(0)).startsWith(" 1. ").contains("rust").contains("Ownership");
    assertThat(lines.get(1)).contains("Rust's borrow checker enforces ownership");
    assertThat(lines.get(2)).startsWith(" 2. ");

    Run t = gecko("search", "--index", out.toString(), "--k", "1", "why does the sea rise and fall");
    assertThat(t.out().lines().findFirst().orElseThrow()).contains("tides").contains("(untitled)");
  }

  @Test
  void badInputIsNamedAndExitCodesFollowTheContract() throws Exception {
    Path corpus = dir.resolve("bad.jsonl");
    Files.write(corpus, List.of("{\"id\": \"a\", \"text\": \"fine\"}", "{\"id\": \"b\", \"txt\": \"typo\"}"));
    Run r = gecko("index", "--corpus", corpus.toString(), "--out", dir.resolve("x").toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("bad.jsonl:2: field 'text' must be a string (missing)");
    assertThat(gecko("index", "--corpus", corpus.toString(), "--out", "x", "--precision", "fp16").code()).isEqualTo(2);
    assertThat(gecko("search", "--index", dir.toString(), "q").err()).contains("is not a gecko index");
    assertThat(gecko("search", "--index", dir.toString(), "--k", "0", "q").code()).isEqualTo(2);
    assertThat(gecko("search", "--index", dir.toString()).code()).isEqualTo(2);
  }
}
