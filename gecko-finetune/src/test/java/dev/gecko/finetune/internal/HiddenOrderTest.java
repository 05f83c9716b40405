package dev.gecko.finetune.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.gecko.core.Pooling;
import dev.gecko.tokenizer.GeckoTokenizer;
import dev.gecko.tokenizer.TokenizedBatch;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Reordering the hidden coordinates is an exact symmetry: the outputs come out permuted, nothing else. */
class HiddenOrderTest {
  static NDManager manager;

  @BeforeAll
  static void setUp() {
    GradientTest.setUp();
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void tearDown() {
    manager.close();
    GradientTest.tearDown();
  }

  @Test
  void permutedEncoderGivesPermutedHiddenStates() {
    try (BertEncoder enc = BertEncoder.random(GradientTest.TINY, 5, manager, DataType.FLOAT64)) {
      // every parameter random, layer norms and biases included, so that a missed one shows
      Random r = new Random(9);
      for (String name : new ArrayList<>(enc.parameters().keySet())) {
        double[] w = enc.doubles(name);
        for (int i = 0; i < w.length; i++) {
          w[i] = r.nextGaussian() * 0.5 + (name.endsWith("LayerNorm.weight") ? 1 : 0);
        }
        enc.setDoubles(name, w);
      }
      TokenizedBatch batch = GeckoTokenizer.pad(GradientTest.texts, GradientTest.tokenizer.padId());
      List<Integer> shuffled = new ArrayList<>(List.of(0, 1, 2, 3, 4, 5, 6, 7));
      Collections.shuffle(shuffled, new Random(1));
      int[] order = shuffled.stream().mapToInt(Integer::intValue).toArray();
      for (Pooling pooling : Pooling.values()) {
        double[] before;
        double[] after;
        try (NDManager sm = manager.newSubManager()) {
          before = enc.encode(sm, batch, pooling).toDoubleArray();
        }
        HiddenOrder.apply(enc, order);
        try (NDManager sm = manager.newSubManager()) {
          after = enc.encode(sm, batch, pooling).toDoubleArray();
        }
        int rows = GradientTest.texts.size();
        assertThat(after).hasSize(rows * 8);
        for (int row = 0; row < rows; row++) {
          for (int i = 0; i < 8; i++) {
            assertThat(after[row * 8 + i]).as("%s row %d coordinate %d", pooling, row, i)
                .isCloseTo(before[row * 8 + order[i]], org.assertj.core.data.Offset.offset(1e-9));
          }
        }
        // back to the original order for the next pooling
        int[] inverse = new int[8];
        for (int i = 0; i < 8; i++) {
          inverse[order[i]] = i;
        }
        HiddenOrder.apply(enc, inverse);
      }
    }
  }

  @Test
  void ordersByDecreasingVarianceWithTiesByIndex() {
    float[][] v = {{1, 0, 5, 2}, {1, 4, 5, -2}, {1, 2, 5, 0}};
    // variances: 0, 8, 0, 8
    assertThat(HiddenOrder.byVariance(v)).containsExactly(1, 3, 0, 2);
  }

  @Test
  void refusesWhatIsNotAPermutation() {
    try (BertEncoder enc = BertEncoder.random(GradientTest.TINY, 5, manager, DataType.FLOAT32)) {
      assertThatThrownBy(() -> HiddenOrder.apply(enc, new int[] {0, 1, 2}))
          .hasMessage("an order of 3 coordinates for hidden width 8");
      assertThatThrownBy(() -> HiddenOrder.apply(enc, new int[] {0, 1, 2, 3, 4, 5, 6, 6}))
          .hasMessageStartingWith("not a permutation of 0..7");
    }
    assertThatThrownBy(() -> HiddenOrder.byVariance(new float[0][])).hasMessage("no vectors to order the coordinates by");
  }
}
