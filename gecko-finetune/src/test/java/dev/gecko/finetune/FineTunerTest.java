package dev.gecko.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.InvalidDataException;
import dev.gecko.core.ModelLoadException;
import dev.gecko.core.ModelManifest;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.TaskType;
import dev.gecko.core.adapter.Adapter;
import dev.gecko.core.vector.VectorOps;
import dev.gecko.finetune.internal.BertEncoder;
import dev.gecko.finetune.internal.BertLayout;
import dev.gecko.finetune.internal.TestModels;
import dev.gecko.finetune.internal.Torch;
import dev.gecko.finetune.internal.TorchEmbedder;
import dev.gecko.train.adapter.Basis;
import dev.gecko.train.adapter.TrainingData;
import dev.gecko.train.adapter.TrainingExample;
import dev.gecko.core.internal.onnx.OnnxModel;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A short real training run on all-MiniLM-L6-v2: export, provenance, resume; and bad input refused before training. */
class FineTunerTest {
  static TrainingData sts(String split, int n) throws IOException {
    return TrainingData.read(TestModels.shared().resolve("data/sts/stsbenchmark/pairs." + split + ".tsv")).limit(n);
  }

  static FineTuner.Builder small(Path out) throws IOException {
    return FineTuner.builder()
        .baseModel("all-MiniLM-L6-v2")
        .data(sts("train", 24))
        .validation(sts("dev", 24))
        .dims(384, 64)
        .batchSize(8)
        .miniBatchSize(4)
        .maxLength(24)
        .learningRate(1e-4)
        .warmupRatio(0)
        .validateEvery(100)
        .keepBest(false)
        .output(out);
  }

  /**
   * Trains with a checkpoint after every step until a failure after step 2's report (an exception
   * from the progress listener stands in for a kill): the last checkpoint is step 1's.
   */
  static void crashAfterStep2(FineTuner.Builder b) throws IOException {
    FineTuner crashing = b.checkpointEvery(1).progress(p -> {
      if (p.done() == 2) {
        throw new IllegalStateException("simulated crash");
      }
    }).build();
    assertThatThrownBy(crashing::train).hasMessageContaining("simulated crash");
  }

  @Test
  void trainsExportsAndResumesToTheSameWeights(@TempDir Path tmp) throws Exception {
    Path a = tmp.resolve("a");
    FineTuneResult r = small(a).checkpointEvery(1).build().train();
    assertThat(r.steps()).isEqualTo(3);
    assertThat(r.curve()).extracting(StepStats::step).containsExactly(0L, 3L);
    // keepBest(false): the last step is kept, and the score reported is its own
    assertThat(r.bestStep()).isEqualTo(3);
    assertThat(r.bestScore()).isEqualTo(r.curve().get(1).validationScore());
    ModelManifest m = ModelManifest.read(a.resolve(ModelManifest.FILE_NAME));
    assertThat(m.training()).containsEntry("objective", "COSENT").containsEntry("baseModel", "all-MiniLM-L6-v2");
    assertThat(m.matryoshkaDims()).containsExactly(384, 64);
    assertThat(Files.exists(a.resolve("checkpoint.bin"))).isFalse();

    // the exported graph gives the trainable model's vectors, and differs from the base
    ModelPackage trained = ModelPackage.fromDirectory(a);
    OnnxModel graph = TestModels.graph(trained);
    List<String> texts = TestModels.golden("short.jsonl", 16);
    Torch.engine();
    try (NDManager nd = NDManager.newBaseManager();
        BertEncoder enc = BertEncoder.load(graph, BertLayout.read(graph, "trained"), nd, DataType.FLOAT32);
        var tok = TestModels.tokenizer(trained);
        GeckoEmbedder ort = GeckoEmbedder.builder().model(trained).build();
        GeckoEmbedder base = GeckoEmbedder.builder().model("all-MiniLM-L6-v2").build()) {
      List<float[]> x = ort.embedAll(texts, 384);
      List<float[]> y = new TorchEmbedder(trained, tok, enc, nd, 4096).embedAll(texts, 384);
      List<float[]> z = base.embedAll(texts, 384);
      double worst = 1;
      double changed = 1;
      for (int i = 0; i < texts.size(); i++) {
        worst = Math.min(worst, VectorOps.dot(x.get(i), y.get(i)));
        changed = Math.min(changed, VectorOps.dot(x.get(i), z.get(i)));
      }
      assertThat(worst).as("exported ONNX vs trainable model").isGreaterThanOrEqualTo(0.9999);
      assertThat(changed).as("trained vs base").isLessThan(0.99999);
    }

    // an interrupted run (aborted after step 2's report; its last checkpoint is step 1's) resumes to the same weights
    Path b = tmp.resolve("b");
    crashAfterStep2(small(b));
    assertThat(Files.exists(b.resolve("checkpoint.bin"))).isTrue();
    small(b).checkpointEvery(1).resume(true).build().train();
    assertThat(Files.readAllBytes(b.resolve("model.onnx"))).isEqualTo(Files.readAllBytes(a.resolve("model.onnx")));
  }

  @Test
  void aLastBatchTooSmallToTrainStillEndsTheRunWithAValidation(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("odd");
    // a twin an earlier --quantize run left: this run writes none, so it must not stay beside new weights
    Path staleTwin = Files.createDirectories(out.resolve("int8"));
    Files.writeString(staleTwin.resolve(ModelManifest.FILE_NAME), "{}");
    Files.writeString(staleTwin.resolve("model.onnx"), "old");
    // 17 rows in batches of 8: steps of 8, 8 and 1 row; the third trains nothing, and is the last
    FineTuneResult r = small(out).data(sts("train", 17)).keepBest(true).build().train();
    assertThat(r.steps()).isEqualTo(3);
    assertThat(r.curve()).extracting(StepStats::step).containsExactly(0L, 3L);
    assertThat(r.bestStep()).isEqualTo(r.bestScore() > r.baseScore() ? 3 : 0);
    assertThat(staleTwin).doesNotExist();
  }

