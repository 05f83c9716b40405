package dev.gecko.finetune.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.ProgressListener;
import dev.gecko.core.internal.onnx.OnnxModel;
import dev.gecko.core.io.Passage;
import dev.gecko.eval.BeirDataset;
import dev.gecko.finetune.FineTuneConfig;
import dev.gecko.finetune.FineTuneObjective;
import dev.gecko.finetune.PromptStyle;
import dev.gecko.tokenizer.GeckoTokenizer;
import dev.gecko.train.adapter.TrainingData;
import dev.gecko.train.adapter.TrainingExample;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The GECKO objective's retrieval validation, on all-MiniLM-L6-v2 in the trainable model (no
 * training): which rows are queries, and a step whose vectors are not finite.
 */
class ValidationTest {
  private static final ModelPackage PKG = ModelPackage.builtIn("all-MiniLM-L6-v2");
  private static NDManager manager;
  private static GeckoTokenizer tokenizer;
  private static BertEncoder encoder;
  private static TorchEmbedder embedder;

  /**
   * Three positives (two unscored pairs, one scored at the threshold's side) and two rows scored
   * below the default threshold 4 whose query is about another row's positive, not their own
   * second text: counted as relevant pairs, they would rank their "positive" below that one.
   */
  static final TrainingData ROWS = TrainingData.of(List.of(
      TrainingExample.triplet(null, "How do I bake bread at home?", "A simple recipe for baking homemade bread.", null),
      TrainingExample.triplet(null, "What is the capital of France?", "Paris is the capital and largest city of France.",
          null),
      TrainingExample.scored("How far away is the moon?", "The Moon is about 384,000 km from Earth.", 4.5),
      TrainingExample.scored("Baking bread at home with a simple recipe", "A chocolate cake needs cocoa and sugar.", 1),
      TrainingExample.scored("The distance from the Earth to the Moon", "Tourists queue at the Eiffel Tower.", 0.5)));

  @BeforeAll
  static void load() {
    Torch.engine();
    manager = NDManager.newBaseManager();
    tokenizer = TestModels.tokenizer(PKG);
    OnnxModel graph = TestModels.graph(PKG);
    encoder = BertEncoder.load(graph, BertLayout.read(graph, "all-MiniLM-L6-v2"), manager, DataType.FLOAT32);
    embedder = new TorchEmbedder(PKG, tokenizer, encoder, manager, 8192);
  }

  @AfterAll
  static void free() {
    encoder.close();
    tokenizer.close();
    manager.close();
  }

  static Loop loop(double positiveThreshold) {
    return loop(positiveThreshold, 384);
  }

  static Loop loop(double positiveThreshold, int width) {
    FineTuneConfig c = new FineTuneConfig(FineTuneObjective.GECKO, List.of(width), List.of(1.0), 1, 4, 4, 32, 1e-5, 0,
        0.01, 1, 0.05, 20, positiveThreshold, false, PromptStyle.MODEL, false, 0, 1, 100, true, 0, 0, false,
        Path.of("unused"), false, null, 0, false, dev.gecko.train.adapter.Basis.IDENTITY, null, false);
    return new Loop(PKG, ROWS, ROWS, c, ProgressListener.none());
  }

  @Test
  void aWidthOfWeight0IsNotValidatedSoItCannotSpoilTheScore() throws Exception {
    FineTuneConfig c = new FineTuneConfig(FineTuneObjective.GECKO, List.of(384, 4), List.of(1.0, 0.0), 1, 4, 4, 32,
        1e-5, 0, 0.01, 1, 0.05, 20, 4, false, PromptStyle.MODEL, false, 0, 1, 100, true, 0, 0, false,
        Path.of("unused"), false, null, 0, false, dev.gecko.train.adapter.Basis.IDENTITY, null, false);
    Loop weighted = new Loop(PKG, ROWS, ROWS, c, ProgressListener.none());
    assertThat(weighted.validatedWidths()).as("the evaluators are given these widths only").containsExactly(384);
  }

