package dev.gecko.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
  @TempDir
  Path tmp;

  @Test
  void readsPairsTsvAndTheOriginalStsBenchmarkCsvAlike() throws IOException {
    StsDataset tsv = StsDataset.read(Fixtures.sts("stsbenchmark/pairs.test.tsv"));
    StsDataset csv = StsDataset.read(Fixtures.sts("stsbenchmark/sts-test.csv"));
    assertThat(tsv.pairs()).hasSize(1379);
    assertThat(csv.pairs()).isEqualTo(tsv.pairs());
    assertThat(tsv.name()).isEqualTo("stsbenchmark/pairs.test.tsv");
    assertThat(tsv.pairs().get(0))
        .isEqualTo(new StsDataset.Pair("A girl is styling her hair.", "A girl is brushing her hair.", 2.5));
    // rows 626.. of sts-test.csv carry extra trailing columns
    List<String> raw = Files.readAllLines(Fixtures.sts("stsbenchmark/sts-test.csv"));
    assertThat(raw.get(625).split("\t")).hasSizeGreaterThan(7);
    assertThat(csv.pairs().get(625).sentence2()).isEqualTo(raw.get(625).split("\t")[6]);
    assertThat(StsDataset.read(Fixtures.sts("sick/pairs.test.tsv")).pairs()).hasSize(9927);
  }

  @Test
  void badStsLinesNameFileAndLine() {
    Path bad = tmp.resolve("bad.tsv");
    Fixtures.write(bad, "subset\tsentence1\tsentence2\tscore\nx\ta\tb\t1.0\nx\ta\tb\tfive\n");
    assertThatThrownBy(() -> StsDataset.read(bad)).isInstanceOf(dev.gecko.core.InvalidDataException.class)
        .hasMessageContaining(bad + ":3: score is not a number: 'five'");
    Fixtures.write(bad, "subset\tsentence1\tsentence2\tscore\nx\ta\tb\n");
    assertThatThrownBy(() -> StsDataset.read(bad)).hasMessageContaining(bad + ":2: expected 4 tab-separated fields");
    Path csv = tmp.resolve("sts.csv");
    Fixtures.write(csv, "g\tf\t2012\t1\t2.5\ta\tb\ng\tf\t2012\t2\t1.0\ta, b\n");
    assertThatThrownBy(() -> StsDataset.read(csv)).hasMessageContaining(csv + ":2: expected a pairs TSV header");
  }

  @Test
  void constantGoldScoresAreRefusedNamingTheFileAsGiven() {
    Path constant = tmp.resolve("constant.tsv");
    Fixtures.write(constant, "subset\tsentence1\tsentence2\tscore\nx\ta\tb\t3.0\nx\tc\td\t3\n");
    // the path as the caller gave it (here relative to the working folder), not the data set's label
    Path given = Path.of("").toAbsolutePath().relativize(constant);
    assertThatThrownBy(() -> StsDataset.read(given)).isInstanceOf(dev.gecko.core.InvalidDataException.class)
        .hasMessage(given + ": all 2 gold scores are 3.0: a correlation with constant scores is undefined");
  }

  @Test
  void readsBeirFolderWithGzippedCorpusAndKeepsOnlyJudgedQueries() throws IOException {
    Path dir = Fixtures.arguanaSlice(tmp.resolve("arguana"), 5, 3);
    BeirDataset d = BeirDataset.read(dir);
    assertThat(d.name()).isEqualTo("arguana");
    assertThat(d.queries()).hasSize(5);
    assertThat(d.qrels()).hasSize(5);
    assertThat(d.corpus()).hasSize(13);
    assertThat(d.corpus()).allSatisfy(doc -> assertThat(doc.text()).isNotEmpty());
    assertThat(d.queries().get(0).id()).isEqualTo(d.qrels().keySet().iterator().next());
  }

  @Test
  void aDatasetBuiltInCodeRefusesAnIdGivenTwice() {
    List<dev.gecko.core.io.Passage> docs = List.of(new dev.gecko.core.io.Passage("d1", "", "one"),
        new dev.gecko.core.io.Passage("d1", "", "two"));
    List<BeirDataset.Query> queries = List.of(new BeirDataset.Query("q1", "which"));
    java.util.Map<String, java.util.Map<String, Integer>> qrels = java.util.Map.of("q1", java.util.Map.of("d1", 1));
    assertThatThrownBy(() -> new BeirDataset("mine", docs, queries, qrels))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("mine: document id 'd1' is given twice");
    assertThatThrownBy(() -> new BeirDataset("mine", docs.subList(0, 1),
        List.of(queries.get(0), new BeirDataset.Query("q1", "again")), qrels))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("mine: query id 'q1' is given twice");
  }

  @Test
  void readsTheFullArguAnaAsMtebDoes() throws IOException {
    BeirDataset d = BeirDataset.read(Fixtures.shared().resolve("data/beir/arguana"));
    assertThat(d.corpus()).hasSize(8674);
    assertThat(d.queries()).hasSize(1406);
    long missing = d.qrels().values().stream().flatMap(m -> m.keySet().stream())
        .filter(id -> d.corpus().stream().noneMatch(doc -> doc.id().equals(id))).count();
    assertThat(missing).isEqualTo(5);
  }

  @Test
  void badBeirFilesNameFileLineAndField() throws IOException {
    Path dir = tmp.resolve("beir");
    Files.createDirectories(dir.resolve("qrels"));
    Fixtures.write(dir.resolve("corpus.jsonl"), "{\"_id\":\"d1\",\"text\":\"x\"}\n{\"_id\":\"d2\",\"title\":\"t\"}\n");
    Fixtures.write(dir.resolve("queries.jsonl"), "{\"_id\":\"q1\",\"text\":\"y\"}\n");
    Fixtures.write(dir.resolve("qrels/test.tsv"), "query-id\tcorpus-id\tscore\nq1\td1\t1\n");
    assertThatThrownBy(() -> BeirDataset.read(dir))
        .hasMessageContaining("corpus.jsonl:2: field 'text' must be a string (missing)");
    Fixtures.write(dir.resolve("corpus.jsonl"), "{\"_id\":\"d1\",\"text\":\"x\"}\n{oops\n");
    assertThatThrownBy(() -> BeirDataset.read(dir)).hasMessageContaining("corpus.jsonl:2: not valid JSON");
    Fixtures.write(dir.resolve("corpus.jsonl"), "{\"_id\":\"d1\",\"text\":\"x\"}\n");
    Fixtures.write(dir.resolve("qrels/test.tsv"), "query-id\tcorpus-id\tscore\nq1\td1\tyes\n");
    assertThatThrownBy(() -> BeirDataset.read(dir)).hasMessageContaining("test.tsv:2: score is not an integer");
    Fixtures.write(dir.resolve("qrels/test.tsv"), "q1\td1\t1\nq2\td1\t1\n");
    assertThatThrownBy(() -> BeirDataset.read(dir)).hasMessageContaining("test.tsv:2: query-id 'q2' is not in");
    // one pair graded twice: the same grade is harmless, another is refused with both lines
    Fixtures.write(dir.resolve("qrels/test.tsv"), "q1\td1\t1\nq1\td1\t1\n");
    assertThat(BeirDataset.read(dir).qrels().get("q1")).containsExactly(java.util.Map.entry("d1", 1));
    Fixtures.write(dir.resolve("qrels/test.tsv"), "q1\td1\t1\nq1\td1\t0\n");
    assertThatThrownBy(() -> BeirDataset.read(dir)).hasMessageContaining("test.tsv:2:")
        .hasMessageContaining("graded 0 here and 1 on line 1");
    // a line without its id would be numbered and match no qrel: refused
    Fixtures.write(dir.resolve("qrels/test.tsv"), "q1\td1\t1\n");
    Fixtures.write(dir.resolve("queries.jsonl"), "{\"text\":\"y\"}\n");
    assertThatThrownBy(() -> BeirDataset.read(dir)).hasMessageContaining("queries.jsonl:1: no '_id'");
    Fixtures.write(dir.resolve("queries.jsonl"), "{\"_id\":\"q1\",\"text\":\"y\"}\n");
    Fixtures.write(dir.resolve("corpus.jsonl"), "{\"_id\":\"d1\",\"text\":\"x\"}\n{\"text\":\"z\"}\n");
    assertThatThrownBy(() -> BeirDataset.read(dir)).hasMessageContaining("corpus.jsonl:2: no '_id'");
    // a corpus that is empty, or whose ids are none of those judged, would score 0 everywhere
    Fixtures.write(dir.resolve("corpus.jsonl"), "\n");
    assertThatThrownBy(() -> BeirDataset.read(dir)).isInstanceOf(dev.gecko.core.InvalidDataException.class)
        .hasMessage(dir.resolve("corpus.jsonl") + ": holds no documents");
    Fixtures.write(dir.resolve("corpus.jsonl"), "{\"_id\":\"doc-1\",\"text\":\"x\"}\n");
    assertThatThrownBy(() -> BeirDataset.read(dir)).isInstanceOf(dev.gecko.core.InvalidDataException.class)
        .hasMessage(dir.resolve("qrels/test.tsv") + ": none of its 1 judged documents is in " + dir.resolve("corpus.jsonl")
            + " (corpus-id 'd1' is not; do the ids match?)");
    Fixtures.write(dir.resolve("corpus.jsonl"), "{\"_id\":\"d1\",\"text\":\"x\"}\n");
    Files.delete(dir.resolve("queries.jsonl"));
    assertThatThrownBy(() -> BeirDataset.read(dir)).isInstanceOf(java.nio.file.NoSuchFileException.class)
        .hasMessageContaining("queries.jsonl: missing (and no queries.jsonl.gz)");
  }
}
