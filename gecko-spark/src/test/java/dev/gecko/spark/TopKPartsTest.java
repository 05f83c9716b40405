package dev.gecko.spark;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How packing a shard refuses a bad corpus vector: named by its id and ordinal. */
class TopKPartsTest {
  @Test
  void anEmptyVectorIsRefusedByName() {
    List<TopKParts.Entry> entries = List.of(new TopKParts.Entry(0, "d0", new float[0]),
        new TopKParts.Entry(1, "d1", new float[0]));
    assertThatThrownBy(() -> TopKParts.Shard.pack("p", 0, entries.iterator()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("corpus vector of id 'd0' (ordinal 0) is empty: a vector has at least one component");
  }

  @Test
  void aNonFiniteComponentIsRefusedByName() {
    List<TopKParts.Entry> entries = List.of(new TopKParts.Entry(4, "d4", new float[] {1f, 0f}),
        new TopKParts.Entry(3, "d3", new float[] {0f, Float.NaN}));
    assertThatThrownBy(() -> TopKParts.Shard.pack("p", 0, entries.iterator()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("corpus vector of id 'd3' (ordinal 3) component 1 is NaN; a flat index holds and searches finite"
            + " values only");
  }
}
