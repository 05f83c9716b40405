package dev.gecko.train.adapter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.gecko.core.adapter.Adapter;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Hand-written gradients against central finite differences, through the adapter's parameters. */
class GradientTest {
  private static final int D = 12;
  private static final int[] WIDTHS = {3, 6, 12};
  private static final double[] WEIGHTS = {1, 0.5, 2};

  private static double[][] randomVectors(Rng r, int n) {
    double[][] x = new double[n][D];
    for (double[] v : x) {
      double norm = 0;
      for (int t = 0; t < D; t++) {
        v[t] = r.nextGaussian();
        norm += v[t] * v[t];
      }
      for (int t = 0; t < D; t++) {
        v[t] /= Math.sqrt(norm);
      }
    }
    return x;
  }

  private static Model randomModel(Adapter.Kind kind, Rng r) {
    Model m = new Model(kind, D, 8, r);
    for (int i = 0; i < m.p.length; i++) {
      m.p[i] = r.nextGaussian() * 0.3;
    }
    return m;
  }

  /** Loss and analytic gradient through the model; loss only when grad is null. */
  private interface LossFn {
    double apply(double[][] y, double[][] x, double[][] g);
  }

  private static double run(Model m, double[][] x, LossFn fn, double[] grad) {
    double[][] y = new double[x.length][D];
    double[][] h = new double[x.length][m.cacheSize()];
    for (int i = 0; i < x.length; i++) {
      m.forward(x[i], y[i], h[i]);
    }
    double[][] g = new double[x.length][D];
    double loss = fn.apply(y, x, g);
    if (grad != null) {
      for (int i = 0; i < x.length; i++) {
        m.backward(x[i], h[i], g[i], grad);
      }
    }
    return loss;
  }

