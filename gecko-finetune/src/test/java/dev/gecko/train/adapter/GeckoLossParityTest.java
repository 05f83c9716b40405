package dev.gecko.train.adapter;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.gecko.finetune.internal.Objectives;
import dev.gecko.finetune.internal.Torch;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fine-tuner's Gecko loss (paper variant: each row's own hard negative) agrees with the
 * adapter trainer's CONTRASTIVE objective ({@link Losses#contrastive}) on loss values and on the
 * gradients with respect to the embeddings, duplicates and missing negatives included. (In this
 * package to reach the package-private {@code Losses}.)
 */
class GeckoLossParityTest {
  @Test
  void lossAndEmbeddingGradientsAgreeWithTheAdapterTrainer() {
    Torch.engine();
    Random r = new Random(5);
    int texts = 9;
    int dim = 12;
    double[][] y = new double[texts][dim];
    for (double[] row : y) {
      for (int t = 0; t < dim; t++) {
        row[t] = r.nextGaussian();
      }
    }
    // rows: query, positive, negative (-1: none); row 3 repeats row 0's positive, row 4's query is
    // row 1's positive, row 5's negative is its own positive, row 6 is another positive of row 0's
    // query whose negative is row 0's positive, and row 4's query (3) is a positive of that query too
    int[] q = {0, 1, 2, 5, 3, 6, 0};
    int[] pos = {3, 4, 7, 3, 8, 7, 4};
    int[] neg = {8, -1, 4, 1, 2, 7, 3};
    int[] widthsAsc = {3, 6, 12};
    double[] weightsAsc = {0.25, 0.5, 1};
    double tau = 0.07;
    double[][] g = new double[texts][dim];
    double expected = Losses.contrastive(y, q, pos, neg, widthsAsc, weightsAsc, tau, g);

    double[] flat = new double[texts * dim];
    for (int i = 0; i < texts; i++) {
      System.arraycopy(y[i], 0, flat, i * dim, dim);
    }
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray emb = m.create(flat, new Shape(texts, dim));
      emb.setRequiresGradient(true);
      double actual;
      try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
        NDArray loss = Objectives.gecko(emb, q, pos, neg, new int[] {12, 6, 3}, new double[] {1, 0.5, 0.25}, tau,
            false);
        gc.backward(loss);
        actual = loss.getDouble();
      }
      assertThat(actual).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-10 * Math.abs(expected)));
      double[] grad = emb.getGradient().toDoubleArray();
      double worst = 0;
      double largest = 0;
      for (int i = 0; i < texts; i++) {
        for (int t = 0; t < dim; t++) {
          worst = Math.max(worst, Math.abs(grad[i * dim + t] - g[i][t]));
          largest = Math.max(largest, Math.abs(g[i][t]));
        }
      }
      assertThat(largest).isGreaterThan(1e-3);
      assertThat(worst).as("largest gradient difference (gradients up to " + largest + ")").isLessThan(1e-10);
    }
  }
}
