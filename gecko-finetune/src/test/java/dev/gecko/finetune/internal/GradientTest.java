package dev.gecko.finetune.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.Pooling;
import dev.gecko.tokenizer.Encoding;
import dev.gecko.tokenizer.GeckoTokenizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every loss's parameter gradients, through the whole encoder, against float64 central finite
 * differences on a tiny random model; gradient caching against one pass over the whole batch.
 */
class GradientTest {
  static final BertConfig TINY = new BertConfig(8, 2, 2, 16, 30522, 64, 2, 1e-12f, -10000f);
  static NDManager manager;
  static GeckoTokenizer tokenizer;
  static List<Encoding> texts;

  @BeforeAll
  static void setUp() {
    Torch.engine();
    manager = NDManager.newBaseManager();
    tokenizer = TestModels.tokenizer(ModelPackage.builtIn("bge-small-en-v1.5"));
    texts = new ArrayList<>();
    for (String t : List.of("a cat sits on the mat", "dogs bark", "the weather is cold today", "a kitten on a rug",
        "stock markets fell", "it is freezing outside")) {
      texts.add(tokenizer.encode(t));
    }
  }

  @AfterAll
  static void tearDown() {
    tokenizer.close();
    manager.close();
  }

  static final int[] WIDTHS = {8, 4, 2};
  static final double[] WEIGHTS = {1, 0.5, 0.25};

  static Function<NDArray, NDArray> gecko(boolean all) {
    // rows (query, positive, negative) over the 6 texts; row 2 repeats row 0's positive (masked)
    return e -> Objectives.gecko(e, new int[] {0, 2, 4}, new int[] {3, 5, 3}, new int[] {1, 1, -1},
        WIDTHS, WEIGHTS, 0.5, all);
  }

  static Function<NDArray, NDArray> cosent() {
    return e -> Objectives.cosent(e, new int[] {0, 1, 2}, new int[] {3, 4, 5}, new double[] {4.5, 0.5, 3.0},
        WIDTHS, WEIGHTS, 20);
  }

  static Function<NDArray, NDArray> distill() {
    double[] t = teacher();
    return e -> Objectives.distill(e, e.getManager().create(t, new ai.djl.ndarray.types.Shape(6, 5)), WIDTHS,
        WEIGHTS, 0.5);
  }

  static double[] teacher() {
    double[] t = new double[6 * 5];
    Random r = new Random(3);
    for (int i = 0; i < t.length; i++) {
      t[i] = r.nextGaussian();
    }
    return t;
  }

  /** Texts 0-2 as queries against texts 3-5 as documents (query i and document i: one text). */
  static Function<NDArray, NDArray> distillQueries(int[] q, int[] d) {
    double[] t = teacher();
    return e -> Objectives.distillQueries(e, e.getManager().create(t, new ai.djl.ndarray.types.Shape(6, 5)), q, d,
        WIDTHS, WEIGHTS, 0.5);
  }

  /** The loss and its gradients from autograd, via GradCache with the given mini-batch. */
  static Map<String, double[]> autograd(BertEncoder enc, Function<NDArray, NDArray> loss, int miniBatch) {
    enc.parameters().values().forEach(p -> p.setRequiresGradient(true));
    GradCache.run(enc, manager, texts, tokenizer.padId(), Pooling.MEAN, miniBatch, loss, new double[1]);
    Map<String, double[]> g = new LinkedHashMap<>();
    enc.parameters().forEach((name, p) -> {
      try (NDArray grad = p.getGradient()) {
        g.put(name, grad.toDoubleArray());
        grad.subi(grad);
      }
    });
    return g;
  }

  static double lossValue(BertEncoder enc, Function<NDArray, NDArray> loss) {
    try (NDManager sm = manager.newSubManager()) {
      return GradCache.scalar(loss.apply(enc.encode(sm, GeckoTokenizer.pad(texts, tokenizer.padId()), Pooling.MEAN)));
    }
  }