  private static void check(Adapter.Kind kind, LossFn fn, int vectors) {
    Rng r = new Rng(7);
    double[][] x = randomVectors(r, vectors);
    Model m = randomModel(kind, r);
    double[] grad = new double[m.p.length];
    run(m, x, fn, grad);
    ToDoubleFunction<double[]> at = p -> {
      double[] saved = m.p.clone();
      System.arraycopy(p, 0, m.p, 0, p.length);
      double l = run(m, x, fn, null);
      System.arraycopy(saved, 0, m.p, 0, saved.length);
      return l;
    };
    double eps = 1e-6;
    double maxAbs = 0;
    for (double v : grad) {
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
    assertThat(maxAbs).isGreaterThan(1e-4);
    for (int i = 0; i < m.p.length; i++) {
      double[] plus = m.p.clone();
      double[] minus = m.p.clone();
      plus[i] += eps;
      minus[i] -= eps;
      double fd = (at.applyAsDouble(plus) - at.applyAsDouble(minus)) / (2 * eps);
      assertThat(grad[i]).as("parameter %d", i).isCloseTo(fd, within(1e-6 + 1e-5 * Math.abs(fd)));
    }
  }

  @ParameterizedTest
  @EnumSource(Adapter.Kind.class)
  void contrastiveGeckoEq3(Adapter.Kind kind) {
    // rows: q = 0..3, positives 4..7 (row 3 shares row 2's positive), negatives 8, 9 or none
    int[] q = {0, 1, 2, 3};
    int[] pos = {4, 5, 6, 6};
    int[] neg = {8, -1, 9, 8};
    check(kind, (y, x, g) -> Losses.contrastive(y, q, pos, neg, WIDTHS, WEIGHTS, 0.2, g), 10);
  }

  @Test
  void aPairAndItsReverseInOneBatchHaveNothingToPushApart() {
    // rows (a, b) and (b, a): row 0's other positive is its own query, its other query its own
    // positive; both masked, the positive is alone in the softmax and the loss is 0
    double[][] y = {{1, 0.5, -0.25, 0.75, 0.1, 0.2}, {0.3, -1, 0.5, 0.2, 0.9, -0.4}};
    double[][] g = new double[2][6];
    double loss = Losses.contrastive(y, new int[] {0, 1}, new int[] {1, 0}, new int[] {-1, -1}, new int[] {2, 6},
        new double[] {1, 1}, 0.05, g);
    assertThat(loss).isZero();
    assertThat(g[0]).containsOnly(0.0);
    assertThat(g[1]).containsOnly(0.0);
  }

  @Test
  void twoPositivesOfOneQueryInOneBatchAreNotPushedApartFromIt() {
    // rows (q, p1, hard negative p2) and (q, p2): p2 is another positive of q, neither an in-batch
    // nor a hard negative of row 0 (and p1 not of row 1); the other row's query is q itself: each
    // positive is alone in its softmax, the loss 0
    double[][] y = {{1, 0.5, -0.25, 0.75, 0.1, 0.2}, {0.3, -1, 0.5, 0.2, 0.9, -0.4}, {-0.6, 0.2, 0.8, -0.1, 0.4, 1}};
    double[][] g = new double[3][6];
    double loss = Losses.contrastive(y, new int[] {0, 0}, new int[] {1, 2}, new int[] {2, -1}, new int[] {2, 6},
        new double[] {1, 1}, 0.05, g);
    assertThat(loss).isZero();
    for (double[] row : g) {
      assertThat(row).containsOnly(0.0);
    }
  }

  @ParameterizedTest
  @EnumSource(Adapter.Kind.class)
  void cosent(Adapter.Kind kind) {
    int[] a = {0, 1, 2, 3, 4};
    int[] b = {5, 6, 7, 8, 0};
    double[] label = {4.5, 1.0, 3.0, 3.0, 0.2};
    check(kind, (y, x, g) -> Losses.cosent(y, a, b, label, WIDTHS, WEIGHTS, 5, g), 9);
  }

  @ParameterizedTest
  @EnumSource(Adapter.Kind.class)
  void unsupervisedMatryoshkaAdaptor(Adapter.Kind kind) {
    int[] items = {0, 1, 2, 3};
    int[][] nn = {{4, 5}, {6, 0}, {7, 1}, {5, 2}};
    check(kind, (y, x, g) -> {
      double[][] pairT = new double[4][4];
      double[][] nnT = new double[4][2];
      for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) {
          pairT[i][j] = Stats.cosine(x[items[i]], x[items[j]], D);
        }
        for (int k = 0; k < 2; k++) {
          nnT[i][k] = Stats.cosine(x[items[i]], x[nn[i][k]], D);
        }
      }
      return Losses.unsupervised(y, x, items, nn, pairT, nnT, WIDTHS, WEIGHTS, 0.7, 0.3, 1, g);
    }, 8);
  }

  /** The structure terms over texts {@code items} with neighbours {@code nn}, times {@code scale}. */
  private static double structure(double[][] y, double[][] x, int[] items, int[][] nn, double scale, double[][] g) {
    double[][] pairT = new double[items.length][items.length];
    double[][] nnT = new double[items.length][];
    for (int i = 0; i < items.length; i++) {
      for (int j = 0; j < items.length; j++) {
        pairT[i][j] = Stats.cosine(x[items[i]], x[items[j]], D);
      }
      nnT[i] = new double[nn[i].length];
      for (int k = 0; k < nn[i].length; k++) {
        nnT[i][k] = Stats.cosine(x[items[i]], x[nn[i][k]], D);
      }
    }
    return Losses.unsupervised(y, x, items, nn, pairT, nnT, WIDTHS, WEIGHTS, 0.7, 0.3, scale, g);
  }

  @ParameterizedTest
  @EnumSource(Adapter.Kind.class)
  void contrastivePlusStructureRegulariser(Adapter.Kind kind) {
    // the supervised Matryoshka-Adaptor variant: ranking loss + scale x (top-k, pairs, reconstruction)
    // over every text of the batch (queries, positives, negatives), neighbours outside the batch
    int[] q = {0, 1, 2, 3};
    int[] pos = {4, 5, 6, 6};
    int[] neg = {8, -1, 9, 8};
    int[] texts = {0, 1, 2, 3, 4, 5, 6, 8, 9};
    int[][] nn = {{10, 4}, {11, 0}, {7, 10}, {5, 2}, {0, 11}, {1, 7}, {2, 3}, {9, 10}, {8, 11}};
    check(kind, (y, x, g) -> Losses.contrastive(y, q, pos, neg, WIDTHS, WEIGHTS, 0.2, g)
        + structure(y, x, texts, nn, 0.4, g), 12);
  }

  @ParameterizedTest
  @EnumSource(Adapter.Kind.class)
  void cosentPlusStructureRegulariser(Adapter.Kind kind) {
    int[] a = {0, 1, 2, 3};
    int[] b = {4, 5, 6, 0};
    double[] label = {4.5, 1.0, 3.0, 0.2};
    int[] texts = {0, 1, 2, 3, 4, 5, 6};
    int[][] nn = {{7}, {2}, {8}, {0}, {1}, {7}, {3}};
    check(kind, (y, x, g) -> Losses.cosent(y, a, b, label, WIDTHS, WEIGHTS, 5, g)
        + structure(y, x, texts, nn, 2.5, g), 9);
  }
}