  @Test
  void validationRowsTooFewForOneBatchMeanNoValidationNotTheBaseKept(@TempDir Path tmp) throws Exception {
    // mrl-distill scores batches of >= 3 texts: 2 validation rows make none, so nothing is scored
    FineTuneResult r = small(tmp.resolve("few")).objective(FineTuneObjective.MRL_DISTILL).validation(sts("dev", 2))
        .keepBest(true).build().train();
    assertThat(r.steps()).isEqualTo(3);
    assertThat(r.bestStep()).isEqualTo(3);
    assertThat(Files.readAllBytes(tmp.resolve("few").resolve("model.onnx")))
        .isNotEqualTo(ModelPackage.builtIn("all-MiniLM-L6-v2").model().readAllBytes());
  }

  @Test
  void resumeRefusesACheckpointOfAnotherRunAndADamagedOne(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("r");
    crashAfterStep2(small(out));
    Path ckpt = out.resolve("checkpoint.bin");
    assertThatThrownBy(() -> small(out).batchSize(4).resume(true).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot resume from " + ckpt)
        .hasMessageContaining("batchSize 8 there, 4 here").hasMessageNotContaining("data ");
    assertThatThrownBy(() -> small(out).data(sts("train", 25)).learningRate(2e-4).resume(true).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("data ")
        .hasMessageContaining("learningRate 1.0E-4 there, 2.0E-4 here");
    // the mini-batch size changes the computation path (gradient caching or not): the same only up to rounding
    assertThatThrownBy(() -> small(out).miniBatchSize(8).resume(true).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("miniBatchSize 4 there, 8 here");
    // settings that leave the run's course alone may change
    small(out).validateEvery(50).checkpointEvery(2).resume(true).build();
    // a flipped byte among the weights: refused when the run is built, before its setup, not trained on
    byte[] bytes = Files.readAllBytes(ckpt);
    bytes[bytes.length / 2] ^= 0x10;
    Files.write(ckpt, bytes);
    assertThatThrownBy(() -> small(out).checkpointEvery(1).resume(true).build()).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("checkpoint.bin").hasMessageContaining("damaged");
    // a damaged byte in the JSON header, which no parser reads: damaged too (it was an UncheckedIOException)
    bytes[bytes.length / 2] ^= 0x10; // the weights as they were
    int brace = "GFTCKPT2".length() + Integer.BYTES; // after the magic and the header's length
    assertThat((char) bytes[brace]).isEqualTo('{');
    bytes[brace] = '#';
    Files.write(ckpt, bytes);
    assertThatThrownBy(() -> small(out).checkpointEvery(1).resume(true).build()).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("checkpoint.bin").hasMessageContaining("damaged");
  }

  /**
   * A learning rate of 1e38: step 1's update (lr / (1 - beta1) in float) makes the weights infinite
   * or NaN, and every later gradient is not finite. 11 steps of 2 rows: the 10th skipped in a row,
   * step 11, fails the run.
   */
  static FineTuner.Builder diverging(Path out) throws IOException {
    return small(out).data(sts("train", 22)).validation(sts("dev", 4)).batchSize(2).maxLength(8).learningRate(1e38);
  }

  @Test
  void aResumedRunFailsAsDivergedWhereTheUninterruptedOneDoes(@TempDir Path tmp) throws Exception {
    Throwable whole = org.assertj.core.api.Assertions.catchThrowable(() -> diverging(tmp.resolve("a")).build().train());
    assertThat(whole).isInstanceOf(IllegalStateException.class).hasMessageContaining("training diverged")
        .hasMessageContaining("steps 2-11");
    // interrupted after step 6's report: its last checkpoint is step 5's, four skipped steps in a row
    Path b = tmp.resolve("b");
    FineTuner crashing = diverging(b).checkpointEvery(1).progress(p -> {
      if (p.done() == 6) {
        throw new IllegalStateException("simulated crash");
      }
    }).build();
    assertThatThrownBy(crashing::train).hasMessageContaining("simulated crash");
    assertThatThrownBy(() -> diverging(b).checkpointEvery(1).resume(true).build().train())
        .isInstanceOf(IllegalStateException.class).hasMessage(whole.getMessage());
  }

  /**
   * The diverging learning rate over 4 steps: step 1's update makes the weights non-finite, steps
   * 2-4 are skipped (3 in a row, short of failing the run), and every validation after step 0
   * meets vectors with NaN: the STS validation (COSENT's scored pairs; before, it failed the run at
   * step 1 with gecko-eval's "value 0 is NaN", a rank of a NaN cosine) and the distillation one
   * (MRL_DISTILL). GECKO's retrieval validation: {@code RetrievalValidationTest}.
   */
  @Test
  void aValidationWhoseVectorsAreNotFiniteScoresNaNWarnsAndTheRunKeepsTheLastGoodStep(@TempDir Path tmp)
      throws Exception {
    record Case(FineTuneObjective objective, TrainingData data, TrainingData validation, int batchSize, int texts) {}
    List<Case> cases = List.of(
        new Case(FineTuneObjective.COSENT, sts("train", 8), sts("dev", 4), 2, 8), // 4 pairs: 8 sentences
        new Case(FineTuneObjective.MRL_DISTILL, sts("train", 12), sts("dev", 6), 3, 6)); // 2 batches of 3 texts
    for (Case c : cases) {
      Path out = tmp.resolve(c.objective().name());
      FineTuneResult r;
      List<String> warnings;
      try (TestModels.LoopWarnings w = new TestModels.LoopWarnings()) {
        r = diverging(out).objective(c.objective()).data(c.data()).validation(c.validation()).batchSize(c.batchSize())
            .validateEvery(1).keepBest(true).build().train();
        warnings = w.messages;
      }
      String what = c.objective().name();
      assertThat(r.steps()).as(what).isEqualTo(4);
      assertThat(r.skippedSteps()).as(what).isEqualTo(3);
      assertThat(r.curve()).as(what).extracting(StepStats::step).containsExactly(0L, 1L, 2L, 3L, 4L);
      assertThat(r.baseScore()).as(what).isFinite();
      assertThat(r.curve().subList(1, 5)).as(what).allSatisfy(s -> assertThat(s.validationScore()).isNaN());
      assertThat(r.bestStep()).as(what + ": the last good step, the base").isZero();
      assertThat(r.bestScore()).as(what).isEqualTo(r.baseScore());
      List<String> nonFinite = warnings.stream().filter(m -> m.contains("validation texts gave vectors")).toList();
      assertThat(nonFinite).as(what).hasSize(4);
      for (int step = 1; step <= 4; step++) {
        assertThat(nonFinite.get(step - 1)).as(what).startsWith("step " + step + ": " + c.texts() + " of " + c.texts()
            + " validation texts gave vectors with NaN or infinite components").contains("scored NaN");
      }
    }
    // keeping the last step instead: its weights diverged (3 skipped steps, too few to stop the run),
    // so the run fails before it writes them
    Path last = tmp.resolve("last");
    assertThatThrownBy(() -> diverging(last).objective(FineTuneObjective.COSENT).data(sts("train", 8))
        .validation(sts("dev", 4)).batchSize(2).validateEvery(1).keepBest(false).build().train())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("training diverged: the weights of step 4 hold")
        .hasMessageContaining("nothing was written");
    assertThat(last.resolve("model.onnx")).doesNotExist();
    // the base kept: its vectors, not the diverged ones
    List<String> texts = TestModels.golden("short.jsonl", 4);
    try (GeckoEmbedder trained = GeckoEmbedder.builder().model(ModelPackage.fromDirectory(tmp.resolve("COSENT")))
        .build();
        GeckoEmbedder base = GeckoEmbedder.builder().model("all-MiniLM-L6-v2").build()) {
      List<float[]> x = trained.embedAll(texts, 384);
      List<float[]> z = base.embedAll(texts, 384);
      for (int t = 0; t < texts.size(); t++) {
        assertThat(VectorOps.dot(x.get(t), z.get(t))).as("text %d", t).isGreaterThan(0.9999f);
      }
    }
  }

  @Test
  void scoredValidationOfOneRowOrOneScoreMeansNoValidationNotAFailure(@TempDir Path tmp) throws Exception {
    TrainingData flat = TrainingData.of(List.of(TrainingExample.scored("a man is eating", "a man eats food", 3),
        TrainingExample.scored("a cat sleeps", "the dog runs", 3), TrainingExample.scored("it rains", "it is wet", 3)));
    for (TrainingData validation : List.of(sts("dev", 1), flat)) {
      FineTuneResult r = small(tmp.resolve("v" + validation.size())).validation(validation).keepBest(true).build()
          .train();
      assertThat(r.steps()).isEqualTo(3);
      assertThat(r.bestStep()).as("no validation: the last step is kept").isEqualTo(3);
      assertThat(r.baseScore()).isNaN();
      assertThat(r.curve()).extracting(StepStats::step).containsExactly(3L);
      assertThat(r.curve().get(0).validationScore()).isNaN();
      // the manifest's JSON has no NaN: a missing score is null, as in the curve (it was the string "NaN")
      com.fasterxml.jackson.databind.JsonNode training = new com.fasterxml.jackson.databind.ObjectMapper()
          .readTree(r.modelDir().resolve(ModelManifest.FILE_NAME).toFile()).path("training");
      assertThat(training.path("baseValidationScore").isNull()).as(training.toString()).isTrue();
      assertThat(training.path("bestValidationScore").isNull()).as(training.toString()).isTrue();
    }
  }

  @Test
  void aBadRowBuiltInCodeIsNamedByItsPlaceAndAnchor(@TempDir Path tmp) {
    TrainingData rows = TrainingData.of(List.of(TrainingExample.scored("a man is eating", "a man eats food", 3),
        TrainingExample.text("a row with no pair")));
    assertThatThrownBy(() -> small(tmp.resolve("r")).objective(FineTuneObjective.COSENT).data(rows).build())
        .isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("row 2 of 2 (anchor \"a row with no pair\") has none");
  }

  @Test
  void geckoRowsAllBelowThePositiveThresholdAreRefusedNamingIt(@TempDir Path tmp) throws Exception {
    // STS scores are 0-5: under a threshold of 6 no row is a positive
    assertThatThrownBy(() -> small(tmp.resolve("g")).objective(FineTuneObjective.GECKO).positiveThreshold(6).build()
        .train())
        .isInstanceOf(InvalidDataException.class).hasMessageContaining("positiveThreshold 6.0")
        .hasMessageContaining("24 of 24 rows");
  }

  @Test
  void dataTooSmallForOneTrainingBatchIsRefusedNotWrittenAsTheBaseModel(@TempDir Path tmp) throws Exception {
    // mrl-distill needs 3 distinct texts in a batch: 5 rows of 2 texts would train nothing at all
    TrainingData twoTexts = TrainingData.of(java.util.stream.IntStream.range(0, 5)
        .mapToObj(i -> dev.gecko.train.adapter.TrainingExample.text(i % 2 == 0 ? "An even row." : "An odd row."))
        .toList());
    assertThatThrownBy(() -> small(tmp.resolve("m")).objective(FineTuneObjective.MRL_DISTILL).data(twoTexts)
        .validation(twoTexts).build().train())
        .isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("fewer than 3 distinct texts (2) in 5 training rows for MRL_DISTILL");
    assertThat(tmp.resolve("m").resolve(dev.gecko.core.ModelPackage.MANIFEST)).doesNotExist();
    TrainingData onePair = TrainingData.of(List.of(
        dev.gecko.train.adapter.TrainingExample.scored("A man plays a guitar.", "Someone plays music.", 4)));
    assertThatThrownBy(() -> small(tmp.resolve("c")).data(onePair).build().train())
        .isInstanceOf(InvalidDataException.class).hasMessageContaining("fewer than 2 usable rows (1) for COSENT");
    // positive pairs alone (every label 1): CoSENT, chosen for scored rows, would compare no pair
    Path positives = Files.write(tmp.resolve("positives.jsonl"), java.util.stream.IntStream.range(0, 20)
        .mapToObj(i -> "{\"sentence1\": \"Sentence " + i + ".\", \"sentence2\": \"Sentence number " + i
            + ".\", \"label\": 1}").toList());
    assertThatThrownBy(() -> small(tmp.resolve("p")).data(TrainingData.read(positives)).validation(null).build().train())
        .isInstanceOf(InvalidDataException.class)
        .hasMessageStartingWith(positives + ": every one of the ").hasMessageContaining("training rows has the score 1.0 (")
        .hasMessageEndingWith("COSENT learns from rows with different scores; for positive pairs alone use the gecko objective");
    assertThat(tmp.resolve("p").resolve(dev.gecko.core.ModelPackage.MANIFEST)).doesNotExist();
    // read from a file: the message names it
    Path file = Files.write(tmp.resolve("two-texts.jsonl"), java.util.stream.IntStream.range(0, 40)
        .mapToObj(i -> "{\"text\": \"" + (i % 2 == 0 ? "An even row." : "An odd row.") + "\"}").toList());
    assertThatThrownBy(() -> small(tmp.resolve("f")).objective(FineTuneObjective.MRL_DISTILL)
        .data(TrainingData.read(file)).validation(null).build().train())
        .isInstanceOf(InvalidDataException.class).hasMessageStartingWith(file + ": fewer than 3 distinct texts (2) in 40");
  }

  @Test
  void trainsOnThreadsOtherThanTheOneThatStartedTheEngine(@TempDir Path tmp) throws Exception {
    // PyTorch's grad mode is per thread, and the engine turned it off only on the thread that started it
    Torch.engine();
    boolean gradMode = ai.djl.pytorch.jni.JniUtils.isGradMode();
    small(tmp.resolve("main")).data(sts("train", 16)).validation(sts("dev", 4)).build().train();
    assertThat(ai.djl.pytorch.jni.JniUtils.isGradMode()).as("this thread's grad mode, restored").isEqualTo(gradMode);
    byte[] expected = Files.readAllBytes(tmp.resolve("main").resolve("model.onnx"));
    for (String name : List.of("first", "second")) {
      java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
      Thread t = new Thread(() -> {
        try {
          small(tmp.resolve(name)).data(sts("train", 16)).validation(sts("dev", 4)).build().train();
        } catch (Throwable e) {
          failure.set(e);
        }
      }, "fine-tune-" + name);
      t.start();
      t.join();
      assertThat(failure.get()).as("run on thread " + name).isNull();
      assertThat(Files.readAllBytes(tmp.resolve(name).resolve("model.onnx"))).as(name).isEqualTo(expected);
    }
  }

  @Test
  void aSecondTrainAtOnceFailsFastAndTheFirstRunEndsAsALoneRunDoes(@TempDir Path tmp) throws Exception {
    // DJL's PyTorch gradient collector is process-wide: without the guard, two runs at once failed part-way
    // with DJL's "A PtGradientCollector is already collecting", whichever opened its collector second (here,
    // where the first waits between its steps, the second would train whole inside it)
    java.util.concurrent.atomic.AtomicInteger secondReports = new java.util.concurrent.atomic.AtomicInteger();
    FineTuner second = small(tmp.resolve("second")).data(sts("train", 16)).validation(sts("dev", 4))
        .progress(p -> secondReports.incrementAndGet()).build();
    java.util.concurrent.atomic.AtomicReference<Throwable> otherThread = new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.atomic.AtomicReference<Throwable> sameThread = new java.util.concurrent.atomic.AtomicReference<>();
    FineTuneResult first = small(tmp.resolve("first")).data(sts("train", 16)).validation(sts("dev", 4)).progress(p -> {
      if (p.done() != 1) {
        return;
      }
      // while the first run is between its steps 1 and 2: another thread's train(), then this thread's
      Thread t = new Thread(() -> {
        try {
          second.train();
        } catch (Throwable e) {
          otherThread.set(e);
        }
      }, "second-fine-tune");
      t.start();
      try {
        t.join();
        second.train();
      } catch (Throwable e) {
        sameThread.set(e);
      }
    }).build().train();
    assertThat(otherThread.get()).as("train() on another thread while one runs")
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("another FineTuner.train() is running in this JVM")
        .hasMessageContaining("on thread \"" + Thread.currentThread().getName() + "\"")
        .hasMessageContaining("DJL's PyTorch gradient collector is process-wide");
    assertThat(sameThread.get()).as("train() from the running one's progress listener")
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("another FineTuner.train() is running in this JVM (on this thread");
    assertThat(secondReports).as("the refused runs did no work").hasValue(0);
    assertThat(tmp.resolve("second").resolve("model.onnx")).doesNotExist();
    assertThat(first.steps()).isEqualTo(2);
    // the guard is released on return, and the first run's weights are a lone run's
    small(tmp.resolve("lone")).data(sts("train", 16)).validation(sts("dev", 4)).build().train();
    assertThat(Files.readAllBytes(tmp.resolve("first").resolve("model.onnx")))
        .isEqualTo(Files.readAllBytes(tmp.resolve("lone").resolve("model.onnx")));
  }

  @Test
  void distillsInBatchesOfTeacherNeighbours(@TempDir Path tmp) throws Exception {
    FineTuneResult r = small(tmp.resolve("nb")).validation(null).objective(FineTuneObjective.MRL_DISTILL)
        .neighbourGroup(4).build().train();
    assertThat(r.steps()).isEqualTo(3); // 24 texts, 10 % held out for validation, batches of 8
    com.fasterxml.jackson.databind.JsonNode training = new com.fasterxml.jackson.databind.ObjectMapper().readTree(tmp.resolve("nb").resolve(ModelManifest.FILE_NAME).toFile())
        .path("training");
    assertThat(training.path("objective").asText()).isEqualTo("MRL_DISTILL");
    assertThat(training.path("neighbourGroup").asInt()).isEqualTo(4);
  }

  @Test
  void reorderedDimsAreTheBaseModelsCoordinatesPermuted(@TempDir Path tmp) throws Exception {
    // trained 3 steps, then averaged back into the (reordered) base almost wholly: what is left is the base, reordered
    Path out = tmp.resolve("reordered");
    small(out).reorderDims(true).baseAverage(0.999999).checkpointEvery(1).build().train();
    // interrupted and resumed: the same weights (the base kept for averaging is reordered on resume too)
    Path resumed = tmp.resolve("resumed");
    crashAfterStep2(small(resumed).reorderDims(true).baseAverage(0.999999));
    small(resumed).reorderDims(true).baseAverage(0.999999).checkpointEvery(1).resume(true).build().train();
    assertThat(Files.readAllBytes(resumed.resolve("model.onnx"))).isEqualTo(Files.readAllBytes(out.resolve("model.onnx")));
    com.fasterxml.jackson.databind.JsonNode training = new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(out.resolve(ModelManifest.FILE_NAME).toFile()).path("training");
    assertThat(training.path("reorderDims").asBoolean()).isTrue();
    // the averaged weights written are no step's: the folder records their own validation score
    assertThat(training.path("writtenValidationScore").isNumber()).as(training.toString()).isTrue();
    assertThat(training.path("writtenValidationScore").asDouble()).isBetween(-100.0, 100.0);
    List<String> texts = TestModels.golden("short.jsonl", 16);
    try (GeckoEmbedder reordered = GeckoEmbedder.builder().model(ModelPackage.fromDirectory(out)).build();
        GeckoEmbedder base = GeckoEmbedder.builder().model("all-MiniLM-L6-v2").build()) {
      List<float[]> x = reordered.embedAll(texts, 384);
      List<float[]> z = base.embedAll(texts, 384);
      // the permutation, read off the first 4 texts: each reordered coordinate is the base coordinate of nearest values
      int[] order = new int[384];
      boolean identity = true;
      for (int i = 0; i < 384; i++) {
        int best = -1;
        double bestDistance = Double.MAX_VALUE;
        for (int j = 0; j < 384; j++) {
          double distance = 0;
          for (int t = 0; t < 4; t++) {
            distance += Math.abs(z.get(t)[j] - x.get(t)[i]);
          }
          if (distance < bestDistance) {
            bestDistance = distance;
            best = j;
          }
        }
        order[i] = best;
        identity &= best == i;
      }
      assertThat(identity).as("coordinates reordered").isFalse();
      assertThat(java.util.Arrays.stream(order).distinct().count()).isEqualTo(384);
      for (int t = 0; t < texts.size(); t++) {
        for (int i = 0; i < 384; i++) {
          assertThat(x.get(t)[i]).as("text %d coordinate %d", t, i)
              .isCloseTo(z.get(t)[order[i]], org.assertj.core.data.Offset.offset(2e-4f));
        }
      }
    }
  }

  @Test
  void trainsThroughAPrincipalAxesBasisAndServesItAsTheAdapter(@TempDir Path tmp) throws Exception {
    // trained 3 steps through the basis, then averaged back into the base almost wholly: the model is the base, rotated
    Path out = tmp.resolve("basis");
    FineTuneResult rotated = small(out).objective(FineTuneObjective.MRL_DISTILL).basis(Basis.PRINCIPAL_AXES)
        .baseAverage(0.999999).checkpointEvery(1).quantizeInt8(true).build().train();
    assertThat(rotated.int8Dir()).isPresent();
    // the int8 twin carries the fp32 model's validation scores, and says whose they are
    assertThat(ModelManifest.read(rotated.int8Dir().get().resolve(ModelManifest.FILE_NAME)).training())
        .containsKey("bestValidationScore").containsEntry("validationScoresOf",
            "the fp32 model in the parent folder (this int8 graph was not validated)");
    assertThat(Files.readAllBytes(rotated.int8Dir().get().resolve("adapter.safetensors")))
        .isEqualTo(Files.readAllBytes(out.resolve("adapter.safetensors")));
    assertThat(ModelManifest.read(rotated.int8Dir().get().resolve(ModelManifest.FILE_NAME)).adapter())
        .isEqualTo("adapter.safetensors");
    // the loss sees the rotated vectors: validated on the 48 training texts themselves, whose principal axes span them
    // within the first 48 coordinates, the base distilled at width 64 loses much less rotated than as exported
    Path scoredOut = tmp.resolve("scored");
    FineTuneResult scored = small(scoredOut).objective(FineTuneObjective.MRL_DISTILL).basis(Basis.PRINCIPAL_AXES)
        .validation(sts("train", 24)).build().train();
    Path plainOut = tmp.resolve("plain");
    FineTuneResult plain = small(plainOut).objective(FineTuneObjective.MRL_DISTILL).validation(sts("train", 24)).build()
        .train();
    assertThat(scored.baseScore()).isGreaterThan(plain.baseScore() / 2);
    assertThat(Files.exists(plainOut.resolve("adapter.safetensors"))).isFalse();
    ModelManifest m = ModelManifest.read(out.resolve(ModelManifest.FILE_NAME));
    assertThat(m.adapter()).isEqualTo("adapter.safetensors");
    assertThat(m.training()).containsEntry("basis", "PRINCIPAL_AXES");
    float[][] b = Adapter.load(out.resolve("adapter.safetensors")).basis();
    assertThat(b).hasDimensions(384, 384);
    assertThat(b[0][0]).isLessThan(0.99f); // not the identity

    // interrupted and resumed: the same basis and weights
    Path resumed = tmp.resolve("resumed");
    crashAfterStep2(small(resumed).objective(FineTuneObjective.MRL_DISTILL).basis(Basis.PRINCIPAL_AXES)
        .baseAverage(0.999999));
    small(resumed).objective(FineTuneObjective.MRL_DISTILL).basis(Basis.PRINCIPAL_AXES).baseAverage(0.999999)
        .checkpointEvery(1).resume(true).build().train();
    assertThat(Files.readAllBytes(resumed.resolve("model.onnx"))).isEqualTo(Files.readAllBytes(out.resolve("model.onnx")));
    assertThat(Files.readAllBytes(resumed.resolve("adapter.safetensors")))
        .isEqualTo(Files.readAllBytes(out.resolve("adapter.safetensors")));

    // GeckoEmbedder serves the base's vectors rotated by the basis; the trainable model with the adapter agrees at 64
    ModelPackage trained = ModelPackage.fromDirectory(out);
    OnnxModel graph = TestModels.graph(trained);
    List<String> texts = TestModels.golden("short.jsonl", 16);
    Torch.engine();
    try (GeckoEmbedder ort = GeckoEmbedder.builder().model(trained).build();
        GeckoEmbedder base = GeckoEmbedder.builder().model("all-MiniLM-L6-v2").build();
        NDManager nd = NDManager.newBaseManager();
        BertEncoder enc = BertEncoder.load(graph, BertLayout.read(graph, "trained"), nd, DataType.FLOAT32);
        var tok = TestModels.tokenizer(trained)) {
      List<float[]> x = ort.embedAll(texts, 384);
      List<float[]> z = base.embedAll(texts, 384);
      List<float[]> x64 = ort.embedAll(texts, 64);
      List<float[]> int8x;
      try (GeckoEmbedder int8 = GeckoEmbedder.builder().model(ModelPackage.fromDirectory(rotated.int8Dir().get()))
          .build()) {
        int8x = int8.embedAll(texts, 384); // with the adapter too: unrotated vectors would not come close
      }
      List<float[]> y64 = new TorchEmbedder(trained, tok, enc, nd, 4096, Adapter.load(out.resolve("adapter.safetensors")))
          .embedAll(texts, 64);
      for (int t = 0; t < texts.size(); t++) {
        float[] rotatedBase = new float[384];
        for (int r = 0; r < 384; r++) {
          rotatedBase[r] = VectorOps.dot(b[r], z.get(t));
        }
        assertThat(VectorOps.dot(x.get(t), rotatedBase)).as("text %d: served = B base", t).isGreaterThan(0.9999f);
        assertThat(VectorOps.dot(x64.get(t), y64.get(t))).as("text %d at 64: ONNX vs trainable", t)
            .isGreaterThan(0.9999f);
        // all-MiniLM-L6-v2's int8 twin stays above 0.98 on these texts (0.9897 at worst); bge's 0.99 is Int8QuantizerTest's
        assertThat(VectorOps.dot(x.get(t), int8x.get(t))).as("text %d: int8 vs fp32", t)
            .isGreaterThan(0.98f);
      }
    }
    assertThatThrownBy(() -> small(tmp.resolve("both")).reorderDims(true).basis(Basis.PRINCIPAL_AXES).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("choose one");
  }

  @Test
  void basisTaskFitsTheAxesOfTheTextsRenderedForThatTask(@TempDir Path tmp) throws Exception {
    // all-MiniLM-L6-v2 has no query prompt of its own: give it one, so that queries and documents differ
    ModelPackage pkg = ModelPackage.builtIn("all-MiniLM-L6-v2").toBuilder()
        .prompt(TaskType.RETRIEVAL_QUERY, "a question about this: {text}").build();
    Path out = tmp.resolve("queries");
    small(out).baseModel(pkg).objective(FineTuneObjective.MRL_DISTILL).basis(Basis.PRINCIPAL_AXES)
        .basisTask(TaskType.RETRIEVAL_QUERY).build().train();
    assertThat(ModelManifest.read(out.resolve(ModelManifest.FILE_NAME)).training())
        .containsEntry("basisTask", "RETRIEVAL_QUERY");
    float[][] b = Adapter.load(out.resolve("adapter.safetensors")).basis();
    List<String> anchors = new ArrayList<>();
    for (TrainingExample e : sts("train", 24).examples()) {
      anchors.add(e.anchor());
    }
    float[][] asQueries;
    float[][] asDocuments;
    try (GeckoEmbedder base = GeckoEmbedder.builder().model(pkg).build()) {
      asQueries = embed(base, anchors, TaskType.RETRIEVAL_QUERY);
      asDocuments = embed(base, anchors, TaskType.RETRIEVAL_DOCUMENT);
    }
    float[][] queryAxes = Basis.PRINCIPAL_AXES.ofUnitVectors(asQueries);
    float[][] documentAxes = Basis.PRINCIPAL_AXES.ofUnitVectors(asDocuments);
    for (int r = 0; r < 8; r++) { // the leading axes, whose eigenvalues are well apart
      assertThat(Math.abs(VectorOps.dot(b[r], queryAxes[r]))).as("axis %d", r).isGreaterThan(0.9999f);
    }
    assertThat(Math.abs(VectorOps.dot(b[0], documentAxes[0]))).as("the prompt moved the first axis").isLessThan(0.9999f);
    // with --distill-queries the teacher already holds every training text as a query: the basis is fit on those
    Path withQueries = tmp.resolve("with-queries");
    small(withQueries).baseModel(pkg).objective(FineTuneObjective.MRL_DISTILL).basis(Basis.PRINCIPAL_AXES)
        .basisTask(TaskType.RETRIEVAL_QUERY).distillQueries(true).build().train();
    float[][] bq = Adapter.load(withQueries.resolve("adapter.safetensors")).basis();
    for (int r = 0; r < 8; r++) {
      assertThat(Math.abs(VectorOps.dot(bq[r], queryAxes[r]))).as("axis %d with distillQueries", r).isGreaterThan(0.9999f);
    }

    assertThatThrownBy(() -> small(tmp.resolve("no-basis")).objective(FineTuneObjective.MRL_DISTILL)
        .basisTask(TaskType.RETRIEVAL_QUERY).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not basis IDENTITY with MRL_DISTILL");
    assertThatThrownBy(() -> small(tmp.resolve("cosent")).basis(Basis.PRINCIPAL_AXES)
        .basisTask(TaskType.RETRIEVAL_QUERY).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not basis PRINCIPAL_AXES with COSENT");
  }

  @Test
  void distillQueriesScoresTheTextsAsQueriesAgainstTheTextsAsDocuments(@TempDir Path tmp) throws Exception {
    // all-MiniLM-L6-v2 renders queries as documents: each row's query and document are one text,
    // and the query-document distillation is the document-document one, weight for weight
    Path plain = tmp.resolve("plain");
    Path same = tmp.resolve("same");
    small(plain).validation(null).objective(FineTuneObjective.MRL_DISTILL).build().train();
    small(same).validation(null).objective(FineTuneObjective.MRL_DISTILL).distillQueries(true).build().train();
    assertThat(Files.readAllBytes(same.resolve("model.onnx"))).isEqualTo(Files.readAllBytes(plain.resolve("model.onnx")));
    assertThat(ModelManifest.read(same.resolve(ModelManifest.FILE_NAME)).training())
        .containsEntry("distillQueries", true);
    assertThat(ModelManifest.read(plain.resolve(ModelManifest.FILE_NAME)).training()).doesNotContainKey("distillQueries");
    // with a query prompt of its own the pairs differ, and so do the weights
    ModelPackage prompted = ModelPackage.builtIn("all-MiniLM-L6-v2").toBuilder()
        .prompt(TaskType.RETRIEVAL_QUERY, "a question about this: {text}").build();
    Path promptedPlain = tmp.resolve("prompted-plain");
    Path promptedQueries = tmp.resolve("prompted-queries");
    small(promptedPlain).baseModel(prompted).validation(null).objective(FineTuneObjective.MRL_DISTILL).build().train();
    FineTuneResult r = small(promptedQueries).baseModel(prompted).validation(null)
        .objective(FineTuneObjective.MRL_DISTILL).distillQueries(true).build().train();
    assertThat(r.steps()).isEqualTo(3);
    assertThat(Files.readAllBytes(promptedQueries.resolve("model.onnx")))
        .isNotEqualTo(Files.readAllBytes(promptedPlain.resolve("model.onnx")));

    assertThatThrownBy(() -> small(tmp.resolve("cosent")).distillQueries(true).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("distillQueries applies to the mrl-distill objective only, not COSENT");
  }

  private static float[][] embed(GeckoEmbedder embedder, List<String> texts, TaskType task) {
    List<EmbedRequest> requests = new ArrayList<>();
    for (String t : texts) {
      requests.add(EmbedRequest.of(task, t));
    }
    return embedder.embedRequests(requests, embedder.dimensions()).toArray(new float[0][]);
  }

  @Test
  void widthWeightsThatAreAll0AreRefused(@TempDir Path tmp) throws IOException {
    // the loss would always be 0 (and the validation score 0/0) while weight decay still moved the model
    assertThatThrownBy(() -> small(tmp.resolve("o1")).dimWeight(384, 0).dimWeight(64, 0).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("{384=0.0, 64=0.0}")
        .hasMessageContaining("at least one width a weight > 0");
    assertThat(small(tmp.resolve("o2")).dimWeight(384, 0).build().config().dimWeights()).containsExactly(0.0, 1.0);
  }

  /** A model file cut short is reported as damaged, with the parser's failure, not as a model of an unsupported kind. */
  @Test
  void aTruncatedModelFileIsADamagedModelNotAnUnsupportedOne(@TempDir Path tmp) throws IOException {
    ModelPackage mini = ModelPackage.builtIn("all-MiniLM-L6-v2");
    Path cut = Files.createDirectories(tmp.resolve("cut"));
    byte[] model = mini.model().readAllBytes();
    Files.write(cut.resolve("model.onnx"), java.util.Arrays.copyOf(model, model.length / 2));
    Files.write(cut.resolve("tokenizer.json"), mini.tokenizer().readAllBytes());
    ModelManifest.describing(mini).withName("cut").write(cut.resolve(ModelManifest.FILE_NAME));
    assertThatThrownBy(() -> small(tmp.resolve("o")).baseModel(cut.toString()).build())
        .isInstanceOf(ModelLoadException.class).isNotInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("model.onnx").hasMessageContaining("not a well-formed ONNX model")
        .hasCauseInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void badInputIsRefusedBeforeTraining(@TempDir Path tmp) throws IOException {
    Path empty = Files.writeString(tmp.resolve("empty.jsonl"), "");
    assertThatThrownBy(() -> TrainingData.read(empty)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("empty.jsonl");
    Path noPositive = Files.writeString(tmp.resolve("rows.jsonl"),
        "{\"anchor\": \"q1\", \"positive\": \"p1\"}\n{\"text\": \"just a text\"}\n");
    assertThatThrownBy(() -> FineTuner.builder().baseModel("all-MiniLM-L6-v2").data(TrainingData.read(noPositive))
        .objective(FineTuneObjective.GECKO).output(tmp.resolve("o1")).build())
        .isInstanceOf(InvalidDataException.class).hasMessageContaining("rows.jsonl:2")
        .hasMessageContaining("positive");
    assertThatThrownBy(() -> small(tmp.resolve("o2")).dims(512, 64).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("512").hasMessageContaining("384");
    assertThatThrownBy(() -> small(tmp.resolve("o4")).neighbourGroup(4).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessage("neighbourGroup applies to the mrl-distill objective "
            + "only, not COSENT");
    assertThatThrownBy(() -> small(tmp.resolve("o5")).objective(FineTuneObjective.MRL_DISTILL).neighbourGroup(16).build())
        .hasMessage("neighbourGroup 16 exceeds the batch size 8");
    assertThatThrownBy(() -> FineTuner.builder().neighbourGroup(1)).hasMessageContaining("0 (off) or >= 2, was 1");
    // options the objective would ignore are refused, not silently dropped
    assertThatThrownBy(() -> small(tmp.resolve("o8")).temperature(0.1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("temperature applies to the GECKO and MRL_DISTILL objectives, not COSENT");
    assertThatThrownBy(() -> small(tmp.resolve("o9")).objective(FineTuneObjective.MRL_DISTILL).allHardNegatives(true)
        .build()).hasMessage("allHardNegatives applies to the GECKO objective only, not MRL_DISTILL");
    assertThatThrownBy(() -> small(tmp.resolve("o10")).positiveThreshold(3).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("positiveThreshold applies to the GECKO objective only, not COSENT");
    assertThatThrownBy(() -> small(tmp.resolve("o11")).teacherCache(tmp.resolve("cache")).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("teacherCache")
        .hasMessageContaining("with COSENT and none of them it would never be used");
    assertThat(tmp.resolve("cache")).doesNotExist();
    assertThatThrownBy(() -> small(tmp.resolve("o6")).objective(FineTuneObjective.MRL_DISTILL).batchSize(2).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batchSize 2 is too small for MRL_DISTILL")
        .hasMessageContaining("the loss is always 0");
    Path notBert = Files.createDirectories(tmp.resolve("int8"));
    ModelPackage int8 = ModelPackage.builtIn("bge-small-en-v1.5-int8");
    Files.write(notBert.resolve("model.onnx"), int8.model().readAllBytes());
    Files.write(notBert.resolve("tokenizer.json"), int8.tokenizer().readAllBytes());
    new ModelManifest("q", "cls", 512, null, null, null, null, null, null, null, null, null)
        .write(notBert.resolve(ModelManifest.FILE_NAME));
    assertThatThrownBy(() -> small(tmp.resolve("o3")).baseModel(notBert.toString()).build())
        .isInstanceOf(ModelLoadException.class).hasMessageContaining("model.onnx");
    // a base that carries an adapter: refused, since training would drop it silently
    ModelPackage mini = ModelPackage.builtIn("all-MiniLM-L6-v2");
    // an fp16 graph (one weight, here): refused as a model of an unsupported kind, naming the weight
    dev.gecko.core.internal.onnx.OnnxModel graph = dev.gecko.core.internal.onnx.OnnxModel.parse(mini.model().readAllBytes());
    dev.gecko.core.internal.onnx.OnnxModel.Initializer weight = graph.initializers().values().stream()
        .filter(i -> i.dataType() == 1 && i.size() > 1000).findFirst().orElseThrow();
    Path half = Files.createDirectories(tmp.resolve("fp16"));
    Files.write(half.resolve("model.onnx"), graph.edit().remove(weight.name())
        .add(weight.name(), 10, weight.dims(), new byte[(int) weight.size() * 2]).write());
    Files.write(half.resolve("tokenizer.json"), mini.tokenizer().readAllBytes());
    ModelManifest.describing(mini).withName("half").write(half.resolve(ModelManifest.FILE_NAME));
    assertThatThrownBy(() -> small(tmp.resolve("o10")).baseModel(half.toString()).build())
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("initializer '" + weight.name() + "' is float16, not float32: give the fp32 model");
    Path adapted = Files.createDirectories(tmp.resolve("adapted"));
    Files.write(adapted.resolve("model.onnx"), mini.model().readAllBytes());
    Files.write(adapted.resolve("tokenizer.json"), mini.tokenizer().readAllBytes());
    try (var out = Files.newOutputStream(adapted.resolve("adapter.safetensors"))) {
      Adapter.identity(384).write(out);
    }
    ModelManifest.describing(mini).withName("adapted").withAdapter("adapter.safetensors")
        .write(adapted.resolve(ModelManifest.FILE_NAME));
    assertThatThrownBy(() -> small(tmp.resolve("o7")).baseModel(adapted.toString()).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("carries an adapter")
        .hasMessageContaining("adapter.safetensors");
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    assertThatThrownBy(() -> small(file.resolve("out")).build()).hasMessageContaining("cannot be created");
    // the output folder: never a base model's (the run would replace its model.onnx) nor one with other files
    Path base = Files.createDirectories(tmp.resolve("base"));
    Files.write(base.resolve("model.onnx"), mini.model().readAllBytes());
    Files.write(base.resolve("tokenizer.json"), mini.tokenizer().readAllBytes());
    ModelManifest.describing(mini).withName("base").write(base.resolve(ModelManifest.FILE_NAME));
    assertThatThrownBy(() -> small(base).baseModel(base.toString()).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no training run wrote");
    assertThatThrownBy(() -> small(base).build()) // another base, the same folder: still not a run's output
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no training run wrote");
    Path notes = Files.createDirectories(tmp.resolve("notes"));
    Files.writeString(notes.resolve("todo.txt"), "mine");
    assertThatThrownBy(() -> small(notes).build()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not empty and holds no gecko-model.json");
    assertThat(Files.readString(notes.resolve("todo.txt"))).isEqualTo("mine");
    // an adapter training's output (gecko train): not a fine-tuning run's to replace
    Path adapterRun = Files.createDirectories(tmp.resolve("adapter-run"));
    ModelManifest.describing(mini).withTraining(java.util.Map.of("objective", "CONTRASTIVE", "adapterKind", "LINEAR"))
        .write(adapterRun.resolve(ModelManifest.FILE_NAME)); // as gecko-train wrote it before it named itself
    assertThatThrownBy(() -> small(adapterRun).build()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("holds a model that gecko-train wrote; refusing to overwrite it with gecko-finetune's");
    assertThatThrownBy(() -> small(file).build()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the output folder is a file");
    // an interrupted run's folder stays usable whatever else landed there (a log, a desktop's
    // .DS_Store), and hidden files alone make no folder someone else's
    Path interrupted = Files.createDirectories(tmp.resolve("interrupted"));
    Files.writeString(interrupted.resolve("checkpoint.bin"), "x");
    Files.writeString(interrupted.resolve("train.log"), "step 300");
    assertThat(small(interrupted).build()).isNotNull();
    Path hidden = Files.createDirectories(tmp.resolve("hidden"));
    Files.writeString(hidden.resolve(".DS_Store"), "");
    assertThat(small(hidden).build()).isNotNull();
    assertThat(Files.readString(interrupted.resolve("train.log"))).isEqualTo("step 300");
  }
}