  void check(Function<NDArray, NDArray> loss, String what) {
    try (BertEncoder enc = BertEncoder.random(TINY, 7, manager, DataType.FLOAT64)) {
      Map<String, double[]> g = autograd(enc, loss, 64);
      Random r = new Random(11);
      List<String> names = new ArrayList<>(enc.parameters().keySet());
      int checked = 0;
      double worst = 0;
      for (String name : names) {
        double[] w = enc.doubles(name);
        // two entries per tensor; word embeddings: an entry of a token the texts use
        int[] entries = name.contains("word_embeddings")
            ? new int[] {(int) texts.get(0).ids()[1] * 8 + 3, (int) texts.get(3).ids()[2] * 8}
            : new int[] {r.nextInt(w.length), r.nextInt(w.length)};
        for (int i : entries) {
          double h = 1e-5;
          double old = w[i];
          w[i] = old + h;
          enc.setDoubles(name, w);
          double up = lossValue(enc, loss);
          w[i] = old - h;
          enc.setDoubles(name, w);
          double down = lossValue(enc, loss);
          w[i] = old;
          enc.setDoubles(name, w);
          double fd = (up - down) / (2 * h);
          double ad = g.get(name)[i];
          double err = Math.abs(fd - ad) / Math.max(1e-4, Math.abs(fd) + Math.abs(ad));
          worst = Math.max(worst, err);
          assertThat(err).as(what + " " + name + "[" + i + "]: finite difference " + fd + ", autograd " + ad)
              .isLessThan(1e-5);
          checked++;
        }
      }
      assertThat(checked).isEqualTo(2 * names.size());
      // a gradient that is zero everywhere would pass the comparisons above only if the loss were flat
      assertThat(java.util.Arrays.stream(g.get("encoder.layer.1.output.dense.weight")).map(Math::abs).max()
          .orElse(0)).as(what + ": gradients flow").isGreaterThan(1e-8);
    }
  }

  @Test
  void geckoOwnNegative() {
    check(gecko(false), "gecko (own negative)");
  }

  @Test
  void geckoMasksAPairAndItsReverseInOneBatch() {
    // rows (a, b) and (b, a): the other row's positive is this row's query and its query this
    // row's positive, both masked: the positive stands alone and the loss is 0
    try (NDManager sm = manager.newSubManager()) {
      NDArray emb = sm.create(new float[] {1, 0.5f, -0.25f, 0.75f, 0.1f, 0.2f, 0.4f, -0.3f, 0.3f, -1, 0.5f, 0.2f, 0.9f,
          -0.4f, 0.2f, 0.6f}, new ai.djl.ndarray.types.Shape(2, 8));
      for (boolean all : new boolean[] {false, true}) {
        float loss = Objectives.gecko(emb, new int[] {0, 1}, new int[] {1, 0}, new int[] {-1, -1}, WIDTHS, WEIGHTS,
            0.05, all).toType(DataType.FLOAT32, false).getFloat();
        assertThat(loss).as("allNegatives %s", all).isCloseTo(0f, org.assertj.core.api.Assertions.within(1e-6f));
      }
    }
  }

  @Test
  void geckoAllNegatives() {
    check(gecko(true), "gecko (all negatives)");
  }

  @Test
  void cosentGradients() {
    check(cosent(), "cosent");
  }

  @Test
  void distillGradients() {
    check(distill(), "mrl-distill");
  }

  @Test
  void distillQueriesGradients() {
    check(distillQueries(new int[] {0, 1, 2}, new int[] {3, 4, 5}), "mrl-distill, queries against documents");
  }

  @Test
  void distillQueriesOfEveryRowAgainstEveryRowIsDistill() {
    try (NDManager sm = manager.newSubManager()) {
      NDArray e = sm.randomNormal(new ai.djl.ndarray.types.Shape(6, 8), DataType.FLOAT64);
      int[] all = {0, 1, 2, 3, 4, 5};
      assertThat(GradCache.scalar(distillQueries(all, all).apply(e)))
          .isCloseTo(GradCache.scalar(distill().apply(e)), org.assertj.core.data.Offset.offset(1e-12));
    }
  }

