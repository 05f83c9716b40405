package dev.gecko.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class CorrelationTest {
  @Test
  void tiedValuesGetAverageRanks() {
    assertThat(Correlation.ranks(new double[] {5, 6, 7, 8, 7})).containsExactly(1, 2, 3.5, 5, 3.5);
    assertThat(Correlation.ranks(new double[] {2, 2, 2})).containsExactly(2, 2, 2);
  }

  @Test
  void spearmanWithTiesMatchesHandComputation() {
    // ranks x = 1..5, ranks y = 1, 2, 3.5, 5, 3.5: sxy = 8, sxx = 10, syy = 9.5
    double r = Correlation.spearman(new double[] {1, 2, 3, 4, 5}, new double[] {5, 6, 7, 8, 7});
    assertThat(r).isCloseTo(8 / Math.sqrt(10 * 9.5), within(1e-12));
  }

  @Test
  void spearmanIsRankBasedAndPearsonIsNot() {
    double[] x = {1, 2, 3, 4};
    double[] y = {1, 10, 100, 1000};
    assertThat(Correlation.spearman(x, y)).isCloseTo(1.0, within(1e-12));
    assertThat(Correlation.pearson(x, y)).isLessThan(0.9);
    assertThat(Correlation.spearman(x, new double[] {4, 3, 2, 1})).isCloseTo(-1.0, within(1e-12));
  }

  @Test
  void constantSideIsNaNAndBadLengthsThrow() {
    assertThat(Correlation.spearman(new double[] {1, 2}, new double[] {3, 3})).isNaN();
    assertThatThrownBy(() -> Correlation.spearman(new double[] {1, 2}, new double[] {1}))
        .hasMessageContaining("lengths differ: 2!=1");
    assertThatThrownBy(() -> Correlation.ranks(new double[] {1, Double.NaN}))
        .hasMessageContaining("value 1 is NaN");
  }
}
