package dev.gecko.core.index;

import dev.gecko.core.InvalidDataException;
import dev.gecko.core.internal.index.FlatIndexFile;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.gecko.core.index.FlatIndex.Metric;
import dev.gecko.core.index.FlatIndex.Precision;
import dev.gecko.core.vector.VectorOps;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class FlatIndexTest {
  @TempDir
  Path dir;

  static float[] unit(Random r, int dims) {
    float[] v = new float[dims];
    for (int i = 0; i < dims; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return VectorOps.normalize(v);
  }

  /** The naive oracle: score every vector in doubles / exact integers, sort, take k. */
  static List<Integer> oracle(List<float[]> vectors, float[] query, int k, Precision precision) {
    int dims = query.length;
    double[] scores = new double[vectors.size()];
    for (int i = 0; i < vectors.size(); i++) {
      float[] x = vectors.get(i);
      double s = 0;
      if (precision == Precision.FLOAT32) {
        for (int d = 0; d < dims; d++) {
          s += (double) x[d] * query[d];
        }
      } else if (precision == Precision.INT8) {
        byte[] qx = new byte[dims];
        byte[] qq = new byte[dims];
        float sx = VectorOps.quantizeInt8(x, qx);
        float sq = VectorOps.quantizeInt8(query, qq);
        long dot = 0;
        for (int d = 0; d < dims; d++) {
          dot += qx[d] * qq[d];
        }
        s = dot * (double) sx * sq;
      } else {
        int differ = 0;
        for (int d = 0; d < dims; d++) {
          differ += (x[d] > 0) != (query[d] > 0) ? 1 : 0;
        }
        s = -differ;
      }
      scores[i] = s;
    }
    return IntStream.range(0, vectors.size()).boxed()
        .sorted(Comparator.<Integer>comparingDouble(i -> -scores[i]).thenComparing(i -> i)).limit(k)
        .collect(Collectors.toList());
  }

  @ParameterizedTest
  @EnumSource(Precision.class)
  void topKMatchesTheNaiveOracle(Precision precision) {
    Random r = new Random(precision.ordinal() + 10);
    int dims = 207;
    FlatIndex index = FlatIndex.builder(dims).precision(precision).build();
    List<float[]> vectors = new ArrayList<>();
    for (int i = 0; i < 2500; i++) { // more than two of the binary scan's 1024-code blocks
      float[] v = unit(r, dims);
      vectors.add(v);
      assertThat(index.add(v)).isEqualTo(i);
    }
    for (int q = 0; q < 20; q++) {
      float[] query = unit(r, dims);
      List<SearchHit> hits = index.search(query, 10);
      List<Integer> got = hits.stream().map(SearchHit::ordinal).collect(Collectors.toList());
      List<Integer> expected = oracle(vectors, query, 10, precision);
      if (precision == Precision.BINARY) {
        // integer distances: ties are common, and broken by the lower ordinal on both sides
        assertThat(got).isEqualTo(expected);
      } else {
        // floats: the oracle sums in doubles, so compare the score sets, then exact order where gaps allow
        assertThat(got.subList(0, 5)).isEqualTo(expected.subList(0, 5));
      }
      for (int i = 1; i < hits.size(); i++) {
        assertThat(hits.get(i).score()).isLessThanOrEqualTo(hits.get(i - 1).score());
      }
    }
  }

  /**
   * Binary top-k at widths on both sides of where the SIMD scan switches layouts (384 dimensions on
   * JDK 17-24), past two scan blocks and with a part group at the end.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(ints = {100, 260, 400, 1100})
  void binaryTopKMatchesTheNaiveOracleAtEveryWidth(int dims) {
    Random r = new Random(dims);
    FlatIndex index = FlatIndex.builder(dims).precision(Precision.BINARY).build();
    List<float[]> vectors = new ArrayList<>();
    for (int i = 0; i < 2053; i++) {
      vectors.add(unit(r, dims));
      index.add(vectors.get(i));
    }
    for (int q = 0; q < 10; q++) {
      float[] query = unit(r, dims);
      List<Integer> got = index.search(query, 10).stream().map(SearchHit::ordinal).collect(Collectors.toList());
      assertThat(got).isEqualTo(oracle(vectors, query, 10, Precision.BINARY));
    }
  }

  /**
   * Int8 top-k at widths around the group layout's 32-byte chunks (padded and whole), past the
   * scan's 1024-code blocks and with a part group at the end: the same hits as scoring each
   * vector's int8 code on its own.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(ints = {5, 100, 384, 1100})
  void int8TopKMatchesTheCodeByCodeScore(int dims) {
    Random r = new Random(dims + 1);
    FlatIndex index = FlatIndex.builder(dims).precision(Precision.INT8).build();
    List<byte[]> codes = new ArrayList<>();
    List<Float> scales = new ArrayList<>();
    for (int i = 0; i < 2051; i++) {
      float[] v = unit(r, dims);
      index.add(v);
      byte[] code = new byte[dims];
      scales.add(VectorOps.quantizeInt8(v, code));
      codes.add(code);
    }
    for (int q = 0; q < 10; q++) {
      float[] query = unit(r, dims);
      byte[] qb = new byte[dims];
      float qs = VectorOps.quantizeInt8(query, qb);
      float[] scores = new float[codes.size()];
      for (int i = 0; i < scores.length; i++) {
        scores[i] = VectorOps.int8Dot(qb, codes.get(i)) * scales.get(i) * qs;
      }
      List<Integer> expected = IntStream.range(0, scores.length).boxed()
          .sorted(Comparator.<Integer>comparingDouble(i -> -scores[i]).thenComparing(i -> i)).limit(10)
          .collect(Collectors.toList());
      List<SearchHit> hits = index.search(query, 10);
      assertThat(hits.stream().map(SearchHit::ordinal).collect(Collectors.toList())).isEqualTo(expected);
      assertThat(hits.get(0).score()).isEqualTo(scores[expected.get(0)]);
    }
  }

  /**
   * searchAll gives each query exactly the hits and scores of search, for every precision and
   * metric, over more queries than a tile (32) and more vectors than a stretch or block, with ties
   * (duplicate vectors) broken the same way.
   */
  @ParameterizedTest
  @EnumSource(Precision.class)
  void searchAllEqualsSearchQueryByQuery(Precision precision) {
    Random r = new Random(precision.ordinal() + 40);
    for (Metric metric : Metric.values()) {
      if ((precision == Precision.BINARY) != (metric == Metric.HAMMING)) {
        continue;
      }
      for (int dims : new int[] {7, 384}) {
        FlatIndex index = FlatIndex.builder(dims).precision(precision).metric(metric).build();
        List<float[]> added = new ArrayList<>();
        for (int i = 0; i < 1500; i++) {
          // ties: a vector again right after it, and 169/170, either side of a float32 stretch at 384 dims
          float[] v = i % 100 == 1 || i == 170 ? added.get(i - 1) : unit(r, dims);
          added.add(v);
          index.add(v);
        }
        List<float[]> queries = new ArrayList<>();
        for (int q = 0; q < 70; q++) {
          // every tie queried, some queries not unit length (cosine normalises them, dot does not)
          float[] v = q % 10 == 0 ? added.get(q * 20 + 1).clone() : q == 1 ? added.get(170).clone() : unit(r, dims);
          if (q % 3 == 0) {
            for (int d = 0; d < dims; d++) {
              v[d] *= 3f;
            }
          }
          queries.add(v);
        }
        List<float[]> copies = queries.stream().map(float[]::clone).collect(Collectors.toList());
        for (int k : new int[] {1, 10, 2000}) {
          List<List<SearchHit>> all = index.searchAll(queries, k);
          assertThat(all).hasSize(queries.size());
          for (int q = 0; q < queries.size(); q++) {
            assertThat(all.get(q)).as("%s %s %d dims, k %d, query %d", precision, metric, dims, k, q)
                .isEqualTo(index.search(queries.get(q), k));
            assertThat(queries.get(q)).as("query %d left as it was", q).containsExactly(copies.get(q));
          }
        }
        if (metric != Metric.HAMMING && dims == 384) { // a tie across the stretch boundary, k = 1: the lower ordinal
          assertThat(index.searchAll(List.of(added.get(170)), 1).get(0).get(0).ordinal()).isEqualTo(169);
        }
      }
    }
  }

  @Test
  void searchAllNamesTheQueryItRefusesAndHandlesTheEdges() {
    FlatIndex empty = FlatIndex.builder(3).build();
    assertThat(empty.searchAll(List.of(new float[3], new float[3]), 5)).containsExactly(List.of(), List.of());
    FlatIndex index = FlatIndex.builder(3).build();
    index.add(new float[] {1, 0, 0});
    assertThat(index.searchAll(List.of(), 5)).isEmpty();
    float[] nan = {0, Float.NaN, 0};
    assertThatThrownBy(() -> index.searchAll(List.of(new float[3], nan), 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("query 1 component 1 is NaN");
    assertThatThrownBy(() -> index.searchAll(java.util.Arrays.asList(new float[3], null), 1))
        .isInstanceOf(NullPointerException.class).hasMessage("query 1 is null");
    assertThatThrownBy(() -> index.searchAll(List.of(new float[3], new float[2]), 1))
        .hasMessage("query 1: vector dimensions differ: 2!=3");
    float[] inf = {0, 0, Float.NEGATIVE_INFINITY};
    assertThatThrownBy(() -> index.searchAll(List.of(inf), 1)).hasMessageStartingWith("query 0 component 2 is -Infinity");
    float[] huge = {3e18f, 3e18f, 3e18f};
    assertThatThrownBy(() -> index.searchAll(List.of(huge), 1)).hasMessageStartingWith("query 0 ")
        .hasMessageContaining("squared");
    assertThatThrownBy(() -> index.searchAll(List.of(new float[3]), 0)).hasMessageContaining("k must be >= 1");
    assertThatThrownBy(() -> index.searchAll(List.of(nan), 0)).as("the query first, as search")
        .hasMessageStartingWith("query 0 component 1 is NaN");
    assertThatThrownBy(() -> index.searchAll(null, 1)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void scoresAreTheDocumentedOnes() {
    float[] a = {0.6f, 0.8f, 0f, 0f};
    float[] b = {-1f, 0f, 0f, 0f};
    FlatIndex f = FlatIndex.builder(4).build();
    f.add(a);
    f.add(b);
    assertThat(f.search(a, 2)).containsExactly(new SearchHit(0, 1f), new SearchHit(1, -0.6f));
    FlatIndex cos = FlatIndex.builder(4).metric(Metric.COSINE).build();
    cos.add(new float[] {3f, 4f, 0f, 0f});
    assertThat(cos.search(new float[] {30f, 40f, 0f, 0f}, 1).get(0).score()).isCloseTo(1f, within(1e-6f));
    assertThat(cos.vector(0)).containsExactly(0.6f, 0.8f, 0f, 0f);
    FlatIndex bin = FlatIndex.builder(4).precision(Precision.BINARY).build();
    bin.add(new float[] {1f, 1f, -1f, -1f});
    // one bit of four differs: 1 - 2 * 1/4
    assertThat(bin.search(new float[] {1f, -1f, -1f, -1f}, 1).get(0).score()).isEqualTo(0.5f);
    assertThat(bin.vector(0)).containsExactly(1f, 1f, -1f, -1f);
    FlatIndex q = FlatIndex.builder(4).precision(Precision.INT8).build();
    q.add(a);
    assertThat(q.search(a, 1).get(0).score()).isCloseTo(1f, within(0.01f));
  }

  @Test
  void tiesGoToTheLowerOrdinalAndKMayExceedSize() {
    FlatIndex f = FlatIndex.builder(2).build();
    for (int i = 0; i < 5; i++) {
      f.add(new float[] {1f, 0f});
    }
    assertThat(f.search(new float[] {1f, 0f}, 3)).extracting(SearchHit::ordinal).containsExactly(0, 1, 2);
    assertThat(f.search(new float[] {1f, 0f}, 50)).hasSize(5);
    assertThat(FlatIndex.builder(2).build().search(new float[] {1f, 0f}, 3)).isEmpty();
  }

  @Test
  void badArgumentsAreNamed() {
    FlatIndex f = FlatIndex.builder(3).build();
    assertThatThrownBy(() -> f.add(new float[2])).hasMessage("vector dimensions differ: 2!=3");
    assertThatThrownBy(() -> f.search(new float[3], 0)).hasMessage("k must be >= 1, was 0");
    assertThatThrownBy(() -> FlatIndex.builder(0).build()).hasMessage("dimensions must be >= 1, was 0");
    assertThatThrownBy(() -> FlatIndex.builder(3).precision(Precision.BINARY).metric(Metric.DOT).build())
        .hasMessageContaining("metric dot does not fit precision binary");
    assertThatThrownBy(() -> FlatIndex.builder(3).metric(Metric.HAMMING).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessage("metric hamming does not fit precision float32: binary"
            + " uses hamming, float32 and int8 use dot or cosine");
    assertThatThrownBy(() -> Precision.parse("fp16")).hasMessageContaining("expected float32, int8 or binary");
    assertThat(Precision.parse("INT8")).isEqualTo(Precision.INT8);
  }

  @ParameterizedTest
  @EnumSource(Precision.class)
  void savesAndLoadsTheSameIndex(Precision precision) throws IOException {
    Random r = new Random(3);
    int dims = 70; // not a multiple of 64 bits or of any vector width
    FlatIndex index = FlatIndex.builder(dims).precision(precision)
        .metric(precision == Precision.BINARY ? Metric.HAMMING : Metric.COSINE).build();
    for (int i = 0; i < 3000; i++) { // more than one 64 KiB I/O buffer
      index.add(unit(r, dims));
    }
    Path file = dir.resolve("sub/vectors.gkfx");
    index.save(file);
    assertThat(Files.size(file)).isEqualTo(32 + (precision == Precision.FLOAT32 ? 3000L * dims * 4
        : precision == Precision.INT8 ? 3000L * (dims + 4) : 3000L * 2 * 8));
    FlatIndex back = FlatIndex.load(file);
    assertThat(back.dimensions()).isEqualTo(dims);
    assertThat(back.size()).isEqualTo(3000);
    assertThat(back.precision()).isEqualTo(precision);
    assertThat(back.metric()).isEqualTo(index.metric());
    for (int i : new int[] {0, 1, 1234, 2999}) {
      assertThat(back.vector(i)).containsExactly(index.vector(i));
    }
    float[] query = unit(r, dims);
    assertThat(back.search(query, 10)).isEqualTo(index.search(query, 10));
    // and it keeps growing after a load
    assertThat(back.add(query)).isEqualTo(3000);
    assertThat(back.search(query, 1).get(0).ordinal()).isEqualTo(3000);
  }

  @Test
  void corruptFilesAreRejectedNamingTheFile() throws IOException {
    Path notIndex = dir.resolve("x.gkfx");
    Files.write(notIndex, new byte[40]);
    assertThatThrownBy(() -> FlatIndex.load(notIndex)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("x.gkfx").hasMessageContaining("magic");
    FlatIndex f = FlatIndex.builder(4).build();
    f.add(new float[] {1, 2, 3, 4});
    Path good = dir.resolve("good.gkfx");
    f.save(good);
    byte[] bytes = Files.readAllBytes(good);
    Path cut = dir.resolve("cut.gkfx");
    Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 1));
    assertThatThrownBy(() -> FlatIndex.load(cut)).hasMessageContaining("cut.gkfx")
        .hasMessageContaining("needs " + bytes.length);
    bytes[4] = 3; // a flipped bit in the version: the checksum says the header is damaged
    Path flipped = dir.resolve("flipped.gkfx");
    Files.write(flipped, bytes);
    assertThatThrownBy(() -> FlatIndex.load(flipped)).hasMessageContaining("format version 3")
        .hasMessageContaining("or the file is damaged");
    bytes[4] = 9; // a later version whose header checks out as this layout: only the version is named
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(bytes, 0, 28);
    java.nio.ByteBuffer.wrap(bytes, 28, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue());
    Path future = dir.resolve("future.gkfx");
    Files.write(future, bytes);
    assertThatThrownBy(() -> FlatIndex.load(future)).hasMessageContaining("format version 9")
        .hasMessageNotContaining("damaged");
    bytes[4] = 2; // version 2 again, the checksum now of the version 9 header
    Path damaged = dir.resolve("damaged.gkfx");
    Files.write(damaged, bytes);
    assertThatThrownBy(() -> FlatIndex.load(damaged)).hasMessageContaining("header checksum mismatch");
  }

  private static FlatIndex filled(Precision precision, int dims, int count, long seed) {
    Random r = new Random(seed);
    FlatIndex index = FlatIndex.builder(dims).precision(precision).build();
    for (int i = 0; i < count; i++) {
      index.add(unit(r, dims));
    }
    return index;
  }

  @ParameterizedTest
  @EnumSource(Precision.class)
  void bitFlipsInThePayloadAreCaughtOnLoad(Precision precision) throws IOException {
    Path file = dir.resolve("flipped.gkfx");
    filled(precision, 100, 500, 5).save(file);
    byte[] bytes = Files.readAllBytes(file);
    Random r = new Random(6);
    for (int i = 0; i < 50; i++) {
      int at = FlatIndexFile.HEADER_BYTES + r.nextInt(bytes.length - FlatIndexFile.HEADER_BYTES);
      bytes[at] ^= (byte) (1 << r.nextInt(8));
    }
    Files.write(file, bytes);
    assertThatThrownBy(() -> FlatIndex.load(file)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("flipped.gkfx").hasMessageContaining("checksum");
    // one flipped bit is enough
    filled(precision, 100, 500, 5).save(file);
    bytes = Files.readAllBytes(file);
    bytes[bytes.length - 1] ^= 1;
    Files.write(file, bytes);
    assertThatThrownBy(() -> FlatIndex.load(file)).hasMessageContaining("flipped.gkfx").hasMessageContaining("checksum");
  }

  @Test
  void aFlippedHeaderFieldIsCaughtEvenWhenTheLengthStillFits() throws IOException {
    Path file = dir.resolve("metric.gkfx");
    filled(Precision.FLOAT32, 8, 10, 7).save(file);
    byte[] bytes = Files.readAllBytes(file);
    bytes[12] ^= 1; // metric: dot becomes cosine, and the file's length still matches the header
    Files.write(file, bytes);
    assertThatThrownBy(() -> FlatIndex.load(file)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("metric.gkfx").hasMessageContaining("header checksum");
  }

  @ParameterizedTest
  @EnumSource(Precision.class)
  void nonFiniteVectorsAreRefusedOnAddAndSearch(Precision precision) {
    FlatIndex index = FlatIndex.builder(3).precision(precision).build();
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
      assertThatThrownBy(() -> index.add(new float[] {0.5f, bad, 0.1f})).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("component 1").hasMessageContaining(String.valueOf(bad));
      assertThatThrownBy(() -> index.search(new float[] {bad, 0f, 0f}, 1)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("component 0").hasMessageContaining(String.valueOf(bad));
    }
    assertThat(index.size()).isZero(); // nothing half-added
    FlatIndex cosine = FlatIndex.builder(3).precision(precision)
        .metric(precision == Precision.BINARY ? Metric.HAMMING : Metric.COSINE).build();
    assertThatThrownBy(() -> cosine.add(new float[] {Float.NaN, 1f, 1f})).hasMessageContaining("NaN");
  }

  /**
   * checkVector and checkFinite refuse what add and search refuse, with their messages, the vector
   * named as the caller says (gecko-spark names a corpus row by its id and ordinal, a query by its id).
   */
  @Test
  void theChecksOfAddAndSearchNameTheVectorAsTheCallerSays() {
    String row = "corpus vector of id 'doc-7' (ordinal 7)";
    assertThatThrownBy(() -> FlatIndex.checkVector(new float[] {0.5f, Float.NaN, 0f}, 3, Metric.DOT, row))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(row + " component 1 is NaN; a flat index holds and searches finite values only");
    assertThatThrownBy(() -> FlatIndex.checkVector(new float[] {-3e38f, 3e38f}, 2, Metric.DOT, row))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(row + " has squared norm").hasMessageContaining("overflow");
    assertThatThrownBy(() -> FlatIndex.checkVector(null, 3, Metric.DOT, row)).isInstanceOf(NullPointerException.class)
        .hasMessage(row + " is null");
    // the width as add has always said it, and before the values (a vector too short and NaN is too short)
    assertThatThrownBy(() -> FlatIndex.checkVector(new float[] {Float.NaN, 0f}, 3, Metric.DOT, row))
        .hasMessage("vector dimensions differ: 2!=3");
    assertThatThrownBy(() -> FlatIndex.checkVector(new float[0], 0, Metric.DOT, row))
        .hasMessage("dimensions must be >= 1, was 0");
    // the norm bound is the dot product's only
    FlatIndex.checkVector(new float[] {-3e38f, 3e38f}, 2, Metric.COSINE, row);
    FlatIndex.checkVector(new float[] {-3e38f, 3e38f}, 2, Metric.HAMMING, row);

    assertThatThrownBy(() -> FlatIndex.checkFinite(new float[] {1f, Float.NEGATIVE_INFINITY}, "query 'q-1'"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("query 'q-1' component 1 is -Infinity; a flat index holds and searches finite values only");
    assertThatThrownBy(() -> FlatIndex.checkFinite(null, "query 'q-1'")).hasMessage("query 'q-1' is null");
    FlatIndex.checkFinite(new float[] {-3e38f, 3e38f}, "query 'q-1'"); // finite: width and norm are checkVector's

    // the very checks of add ("vector <ordinal>") and search ("query"), message for message
    FlatIndex index = FlatIndex.builder(2).build();
    index.add(new float[] {1f, 0f});
    for (float[] bad : new float[][] {{Float.NaN, 0f}, {0f, Float.POSITIVE_INFINITY}, {-3e38f, 3e38f}, {1f}}) {
      String added = messageOf(() -> index.add(bad));
      assertThat(added).isNotNull().isEqualTo(messageOf(() -> FlatIndex.checkVector(bad, 2, Metric.DOT, "vector 1")));
      String searched = messageOf(() -> index.search(bad, 1));
      assertThat(searched).isNotNull().isEqualTo(messageOf(() -> FlatIndex.checkVector(bad, 2, Metric.DOT, "query")));
    }
    assertThat(index.size()).isEqualTo(1);
  }

  /** The message of the IllegalArgumentException {@code r} throws, or null if it throws none. */
  private static String messageOf(Runnable r) {
    try {
      r.run();
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  @Test
  void dotProductIndexesRefuseVectorsWhoseScoresCouldOverflow() throws IOException {
    FlatIndex index = FlatIndex.builder(2).build();
    index.add(new float[] {1f, 0f});
    // finite, but its dot product with the query below overflows: NaN or infinity, depending on the kernel
    assertThatThrownBy(() -> index.add(new float[] {-3e38f, 3e38f})).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("vector 1 has squared norm").hasMessageContaining("overflow");
    assertThatThrownBy(() -> index.search(new float[] {3e38f, 3e38f}, 2)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("query has squared norm");
    assertThat(index.size()).isEqualTo(1);
    // at the limit every score is finite, on whichever kernel runs
    float edge = (float) Math.sqrt(FlatIndex.MAX_DOT_SQUARED_NORM / 2) * 0.999f;
    for (Precision precision : new Precision[] {Precision.FLOAT32, Precision.INT8}) {
      FlatIndex big = FlatIndex.builder(2).precision(precision).build();
      big.add(new float[] {1f, 0f});
      big.add(new float[] {-edge, edge});
      big.add(new float[] {edge, edge});
      List<SearchHit> hits = big.search(new float[] {edge, edge}, 3);
      assertThat(hits).as(precision.name()).allSatisfy(h -> assertThat(h.score()).isFinite());
      assertThat(hits.get(0).ordinal()).isEqualTo(2);
    }
    // a cosine index normalises such vectors instead
    FlatIndex cosine = FlatIndex.builder(2).metric(Metric.COSINE).build();
    cosine.add(new float[] {-3e38f, 3e38f});
    assertThat(cosine.search(new float[] {3e38f, 3e38f}, 1).get(0).score()).isCloseTo(0f, within(1e-6f));
    // and a dot-product file holding one is refused on load
    ByteBuffer floats = ByteBuffer.allocate(2 * 2 * 4).order(ByteOrder.LITTLE_ENDIAN);
    floats.putFloat(1f).putFloat(0f).putFloat(-3e38f).putFloat(3e38f);
    Path huge = dir.resolve("huge.gkfx");
    Files.write(huge, handWritten(Precision.FLOAT32, 2, 2, floats));
    assertThatThrownBy(() -> FlatIndex.load(huge)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("huge.gkfx").hasMessageContaining("vector 1 has squared norm");
  }

  @Test
  void aHeaderWhosePayloadPassesALongSaysSoWithoutWrappingAround() throws IOException {
    Path file = dir.resolve("vast.gkfx");
    Files.write(file, handWritten(Precision.FLOAT32, Integer.MAX_VALUE, Integer.MAX_VALUE, ByteBuffer.allocate(0)));
    assertThatThrownBy(() -> FlatIndex.load(file)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("vast.gkfx").hasMessageContaining("needs more than " + Long.MAX_VALUE)
        .hasMessageNotContaining("needs -");
  }

  /** A version 2 file written here, byte by byte, with correct checksums over whatever payload is given. */
  private static byte[] handWritten(Precision precision, int dims, int count, ByteBuffer payload) {
    return handWritten(precision, Metric.DOT, dims, count, payload);
  }

  private static byte[] handWritten(Precision precision, Metric metric, int dims, int count, ByteBuffer payload) {
    payload.flip();
    CRC32C crc = new CRC32C();
    crc.update(payload.duplicate());
    ByteBuffer header = ByteBuffer.allocate(FlatIndexFile.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    header.put("GKFX".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(2).putInt(precision.ordinal()).putInt(metric.ordinal()).putInt(dims).putInt(count)
        .putInt((int) crc.getValue());
    CRC32C headerCrc = new CRC32C();
    headerCrc.update(header.array(), 0, 28);
    header.putInt((int) headerCrc.getValue());
    ByteBuffer all = ByteBuffer.allocate(header.capacity() + payload.remaining());
    return all.put(header.array()).put(payload).array();
  }

  @Test
  void nonFiniteValuesInAFileWithAGoodChecksumAreRefusedOnLoad() throws IOException {
    ByteBuffer floats = ByteBuffer.allocate(2 * 3 * 4).order(ByteOrder.LITTLE_ENDIAN);
    floats.putFloat(1f).putFloat(0f).putFloat(0f).putFloat(0f).putFloat(Float.NaN).putFloat(0f);
    Path f32 = dir.resolve("nan.gkfx");
    Files.write(f32, handWritten(Precision.FLOAT32, 3, 2, floats));
    assertThatThrownBy(() -> FlatIndex.load(f32)).isInstanceOf(InvalidDataException.class).hasMessageContaining("nan.gkfx")
        .hasMessageContaining("vector 1").hasMessageContaining("NaN");
    ByteBuffer int8 = ByteBuffer.allocate(2 * 4 + 2 * 3).order(ByteOrder.LITTLE_ENDIAN);
    int8.putFloat(0.01f).putFloat(Float.POSITIVE_INFINITY).put(new byte[] {1, 2, 3, 4, 5, 6});
    Path q = dir.resolve("inf.gkfx");
    Files.write(q, handWritten(Precision.INT8, 3, 2, int8));
    assertThatThrownBy(() -> FlatIndex.load(q)).isInstanceOf(InvalidDataException.class).hasMessageContaining("inf.gkfx")
        .hasMessageContaining("vector 1").hasMessageContaining("scale").hasMessageContaining("Infinity");
    // the same bytes with finite values load: the checksums above are the format's
    ByteBuffer fine = ByteBuffer.allocate(2 * 3 * 4).order(ByteOrder.LITTLE_ENDIAN);
    fine.putFloat(1f).putFloat(0f).putFloat(0f).putFloat(0f).putFloat(1f).putFloat(0f);
    Path ok = dir.resolve("ok.gkfx");
    Files.write(ok, handWritten(Precision.FLOAT32, 3, 2, fine));
    assertThat(FlatIndex.load(ok).vector(1)).containsExactly(0f, 1f, 0f);
  }

  @Test
  void aCosineIndexFileWhoseVectorsAreNotUnitIsRefusedOnLoad() throws IOException {
    ByteBuffer floats = ByteBuffer.allocate(2 * 3 * 4).order(ByteOrder.LITTLE_ENDIAN);
    floats.putFloat(1f).putFloat(0f).putFloat(0f).putFloat(0f).putFloat(2f).putFloat(0f);
    Path bad = dir.resolve("cosine.gkfx");
    Files.write(bad, handWritten(Precision.FLOAT32, Metric.COSINE, 3, 2, floats));
    assertThatThrownBy(() -> FlatIndex.load(bad)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("cosine.gkfx").hasMessageContaining("vector 1").hasMessageContaining("unit");
    // the same vectors under the dot product are fine
    floats.rewind();
    floats.position(floats.limit());
    Path dot = dir.resolve("dot.gkfx");
    Files.write(dot, handWritten(Precision.FLOAT32, Metric.DOT, 3, 2, floats));
    assertThat(FlatIndex.load(dot).vector(1)).containsExactly(0f, 2f, 0f);
  }

  @Test
  void loadingAFolderNamesIt() {
    assertThatThrownBy(() -> FlatIndex.load(dir)).isInstanceOf(IOException.class)
        .hasMessageContaining(dir.toString()).hasMessageContaining("folder");
  }

  /**
   * Binary codes are interleaved in groups of eight in memory and written code after code: a file
   * of 11 vectors (one group and a part) holds each vector's sign bits in order, and loads back to
   * the same vectors and hits.
   */
  @Test
  void binaryFilesHoldTheCodesOneAfterAnother() throws IOException {
    Random r = new Random(17);
    int dims = 70;
    FlatIndex index = FlatIndex.builder(dims).precision(Precision.BINARY).metric(Metric.HAMMING).build();
    List<float[]> vectors = new ArrayList<>();
    for (int i = 0; i < 11; i++) {
      vectors.add(unit(r, dims));
      index.add(vectors.get(i));
    }
    Path file = dir.resolve("eleven.gkfx");
    ByteBuffer payload = savedPayload(index, file);
    for (int i = 0; i < 11; i++) {
      long[] expected = VectorOps.quantizeBinary(vectors.get(i));
      assertThat(new long[] {payload.getLong(), payload.getLong()}).as("vector %d", i).containsExactly(expected);
    }
    assertThat(payload.hasRemaining()).isFalse();
    FlatIndex back = FlatIndex.load(file);
    for (int i = 0; i < 11; i++) {
      assertThat(back.vector(i)).containsExactly(index.vector(i));
      assertThat(back.search(vectors.get(i), 11)).isEqualTo(index.search(vectors.get(i), 11));
      assertThat(index.search(vectors.get(i), 1).get(0).score()).isEqualTo(1f);
    }
  }

  /** Saves {@code index} as {@code file} and returns the file's payload: its bytes after the 32-byte header. */
  private static ByteBuffer savedPayload(FlatIndex index, Path file) throws IOException {
    index.save(file);
    ByteBuffer payload = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    payload.position(32);
    return payload;
  }

  /**
   * Int8 files hold the codes one after another in whatever layout this JVM keeps them in memory
   * (chunked in groups of four where {@link VectorOps#prefersInt8Groups}; StorageLayoutsTest forces
   * both layouts): a file of 6 vectors of 40 dimensions (a group and a part, each code a chunk and a
   * part) holds the scales, then each vector's bytes in order, and loads back to the same vectors
   * and hits.
   */
  @Test
  void int8FilesHoldTheCodesOneAfterAnother() throws IOException {
    Random r = new Random(18);
    int dims = 40;
    FlatIndex index = FlatIndex.builder(dims).precision(Precision.INT8).build();
    List<float[]> vectors = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      vectors.add(unit(r, dims));
      index.add(vectors.get(i));
    }
    Path file = dir.resolve("six.gkfx");
    ByteBuffer payload = savedPayload(index, file);
    byte[][] expected = new byte[6][dims];
    for (int i = 0; i < 6; i++) {
      float scale = VectorOps.quantizeInt8(vectors.get(i), expected[i]);
      assertThat(payload.getFloat()).as("scale %d", i).isEqualTo(scale);
    }
    for (int i = 0; i < 6; i++) {
      byte[] code = new byte[dims];
      payload.get(code);
      assertThat(code).as("vector %d", i).containsExactly(expected[i]);
    }
    assertThat(payload.hasRemaining()).isFalse();
    FlatIndex back = FlatIndex.load(file);
    for (int i = 0; i < 6; i++) {
      assertThat(back.vector(i)).containsExactly(index.vector(i));
      assertThat(back.search(vectors.get(i), 6)).isEqualTo(index.search(vectors.get(i), 6));
    }
  }

  @Test
  void binaryCodesWithPaddingBitsSetAreRefusedOnLoad() throws IOException {
    ByteBuffer codes = ByteBuffer.allocate(2 * 8).order(ByteOrder.LITTLE_ENDIAN);
    codes.putLong(0b101L).putLong(0b011L | 1L << 10); // 3 dimensions: bit 10 is padding
    Path bad = dir.resolve("padding.gkfx");
    Files.write(bad, handWritten(Precision.BINARY, Metric.HAMMING, 3, 2, codes));
    assertThatThrownBy(() -> FlatIndex.load(bad)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("padding.gkfx").hasMessageContaining("vector 1").hasMessageContaining("padding");
    ByteBuffer fine = ByteBuffer.allocate(2 * 8).order(ByteOrder.LITTLE_ENDIAN);
    fine.putLong(0b101L).putLong(0b011L);
    Path ok = dir.resolve("binary.gkfx");
    Files.write(ok, handWritten(Precision.BINARY, Metric.HAMMING, 3, 2, fine));
    assertThat(FlatIndex.load(ok).vector(1)).containsExactly(1f, 1f, -1f);
  }

  @Test
  void version1FilesWithoutAChecksumAreRefusedWithAHintToReIndex() throws IOException {
    ByteBuffer v1 = ByteBuffer.allocate(24 + 2 * 4).order(ByteOrder.LITTLE_ENDIAN);
    v1.put("GKFX".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(1).putInt(0).putInt(0).putInt(2).putInt(1).putFloat(1f).putFloat(0f);
    Path file = dir.resolve("old.gkfx");
    Files.write(file, v1.array());
    assertThatThrownBy(() -> FlatIndex.load(file)).isInstanceOf(InvalidDataException.class).hasMessageContaining("old.gkfx")
        .hasMessageContaining("version 1").hasMessageContaining("re-create");
  }
}
