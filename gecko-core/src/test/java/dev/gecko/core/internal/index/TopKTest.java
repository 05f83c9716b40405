package dev.gecko.core.internal.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gecko.core.index.SearchHit;
import org.junit.jupiter.api.Test;

class TopKTest {
  @Test
  void nanRanksBelowEveryScore() {
    TopK all = new TopK(4);
    all.offer(0, Float.NaN);
    all.offer(1, 0.5f);
    all.offer(2, Float.NEGATIVE_INFINITY);
    all.offer(3, 1f);
    assertThat(all.sorted()).extracting(SearchHit::ordinal).containsExactly(3, 1, 2, 0);
    // a NaN held while the heap fills gives way to any later score
    TopK two = new TopK(2);
    two.offer(0, Float.NaN);
    two.offer(1, -1f);
    two.offer(2, -2f);
    two.offer(3, Float.NaN);
    assertThat(two.sorted()).extracting(SearchHit::ordinal).containsExactly(1, 2);
    assertThat(two.worstScore()).isEqualTo(-2f);
  }
}