  @Test
  void rowsBelowThePositiveThresholdAreNoRelevantPairsButStayAsDistractors() throws Exception {
    double score;
    try (TestModels.LoopWarnings w = new TestModels.LoopWarnings()) {
      score = loop(4).retrievalValidation(ROWS, embedder).score(0);
      assertThat(w.messages).containsExactly("2 of 5 validation rows score below positiveThreshold 4 and are not "
          + "queries of the retrieval validation (their texts stay in its corpus as distractors)");
    }
    // counting them (a threshold no row is below): their queries find another row's positive first
    double counted = loop(0).retrievalValidation(ROWS, embedder).score(0);
    assertThat(loop(0).retrievalSet(ROWS).queries()).hasSize(5);
    // 100.0 (each positive's query finds it first) against 80.36 on all-MiniLM-L6-v2
    assertThat(score).as("nDCG@10 of the positives only").isCloseTo(100, org.assertj.core.data.Offset.offset(1e-9))
        .isGreaterThan(counted + 10);
    BeirDataset set = loop(4).retrievalSet(ROWS);
    assertThat(set.queries()).extracting(BeirDataset.Query::text).containsExactly("How do I bake bread at home?",
        "What is the capital of France?", "How far away is the moon?");
    assertThat(set.qrels()).hasSize(3).allSatisfy((q, docs) -> assertThat(docs).hasSize(1).containsValue(1));
    assertThat(set.corpus()).extracting(Passage::text).contains("A chocolate cake needs cocoa and sugar.",
        "Tourists queue at the Eiffel Tower.").hasSize(5);
  }

  /**
   * Rows of one query are one query of the retrieval validation, its positives all relevant: one
   * is not a rival ranked against the other. Before, each row was a query of its own whose other
   * positive counted as a wrong answer ranked above it.
   */
  @Test
  void rowsOfOneQueryAreOneQueryWithEveryPositiveRelevant() {
    TrainingData rows = TrainingData.of(List.of(
        dev.gecko.train.adapter.TrainingExample.triplet(null, "How do I bake bread?", "Knead the dough and bake it.", null),
        dev.gecko.train.adapter.TrainingExample.triplet(null, "How do I bake bread?", "Bread needs flour, water and yeast.",
            null),
        dev.gecko.train.adapter.TrainingExample.triplet(null, "How far away is the moon?", "The moon is 384,400 km away.",
            null)));
    BeirDataset set = loop(4).retrievalSet(rows);
    assertThat(set.queries()).extracting(BeirDataset.Query::text).containsExactly("How do I bake bread?",
        "How far away is the moon?");
    assertThat(set.qrels().get(set.queries().get(0).id())).hasSize(2).containsOnlyKeys("d0", "d1");
    assertThat(set.corpus()).hasSize(3);
  }

  /**
   * mrl-distill distils each text against the other distinct texts of its batch; with queries
   * distilled too, rows of documents [A, A, B] hold two, and every row's candidates are masked down
   * to one text: such a batch takes no step (nor scores a validation), as [A, B] does without queries.
   */
  @Test
  void aBatchOfTwoDistinctDocumentsTeachesNothingWhenQueriesAreDistilledToo() {
    for (boolean queries : new boolean[] {false, true}) {
      FineTuneConfig c = new FineTuneConfig(FineTuneObjective.MRL_DISTILL, List.of(384), List.of(1.0), 1, 4, 4, 32, 1e-5,
          0, 0.01, 1, 0.05, 20, 4, false, PromptStyle.MODEL, false, 0, 1, 100, true, 0, 0, false, Path.of("unused"),
          false, null, 0, false, dev.gecko.train.adapter.Basis.IDENTITY, null, queries);
      Loop loop = new Loop(PKG, ROWS, ROWS, c, ProgressListener.none());
      // documents 0, 0, 1 (their queries 2, 2, 3); then documents 0, 1, 4
      Loop.Local twoDocuments = new Loop.Local(List.of(new Loop.Row(0, queries ? 2 : -1, -1, 0),
          new Loop.Row(0, queries ? 2 : -1, -1, 0), new Loop.Row(1, queries ? 3 : -1, -1, 0)));
      Loop.Local threeDocuments = new Loop.Local(List.of(new Loop.Row(0, queries ? 2 : -1, -1, 0),
          new Loop.Row(1, queries ? 3 : -1, -1, 0), new Loop.Row(4, queries ? 5 : -1, -1, 0)));
      assertThat(loop.teaches(twoDocuments)).as("queries distilled: %s", queries).isFalse();
      assertThat(loop.teaches(threeDocuments)).as("queries distilled: %s", queries).isTrue();
    }
  }

  @Test
  void aSplitThatHeldOutNoRowMeansNoValidationWithAWarning() {
    // a small data set's seeded 10 % split can take no row at all: said, not silent
    try (TestModels.LoopWarnings w = new TestModels.LoopWarnings()) {
      assertThat(loop(0).retrievalValidation(TrainingData.of(List.of()), embedder)).isNull();
      assertThat(w.messages).containsExactly("no validation rows (none were given, or the held-out split took none: "
          + "give more rows or validation data): training runs without validation and keeps its last step");
    }
  }

