package dev.gecko.train.adapter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gecko.core.InvalidDataException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading training files: a row must have the header's cells, no fewer and no more. */
class TrainingDataTest {
  @Test
  void aTsvRowWithMoreOrFewerCellsThanTheHeaderNamesFileAndLine(@TempDir Path dir) throws Exception {
    Path ok = dir.resolve("ok.tsv");
    Files.writeString(ok, "sentence1\tsentence2\tscore\na cat\ta kitten\t4.5\n");
    assertThat(TrainingData.read(ok).examples()).hasSize(1);
    Path more = dir.resolve("more.tsv");
    Files.writeString(more, "sentence1\tsentence2\tscore\na cat\ta kitten\t4.5\na dog\twith\ta tab\t3.0\n");
    assertThatThrownBy(() -> TrainingData.read(more)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("more.tsv:3").hasMessageContaining("4 columns, the header has 3");
    Path fewer = dir.resolve("fewer.tsv");
    Files.writeString(fewer, "sentence1\tsentence2\tscore\na cat\t4.5\n");
    assertThatThrownBy(() -> TrainingData.read(fewer)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("fewer.tsv:2").hasMessageContaining("2 columns, the header has 3");
  }

  @Test
  void blankTextsAndAPairWithoutAScoreAmongScoredOnesAreRefusedNamingTheLine(@TempDir Path dir) throws Exception {
    Path tsv = Files.writeString(dir.resolve("pairs.tsv"), "sentence1\tsentence2\tscore\na cat\t\t3.2\n");
    assertThatThrownBy(() -> TrainingData.read(tsv)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("pairs.tsv:2").hasMessageContaining("field 'sentence2' is blank");
    Path anchors = Files.writeString(dir.resolve("rows.jsonl"), "{\"anchor\": \" \", \"positive\": \"p\"}\n");
    assertThatThrownBy(() -> TrainingData.read(anchors)).hasMessageContaining("rows.jsonl:1")
        .hasMessageContaining("field 'anchor' is blank");
    Path texts = Files.writeString(dir.resolve("corpus.jsonl"), "{\"text\": \"fine\"}\n{\"text\": \"\"}\n");
    assertThatThrownBy(() -> TrainingData.read(texts)).hasMessageContaining("corpus.jsonl:2")
        .hasMessageContaining("field 'text' is blank");
    Path titled = Files.writeString(dir.resolve("titled.jsonl"), "{\"title\": \"A title alone\", \"text\": \"\"}\n");
    assertThat(TrainingData.read(titled).examples().get(0).anchor()).as("BEIR has title-only documents")
        .isEqualTo("A title alone");
    // a null score (or a misnamed column) among scored pairs would train that pair as a positive
    Path mixed = Files.writeString(dir.resolve("mixed.jsonl"), String.join("\n",
        "{\"sentence1\": \"a\", \"sentence2\": \"b\", \"score\": 4.5}",
        "{\"sentence1\": \"c\", \"sentence2\": \"d\", \"score\": null}",
        "{\"sentence1\": \"e\", \"sentence2\": \"f\", \"score\": 0.5}") + "\n");
    assertThatThrownBy(() -> TrainingData.read(mixed)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("mixed.jsonl:2").hasMessageContaining("a sentence pair without a score, where 2 other");
    Path unscored = Files.writeString(dir.resolve("unscored.jsonl"),
        "{\"sentence1\": \"a\", \"sentence2\": \"b\"}\n{\"sentence1\": \"c\", \"sentence2\": \"d\"}\n");
    assertThat(TrainingData.read(unscored).allScored()).as("no pair scored: pairs, as before").isFalse();
    // a blank negative cell is no negative, as an empty one is, never a blank text trained as one
    Path triplets = Files.writeString(dir.resolve("triplets.tsv"), "anchor\tpositive\tnegative\nq\tp\t  \nr\ts\t\n");
    assertThat(TrainingData.read(triplets).examples()).extracting(TrainingExample::negative).containsOnlyNulls();
  }

  @Test
  void retrievalRowsAreTrainedAsRetrievalEmbedsThemAndOtherRowsWithTheModelsDefault(@TempDir Path dir)
      throws Exception {
    Path fret = Files.writeString(dir.resolve("examples.jsonl"),
        "{\"anchor\": \"what feeds a starter\", \"positive\": \"Feed it flour and water.\", \"task\": \"t\"}\n");
    Path marco = Files.writeString(dir.resolve("triplets.jsonl"),
        "{\"query\": \"what feeds a starter\", \"positive\": \"Feed it flour and water.\"}\n");
    Path nli = Files.writeString(dir.resolve("nli.jsonl"),
        "{\"anchor\": \"A man plays.\", \"positive\": \"Someone plays.\", \"negative\": \"Nobody plays.\"}\n");
    Path pairs = Files.writeString(dir.resolve("pairs.tsv"), "sentence1\tsentence2\tscore\na cat\ta kitten\t4.5\n");
    Path texts = Files.writeString(dir.resolve("corpus.txt"), "one text\nanother\n");
    TrainingData queries = TrainingData.read(fret);
    assertThat(queries.hasQueryRows()).isTrue();
    assertThat(queries.split(0.5, 1).train().hasQueryRows()).isTrue();
    assertThat(queries.limit(1).hasQueryRows()).isTrue();
    assertThat(TrainingData.read(marco).hasQueryRows()).as("a query field").isTrue();
    assertThat(TrainingData.read(nli).hasQueryRows()).as("plain anchor/positive: maybe symmetric").isFalse();
    assertThat(TrainingData.read(pairs).hasQueryRows()).isFalse();
    assertThat(TrainingData.read(texts).hasQueryRows()).isFalse();
    assertThat(TrainingData.of(queries.examples()).hasQueryRows()).as("built in code: the caller says").isFalse();
    dev.gecko.core.TaskType q = dev.gecko.core.TaskType.RETRIEVAL_QUERY;
    dev.gecko.core.TaskType d = dev.gecko.core.TaskType.RETRIEVAL_DOCUMENT;
    // FRet's rows: queries as queries, passages as documents, as gecko eval retrieval renders them
    assertThat(Trainer.rendering(null, null, queries, null, Objective.CONTRASTIVE)).containsExactly(q, d);
    assertThat(Trainer.rendering(null, null, queries, queries, Objective.CONTRASTIVE)).containsExactly(q, d);
    // validation rows given apart are rendered as the training rows: STS pairs keep the default
    assertThat(Trainer.rendering(null, null, queries, TrainingData.read(pairs), Objective.CONTRASTIVE))
        .containsExactly(null, null);
    // the caller's choice wins; STS pairs, corpus texts and the unsupervised objective keep the default
    assertThat(Trainer.rendering(dev.gecko.core.TaskType.SEMANTIC_SIMILARITY, null, queries, null,
        Objective.CONTRASTIVE))
        .containsExactly(dev.gecko.core.TaskType.SEMANTIC_SIMILARITY, null);
    assertThat(Trainer.rendering(null, null, TrainingData.read(pairs), null, Objective.CONTRASTIVE))
        .containsExactly(null, null);
    assertThat(Trainer.rendering(null, null, queries, null, Objective.UNSUPERVISED)).containsExactly(null, null);
  }

  /** Files that trained every pair as a positive, or trained a header, without a word. */
  @Test
  void aScoreUnderAnotherNameOrAHeaderAgainIsRefusedNotTrainedOn(@TempDir Path dir) throws Exception {
    // a TSV header in another case or with blanks around a name is the same header
    Path cased = Files.writeString(dir.resolve("cased.tsv"), "Sentence1\tsentence2 \tScore\na cat\ta kitten\t4.5\n"
        + "a dog\ta car\t0.5\n");
    assertThat(TrainingData.read(cased).examples()).extracting(TrainingExample::score).containsExactly(4.5, 0.5);
    Path similarity = Files.writeString(dir.resolve("similarity.jsonl"),
        "{\"sentence1\": \"a\", \"sentence2\": \"b\", \"similarity_score\": 0.4}\n");
    assertThatThrownBy(() -> TrainingData.read(similarity)).isInstanceOf(InvalidDataException.class)
        .hasMessage(similarity + ":1: field 'similarity_score' is not read as the score: name it 'score' or 'label' "
            + "(without one, every pair trains as a positive)");
    Path capital = Files.writeString(dir.resolve("capital.jsonl"),
        "{\"sentence1\": \"a\", \"sentence2\": \"b\", \"Score\": 4.5}\n");
    assertThatThrownBy(() -> TrainingData.read(capital)).hasMessageStartingWith(capital + ":1: field 'Score' is not read");
    Path anchorScore = Files.writeString(dir.resolve("anchor-score.jsonl"),
        "{\"anchor\": \"a\", \"positive\": \"b\", \"score\": 0.1}\n");
    assertThatThrownBy(() -> TrainingData.read(anchorScore)).isInstanceOf(InvalidDataException.class)
        .hasMessage(anchorScore + ":1: field 'score' on a row of anchor/positive is not read: drop or rename it "
            + "(scored pairs are sentence1/sentence2/score)");
    Path joined = Files.writeString(dir.resolve("joined.tsv"), "anchor\tpositive\tnegative\nq\tp\tn\n"
        + "anchor\tpositive\tnegative\nr\ts\tt\n");
    assertThatThrownBy(() -> TrainingData.read(joined)).isInstanceOf(InvalidDataException.class)
        .hasMessage(joined + ":3: the header row again (files joined with their headers?)");
    Path twice = Files.writeString(dir.resolve("twice.tsv"), "sentence1\tSentence1\tscore\na\tb\t1\n");
    assertThatThrownBy(() -> TrainingData.read(twice)).hasMessage(twice + ":1: the header names column 'sentence1' twice");
    // an empty task cell is no task: these NLI rows stay symmetric, not retrieval rows
    Path blankTask = Files.writeString(dir.resolve("blank-task.tsv"), "anchor\tpositive\ttask\nA man.\tSomeone.\t\n");
    TrainingData nli = TrainingData.read(blankTask);
    assertThat(nli.hasQueryRows()).isFalse();
    assertThat(nli.examples().get(0).task()).isNull();
  }

  /**
   * gecko generate's own rows: the documents' titles are joined in front of their texts, as gecko
   * eval embeds titled documents for a model whose prompts have no title slot (bge, e5).
   */
  @Test
  void fretTitlesJoinTheirDocuments(@TempDir Path dir) throws Exception {
    Path fret = Files.writeString(dir.resolve("examples.jsonl"), "{\"anchor\": \"q\", \"positive\": \"\", "
        + "\"negative\": \"body\", \"task\": \"t\", \"positive_title\": \"Zebra\", \"negative_title\": \"Horse\"}\n"
        + "{\"anchor\": \"r\", \"positive\": \"text\", \"negative\": \"other\", \"task\": \"t\", "
        + "\"positive_title\": \"\", \"negative_title\": null, \"scorer\": {\"ql\": \"x\"}}\n"
        + "{\"anchor\": \"s\", \"positive\": \"text\", \"negative\": \"\", \"negative_title\": \"\\u00a0\"}\n");
    assertThat(TrainingData.read(fret).examples()).extracting(TrainingExample::positive, TrainingExample::negative)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("Zebra", "Horse body"),
            org.assertj.core.groups.Tuple.tuple("text", "other"), org.assertj.core.groups.Tuple.tuple("text", null));
  }

  @Test
  void aTitleJoinsItsTextAsMtebJoinsThemWithPythonsWhitespace(@TempDir Path dir) throws Exception {
    Path jsonl = dir.resolve("titled.jsonl");
    Files.writeString(jsonl, "{\"title\":\"\\u00a0Title\",\"text\":\"body\\u00a0\"}\n"
        + "{\"title\":\"\\u202f\",\"text\":\" untitled \"}\n");
    assertThat(TrainingData.read(jsonl).examples()).extracting(TrainingExample::anchor)
        .containsExactly("Title body", " untitled ");
  }
}
