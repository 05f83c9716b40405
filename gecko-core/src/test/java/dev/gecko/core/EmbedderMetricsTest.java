package dev.gecko.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gecko.core.EmbedderMetrics.LatencyHistogram;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The histogram type of the metrics, used directly as an operator's code may use it. */
class EmbedderMetricsTest {
  @Test
  void quantilesReadTheBucketBounds() {
    LatencyHistogram h = new LatencyHistogram(List.of(100L, 1_000L, Long.MAX_VALUE), List.of(3L, 1L, 1L));
    assertThat(h.count()).isEqualTo(5);
    assertThat(h.quantile(0.5)).isEqualTo(Duration.ofNanos(100_000));
    assertThat(h.quantile(0.8)).isEqualTo(Duration.ofNanos(1_000_000));
    assertThat(h.quantile(1.0)).as("past the last finite bound reads as that bound").isEqualTo(Duration.ofNanos(1_000_000));
    assertThat(new LatencyHistogram(List.of(100L), List.of(0L)).quantile(0.99)).isEqualTo(Duration.ZERO);
    // one unbounded bucket: a huge duration, not an overflow to a negative one
    assertThat(new LatencyHistogram(List.of(Long.MAX_VALUE), List.of(1L)).quantile(0.5)).isPositive();
  }

  @Test
  void negativeCountsAndUnorderedBoundsAreRefused() {
    assertThatThrownBy(() -> new LatencyHistogram(List.of(100L, Long.MAX_VALUE), List.of(-1L, 2L)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("counts[0]");
    assertThatThrownBy(() -> new LatencyHistogram(List.of(100L, 50L), List.of(1L, 2L)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ascending");
    assertThatThrownBy(() -> new LatencyHistogram(List.of(100L), List.of(1L, 2L)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one count per bucket");
    assertThatThrownBy(() -> new LatencyHistogram(List.of(100L), List.of(1L)).quantile(1.5))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
