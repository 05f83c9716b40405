package dev.gecko.train.adapter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PrincipalAxesTest {
  /** Unit vectors whose energy per coordinate falls off as 1, 1/2, 1/3 ..., in a shuffled order. */
  private static double[][] anisotropic(int n, int d, long seed) {
    Random r = new Random(seed);
    int[] perm = {3, 0, 5, 1, 4, 2, 7, 6};
    double[][] x = new double[n][d];
    for (double[] u : x) {
      double norm = 0;
      for (int k = 0; k < d; k++) {
        u[perm[k]] = r.nextGaussian() / Math.sqrt(k + 1);
        norm += u[perm[k]] * u[perm[k]];
      }
      for (int k = 0; k < d; k++) {
        u[k] /= Math.sqrt(norm);
      }
    }
    return x;
  }

  private static List<int[]> rows(int n) {
    List<int[]> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(new int[] {i, -1});
    }
    return rows;
  }

  @Test
  void axesAreOrthonormalSortedByEnergyAndFindTheLeadingCoordinates() {
    double[][] x = anisotropic(4000, 8, 1);
    float[][] b = PrincipalAxes.of(x, rows(x.length));
    for (int i = 0; i < 8; i++) {
      for (int j = 0; j < 8; j++) {
        double dot = 0;
        for (int k = 0; k < 8; k++) {
          dot += b[i][k] * b[j][k];
        }
        assertThat(dot).isCloseTo(i == j ? 1 : 0, within(1e-5));
      }
    }
    double previous = Double.MAX_VALUE;
    for (float[] axis : b) {
      double energy = 0;
      for (double[] u : x) {
        double p = 0;
        for (int k = 0; k < 8; k++) {
          p += axis[k] * u[k];
        }
        energy += p * p;
      }
      assertThat(energy).isLessThanOrEqualTo(previous);
      previous = energy;
    }
    // the largest-variance coordinate (index 3) is the first axis, signed positive
    assertThat((double) b[0][3]).isGreaterThan(0.95);
    assertThat((double) b[1][0]).isGreaterThan(0.9);
  }

  @Test
  void rotationKeepsInnerProductsAndOnlyNamedRowsCount() {
    double[][] x = anisotropic(300, 8, 2);
    double[][] copy = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      copy[i] = x[i].clone();
    }
    // rows that name only the first half: the second half does not move the axes
    List<int[]> half = rows(150);
    float[][] b = PrincipalAxes.of(x, half);
    double[][] firstHalf = java.util.Arrays.copyOf(x, 150);
    assertThat(PrincipalAxes.of(firstHalf, half)).isDeepEqualTo(b);
    PrincipalAxes.rotate(b, x);
    for (int i = 0; i < 20; i++) {
      for (int j = 0; j < 20; j++) {
        double before = 0;
        double after = 0;
        for (int k = 0; k < 8; k++) {
          before += copy[i][k] * copy[j][k];
          after += x[i][k] * x[j][k];
        }
        assertThat(after).isCloseTo(before, within(1e-5));
      }
    }
  }

  @Test
  void thePublicBasisIsThePrincipalAxesOfEveryVectorOrTheIdentity() {
    double[][] x = anisotropic(500, 8, 3);
    assertThat(Basis.PRINCIPAL_AXES.of(x)).isDeepEqualTo(PrincipalAxes.of(x, rows(x.length)));
    float[][] identity = Basis.IDENTITY.of(x);
    for (int i = 0; i < 8; i++) {
      for (int j = 0; j < 8; j++) {
        assertThat(identity[i][j]).isEqualTo(i == j ? 1f : 0f);
      }
    }
    assertThatThrownBy(() -> Basis.PRINCIPAL_AXES.of(new double[0][]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one vector");
    assertThatThrownBy(() -> Basis.PRINCIPAL_AXES.of(new double[][] {{1, 0}, {1, 0, 0}}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("vector 1 has width 3");
  }

  @Test
  void unitVectorsWeighEveryTextAlikeAndAreNotModified() {
    double[][] x = anisotropic(200, 6, 11);
    float[][] scaled = new float[x.length][];
    double[][] unit = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      double norm = 0;
      for (double v : x[i]) {
        norm += v * v;
      }
      norm = Math.sqrt(norm);
      scaled[i] = new float[6];
      unit[i] = new double[6];
      for (int k = 0; k < 6; k++) {
        scaled[i][k] = (float) (x[i][k] * (1 + i % 7)); // lengths that differ from text to text
        unit[i][k] = scaled[i][k] / (norm * (1 + i % 7));
      }
    }
    float[] first = scaled[0].clone();
    float[][] b = Basis.PRINCIPAL_AXES.ofUnitVectors(scaled);
    float[][] expected = Basis.PRINCIPAL_AXES.of(unit);
    for (int r = 0; r < 6; r++) {
      for (int c = 0; c < 6; c++) {
        assertThat(b[r][c]).isCloseTo(expected[r][c], within(1e-5f));
      }
    }
    assertThat(scaled[0]).containsExactly(first);
    scaled[3] = new float[6];
    assertThatThrownBy(() -> Basis.PRINCIPAL_AXES.ofUnitVectors(scaled))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("vector 3 has no direction");
  }
}
