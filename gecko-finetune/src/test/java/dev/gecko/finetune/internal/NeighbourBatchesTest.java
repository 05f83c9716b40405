package dev.gecko.finetune.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class NeighbourBatchesTest {
  /** {@code clusters} tight clusters of {@code size} vectors around random directions, interleaved. */
  private static float[][] clusters(int clusters, int size, long seed) {
    Random r = new Random(seed);
    float[][] centres = new float[clusters][32];
    for (float[] c : centres) {
      for (int d = 0; d < c.length; d++) {
        c[d] = (float) r.nextGaussian();
      }
    }
    float[][] v = new float[clusters * size][32];
    for (int i = 0; i < v.length; i++) {
      float[] c = centres[i % clusters];
      for (int d = 0; d < 32; d++) {
        v[i][d] = c[d] + 0.01f * (float) r.nextGaussian();
      }
    }
    return v;
  }

  @Test
  void eachGroupIsOneClusterAndTheOrderIsASeededPermutation() {
    int clusters = 6;
    float[][] v = clusters(clusters, 4, 7);
    NeighbourBatches nb = new NeighbourBatches(v, 4);
    int[] order = nb.order(42);
    assertThat(order).hasSize(24);
    assertThat(Arrays.stream(order).sorted().toArray()).isEqualTo(java.util.stream.IntStream.range(0, 24).toArray());
    for (int g = 0; g < clusters; g++) {
      Set<Integer> ofCluster = new HashSet<>();
      for (int i = 4 * g; i < 4 * g + 4; i++) {
        ofCluster.add(order[i] % clusters);
      }
      assertThat(ofCluster).as("group %d: %s", g, Arrays.toString(Arrays.copyOfRange(order, 4 * g, 4 * g + 4))).hasSize(1);
    }
    assertThat(nb.order(42)).isEqualTo(order);
    assertThat(nb.order(43)).isNotEqualTo(order);
  }

  @Test
  void groupsThatDoNotDivideTheRowsStillCoverEveryRowOnce() {
    float[][] v = clusters(3, 5, 11); // 15 rows, groups of 4: the rest fill from the seeded order
    int[] order = new NeighbourBatches(v, 4).order(1);
    assertThat(Arrays.stream(order).sorted().toArray()).isEqualTo(java.util.stream.IntStream.range(0, 15).toArray());
    assertThat(new NeighbourBatches(new float[][] {{1, 0}, {0, 1}}, 2).order(3)).containsExactlyInAnyOrder(0, 1);
    assertThatThrownBy(() -> new NeighbourBatches(v, 1)).hasMessage("group must be >= 2, was 1");
  }
}