  /** The query-document loss against the formula computed here in plain float64. */
  @Test
  void distillQueriesMatchesItsDefinition() {
    int[] q = {0, 1, 2};
    int[] d = {3, 4, 5};
    try (NDManager sm = manager.newSubManager()) {
      NDArray arr = sm.randomNormal(new ai.djl.ndarray.types.Shape(6, 8), DataType.FLOAT64);
      double expected = distillQueriesByDefinition(arr.toDoubleArray(), q, d, 0.5);
      assertThat(expected).isGreaterThan(1e-3);
      assertThat(GradCache.scalar(distillQueries(q, d).apply(arr)))
          .isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-10));
    }
  }

  /**
   * A text a batch holds twice gives two rows naming the same query and document rows: each row's
   * own document is masked in both of its columns, its own and its duplicate's.
   */
  @Test
  void distillQueriesMasksTheOwnDocumentOfARepeatedRow() {
    int[] q = {0, 1, 2, 0};
    int[] d = {3, 4, 5, 3};
    try (NDManager sm = manager.newSubManager()) {
      NDArray arr = sm.randomNormal(new ai.djl.ndarray.types.Shape(6, 8), DataType.FLOAT64);
      double expected = distillQueriesByDefinition(arr.toDoubleArray(), q, d, 0.5);
      assertThat(expected).isGreaterThan(1e-3);
      assertThat(GradCache.scalar(distillQueries(q, d).apply(arr)))
          .isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-10));
    }
  }

  /**
   * KL(teacher || student) of each row's softmax over {@code cos(q_i, d_j) / tau}, every column j
   * whose document is row i's left out, summed over the widths with their weights, mean over rows;
   * the teacher at full width ({@link #teacher()}, 6 x 5), the student {@code e} 6 x 8.
   */
  private static double distillQueriesByDefinition(double[] e, int[] q, int[] d, double tau) {
    int n = q.length;
    double[] t = teacher();
    double expected = 0;
    double[] tLogits = logits(t, 5, 5, q, d, tau);
    for (int w = 0; w < WIDTHS.length; w++) {
      double[] sLogits = logits(e, 8, WIDTHS[w], q, d, tau);
      double kl = 0;
      for (int i = 0; i < n; i++) {
        double[] lt = logSoftmaxOfOtherDocuments(tLogits, d, i);
        double[] ls = logSoftmaxOfOtherDocuments(sLogits, d, i);
        for (int j = 0; j < n; j++) {
          if (d[j] != d[i]) {
            kl += Math.exp(lt[j]) * (lt[j] - ls[j]);
          }
        }
      }
      expected += WEIGHTS[w] * kl / n;
    }
    return expected;
  }

  /** cos(row q_i, row d_j) / tau at width m of row-major vectors of width h, n x n. */
  private static double[] logits(double[] v, int h, int m, int[] q, int[] d, double tau) {
    int n = q.length;
    double[] out = new double[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double dot = 0;
        double nq = 0;
        double nd = 0;
        for (int k = 0; k < m; k++) {
          double a = v[q[i] * h + k];
          double b = v[d[j] * h + k];
          dot += a * b;
          nq += a * a;
          nd += b * b;
        }
        out[i * n + j] = dot / Math.sqrt(nq * nd) / tau;
      }
    }
    return out;
  }

  /** Row i's log-softmax over the columns whose document is not row i's (the others' entries are not used). */
  private static double[] logSoftmaxOfOtherDocuments(double[] logits, int[] d, int i) {
    int n = d.length;
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < n; j++) {
      if (d[j] != d[i]) {
        max = Math.max(max, logits[i * n + j]);
      }
    }
    double sum = 0;
    for (int j = 0; j < n; j++) {
      if (d[j] != d[i]) {
        sum += Math.exp(logits[i * n + j] - max);
      }
    }
    double[] out = new double[n];
    for (int j = 0; j < n; j++) {
      out[j] = logits[i * n + j] - max - Math.log(sum);
    }
    return out;
  }

  @Test
  void gradientCachingWithMiniBatch2GivesTheFullBatchGradients() {
    for (Function<NDArray, NDArray> loss : List.of(gecko(false), cosent(), distill(),
        distillQueries(new int[] {0, 1, 2}, new int[] {3, 4, 5}))) {
      try (BertEncoder enc = BertEncoder.random(TINY, 5, manager, DataType.FLOAT64)) {
        Map<String, double[]> full = autograd(enc, loss, 64);
        Map<String, double[]> cached = autograd(enc, loss, 2);
        double max = 0;
        double scale = 0;
        for (String name : full.keySet()) {
          for (int i = 0; i < full.get(name).length; i++) {
            max = Math.max(max, Math.abs(full.get(name)[i] - cached.get(name)[i]));
            scale = Math.max(scale, Math.abs(full.get(name)[i]));
          }
        }
        assertThat(scale).isGreaterThan(1e-6);
        assertThat(max).as("largest difference, gradients up to " + scale).isLessThan(1e-10 * Math.max(1, scale));
      }
    }
  }
}
