package dev.gecko.train.adapter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.adapter.Adapter;
import dev.gecko.core.vector.VectorOps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
  private static final Path STS_DEV = Path.of(System.getProperty("gecko.shared.dir", "../../shared"),
      "data/sts/stsbenchmark/pairs.dev.tsv");
  private static GeckoEmbedder embedder;
  private static TrainingData sts;

  @TempDir
  Path tmp;

  @BeforeAll
  static void open() throws IOException {
    embedder = GeckoEmbedder.builder().model("bge-small-en-v1.5-int8").intraOpThreads(1).build();
    sts = TrainingData.read(STS_DEV).limit(80);
  }

  @AfterAll
  static void close() {
    embedder.close();
  }

  private Trainer.Builder base(TrainingData data, Path out) {
    return Trainer.builder().embedder(embedder).data(data).output(out).cacheDir(tmp.resolve("cache"))
        .epochs(3).batchSize(16).dims(384, 128, 32).learningRate(5e-3).warmupFraction(0).patience(5)
        .validationFraction(0.25);
  }

  @Test
  void unsupervisedAdapterIsWrittenAsAModelFolderThatLoads() throws IOException {
    List<dev.gecko.core.Progress> events = new ArrayList<>();
    TrainingResult r = base(sts, tmp.resolve("out")).objective(Objective.UNSUPERVISED).topK(5)
        .progress(events::add).build().train();
    assertThat(r.curve()).hasSize(4);
    assertThat(r.adapter().metadata()).containsEntry("validation", "similarity-preservation")
        .containsEntry("basis", "IDENTITY");
    assertThat(r.adapter().basis()).isNull();
    assertThat(r.baseValidationScore()).isNegative();
    assertThat(r.curve().get(0).epoch()).isZero();
    assertThat(r.curve().get(1).trainLoss()).isPositive();
    assertThat(events).extracting(dev.gecko.core.Progress::phase)
        .contains(Trainer.EMBEDDING, Trainer.NEIGHBOURS, Trainer.BASE_VALIDATION, "epoch 1", "epoch 3");
    // the neighbour searches (training texts, then validation texts) report their pairs to the end
    List<dev.gecko.core.Progress> pairs = events.stream().filter(p -> p.phase().equals(Trainer.NEIGHBOURS)).toList();
    assertThat(pairs).extracting(dev.gecko.core.Progress::unit).containsOnly("pairs");
    assertThat(pairs.get(0).done()).isZero();
    assertThat(pairs).anyMatch(p -> p.finished() && p.total() > 1000);
    // each epoch's last report is finished and carries that epoch's validation score, as the curve has it
    for (int epoch = 1; epoch <= 3; epoch++) {
      String phase = "epoch " + epoch;
      dev.gecko.core.Progress last = events.stream().filter(p -> p.phase().equals(phase)).reduce((a, b) -> b).orElseThrow();
      assertThat(last.finished()).isTrue();
      assertThat(last.metric(Trainer.VALIDATION)).hasValue(r.curve().get(epoch).validationScore());
    }
    assertThat(Files.exists(r.modelDir().resolve("model.onnx"))).isTrue();
    assertThat(r.model().adapter()).isPresent();
    assertThat(r.model().matryoshkaDims()).containsExactly(384, 128, 32);
    try (GeckoEmbedder trained = GeckoEmbedder.builder().model(r.modelDir().toString()).intraOpThreads(1).build()) {
      List<String> texts = List.of("A man is playing a guitar.", "Two dogs run in the park.");
      List<float[]> base = embedder.embedAll(texts, 384);
      List<float[]> got = trained.embedAll(texts, 128);
      Adapter adapter = Adapter.load(r.modelDir().resolve("adapter.safetensors"));
      for (int i = 0; i < texts.size(); i++) {
        float[] expected = VectorOps.truncateAndNormalize(adapter.apply(base.get(i)), 128);
        for (int t = 0; t < 128; t++) {
          assertThat(got.get(i)[t]).isCloseTo(expected[t], within(2e-5f));
        }
      }
    }
  }

  /** Texts of the STS pairs that no pair of {@code train} holds, and some that it does. */
  private static List<String> texts(TrainingData data) {
    List<String> out = new ArrayList<>();
    for (TrainingExample e : data.examples()) {
      out.add(e.anchor());
      out.add(e.positive());
    }
    return out;
  }

  @Test
  void unsupervisedValidationScoresOnlyTextsThatTrainingNeverSees() throws IOException {
    TrainingData train = sts.limit(40);
    List<String> seen = texts(train).subList(0, 12);
    List<String> unseen = texts(sts).subList(80, 104); // pairs 40-51: not in train
    unseen.removeAll(texts(train));
    List<TrainingExample> mixed = new ArrayList<>();
    for (int i = 0; i < Math.max(seen.size(), unseen.size()); i++) {
      if (i < seen.size()) {
        mixed.add(TrainingExample.text(seen.get(i)));
      }
      if (i < unseen.size()) {
        mixed.add(TrainingExample.text(unseen.get(i)));
      }
    }
    Trainer.Builder b = base(train, tmp.resolve("mixed")).objective(Objective.UNSUPERVISED).topK(3).epochs(1);
    double withSeen = b.validationData(TrainingData.of(mixed)).build().train().baseValidationScore();
    double heldOut = b.output(tmp.resolve("heldOut"))
        .validationData(TrainingData.of(unseen.stream().map(TrainingExample::text).toList())).build().train()
        .baseValidationScore();
    // epoch 0 (the base model) is scored on the validation texts alone: the training texts among
    // them are left out, so it scores exactly as the held-out texts by themselves
    assertThat(withSeen).isEqualTo(heldOut);

    TrainingData onlySeen = TrainingData.of(seen.stream().map(TrainingExample::text).toList());
    assertThatThrownBy(() -> b.output(tmp.resolve("onlySeen")).validationData(onlySeen).build().train())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("0 text(s) that the training split does not also hold")
        .hasMessageContaining("of its 12 distinct texts");
  }

  @Test
  void validationCapDrawsItsTextsWithTheSeedNotTheFileStart() throws IOException {
    TrainingData train = sts.limit(40);
    List<String> unseen = texts(sts).subList(80, 160);
    unseen.removeAll(texts(train));
    unseen = new ArrayList<>(new java.util.LinkedHashSet<>(unseen));
    TrainingData val = TrainingData.of(unseen.stream().map(TrainingExample::text).toList());
    TrainingData firstTen = TrainingData.of(unseen.subList(0, 10).stream().map(TrainingExample::text).toList());
    Trainer.Builder b = base(train, tmp.resolve("a")).objective(Objective.UNSUPERVISED).topK(3).epochs(1)
        .maxValidation(10);
    double capped = b.validationData(val).build().train().baseValidationScore();
    double again = b.output(tmp.resolve("b")).build().train().baseValidationScore();
    double fileStart = b.output(tmp.resolve("c")).validationData(firstTen).build().train().baseValidationScore();
    assertThat(again).isEqualTo(capped); // the same seed draws the same texts
    assertThat(capped).isNotEqualTo(fileStart);
  }

  @Test
  void principalAxesBasisKeepsFullWidthSimilaritiesAndMoreNeighbours() throws IOException {
    Trainer.Builder b = base(sts, tmp.resolve("pca")).objective(Objective.UNSUPERVISED).topK(5).epochs(1)
        .unsupervisedValidation(UnsupervisedValidation.NEIGHBOURS);
    TrainingResult pca = b.basis(Basis.PRINCIPAL_AXES).build().train();
    TrainingResult id = b.output(tmp.resolve("id")).basis(Basis.IDENTITY).build().train();
    assertThat(pca.adapter().metadata()).containsEntry("validation", "neighbour-recall");
    assertThat(pca.adapter().basis()).isNotNull();
    assertThat(pca.adapter().metadata()).containsEntry("basis", "PRINCIPAL_AXES");
    assertThat(id.adapter().basis()).isNull();
    assertThat(id.adapter().metadata()).containsEntry("basis", "IDENTITY");
    // validation = neighbour recall x 100, in [0, 100]; the rotation alone (epoch 0) already keeps
    // more of the full-width neighbours at the truncated widths than the base model's own coordinates
    assertThat(pca.baseValidationScore()).isBetween(0.0, 100.0).isGreaterThan(id.baseValidationScore());
    // at full width alone, the base model keeps every one of its own neighbours, and so does a
    // rotation (up to float rounding of near-ties)
    TrainingResult full = b.output(tmp.resolve("full")).dims(384).build().train();
    assertThat(full.baseValidationScore()).isEqualTo(100.0);
    TrainingResult fullRotated = b.output(tmp.resolve("fullRotated")).basis(Basis.PRINCIPAL_AXES).build().train();
    assertThat(fullRotated.baseValidationScore()).isGreaterThan(99.0);
    // the written basis is applied the way training applied it: its first coordinate carries the
    // most energy of the training texts (with B transposed by mistake it would not)
    Adapter rotationOnly = Adapter.identity(384).withBasis(pca.adapter().basis());
    List<float[]> base = embedder.embedAll(sts.examples().stream().limit(30).map(TrainingExample::anchor).toList(), 384);
    double[] energy = new double[384];
    for (float[] u : base) {
      float[] v = rotationOnly.apply(u);
      for (int k = 0; k < 384; k++) {
        energy[k] += v[k] * v[k];
      }
    }
    assertThat(energy[0]).isGreaterThan(energy[1]).isGreaterThan(energy[100]);
    assertThat(energy[0] / base.size()).isGreaterThan(0.3);
    // an orthonormal basis with a zero residual leaves full-width cosines unchanged
    Adapter rotation = Adapter.identity(384).withBasis(pca.adapter().basis());
    List<float[]> v = embedder.embedAll(List.of("A man is playing a guitar.", "Two dogs run in the park.",
        "The stock market fell."), 384);
    for (int i = 0; i < v.size(); i++) {
      for (int j = 0; j < v.size(); j++) {
        assertThat(VectorOps.cosine(rotation.apply(v.get(i)), rotation.apply(v.get(j))))
            .isCloseTo(VectorOps.cosine(v.get(i), v.get(j)), within(1e-5f));
      }
    }
  }

  @Test
  void sameSeedGivesABitIdenticalAdapterAndAnotherSeedDoesNot() throws IOException {
    Trainer.Builder b = base(sts, tmp.resolve("a")).objective(Objective.COSENT).seed(7);
    Adapter first = b.build().train().adapter();
    Adapter second = b.output(tmp.resolve("b")).build().train().adapter();
    Adapter other = b.output(tmp.resolve("c")).seed(8).build().train().adapter();
    assertThat(second.weight1()).isDeepEqualTo(first.weight1());
    assertThat(second.bias1()).containsExactly(first.bias1());
    assertThat(java.util.Arrays.deepEquals(other.weight1(), first.weight1())).isFalse();
    assertThat(Files.readAllBytes(tmp.resolve("a/adapter.safetensors")))
        .isEqualTo(Files.readAllBytes(tmp.resolve("b/adapter.safetensors")));
  }

  @Test
  void cosentTrainingImprovesTheTrainingLoss() throws IOException {
    TrainingResult r = base(sts, tmp.resolve("o")).objective(Objective.COSENT).epochs(6).build().train();
    assertThat(r.curve().get(r.curve().size() - 1).trainLoss()).isLessThan(r.curve().get(1).trainLoss());
  }

  /**
   * Weights that diverge (a learning rate of 1e38) make the validation vectors infinite or NaN:
   * those epochs score NaN with a warning, and the base (epoch 0) stays the best. Before, the
   * validation's rank correlation threw "value i is NaN", which read like bad data.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"COSENT", "CONTRASTIVE"})
  void divergingWeightsScoreNaNAndTheBestEpochIsKept(String objective) throws IOException {
    // COSENT validates by Spearman, CONTRASTIVE on unscored pairs by MRR (whose ranks of NaN
    // cosines would still give a number)
    TrainingData data = objective.equals("COSENT") ? sts : TrainingData.of(sts.examples().stream()
        .map(e -> TrainingExample.triplet(null, e.anchor(), e.positive(), null)).toList());
    java.util.List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.logging.Logger jul = java.util.logging.Logger.getLogger(Trainer.class.getName());
    java.util.logging.Handler h = new java.util.logging.Handler() {
      @Override
      public void publish(java.util.logging.LogRecord r) {
        if (r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
          warnings.add(java.text.MessageFormat.format(r.getMessage(), r.getParameters()));
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    jul.addHandler(h);
    try {
      TrainingResult r = base(data, tmp.resolve("nan")).objective(Objective.valueOf(objective)).learningRate(1e38)
          .epochs(2).patience(5).build().train();
      assertThat(r.bestEpoch()).isZero();
      assertThat(r.curve().get(r.curve().size() - 1).validationScore()).isNaN();
      assertThat(warnings).anySatisfy(w -> assertThat(w).matches("epoch [12]: the validation score is not a number .*")
          .endsWith("epoch 0 stays the best"));
      // the folder loads, its manifest's curve in plain JSON (no score for the NaN epoch)
      JsonNode curve = new ObjectMapper().readTree(r.modelDir().resolve(ModelPackage.MANIFEST).toFile())
          .path("training").path("curve");
      assertThat(curve.get(curve.size() - 1).path("validationScore").isNull()).isTrue();
      assertThat(ModelPackage.resolve(r.modelDir().toString()).dimensions()).isEqualTo(384);
    } finally {
      jul.removeHandler(h);
    }
  }

  @Test
  void keepsTheBestEpochAndWritesTheAdapterThatScoresIt() throws IOException {
    // CoSENT on real STS-B dev pairs, validated by Spearman x 100 on the seeded split's other
    // pairs; patience 2, so the run goes on past its best epoch before it stops
    long seed = 7;
    TrainingResult r = base(sts, tmp.resolve("best")).objective(Objective.COSENT).seed(seed).epochs(8).patience(2)
        .build().train();
    List<Double> scores = r.curve().stream().map(EpochStats::validationScore).toList();
    // training improves the held-out score strictly over the base model (epoch 0)
    assertThat(r.improved()).isTrue();
    assertThat(r.bestValidationScore()).isGreaterThan(r.baseValidationScore());
    // the kept epoch is the first maximum of the curve, and later epochs were worse
    assertThat(r.stoppedEarly()).isTrue();
    assertThat(r.bestEpoch()).isEqualTo(scores.indexOf(Collections.max(scores))).isLessThan(scores.size() - 1);
    // the written adapter is that epoch's: scored again from the model folder, on the same split and
    // the same cached vectors, it gives the best score (not the last epoch's)
    Adapter written = Adapter.load(r.modelDir().resolve("adapter.safetensors"));
    assertThat(spearman(sts.split(0.25, seed).validation(), written))
        .isCloseTo(r.bestValidationScore(), within(1e-10));
    // and the manifest records the same curve and epoch
    JsonNode training = new ObjectMapper().readTree(r.modelDir().resolve(ModelPackage.MANIFEST).toFile())
        .path("training");
    assertThat(training.path("bestEpoch").asInt()).isEqualTo(r.bestEpoch());
    assertThat(training.path("curve").findValues("validationScore")).extracting(JsonNode::asDouble)
        .containsExactlyElementsOf(scores);
  }

  @Test
  void fretJsonlWithTasksTrainsContrastivelyWithMinedNegatives() throws IOException {
    Path f = tmp.resolve("examples.jsonl");
    List<String> lines = new ArrayList<>();
    List<TrainingExample> rows = sts.examples();
    for (int i = 0; i < 40; i++) {
      TrainingExample e = rows.get(i);
      String neg = i % 3 == 0 ? null : rows.get((i + 7) % rows.size()).positive();
      lines.add("{\"task\":\"Given a sentence, find a paraphrase.\",\"anchor\":" + q(e.anchor()) + ",\"positive\":"
          + q(e.positive()) + (neg == null ? "" : ",\"negative\":" + q(neg)) + ",\"query\":" + q(e.anchor())
          + ",\"seed_id\":\"s" + i + "\",\"positive_changed\":false,\"seed_rank\":null,"
          + "\"scorer\":{\"ql\":\"echo\",\"rc\":\"top\"},\"candidates\":[{\"id\":\"d1\",\"rank\":1,\"ql\":null}]}");
    }
    Files.write(f, lines);
    TrainingData data = TrainingData.read(f);
    assertThat(data.size()).isEqualTo(40);
    assertThat(data.examples().get(1).task()).isEqualTo("Given a sentence, find a paraphrase.");
    assertThat(data.examples().get(0).negative()).isNull();
    assertThat(data.examples().get(1).negative()).isNotNull();
    TrainingResult r = base(data, tmp.resolve("fret")).mineHardNegatives(true).build().train();
    assertThat(r.model().adapter()).isPresent();
    assertThat(r.curve().get(0).validationScore()).isBetween(0.0, 100.0 + 1e-7);
    assertThat(ModelPackage.fromDirectory(r.modelDir()).name()).isEqualTo("bge-small-en-v1.5-int8-mrl-adapter");
  }

  private static String q(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  @Test
  void contrastiveOnScoredPairsIsValidatedBySpearmanOverEveryValidationPair() throws IOException {
    TrainingData val = TrainingData.of(TrainingData.read(STS_DEV).examples().subList(80, 140));
    TrainingResult r = base(sts, tmp.resolve("c")).objective(Objective.CONTRASTIVE).validationData(val)
        .maxValidation(10).epochs(1).build().train();
    // epoch 0 is the base model: the mean over the widths of Spearman(cosine, score) on all 60
    // pairs, x 100
    assertThat(r.baseValidationScore()).isCloseTo(spearman(val, null), within(1e-10));
    assertThat(r.adapter().metadata()).containsEntry("validation", "spearman");
  }

  /**
   * The trainer's Spearman validation computed outside it: the mean over the widths 384, 128, 32
   * of Spearman's rho between the pairs' cosines and their scores, x 100, on the cached base
   * vectors after {@code adapter} (null: none).
   */
  private double spearman(TrainingData pairs, Adapter adapter) throws IOException {
    dev.gecko.eval.EmbeddingCache cache = dev.gecko.eval.EmbeddingCache.open(tmp.resolve("cache"));
    List<EmbedRequest> reqs = new ArrayList<>();
    for (TrainingExample e : pairs.examples()) {
      reqs.add(EmbedRequest.of(e.anchor()));
      reqs.add(EmbedRequest.of(e.positive()));
    }
    List<float[]> v = cache.embed(embedder, reqs, "embedding", dev.gecko.core.ProgressListener.none());
    if (adapter != null) {
      v = v.stream().map(adapter::apply).toList();
    }
    double sum = 0;
    for (int m : new int[] {384, 128, 32}) {
      double[] pred = new double[pairs.size()];
      double[] gold = new double[pairs.size()];
      for (int i = 0; i < pairs.size(); i++) {
        pred[i] = Stats.cosine(toDouble(v.get(2 * i)), toDouble(v.get(2 * i + 1)), m);
        gold[i] = pairs.examples().get(i).score();
      }
      sum += Stats.spearman(pred, gold);
    }
    return 100 * sum / 3;
  }

  @Test
  void structureWeightKeepsASupervisedAdapterCloserToTheBaseModel() throws IOException {
    // validated on its own training pairs so that both runs keep a trained epoch
    Trainer.Builder b = base(sts, tmp.resolve("free")).objective(Objective.COSENT).validationData(sts).topK(4);
    TrainingResult free = b.build().train();
    TrainingResult held = b.output(tmp.resolve("held")).structureWeight(5).build().train();
    assertThat(free.bestEpoch()).isPositive();
    assertThat(held.bestEpoch()).isPositive();
    assertThat(held.curve().get(1).trainLoss()).isGreaterThan(free.curve().get(1).trainLoss());
    // what the regulariser preserves: truncated-width cosines close to the base model's full-width ones
    List<float[]> x = embedder.embedAll(sts.texts(), 384);
    double heldDrift = drift(held.adapter(), x, 32);
    double freeDrift = drift(free.adapter(), x, 32);
    assertThat(heldDrift).isLessThan(0.8 * freeDrift);
    assertThat(held.adapter().metadata()).containsEntry("structureWeight", "5.0");
    assertThat(free.adapter().metadata()).doesNotContainKey("structureWeight");
  }

  /** Mean over pairs of |full-width base cosine - adapted cosine at width m| (adapter null: none). */
  private static double drift(Adapter a, List<float[]> x, int m) {
    double sum = 0;
    int n = 0;
    for (int i = 0; i < x.size(); i++) {
      for (int j = i + 1; j < x.size(); j++) {
        double full = Stats.cosine(toDouble(x.get(i)), toDouble(x.get(j)), 384);
        float[] yi = a == null ? x.get(i) : a.apply(x.get(i));
        float[] yj = a == null ? x.get(j) : a.apply(x.get(j));
        sum += Math.abs(full - Stats.cosine(toDouble(yi), toDouble(yj), m));
        n++;
      }
    }
    return sum / n;
  }

  private static double[] toDouble(float[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    return d;
  }

  @Test
  void readsSentenceTransformersAndScoredFormats() throws IOException {
    Path pairs = tmp.resolve("pairs.jsonl");
    Files.writeString(pairs, "{\"anchor\":\"a\",\"positive\":\"b\"}\n\n{\"query\":\"c\",\"positive\":\"d\",\"negative\":\"e\"}\n");
    TrainingData p = TrainingData.read(pairs);
    assertThat(p.examples()).extracting(TrainingExample::anchor).containsExactly("a", "c");
    assertThat(p.allPaired()).isTrue();
    assertThat(p.texts()).containsExactly("a", "b", "c", "d", "e");
    Path scored = tmp.resolve("scored.jsonl");
    Files.writeString(scored, "{\"sentence1\":\"x\",\"sentence2\":\"y\",\"score\":0.5}\n");
    assertThat(TrainingData.read(scored).examples().get(0).score()).isEqualTo(0.5);
    assertThat(sts.allScored()).isTrue();
    assertThat(sts.examples().get(0).anchor()).isEqualTo("A man with a hard hat is dancing.");
    assertThat(sts.examples().get(0).score()).isEqualTo(5.0);
    Path corpus = tmp.resolve("corpus.jsonl");
    Files.writeString(corpus, "{\"_id\":\"1\",\"title\":\"T\",\"text\":\"body\"}\n");
    assertThat(TrainingData.read(corpus).examples().get(0).anchor()).isEqualTo("T body");
  }

  @Test
  void badRowsNameFileAndLine() throws IOException {
    Path bad = tmp.resolve("bad.jsonl");
    Files.writeString(bad, "{\"anchor\":\"a\",\"positive\":\"b\"}\n{\"anchor\":\"a\"}\n");
    assertThatThrownBy(() -> TrainingData.read(bad)).isInstanceOf(dev.gecko.core.InvalidDataException.class)
        .hasMessageContaining("bad.jsonl:2: missing field 'positive'");
    Path badScore = tmp.resolve("bad.tsv");
    Files.writeString(badScore, "sentence1\tsentence2\tscore\nx\ty\tfive\n");
    assertThatThrownBy(() -> TrainingData.read(badScore)).hasMessageContaining("bad.tsv:2").hasMessageContaining("five");
    Path notJson = tmp.resolve("x.jsonl");
    Files.writeString(notJson, "{oops\n");
    assertThatThrownBy(() -> TrainingData.read(notJson)).hasMessageContaining("x.jsonl:1");
    TrainingData unlabeled = TrainingData.of(List.of(TrainingExample.text("a"), TrainingExample.text("b")));
    assertThatThrownBy(() -> Trainer.builder().embedder(embedder).data(unlabeled).output(tmp.resolve("z"))
        .objective(Objective.COSENT).build().train()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("COSENT");
  }

  @Test
  void dataThatCannotBeRankedAndFoldersThatAreNotOursAreRefusedWithTheCause() throws IOException {
    // scores all alike: Spearman is undefined and CoSENT has nothing to order
    List<TrainingExample> flat = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      TrainingExample e = sts.examples().get(i);
      flat.add(TrainingExample.scored(e.anchor(), e.positive(), 1.0));
    }
    assertThatThrownBy(() -> base(TrainingData.of(flat), tmp.resolve("flat")).objective(Objective.COSENT).build()
        .train()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("training data: all").hasMessageContaining("scored pairs have the score 1.0");
    // a threshold above every score: nothing trains as a positive pair, and the message says why
    assertThatThrownBy(() -> base(sts, tmp.resolve("high")).objective(Objective.CONTRASTIVE).positiveThreshold(6)
        .build().train()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive threshold 6.0");
    // a weight for a width that is not trained, and weights that are all 0
    assertThatThrownBy(() -> base(sts, tmp.resolve("w")).dimWeight(64, 2).build().train())
        .hasMessageContaining("a weight was given for width 64, which is not trained [32, 128, 384]");
    assertThatThrownBy(() -> base(sts, tmp.resolve("w0")).dimWeight(384, 0).dimWeight(128, 0).dimWeight(32, 0).build()
        .train()).hasMessageContaining("every width's weight is 0");
    // a model folder no training wrote (a base model, say) is never overwritten
    Path baseModel = Files.createDirectories(tmp.resolve("base-model"));
    dev.gecko.core.ModelManifest.describing(embedder.model()).write(baseModel.resolve("gecko-model.json"));
    assertThatThrownBy(() -> base(sts, baseModel).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no training block");
    // nor one another trainer wrote: a fine-tuned encoder is not an adapter run's to replace
    Path fineTuned = Files.createDirectories(tmp.resolve("fine-tuned"));
    dev.gecko.core.ModelManifest.describing(embedder.model()).withTraining(java.util.Map.of("trainer", "gecko-finetune",
        "objective", "GECKO")).write(fineTuned.resolve("gecko-model.json"));
    assertThatThrownBy(() -> base(sts, fineTuned).build()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("holds a model that gecko-finetune wrote; refusing to overwrite it with gecko-train's");
    // what an interrupted run left (its files, the manifest not yet written) may be written over
    Path interrupted = Files.createDirectories(tmp.resolve("interrupted"));
    Files.writeString(interrupted.resolve("model.onnx"), "partial");
    Files.writeString(interrupted.resolve(".adapter.safetensors.1234.tmp"), "partial");
    // a killed earlier run's graph (older than this process, younger than an hour) and a file that
    // another writer is writing now
    Path killed = Files.writeString(interrupted.resolve(".model.onnx.abc0.tmp"), "partial graph");
    Files.setLastModifiedTime(killed, java.nio.file.attribute.FileTime.from(
        ProcessHandle.current().info().startInstant().orElseThrow().minusSeconds(60)));
    Files.setLastModifiedTime(interrupted.resolve(".adapter.safetensors.1234.tmp"), Files.getLastModifiedTime(killed));
    Path live = Files.writeString(interrupted.resolve(".tokenizer.json.beef.tmp"), "being written");
    Files.writeString(interrupted.resolve(".notes.1234.tmp"), "someone else's");
    base(sts, interrupted).epochs(1).build().train();
    // the killed run's temporary files are gone once the folder is written; others' are not touched
    assertThat(interrupted.resolve(".adapter.safetensors.1234.tmp")).doesNotExist();
    assertThat(interrupted.resolve(".model.onnx.abc0.tmp")).doesNotExist();
    assertThat(live).exists(); // written since this process started: maybe another writer's
    assertThat(interrupted.resolve(".notes.1234.tmp")).exists();
    assertThat(Files.size(interrupted.resolve("model.onnx"))).isGreaterThan(1000);
  }

  @Test
  void splitIsDeterministicAndKeepsEqualAnchorsTogether() {
    List<TrainingExample> rows = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      rows.add(TrainingExample.triplet(null, "q" + (i % 100), "p" + i, null));
    }
    TrainingData d = TrainingData.of(rows);
    TrainingData.Split s1 = d.split(0.2, 1);
    TrainingData.Split s2 = d.split(0.2, 1);
    assertThat(s1.validation().examples()).isEqualTo(s2.validation().examples());
    assertThat(s1.validation().size()).isBetween(40, 130);
    assertThat(s1.train().size() + s1.validation().size()).isEqualTo(400);
    for (TrainingExample v : s1.validation().examples()) {
      assertThat(s1.train().examples()).noneMatch(t -> t.anchor().equals(v.anchor()));
    }
    assertThat(d.split(0.2, 2).validation().examples()).isNotEqualTo(s1.validation().examples());
  }
}
