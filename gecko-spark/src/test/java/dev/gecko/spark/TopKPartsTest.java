package dev.gecko.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gecko.core.index.FlatIndex;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * How packing a shard refuses a bad corpus vector (named by its id and ordinal), and how a shard
 * searches a block of queries.
 */
class TopKPartsTest {
  /**
   * A block of more queries than one scan takes (1,024) gets, query by query, the hits of one
   * search each; a bad query anywhere in the block is named before anything is searched.
   */
  @Test
  void aQueryBlockGetsTheHitsOfOneSearchEach() {
    Random r = new Random(3);
    List<TopKParts.Entry> entries = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      entries.add(new TopKParts.Entry(10 + i, "d" + i, random(r, 8)));
    }
    TopKParts.ShardIndex index = TopKParts.ShardIndex.build(TopKParts.Shard.pack("p", 0, entries.iterator()),
        FlatIndex.Precision.FLOAT32, FlatIndex.Metric.COSINE);
    List<TopKParts.Query> queries = new ArrayList<>();
    for (int q = 0; q < 2100; q++) {
      queries.add(new TopKParts.Query(q, "q" + q, random(r, 8)));
    }
    List<TopKParts.Hits> all = index.searchAll(queries, 5);
    assertThat(all).hasSize(queries.size());
    for (int q = 0; q < queries.size(); q++) {
      TopKParts.Hits one = index.search("q" + q, queries.get(q).vector(), 5);
      assertThat(all.get(q)).as("query %d", q).usingRecursiveComparison().isEqualTo(one);
    }
    queries.set(1500, new TopKParts.Query(1500, "q-bad", new float[] {0, 0, 0, Float.NaN, 0, 0, 0, 0}));
    assertThatThrownBy(() -> index.searchAll(queries, 5)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("query 'q-bad' component 3 is NaN");
  }

  private static float[] random(Random r, int dims) {
    float[] v = new float[dims];
    for (int i = 0; i < dims; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return v;
  }

  /**
   * Entries that share an ordinal are refused, naming it and their ids in a fixed order (not the
   * order they arrived in), at most three of them.
   */
  @Test
  void aRepeatedOrdinalIsRefusedNamingItsIds() {
    List<TopKParts.Entry> entries = new ArrayList<>();
    for (String id : List.of("e", "b", "d", "a", "c")) {
      entries.add(new TopKParts.Entry(8, id, new float[] {1f, 0f}));
    }
    entries.add(new TopKParts.Entry(3, "x", new float[] {0f, 1f}));
    assertThatThrownBy(() -> TopKParts.Shard.pack("p", 0, entries.iterator()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duplicate corpus ordinal 8: 5 rows have it (ids 'a', 'b', 'c', ...); each corpus row needs an ordinal "
            + "of its own (ordinals order the corpus and break ties between equal scores)");
    TopKParts.Shard unique = TopKParts.Shard.pack("p", 0, List.of(new TopKParts.Entry(9, "y", new float[] {1f, 0f}),
        new TopKParts.Entry(3, "x", new float[] {0f, 1f})).iterator());
    assertThat(unique.ordinals).containsExactly(3, 9);
  }

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
