package dev.gecko.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.core.ModelPackage;
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
    assertThat(manifest.get("version").asInt()).isEqualTo(2);
    assertThat(manifest.get("modelName").asText()).isEqualTo("bge-small-en-v1.5-int8");
    assertThat(manifest.get("modelFingerprint").asText())
        .isEqualTo(ModelPackage.builtIn("bge-small-en-v1.5-int8").fingerprint()).matches("[0-9a-f]{64}");
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

  /**
   * Corpus text is untrusted: a title or passage holding a terminal escape sequence (clear the
   * screen, set the clipboard) is printed with its control characters as U+XXXX in the readable
   * output, and kept as text, escaped, in the JSON output.
   */
  @Test
  void controlCharactersInTheCorpusNeverReachTheTerminal() throws Exception {
    Path corpus = dir.resolve("hostile.jsonl");
    Files.write(corpus, List.of(
        "{\"id\": \"esc\\u001b[31m\", \"title\": \"Tides\\u001b[2J\\nnew line\", \"text\": \"Ocean tides follow the Moon."
            + "\\u001b]52;c;cGF5bG9hZA==\\u0007 \\u009b6n\"}",
        "{\"id\": \"bees\", \"text\": \"Bees carry pollen between flowers.\"}"));
    Path out = dir.resolve("hostile-idx");
    Run r = gecko("index", "--corpus", corpus.toString(), "--out", out.toString(), "--dims", "64", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    Run s = gecko("search", "--index", out.toString(), "--k", "1", "what makes the tides");
    assertThat(s.code()).as(s.err()).isZero();
    assertThat(s.out()).doesNotContain("\u001b").doesNotContain("\u0007").doesNotContain("\u009b")
        .contains("escU+001B[31m").contains("TidesU+001B[2J new line").contains("U+001B]52;c;cGF5bG9hZA==U+0007 U+009B6n");
    assertThat(s.out().lines()).hasSize(2);
    Run j = gecko("search", "--index", out.toString(), "--k", "1", "--json", "what makes the tides");
    assertThat(JSON.readTree(j.out()).get("title").asText()).isEqualTo("Tides\u001b[2J\nnew line");
    assertThat(JSON.readTree(j.out()).get("snippet").asText()).contains("\u009b6n");
    // the JSON is the same text to a reader, and safe on a terminal: C1 controls escaped too
    assertThat(j.out()).doesNotContain("\u001b").doesNotContain("\u009b").doesNotContain("\u0007")
        .contains("\\u009B6n").contains("\\u001B[2J");
    // an error message quoting corpus text (a duplicate id) is as safe on standard error
    Path dup = dir.resolve("dup.jsonl");
    Files.write(dup, List.of("{\"id\": \"x\\u001b[2J\", \"text\": \"a\"}", "{\"id\": \"x\\u001b[2J\", \"text\": \"b\"}"));
    Run e = gecko("index", "--corpus", dup.toString(), "--out", dir.resolve("dup-idx").toString(), "--dims", "64");
    assertThat(e.code()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(e.err()).contains("duplicate id 'xU+001B[2J'").doesNotContain("\u001b");
    // with -v the stack trace repeats the message: as safe
    Run v = gecko("index", "-v", "--corpus", dup.toString(), "--out", dir.resolve("dup-idx").toString(), "--dims", "64");
    assertThat(v.code()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(v.err()).contains("\tat dev.gecko.").contains("xU+001B[2J").doesNotContain("\u001b");
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
    Run missing = gecko("search", "--index", dir.resolve("no-index").toString(), "q");
    assertThat(missing.code()).isEqualTo(1); // a missing input, as --corpus or --data in the other commands
    assertThat(missing.err()).contains("--index: folder not found");
  }

  /** Indexes {@link #CORPUS} into {@code dir/idx} (float32, 64 dims) with the given extra options. */
  private Path indexed(String... extra) throws Exception {
    Path corpus = dir.resolve("corpus.jsonl");
    Files.write(corpus, CORPUS);
    Path out = dir.resolve("idx");
    List<String> args = new java.util.ArrayList<>(List.of("index", "--corpus", corpus.toString(), "--out",
        out.toString(), "--dims", "64", "--threads", "1"));
    args.addAll(List.of(extra));
    Run r = gecko(args.toArray(String[]::new));
    assertThat(r.code()).as(r.err()).isZero();
    return out;
  }

  private static void edit(Path index, String field, Object value) throws Exception {
    com.fasterxml.jackson.databind.node.ObjectNode m =
        (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(index.resolve("index.json").toFile());
    m.set(field, JSON.valueToTree(value));
    Files.writeString(index.resolve("index.json"), JSON.writeValueAsString(m));
  }

  @Test
  void searchJsonPrintsOneObjectPerHit() throws Exception {
    Path idx = indexed();
    Run s = gecko("search", "--index", idx.toString(), "--k", "3", "--json", "--threads", "1", "how", "does", "the",
        "borrow", "checker", "work");
    assertThat(s.code()).as(s.err()).isZero();
    List<String> lines = s.out().lines().toList();
    assertThat(lines).hasSize(3);
    float previous = Float.POSITIVE_INFINITY;
    for (int i = 0; i < lines.size(); i++) {
      JsonNode hit = JSON.readTree(lines.get(i));
      assertThat(hit.fieldNames()).toIterable().containsExactly("rank", "score", "id", "title", "snippet");
      assertThat(hit.get("rank").asInt()).isEqualTo(i + 1);
      float score = (float) hit.get("score").asDouble();
      assertThat(score).isLessThanOrEqualTo(previous).isBetween(-1f, 1f);
      previous = score;
    }
    JsonNode best = JSON.readTree(lines.get(0));
    assertThat(best.get("id").asText()).isEqualTo("rust");
    assertThat(best.get("title").asText()).isEqualTo("Ownership");
    assertThat(best.get("snippet").asText()).startsWith("Rust's borrow checker enforces ownership");
    // the same hits, in the same order, as the readable list
    Run readable = gecko("search", "--index", idx.toString(), "--k", "3", "--threads", "1", "how", "does", "the",
        "borrow", "checker", "work");
    List<String> ids = lines.stream().map(l -> {
      try {
        return JSON.readTree(l).get("id").asText();
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }).toList();
    List<String> readableLines = readable.out().lines().toList();
    for (int i = 0; i < 3; i++) {
      assertThat(readableLines.get(2 * i)).contains(ids.get(i));
    }
    // an untitled document has an empty title, not the readable list's placeholder
    Run tides = gecko("search", "--index", idx.toString(), "--k", "1", "--json", "--threads", "1",
        "why does the sea rise and fall");
    JsonNode t = JSON.readTree(tides.out().lines().findFirst().orElseThrow());
    assertThat(t.get("id").asText()).isEqualTo("tides");
    assertThat(t.get("title").asText()).isEmpty();
  }

  @Test
  void aQueriesFileIsSearchedInOneRunWithTheSameHitsAsOneQueryAtATime() throws Exception {
    Path idx = indexed();
    Path queries = dir.resolve("queries.jsonl");
    Files.write(queries, List.of(
        "{\"_id\": \"q-rust\", \"text\": \"how does the borrow checker work\", \"metadata\": {}}",
        "",
        "{\"id\": 2, \"text\": \"why does the sea rise and fall\"}",
        "{\"text\": \"what makes dough rise\"}"));
    Run s = gecko("search", "--index", idx.toString(), "--queries", queries.toString(), "--k", "2", "--json",
        "--threads", "1");
    assertThat(s.code()).as(s.err()).isZero();
    List<JsonNode> lines = s.out().lines().map(l -> {
      try {
        return JSON.readTree(l);
      } catch (Exception e) {
        throw new AssertionError(l, e);
      }
    }).toList();
    assertThat(lines).hasSize(6);
    assertThat(lines.get(0).fieldNames()).toIterable()
        .containsExactly("query", "rank", "score", "id", "title", "snippet");
    assertThat(lines).extracting(l -> l.get("query").asText())
        .containsExactly("q-rust", "q-rust", "2", "2", "4", "4"); // ids as the corpus rule gives them
    assertThat(lines).extracting(l -> l.get("rank").asInt()).containsExactly(1, 2, 1, 2, 1, 2);
    assertThat(lines.get(0).get("id").asText()).isEqualTo("rust");
    assertThat(lines.get(2).get("id").asText()).isEqualTo("tides");
    assertThat(lines.get(4).get("id").asText()).isEqualTo("bread");
    // each query's hits are those of a single-query search; the default model is int8, whose vectors
    // depend on the batch (docs/embedding.md), so a batched query's scores match to about 1e-2
    String[] texts = {"how does the borrow checker work", "why does the sea rise and fall", "what makes dough rise"};
    for (int q = 0; q < texts.length; q++) {
      Run one = gecko("search", "--index", idx.toString(), "--k", "2", "--json", "--threads", "1", texts[q]);
      List<String> single = one.out().lines().toList();
      for (int r = 0; r < 2; r++) {
        JsonNode expected = JSON.readTree(single.get(r));
        JsonNode got = lines.get(2 * q + r).deepCopy();
        ((com.fasterxml.jackson.databind.node.ObjectNode) got).remove("query");
        assertThat(got.get("id")).isEqualTo(expected.get("id"));
        assertThat(got.get("score").floatValue()).isCloseTo(expected.get("score").floatValue(),
            org.assertj.core.api.Assertions.within(0.02f));
      }
    }
    // the readable form heads each list with its query
    Run readable = gecko("search", "--index", idx.toString(), "--queries", queries.toString(), "--k", "1",
        "--threads", "1");
    assertThat(readable.code()).as(readable.err()).isZero();
    assertThat(readable.out().lines().toList()).hasSize(3 * 3 + 2)
        .startsWith("query q-rust: how does the borrow checker work");
    assertThat(readable.out()).contains("query 2: why does the sea rise and fall")
        .contains("query 4: what makes dough rise");
  }

  @Test
  void aQueriesFileAndAQueryAreExclusiveAndBadQueriesAreNamed() throws Exception {
    Path idx = indexed();
    Path queries = dir.resolve("queries.jsonl");
    Files.write(queries, List.of("{\"_id\": \"a\", \"text\": \"fine\"}", "{\"_id\": \"b\", \"query\": \"typo\"}"));
    Run both = gecko("search", "--index", idx.toString(), "--queries", queries.toString(), "rust");
    assertThat(both.code()).isEqualTo(2);
    assertThat(both.err()).contains("either a QUERY or --queries");
    Run neither = gecko("search", "--index", idx.toString());
    assertThat(neither.code()).isEqualTo(2);
    assertThat(neither.err()).contains("give a QUERY, or --queries FILE");
    Run bad = gecko("search", "--index", idx.toString(), "--queries", queries.toString());
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.err()).contains("queries.jsonl:2: field 'text' must be a string");
    assertThat(bad.out()).isEmpty();
    Files.write(queries, List.of("", " "));
    Run empty = gecko("search", "--index", idx.toString(), "--queries", queries.toString());
    assertThat(empty.code()).isEqualTo(1);
    assertThat(empty.err()).contains("queries.jsonl: holds no queries");
    Run missing = gecko("search", "--index", idx.toString(), "--queries", dir.resolve("nope.jsonl").toString());
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.err()).contains("--queries").contains("nope.jsonl");
  }

  @Test
  void aManifestThatDisagreesWithItsFilesIsRefused() throws Exception {
    Path idx = indexed();
    byte[] good = Files.readAllBytes(idx.resolve("index.json"));
    Object[][] lies = {
      {"count", 5, "count 5 but the vectors file holds 6 vectors"},
      {"precision", "int8", "precision int8 but the vectors are float32"},
      {"metric", "cosine", "metric cosine but the vectors are scored by dot"},
      {"dims", 128, "dims 128 but the vectors have 64"},
      {"count", "6", "field \"count\" must be an integer"},
      {"dims", 64.5, "field \"dims\" must be an integer"},
      {"modelName", 7, "field \"modelName\" must be a non-empty string"},
      {"modelFingerprint", " ", "field \"modelFingerprint\" must be a non-empty string"},
      {"version", 1, "re-create it with gecko index"},
    };
    for (Object[] lie : lies) {
      edit(idx, (String) lie[0], lie[1]);
      Run s = gecko("search", "--index", idx.toString(), "q");
      assertThat(s.code()).as("%s: %s", lie[0], s.err()).isEqualTo(1);
      assertThat(s.err()).contains(idx.resolve("index.json").toString()).contains((String) lie[2]);
      Files.write(idx.resolve("index.json"), good);
    }
    // a damaged vectors file: refused, naming it
    Path vectors = idx.resolve("vectors.gkfx");
    byte[] bytes = Files.readAllBytes(vectors);
    bytes[bytes.length / 2] ^= 0x10;
    Files.write(vectors, bytes);
    Run damaged = gecko("search", "--index", idx.toString(), "q");
    assertThat(damaged.code()).isEqualTo(1);
    assertThat(damaged.err()).contains(vectors.toString()).contains("checksum");
  }

  @Test
  void manifestPathsMustStayInsideTheIndexFolder() throws Exception {
    Path idx = indexed();
    Path outside = Files.createDirectories(dir.resolve("outside"));
    // a complete, consistent docs file outside the folder: only where it lies is wrong
    Files.move(idx.resolve("docs.jsonl"), outside.resolve("docs.jsonl"));
    for (String path : List.of("../outside/docs.jsonl", outside.resolve("docs.jsonl").toString())) {
      edit(idx, "docs", path);
      Run s = gecko("search", "--index", idx.toString(), "q");
      assertThat(s.code()).as(path).isEqualTo(1);
      assertThat(s.err()).contains("index.json: field \"docs\" must name a file inside the index folder, was " + path);
    }
    edit(idx, "docs", "docs.jsonl");
    Files.createSymbolicLink(idx.resolve("docs.jsonl"), outside.resolve("docs.jsonl"));
    Run linked = gecko("search", "--index", idx.toString(), "q");
    assertThat(linked.code()).isEqualTo(1);
    assertThat(linked.err()).contains("field \"docs\" must name a file inside the index folder")
        .contains("is a link to");
    Files.move(idx.resolve("vectors.gkfx"), outside.resolve("vectors.gkfx"));
    edit(idx, "vectors", "../outside/vectors.gkfx");
    assertThat(gecko("search", "--index", idx.toString(), "q").err())
        .contains("field \"vectors\" must name a file inside the index folder");
  }

  @Test
  void anIndexIsSearchedOnlyWithTheModelThatMadeIt() throws Exception {
    // a model folder: the default model's files under a manifest
    Path model = Files.createDirectories(dir.resolve("model"));
    for (String[] f : new String[][] {{"gecko-models/bge-small-en-v1.5-q.onnx", "model.onnx"},
        {"gecko-models/bge-small-en-v1.5-q-tokenizer.json", "tokenizer.json"}}) {
      try (java.io.InputStream in = getClass().getClassLoader().getResourceAsStream(f[0])) {
        Files.copy(in, model.resolve(f[1]));
      }
    }
    Files.writeString(model.resolve("gecko-model.json"),
        "{\"name\": \"my-bge\", \"pooling\": \"cls\", \"maxTokens\": 512}");
    // given relative to the working folder, recorded absolute: gecko search finds it from anywhere
    Path idx = indexed("--model", Path.of("").toAbsolutePath().relativize(model).toString());
    JsonNode manifest = JSON.readTree(idx.resolve("index.json").toFile());
    assertThat(manifest.get("model").asText()).isEqualTo(model.toString());
    assertThat(manifest.get("modelName").asText()).isEqualTo("my-bge");
    assertThat(manifest.get("modelFingerprint").asText()).matches("[0-9a-f]{64}");
    Run ok = gecko("search", "--index", idx.toString(), "--k", "1", "--threads", "1", "borrow checker");
    assertThat(ok.code()).as(ok.err()).isZero();
    // the folder's tokenizer changed since: other vectors
    Files.writeString(model.resolve("tokenizer.json"), " ", java.nio.file.StandardOpenOption.APPEND);
    Run changed = gecko("search", "--index", idx.toString(), "q");
    assertThat(changed.code()).isEqualTo(1);
    assertThat(changed.err()).contains(idx.resolve("index.json").toString())
        .contains("the vectors were made with model my-bge (" + manifest.get("modelFingerprint").asText() + ")")
        .contains("\"model\" '" + model + "' is now my-bge (")
        .contains("re-create the index");
    // another model named in index.json
    edit(idx, "model", "all-MiniLM-L6-v2-int8");
    Run other = gecko("search", "--index", idx.toString(), "q");
    assertThat(other.code()).isEqualTo(1);
    assertThat(other.err()).contains("\"model\" 'all-MiniLM-L6-v2-int8' is now all-MiniLM-L6-v2-int8"
        + " (" + ModelPackage.builtIn("all-MiniLM-L6-v2-int8").fingerprint() + ")");
    // a model that is not there at all: the manifest field is named (not a --model usage error)
    edit(idx, "model", dir.resolve("gone").toString());
    Run gone = gecko("search", "--index", idx.toString(), "q");
    assertThat(gone.code()).isEqualTo(1);
    assertThat(gone.err()).contains("index.json: field \"model\": unknown model");
  }

  @Test
  void anOutputThatIsAFileIsRefusedBeforeTheCorpusIsEmbedded() throws Exception {
    Path corpus = Files.write(dir.resolve("corpus.jsonl"), CORPUS);
    Path readme = Files.writeString(dir.resolve("README.md"), "# mine\n");
    Run r = gecko("index", "--corpus", corpus.toString(), "--out", readme.toString(), "--dims", "64", "--threads", "1");
    assertThat(r.code()).as(r.err()).isEqualTo(GeckoCli.EXIT_USAGE); // as train and finetune: an output that is a file
    assertThat(r.err()).contains("--out: " + readme + ": the output folder is a file").doesNotContain("indexing");
    assertThat(Files.readString(readme)).isEqualTo("# mine\n");
    // checked before the corpus is read: a bad corpus is not what is reported
    Path bad = Files.writeString(dir.resolve("bad.jsonl"), "not json\n");
    Run first = gecko("index", "--corpus", bad.toString(), "--out", readme.toString());
    assertThat(first.code()).as(first.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(first.err()).contains("the output folder is a file").doesNotContain("bad.jsonl");
  }

  @Test
  void anOverwriteThatFailsBeforeItsFilesAreWrittenLeavesTheOldIndexUsable() throws Exception {
    Path idx = indexed();
    String manifest = Files.readString(idx.resolve("index.json"));
    // the next run cannot write its new docs file (a folder holds the hidden name it writes to first)
    Files.writeString(Files.createDirectories(idx.resolve(".docs.jsonl.next")).resolve("keep"), "x");
    Path two = Files.write(dir.resolve("two.jsonl"), CORPUS.subList(0, 2));
    Run r = gecko("index", "--corpus", two.toString(), "--out", idx.toString(), "--dims", "64", "--threads", "1");
    assertThat(r.code()).as(r.err()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(r.err()).contains(".docs.jsonl.next");
    assertThat(idx.resolve("index.json")).hasContent(manifest.strip());
    assertThat(idx.resolve(".vectors.gkfx.next")).doesNotExist(); // cleaned up
    Run s = gecko("search", "--index", idx.toString(), "--json", "tides");
    assertThat(s.code()).as(s.err()).isZero();
    assertThat(s.out().lines()).hasSize(6);
  }

  @Test
  void indexRefusesAFolderOfOtherFilesAndACorpusItWouldOverwrite() throws Exception {
    Path corpus = Files.write(dir.resolve("corpus.jsonl"), CORPUS);
    Path project = Files.createDirectories(dir.resolve("project"));
    Files.writeString(project.resolve("notes.txt"), "mine");
    Files.writeString(project.resolve("docs.jsonl"), "{\"text\": \"my own docs\"}\n");
    Run r = gecko("index", "--corpus", corpus.toString(), "--out", project.toString(), "--dims", "64");
    assertThat(r.code()).as(r.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(r.err()).contains("--out: " + project + " is not empty (docs.jsonl, notes.txt) and holds no gecko"
        + " index's index.json");
    // an index.json of another program does not make the folder an index
    Files.writeString(project.resolve("index.json"), "{\"pages\": 3}");
    Run other = gecko("index", "--corpus", corpus.toString(), "--out", project.toString(), "--dims", "64");
    assertThat(other.code()).as(other.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(project.resolve("index.json")).hasContent("{\"pages\": 3}");
    Files.delete(project.resolve("index.json"));
    // a folder of a docs.jsonl alone is not an unfinished index either (one has its vectors file)
    Files.delete(project.resolve("notes.txt"));
    Run alone = gecko("index", "--corpus", corpus.toString(), "--out", project.toString(), "--dims", "64");
    assertThat(alone.code()).as(alone.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(alone.err()).contains("is not empty (docs.jsonl) and holds no gecko index's index.json");
    assertThat(project.resolve("docs.jsonl")).hasContent("{\"text\": \"my own docs\"}");
    assertThat(project.resolve("vectors.gkfx")).doesNotExist();

    // an index folder is replaced, but not from its own docs file, which it would write over
    Path idx = indexed();
    Run own = gecko("index", "--corpus", idx.resolve("docs.jsonl").toString(), "--out", idx.toString());
    assertThat(own.code()).as(own.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(own.err()).contains("--corpus: " + idx.resolve("docs.jsonl") + " is the index's own docs.jsonl");

    // a corpus with no passages indexes nothing: a failure naming the file
    Path empty = Files.writeString(dir.resolve("empty.jsonl"), "\n");
    Path fresh = dir.resolve("fresh");
    Run none = gecko("index", "--corpus", empty.toString(), "--out", fresh.toString(), "--dims", "64");
    assertThat(none.code()).as(none.err()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(none.err()).isEqualTo("gecko: error: " + empty + ": holds no passages\n");
    assertThat(fresh.resolve("index.json")).doesNotExist();

    // --dims out of range is refused before the corpus is read: its bad first line is not reached
    Path badCorpus = Files.writeString(dir.resolve("bad.jsonl"), "{\"title\": \"no text\"}\n");
    Run wide = gecko("index", "--corpus", badCorpus.toString(), "--out", fresh.toString(), "--dims", "999");
    assertThat(wide.code()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(wide.err()).isEqualTo("gecko: error: --dims must be in [1, 384], was 999\n");
  }

  @Test
  void searchStopsWithExitOneWhenStandardOutputIsClosed() throws Exception {
    Path idx = indexed();
    EmbedCommandTest.ClosingPipe pipe = new EmbedCommandTest.ClosingPipe();
    java.io.StringWriter err = new java.io.StringWriter();
    int code = GeckoCli.run(new String[] {"search", "--index", idx.toString(), "--json", "tides"},
        new java.io.PrintWriter(pipe, true), new java.io.PrintWriter(err));
    assertThat(code).as(err.toString()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(pipe.refused).isPositive();
    assertThat(err.toString()).contains("gecko: error: standard output closed").doesNotContain("Exception");
  }

  @Test
  void overwritingAnIndexRemovesItsManifestFirstSoAStoppedRunLeavesAnUnfinishedIndex() throws Exception {
    Path idx = indexed();
    assertThat(gecko("search", "--index", idx.toString(), "tides").code()).isZero();
    // the next run stops part-way: its docs file cannot be written (a folder holds the name)
    Files.delete(idx.resolve("docs.jsonl"));
    Files.writeString(Files.createDirectories(idx.resolve("docs.jsonl")).resolve("keep"), "x");
    Path two = Files.write(dir.resolve("two.jsonl"), CORPUS.subList(0, 2));
    Run r = gecko("index", "--corpus", two.toString(), "--out", idx.toString(), "--dims", "64", "--threads", "1");
    assertThat(r.code()).as(r.err()).isEqualTo(GeckoCli.EXIT_FAILURE);
    // the old manifest is gone: it would describe 6 vectors over a file of 2
    assertThat(idx.resolve("index.json")).doesNotExist();
    Run s = gecko("search", "--index", idx.toString(), "tides");
    assertThat(s.code()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(s.err()).contains(idx + " is not a gecko index (no index.json; create one with gecko index)");
    // a finished overwrite writes the manifest again, last
    Files.delete(idx.resolve("docs.jsonl/keep"));
    Files.delete(idx.resolve("docs.jsonl"));
    Run again = gecko("index", "--corpus", two.toString(), "--out", idx.toString(), "--dims", "64", "--threads", "1");
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(JSON.readTree(idx.resolve("index.json").toFile()).get("count").asInt()).isEqualTo(2);
    assertThat(gecko("search", "--index", idx.toString(), "--json", "ownership").out().lines()).hasSize(2);
  }

  @Test
  void aManifestThatCannotBeReadIsNotCalledInvalidJson() throws Exception {
    Path idx = indexed();
    // a manifest whose read fails with an I/O error (reading /proc/self/mem at offset 0 always does,
    // even as root, whom permissions would not stop)
    Path mem = Path.of("/proc/self/mem");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(mem), "needs Linux's /proc/self/mem");
    Files.delete(idx.resolve("index.json"));
    Files.createSymbolicLink(idx.resolve("index.json"), mem);
    Run s = gecko("search", "--index", idx.toString(), "tides");
    assertThat(s.code()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(s.err()).contains(idx.resolve("index.json") + ": cannot be read: ").doesNotContain("not valid JSON")
        .doesNotContain("Exception");
    // while a file that is not JSON still says so
    Files.delete(idx.resolve("index.json"));
    Files.writeString(idx.resolve("index.json"), "{not json");
    Run t = gecko("search", "--index", idx.toString(), "tides");
    assertThat(t.code()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(t.err()).contains(idx.resolve("index.json") + ": not valid JSON");
  }
}