  @Test
  void noRowAtOrAboveTheThresholdMeansNoValidationWithAWarningNamingIt() {
    TrainingData below = TrainingData.of(ROWS.examples().subList(3, 5));
    try (TestModels.LoopWarnings w = new TestModels.LoopWarnings()) {
      assertThat(loop(4).retrievalValidation(below, embedder)).isNull();
      assertThat(w.messages).containsExactly("none of the 2 validation rows is a query of the retrieval validation "
          + "(2 score below positiveThreshold 4, 0 have no positive): training runs without validation and keeps its "
          + "last step");
    }
  }

  @Test
  void vectorsThatAreNotFiniteScoreTheStepNaNWithAWarningAndTheNextStepScoresAgain() throws Exception {
    Loop.Validation validation = loop(4).retrievalValidation(ROWS, embedder);
    double finite = validation.score(0);
    assertThat(finite).isFinite();
    String name = "encoder.layer.0.attention.self.query.weight";
    float[] kept = encoder.values(name);
    float[] nan = new float[kept.length];
    Arrays.fill(nan, Float.NaN);
    try (TestModels.LoopWarnings w = new TestModels.LoopWarnings()) {
      encoder.set(name, nan);
      // before: gecko-core's flat index refused the first NaN component, failing the run
      assertThat(validation.score(7)).isNaN();
      // 3 queries and 5 documents, each embedded once
      assertThat(w.messages).singleElement().asString().startsWith("step 7: 8 of 8 validation texts gave vectors with "
          + "NaN or infinite components (weights that diverged, or a text that overflows the model); the step is "
          + "scored NaN, never the best, and training goes on (the evaluator refused them: ")
          .contains("for query q0 of validation");
    } finally {
      encoder.set(name, kept);
    }
    assertThat(validation.score(8)).isEqualTo(finite);
  }

  @Test
  void aBaseModelWhoseValidationVectorsAreNotFiniteFailsBeforeAnyTraining() throws Exception {
    Loop.Validation validation = loop(4).retrievalValidation(ROWS, embedder);
    String name = "encoder.layer.0.attention.self.query.weight";
    float[] kept = encoder.values(name);
    float[] nan = new float[kept.length];
    Arrays.fill(nan, Float.NaN);
    try {
      encoder.set(name, nan);
      // every later step would score NaN too: patience would stop a run that never validated anything
      assertThatThrownBy(() -> validation.score(0))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("the base model gives 8 of 8 validation texts vectors with NaN or infinite components");
    } finally {
      encoder.set(name, kept);
    }
  }

  @Test
  void aCollapsedModelScoresItsStepNaNWithAWarningButACollapsedBaseFails() throws Exception {
    TrainingData pairs = TrainingData.of(List.of(TrainingExample.scored("a man is eating", "a man eats food", 4.5),
        TrainingExample.scored("a cat sleeps on the sofa", "the dog runs in the park", 0.5),
        TrainingExample.scored("it rains in the city", "the streets are wet", 3)));
    Loop.Validation validation = loop(4).stsValidation(pairs, embedder);
    assertThat(validation.score(0)).isFinite();
    // the last layer norm all zeros: every text's vector is zero, every cosine 0
    String[] names = {"encoder.layer.5.output.LayerNorm.weight", "encoder.layer.5.output.LayerNorm.bias"};
    float[][] kept = {encoder.values(names[0]), encoder.values(names[1])};
    try (TestModels.LoopWarnings w = new TestModels.LoopWarnings()) {
      for (String name : names) {
        encoder.set(name, new float[kept[0].length]);
      }
      assertThat(validation.score(5)).isNaN();
      assertThat(w.messages).singleElement().asString().startsWith("step 5: all-MiniLM-L6-v2 gives every pair of "
          + "validation the same cosine at width 384").contains("(the model collapsed); the step is scored NaN");
      // the base itself collapsed: no step could be scored
      assertThatThrownBy(() -> validation.score(0))
          .isInstanceOf(dev.gecko.eval.UndefinedScoreException.class)
          .hasMessageStartingWith("the base model gives every validation pair the same similarity, before any "
              + "training: validation could score no step")
          .hasMessageEndingWith("(all-MiniLM-L6-v2 gives every pair of validation the same cosine at width 384: the "
              + "correlation is undefined)")
          .hasCauseInstanceOf(dev.gecko.eval.UndefinedScoreException.class);
    } finally {
      encoder.set(names[0], kept[0]);
      encoder.set(names[1], kept[1]);
    }
  }

  @Test
  void anEvaluatorFailureWithFiniteVectorsIsNotHidden() {
    // widths above the model's 384 fail in the evaluator, whose vectors were all finite
    assertThatThrownBy(() -> loop(4, 512).retrievalValidation(ROWS, embedder).score(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("512");
  }
}
