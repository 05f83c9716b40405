package dev.gecko.core.internal.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BatchCutterTest {
  private static long padded(int[] lengths, int[] ends) {
    long padded = 0;
    int start = 0;
    for (int end : ends) {
      padded += (long) (end - start) * lengths[end - 1];
      start = end;
    }
    return padded;
  }

  /** The greedy rule (each batch as full as the budget allows) the cutter replaced. */
  private static int[] greedy(int[] lengths, int maxTokens, int maxRows) {
    int[] ends = new int[lengths.length];
    int count = 0;
    int start = 0;
    while (start < lengths.length) {
      int end = start + 1;
      while (end < lengths.length && end - start < maxRows && (long) (end - start + 1) * lengths[end] <= maxTokens) {
        end++;
      }
      ends[count++] = end;
      start = end;
    }
    return Arrays.copyOf(ends, count);
  }

  @Test
  void batchesCoverEveryTextInOrderWithinBothLimitsAndPadLessThanGreedyCuts() {
    Random random = new Random(5);
    for (int trial = 0; trial < 200; trial++) {
      int[] lengths = new int[1 + random.nextInt(300)];
      for (int i = 0; i < lengths.length; i++) {
        lengths[i] = 3 + random.nextInt(trial % 2 == 0 ? 40 : 600);
      }
      Arrays.sort(lengths);
      int maxTokens = 256 + random.nextInt(2048);
      int maxRows = 1 + random.nextInt(64);
      int[] ends = BatchCutter.cut(lengths, maxTokens, maxRows);
      int start = 0;
      for (int end : ends) {
        assertThat(end).isGreaterThan(start);
        assertThat(end - start).isLessThanOrEqualTo(maxRows);
        if (end - start > 1) {
          assertThat((long) (end - start) * lengths[end - 1]).isLessThanOrEqualTo(maxTokens);
        }
        start = end;
      }
      assertThat(start).isEqualTo(lengths.length);
      int[] greedy = greedy(lengths, maxTokens, maxRows);
      // it minimises padded tokens + a cost per batch, so it never does worse on that sum
      assertThat(padded(lengths, ends) + (long) BatchCutter.BATCH_COST_TOKENS * ends.length)
          .isLessThanOrEqualTo(padded(lengths, greedy) + (long) BatchCutter.BATCH_COST_TOKENS * greedy.length);
    }
  }

  @Test
  void aTextOverTheBudgetGoesAloneAndBadArgumentsAreRefused() {
    assertThat(BatchCutter.cut(new int[] {5, 6, 900}, 512, 64)).containsExactly(2, 3);
    assertThat(BatchCutter.cut(new int[0], 512, 64)).isEmpty();
    assertThatThrownBy(() -> BatchCutter.cut(new int[] {5, 4}, 512, 64))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("index 1");
    assertThatThrownBy(() -> BatchCutter.cut(new int[] {5}, 0, 64)).isInstanceOf(IllegalArgumentException.class);
  }
}
