package dev.gecko.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gecko.core.index.FlatIndex;
import dev.gecko.core.index.SearchHit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** {@link DistributedTopK} against one {@link FlatIndex} over the same vectors, ties included. */
class DistributedTopKTest {
  private static final StructType SCHEMA = new StructType().add("id", DataTypes.StringType, false)
      .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), true);

  private static float[] random(Random r, int dims, boolean unit) {
    float[] v = new float[dims];
    double n = 0;
    for (int i = 0; i < dims; i++) {
      v[i] = (float) r.nextGaussian();
      n += v[i] * v[i];
    }
    if (unit) {
      for (int i = 0; i < dims; i++) {
        v[i] /= (float) Math.sqrt(n);
      }
    }
    return v;
  }

  private static Dataset<Row> table(List<float[]> vectors, String prefix, int partitions) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < vectors.size(); i++) {
      rows.add(RowFactory.create(prefix + i, vectors.get(i)));
    }
    return TestSpark.rows(rows, SCHEMA, partitions);
  }

  /** query id to its hits (ids and scores), best first, as the Spark search returned them. */
  static Map<String, List<Object[]>> byQuery(Dataset<Row> hits) {
    Map<String, List<Object[]>> m = new HashMap<>();
    List<Row> rows = new ArrayList<>(hits.collectAsList());
    rows.sort((a, b) -> a.getString(0).equals(b.getString(0)) ? Integer.compare(a.getInt(1), b.getInt(1))
        : a.getString(0).compareTo(b.getString(0)));
    for (Row r : rows) {
      List<Object[]> l = m.computeIfAbsent(r.getString(0), k -> new ArrayList<>());
      assertThat(r.getInt(1)).isEqualTo(l.size() + 1);
      l.add(new Object[] {r.getString(2), r.getFloat(3), r.getLong(4)});
    }
    return m;
  }

  /** Checks the Spark hits equal the flat index's for every query: ids, order, scores. */
  static void assertEqualsFlatIndex(Map<String, List<Object[]>> spark, FlatIndex index, List<String> corpusIds,
      Map<String, float[]> queries, int k) {
    assertThat(spark.keySet()).isEqualTo(queries.keySet());
    queries.forEach((qid, q) -> {
      List<SearchHit> expected = index.search(q, k);
      List<Object[]> got = spark.get(qid);
      assertThat(got).as("hits of %s", qid).hasSize(expected.size());
      for (int i = 0; i < expected.size(); i++) {
        assertThat(got.get(i)[0]).as("%s rank %d", qid, i + 1).isEqualTo(corpusIds.get(expected.get(i).ordinal()));
        assertThat((float) got.get(i)[1]).as("%s rank %d score", qid, i + 1).isEqualTo(expected.get(i).score());
        assertThat((long) got.get(i)[2]).isEqualTo(expected.get(i).ordinal());
      }
    });
  }

  @Test
  void equalsOneFlatIndexForEveryPrecisionAndMetricWithTies() {
    Random r = new Random(19);
    int dims = 48;
    List<float[]> corpus = new ArrayList<>();
    for (int i = 0; i < 1500; i++) {
      corpus.add(random(r, dims, true));
    }
    for (int i = 0; i < 60; i++) {
      corpus.add(corpus.get(r.nextInt(corpus.size())).clone()); // duplicates: equal scores, broken by ordinal
    }
    List<float[]> queries = new ArrayList<>();
    for (int i = 0; i < 120; i++) {
      queries.add(i % 10 == 0 ? corpus.get(r.nextInt(corpus.size())).clone() : random(r, dims, true));
    }
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < corpus.size(); i++) {
      ids.add("d" + i);
    }
    Map<String, float[]> qmap = new HashMap<>();
    for (int i = 0; i < queries.size(); i++) {
      qmap.put("q" + i, queries.get(i));
    }
    Dataset<Row> c = table(corpus, "d", 5);
    Dataset<Row> q = table(queries, "q", 3);
    Object[][] kinds = {{FlatIndex.Precision.FLOAT32, FlatIndex.Metric.DOT}, {FlatIndex.Precision.FLOAT32, FlatIndex.Metric.COSINE},
        {FlatIndex.Precision.INT8, FlatIndex.Metric.DOT}, {FlatIndex.Precision.BINARY, FlatIndex.Metric.HAMMING}};
    for (Object[] kind : kinds) {
      FlatIndex.Precision p = (FlatIndex.Precision) kind[0];
      FlatIndex.Metric m = (FlatIndex.Metric) kind[1];
      FlatIndex index = FlatIndex.builder(dims).precision(p).metric(m).build();
      corpus.forEach(index::add);
      Map<String, List<Object[]>> hits = byQuery(DistributedTopK.builder().k(25).shards(3).queryBlocks(2).precision(p).metric(m)
          .build().search(q, c));
      assertEqualsFlatIndex(hits, index, ids, qmap, 25);
    }
  }

  @Test
  void moreHitsThanAShardHoldsNullVectorsAndAnOrdinalColumn() {
    Random r = new Random(7);
    List<Row> rows = new ArrayList<>();
    List<float[]> vectors = new ArrayList<>();
    StructType schema = SCHEMA.add("ordinal", DataTypes.LongType, false);
    for (int i = 0; i < 7; i++) {
      float[] v = random(r, 8, true);
      vectors.add(v);
      rows.add(RowFactory.create("d" + i, v, 100L * (7 - i))); // ordinals run against the rows' order
    }
    rows.add(RowFactory.create("no-vector", null, 5000L));
    Dataset<Row> c = TestSpark.rows(rows, schema, 2);
    List<float[]> queries = List.of(random(r, 8, true), vectors.get(3).clone());
    FlatIndex index = FlatIndex.builder(8).build();
    List<String> ids = new ArrayList<>();
    for (int i = 6; i >= 0; i--) { // ordinal order
      index.add(vectors.get(i));
      ids.add("d" + i);
    }
    Map<String, float[]> qmap = Map.of("q0", queries.get(0), "q1", queries.get(1));
    Map<String, List<Object[]>> hits = byQuery(DistributedTopK.builder().k(10).shards(4).queryBlocks(1).ordinalCol("ordinal")
        .build().search(table(queries, "q", 1), c));
    assertThat(hits.get("q0")).hasSize(7);
    assertThat(hits.get("q1").get(0)[0]).isEqualTo("d3");
    // ordinals are the column's, not positions: compare ids and scores only
    qmap.forEach((qid, v) -> {
      List<SearchHit> expected = index.search(v, 10);
      for (int i = 0; i < expected.size(); i++) {
        assertThat(hits.get(qid).get(i)[0]).isEqualTo(ids.get(expected.get(i).ordinal()));
        assertThat((float) hits.get(qid).get(i)[1]).isEqualTo(expected.get(i).score());
      }
    });
    assertThatThrownBy(() -> DistributedTopK.builder().ordinalCol("id").build().search(table(queries, "q", 1), c))
        .hasMessageContaining("ordinal column 'id' is string, not bigint");
    assertThatThrownBy(() -> DistributedTopK.builder().precision(FlatIndex.Precision.BINARY).metric(FlatIndex.Metric.DOT).build())
        .hasMessageContaining("does not fit precision binary");
  }

  /**
   * A bad corpus vector is named by its id and ordinal, a bad query by its id, a null id or ordinal
   * by its column and row. Before, a corpus vector was named by its place in its shard ("vector 1
   * component 0 is NaN"), a query not at all ("query component 0 is NaN", "vector dimensions
   * differ: 3!=2"), a null id became the id "null" and a null ordinal a bare NullPointerException.
   */
  @Test
  void badRowsAreNamedByTheirIdOrdinalOrRow() {
    StructType schema = new StructType().add("id", DataTypes.StringType, true)
        .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), true).add("ordinal", DataTypes.LongType, true);
    float big = (float) Math.sqrt(FlatIndex.MAX_DOT_SQUARED_NORM); // a squared norm of twice the most a dot index allows
    List<Row> good = List.of(RowFactory.create("d0", new float[] {1f, 0f}, 10L), RowFactory.create("d1", new float[] {0f, 1f}, 20L));
    Dataset<Row> corpus = TestSpark.rows(good, schema, 1);
    Dataset<Row> queries = TestSpark.rows(List.of(RowFactory.create("q-1", new float[] {1f, 1f}, null)), schema, 1);
    DistributedTopK positions = DistributedTopK.builder().k(2).shards(1).queryBlocks(1).build();
    DistributedTopK ordinals = DistributedTopK.builder().k(2).shards(1).queryBlocks(1).ordinalCol("ordinal").build();
    java.util.function.Function<Row, Dataset<Row>> plus = r -> TestSpark.rows(List.of(good.get(0), good.get(1), r), schema, 1);

    assertThat(TestSpark.refusal(() -> positions.search(queries, plus.apply(RowFactory.create("doc-B", new float[] {Float.NaN, 0f}, 5L)))
        .collectAsList())).startsWith("corpus vector of id 'doc-B' (ordinal 2) component 0 is NaN");
    assertThat(TestSpark.refusal(() -> ordinals.search(queries, plus.apply(RowFactory.create("doc-B", new float[] {0f,
        Float.POSITIVE_INFINITY}, 2000L))).collectAsList())).startsWith("corpus vector of id 'doc-B' (ordinal 2000) component 1 is Infinity");
    assertThat(TestSpark.refusal(() -> ordinals.search(queries, plus.apply(RowFactory.create("huge", new float[] {big, big}, 30L)))
        .collectAsList())).startsWith("corpus vector of id 'huge' (ordinal 30) has squared norm");
    assertThat(TestSpark.refusal(() -> ordinals.search(TestSpark.rows(List.of(RowFactory.create("q-17", new float[] {Float.NaN, 1f}, null)),
        schema, 1), corpus).collectAsList())).startsWith("query 'q-17' component 0 is NaN");
    assertThat(TestSpark.refusal(() -> ordinals.search(TestSpark.rows(List.of(RowFactory.create("q-17", new float[] {1f, 1f, 1f}, null)),
        schema, 1), corpus).collectAsList())).isEqualTo("query 'q-17' has 3 dimensions, the corpus's vectors 2 (corpus vector of id 'd0' (ordinal 10) among them)");
    // corpus vectors of two widths in two shards, each of one width: the message names a vector of each side
    DistributedTopK twoShards = DistributedTopK.builder().k(2).shards(2).queryBlocks(1).ordinalCol("ordinal").build();
    assertThat(TestSpark.refusal(() -> twoShards.search(queries, TestSpark.rows(List.of(RowFactory.create("even", new float[] {1f, 0f}, 0L),
        RowFactory.create("odd", new float[] {1f, 0f, 0f}, 1L)), schema, 1)).collectAsList()))
        .isEqualTo("query 'q-1' has 2 dimensions, the corpus's vectors 3 (corpus vector of id 'odd' (ordinal 1) among them)");
    assertThat(TestSpark.refusal(() -> ordinals.search(TestSpark.rows(List.of(RowFactory.create("q-big", new float[] {big, big}, null)),
        schema, 1), corpus).collectAsList())).startsWith("query 'q-big' has squared norm");
    // nulls: named by column and row
    assertThat(TestSpark.refusal(() -> positions.search(queries, plus.apply(RowFactory.create(null, new float[] {1f, 1f}, 5L)))
        .collectAsList())).isEqualTo("corpus: id column 'id' is null in row 2 (from 0)");
    assertThat(TestSpark.refusal(() -> ordinals.search(queries, plus.apply(RowFactory.create(null, new float[] {1f, 1f}, 5L)))
        .collectAsList())).isEqualTo("corpus: id column 'id' is null in the row of ordinal 5");
    assertThat(TestSpark.refusal(() -> ordinals.search(queries, plus.apply(RowFactory.create("d2", new float[] {1f, 1f}, null)))
        .collectAsList())).isEqualTo("corpus: ordinal column 'ordinal' is null in the row of id 'd2'");
    assertThat(TestSpark.refusal(() -> ordinals.search(TestSpark.rows(List.of(RowFactory.create("q0", new float[] {1f, 0f}, null),
        RowFactory.create(null, new float[] {1f, 1f}, null)), schema, 1), corpus).collectAsList()))
        .isEqualTo("queries: id column 'id' is null in row 1 (from 0) of partition 0");
    // the good rows still search
    assertThat(ordinals.search(queries, corpus).collectAsList()).hasSize(2);
  }

  /**
   * Two corpus rows with one ordinal are refused, naming the ordinal and their ids, whatever the
   * shard count (the rows of an ordinal meet in one shard). Before, they were searched, and their
   * tie (equal vectors: equal scores) went to whichever the shuffle delivered first.
   */
  @Test
  void aRepeatedOrdinalIsRefusedNamingItsIds() {
    StructType schema = new StructType().add("id", DataTypes.StringType, true)
        .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), true).add("ordinal", DataTypes.LongType, true);
    List<Row> rows = List.of(RowFactory.create("d0", new float[] {1f, 0f}, 10L), RowFactory.create("twin-b", new float[] {0f, 1f}, 21L),
        RowFactory.create("d2", new float[] {1f, 1f}, 30L), RowFactory.create("twin-a", new float[] {0f, 1f}, 21L),
        RowFactory.create("no-vector", null, 21L)); // no vector: takes no part, so it repeats nothing
    Dataset<Row> queries = TestSpark.rows(List.of(RowFactory.create("q", new float[] {0f, 1f}, null)), schema, 1);
    for (int shards : new int[] {1, 3}) {
      DistributedTopK topK = DistributedTopK.builder().k(2).shards(shards).queryBlocks(1).ordinalCol("ordinal").build();
      assertThat(TestSpark.refusal(() -> topK.search(queries, TestSpark.rows(rows, schema, 2)).collectAsList())).as("%d shards", shards)
          .isEqualTo("duplicate corpus ordinal 21: 2 rows have it (ids 'twin-a', 'twin-b'); each corpus row needs an ordinal "
              + "of its own (ordinals order the corpus and break ties between equal scores)");
    }
  }
}
