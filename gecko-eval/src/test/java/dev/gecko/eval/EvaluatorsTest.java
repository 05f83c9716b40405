package dev.gecko.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.TaskType;
import dev.gecko.core.vector.VectorOps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The evaluators end to end on real text with the real all-MiniLM-L6-v2 model. */
class EvaluatorsTest {
  private static GeckoEmbedder embedder;
  private static StsDataset sts;
  private static BeirDataset arguana;
  /** Shared by tests that do not count embeddings, so the slice is embedded once. */
  private static EmbeddingCache sharedCache;

  @TempDir
  static Path tmp;

  @BeforeAll
  static void open() throws IOException {
    embedder = GeckoEmbedder.builder().model("all-MiniLM-L6-v2").threads(2).build();
    sts = StsDataset.read(Fixtures.head(Fixtures.sts("stsbenchmark/pairs.test.tsv"), 61, tmp.resolve("pairs.tsv")));
    arguana = BeirDataset.read(Fixtures.arguanaSlice(tmp.resolve("arguana"), 10, 10));
    sharedCache = EmbeddingCache.open(tmp.resolve("shared-cache"));
  }

  @AfterAll
  static void close() {
    embedder.close();
  }

  @Test
  void stsScoresEveryWidthFromOneEmbeddingPass() throws IOException {
    CountingEmbedder counting = new CountingEmbedder(embedder);
    EvalReport r = StsEvaluator.builder(counting).dims(List.of(384, 64)).build().evaluate(sts);
    assertThat(r.scores().keySet()).containsExactly(384, 64);
    assertThat(r.metric()).isEqualTo("cosine_spearman");
    assertThat(r.sizes()).containsEntry("pairs", 60);
    assertThat(r.prompts()).containsEntry("sentence", "{text}");
    // 60 real STS Benchmark pairs: a good model correlates well with the gold scores
    assertThat(r.scores().get(384)).isBetween(60.0, 100.0);
    assertThat(r.metrics().get(384)).containsKeys("cosine_spearman", "cosine_pearson");
    // embedded once: distinct sentences only, at full width
    long distinct = sts.pairs().stream().flatMap(p -> Stream.of(p.sentence1(), p.sentence2())).distinct().count();
    assertThat(counting.texts.get()).isEqualTo((int) distinct);
    assertThat(counting.widths).containsOnly(384);

    // the 64-wide score is what vectors embedded at 64 dims give
    double[] gold = new double[sts.pairs().size()];
    double[] cos = new double[gold.length];
    for (int i = 0; i < gold.length; i++) {
      StsDataset.Pair p = sts.pairs().get(i);
      List<float[]> v = embedder.embedRequests(List.of(
          EmbedRequest.of(TaskType.SEMANTIC_SIMILARITY, p.sentence1()),
          EmbedRequest.of(TaskType.SEMANTIC_SIMILARITY, p.sentence2())), 64);
      gold[i] = p.score();
      cos[i] = VectorOps.dot(v.get(0), v.get(1));
    }
    assertThat(r.scores().get(64)).isCloseTo(100 * Correlation.spearman(gold, cos), within(1e-3));
  }

  @Test
  void aVectorWithNaNComponentsIsNamedByItsPairNotAnUndefinedRank() {
    CountingEmbedder broken = new CountingEmbedder(embedder);
    StsDataset.Pair third = sts.pairs().get(2);
    broken.poisoned = third.sentence2();
    assertThatThrownBy(() -> StsEvaluator.builder(broken).dims(List.of(64)).build().evaluate(sts))
        .isInstanceOf(dev.gecko.core.GeckoException.class)
        .hasMessageContaining("NaN or infinite components for pair 3 of " + sts.name())
        .hasMessageContaining(third.sentence1().substring(0, Math.min(20, third.sentence1().length())));
  }

  @Test
  void anInfiniteComponentIsNamedByItsPairNotScoredAsAnyOther() {
    CountingEmbedder broken = new CountingEmbedder(embedder);
    StsDataset.Pair second = sts.pairs().get(1);
    broken.poisoned = second.sentence1();
    broken.poison = Float.POSITIVE_INFINITY; // normalising leaves it as it is, and a cosine still comes out
    assertThatThrownBy(() -> StsEvaluator.builder(broken).dims(List.of(384, 64)).build().evaluate(sts))
        .isInstanceOf(dev.gecko.core.GeckoException.class)
        .hasMessageContaining("NaN or infinite components for pair 2 of " + sts.name());
  }

  /**
   * The cache embeds distinct texts, shortest first, in chunks: a text the embedder refuses to cut
   * is named by its place in the caller's list, not in the chunk.
   */
  @Test
  void aTextTooLongIsNamedByItsPlaceInTheCallersList() throws IOException {
    try (GeckoEmbedder strict = GeckoEmbedder.builder().model("all-MiniLM-L6-v2").threads(1).failOnTruncation(true)
        .build()) {
      String tooLong = "word ".repeat(600);
      // distinct texts a, the long one, bb; in the chunk, shortest first, the long one is third
      List<EmbedRequest> requests = List.of(EmbedRequest.of("a"), EmbedRequest.of(tooLong), EmbedRequest.of("a"),
          EmbedRequest.of("bb"));
      assertThatThrownBy(() -> EmbeddingCache.inMemory().embed(strict, requests, "t", p -> {}))
          .isInstanceOfSatisfying(dev.gecko.core.InputTooLongException.class, e -> assertThat(e.index()).isEqualTo(1))
          .hasMessageStartingWith("text at index 1 has 602 tokens");
    }
  }

  /** A caller that changes the vectors it got (normalises them, scales them) changes no later call's. */
  @Test
  void theCachesOwnVectorsNeverReachACaller() throws IOException {
    EmbeddingCache cache = EmbeddingCache.inMemory();
    List<EmbedRequest> requests = List.of(EmbedRequest.of("tides"), EmbedRequest.of("bees"));
    float[] expected = cache.embed(embedder, requests, "t", p -> {}).get(0).clone();
    java.util.Arrays.fill(cache.embed(embedder, requests, "t", p -> {}).get(0), 0f); // from memory, then zeroed
    assertThat(cache.embed(embedder, requests, "t", p -> {}).get(0)).containsExactly(expected);
  }

  /** The evaluators name a text too long as their data does: a pair's sentence, a document's id. */
  @Test
  void evaluatorsNameATextTooLongByItsPairOrId() {
    try (GeckoEmbedder strict = GeckoEmbedder.builder().model("all-MiniLM-L6-v2").threads(1).failOnTruncation(true)
        .build()) {
      String tooLong = "word ".repeat(600);
      StsDataset pairs = new StsDataset("long-sts", List.of(new StsDataset.Pair("a cat", "a dog", 1),
          new StsDataset.Pair("a bird", tooLong, 2)));
      assertThatThrownBy(() -> StsEvaluator.builder(strict).dims(List.of(64)).build().evaluate(pairs))
          .isInstanceOfSatisfying(dev.gecko.core.InputTooLongException.class, e -> assertThat(e.index()).isEqualTo(3))
          .hasMessageStartingWith("sentence 2 of pair 2 of long-sts has 602 tokens");
      List<dev.gecko.core.io.Passage> docs = List.of(new dev.gecko.core.io.Passage("d1", "", "tides"),
          new dev.gecko.core.io.Passage("d2", "", tooLong));
      BeirDataset beir = new BeirDataset("long-beir", docs, List.of(new BeirDataset.Query("q1", "tides")),
          java.util.Map.of("q1", java.util.Map.of("d1", 1)));
      assertThatThrownBy(() -> RetrievalEvaluator.builder(strict).dims(List.of(64)).build().evaluate(beir))
          .isInstanceOfSatisfying(dev.gecko.core.InputTooLongException.class, e -> assertThat(e.index()).isEqualTo(1))
          .hasMessageStartingWith("document d2 of long-beir has");
    }
  }

  @Test
  void aModelThatGivesEveryPairTheSameCosineHasNoScore() {
    CountingEmbedder collapsed = new CountingEmbedder(embedder);
    collapsed.collapsed = true;
    assertThatThrownBy(() -> StsEvaluator.builder(collapsed).dims(List.of(64)).build().evaluate(sts))
        .isInstanceOf(UndefinedScoreException.class)
        .hasMessage("all-MiniLM-L6-v2 gives every pair of " + sts.name() + " the same cosine at width 64: the "
            + "correlation is undefined");
  }

  @Test
  void aDocumentVectorWithNaNComponentsIsNamedByItsId() {
    CountingEmbedder broken = new CountingEmbedder(embedder);
    java.util.Set<String> queryTexts = new java.util.HashSet<>();
    arguana.queries().forEach(q -> queryTexts.add(q.text()));
    dev.gecko.core.io.Passage fourth = arguana.corpus().stream().filter(p -> !queryTexts.contains(p.text().strip()))
        .skip(3).findFirst().orElseThrow(); // in ArguAna a query is also a passage: this one is not
    broken.poisoned = RetrievalEvaluator.documentText(fourth.title(), fourth.text());
    assertThatThrownBy(() -> RetrievalEvaluator.builder(broken).build().evaluate(arguana))
        .isInstanceOf(dev.gecko.core.GeckoException.class)
        .hasMessageContaining("NaN or infinite components for document " + fourth.id() + " of " + arguana.name());
  }

  @Test
  void aQueryVectorWithNaNComponentsIsNamedByItsIdBeforeAnyDocument() {
    CountingEmbedder broken = new CountingEmbedder(embedder);
    BeirDataset.Query second = arguana.queries().get(1);
    broken.poisoned = second.text(); // its passage may share the text: queries are named first
    assertThatThrownBy(() -> RetrievalEvaluator.builder(broken).dims(List.of(64)).build().evaluate(arguana))
        .isInstanceOf(dev.gecko.core.GeckoException.class)
        .hasMessageContaining("NaN or infinite components for query " + second.id() + " of " + arguana.name());
  }

  @Test
  void retrievalOnArguAnaSliceIgnoresIdenticalIdsLikeMteb() throws IOException {
    EvalReport with = RetrievalEvaluator.builder(embedder).cache(sharedCache).ignoreIdenticalIds(true)
        .dims(List.of(384, 64)).build().evaluate(arguana);
    EvalReport without = RetrievalEvaluator.builder(embedder).cache(sharedCache).build().evaluate(arguana);
    assertThat(with.metric()).isEqualTo("ndcg_at_10");
    assertThat(with.sizes()).containsEntry("queries", 10).containsEntry("documents", 30);
    assertThat(with.metrics().get(384)).hasSize(35).containsKeys("ndcg_at_1000", "map_at_3", "mrr_at_100",
        "ndcg_at_20"); // MTEB's cutoffs: 1, 3, 5, 10, 20, 100, 1000
    // each query is itself an argument in the corpus: kept, it takes rank 1 and pushes the
    // counter-argument down
    assertThat(without.metrics().get(384).get("precision_at_1")).isLessThan(20.0);
    assertThat(with.metrics().get(384).get("precision_at_1")).isGreaterThan(40.0);
    assertThat(with.scores().get(384)).isGreaterThan(without.scores().get(384));
    for (EvalReport r : List.of(with, without)) {
      var m = r.metrics().get(384);
      // one relevant document of grade 1 per query: these agree by definition
      assertThat(m.get("ndcg_at_1")).isCloseTo(m.get("precision_at_1"), within(1e-9));
      assertThat(m.get("mrr_at_1")).isCloseTo(m.get("recall_at_1"), within(1e-9));
      assertThat(m.get("map_at_1000")).isCloseTo(m.get("mrr_at_1000"), within(1e-9));
      assertThat(m.get("recall_at_1000")).isCloseTo(100.0, within(1e-9));
      assertThat(m.get("precision_at_10")).isCloseTo(m.get("recall_at_10") / 10, within(1e-9));
    }
    // the full width is the same whether or not other widths ride along
    assertThat(without.metrics().get(384)).isNotEqualTo(with.metrics().get(384));
    EvalReport alone = RetrievalEvaluator.builder(embedder).cache(sharedCache).ignoreIdenticalIds(true).build()
        .evaluate(arguana);
    assertThat(alone.metrics().get(384)).isEqualTo(with.metrics().get(384));
    assertThat(with.prompts()).containsEntry("query", "{text}").containsEntry("document", "{text}");
  }

  /**
   * A document is joined with its title as MTEB joins it, {@code (title + " " + text).strip()} on the
   * raw text: a line break or spaces at the start of the text stay between title and text. Before,
   * the text was stripped first ("Title Body text").
   */
  @Test
  void documentsAreJoinedWithTheirTitlesAsMtebJoinsThem() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("joined/qrels")).getParent();
    Fixtures.write(dir.resolve("corpus.jsonl"), "{\"_id\":\"d1\",\"title\":\"Title\",\"text\":\"\\n  Body text \"}\n"
        + "{\"_id\":\"d2\",\"title\":\"\",\"text\":\" \\n Untitled body\\n\"}\n"
        + "{\"_id\":\"d3\",\"title\":\" Spaced title \",\"text\":\"\\tTabbed\\nlines\\n\"}\n");
    Fixtures.write(dir.resolve("queries.jsonl"), "{\"_id\":\"q1\",\"text\":\"body\"}\n");
    Fixtures.write(dir.resolve("qrels/test.tsv"), "query-id\tcorpus-id\tscore\nq1\td1\t1\n");
    CountingEmbedder recording = new CountingEmbedder(embedder);
    RetrievalEvaluator.builder(recording).dims(List.of(64)).build().evaluate(BeirDataset.read(dir));
    List<String> seen = recording.requests.stream().filter(r -> r.taskType() == TaskType.RETRIEVAL_DOCUMENT)
        .map(r -> embedder.model().render(r)).toList();
    // what Python's (title + " " + text).strip() gives for each
    assertThat(seen).containsExactlyInAnyOrder("Title \n  Body text", "Untitled body", "Spaced title  \tTabbed\nlines");
    assertThat(RetrievalEvaluator.documentText(null, "\n x \n")).isEqualTo("x");
    // Python's strip, which takes no-break spaces and NEL too; a title of those is blank to it
    assertThat(RetrievalEvaluator.documentText(null, "\u00a0x\u0085")).isEqualTo("x");
    assertThat(RetrievalEvaluator.documentText("\u202f", "\u00a0x\u00a0")).isEqualTo("x");
    assertThat(RetrievalEvaluator.documentText("Title", "\u00a0x\u00a0")).isEqualTo("\u00a0x");
  }

  @Test
  void cacheMakesASecondRunEmbedNothing() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("cache"));
    List<String> phases = new ArrayList<>();
    CountingEmbedder first = new CountingEmbedder(embedder);
    EvalReport a = RetrievalEvaluator.builder(first).cache(EmbeddingCache.open(dir)).ignoreIdenticalIds(true)
        .progress(p -> phases.add(p.phase() + " " + p.done() + "/" + p.total())).build().evaluate(arguana);
    assertThat(first.texts.get()).isEqualTo(10 + 30);
    assertThat(phases).contains("embedding queries 10/10", "embedding corpus 30/30", "searching at 384 dims 10/10");

    CountingEmbedder second = new CountingEmbedder(embedder);
    phases.clear();
    EvalReport b = RetrievalEvaluator.builder(second).cache(EmbeddingCache.open(dir)).ignoreIdenticalIds(true)
        .progress(p -> phases.add(p.phase() + " " + p.done() + "/" + p.total())).build().evaluate(arguana);
    assertThat(second.texts.get()).isZero();
    assertThat(phases).contains("embedding corpus 30/30");
    assertThat(b.metrics()).isEqualTo(a.metrics());
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).singleElement().asString()
          .startsWith("all-MiniLM-L6-v2-").endsWith(".v3.f32");
    }
  }

  /** Evaluates the STS set once with a cache in {@code dir} and returns the cache's one file. */
  private Path cacheFileOfOneRun(Path dir) throws IOException {
    StsEvaluator.builder(embedder).cache(EmbeddingCache.open(dir)).build().evaluate(sts);
    try (Stream<Path> files = Files.list(dir)) {
      return files.findFirst().orElseThrow();
    }
  }

  private static void truncate(Path file, long size) throws IOException {
    try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
      ch.truncate(size);
    }
  }

  @Test
  void cacheDropsATruncatedLastRecord() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("cache-truncated"));
    Path file = cacheFileOfOneRun(dir);
    long size = Files.size(file);
    truncate(file, size - 10);
    CountingEmbedder counting = new CountingEmbedder(embedder);
    StsEvaluator.builder(counting).cache(EmbeddingCache.open(dir)).build().evaluate(sts);
    assertThat(counting.texts.get()).isEqualTo(1);
    assertThat(Files.size(file)).isEqualTo(size);
  }

  @Test
  void cacheIgnoresARecordWhoseDataNeverReachedTheDisk() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("cache-zeroed"));
    Path file = cacheFileOfOneRun(dir);
    long size = Files.size(file);
    // the last record's key kept, its vector zeroed from the middle on and its checksum too (a block
    // that was never written)
    int vectorBytes = 4 * 384;
    try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.allocate(vectorBytes / 2 + 4), size - vectorBytes / 2 - 4);
    }
    CountingEmbedder counting = new CountingEmbedder(embedder);
    EvalReport again = StsEvaluator.builder(counting).cache(EmbeddingCache.open(dir)).build().evaluate(sts);
    assertThat(counting.texts.get()).as("the damaged record's text, embedded again").isEqualTo(1);
    assertThat(Files.size(file)).as("and appended").isEqualTo(size + 32 + vectorBytes + 4);
    EvalReport fresh = StsEvaluator.builder(embedder).cache(EmbeddingCache.inMemory()).build().evaluate(sts);
    assertThat(again.scores().keySet()).isEqualTo(fresh.scores().keySet());
    again.scores().forEach((w, score) -> assertThat(score).as("width %d", w).isCloseTo(fresh.scores().get(w), within(1e-6)));
  }

  /**
   * A flipped sign bit keeps a vector of unit length, so only the record's checksum tells it: the
   * text is embedded again instead of scoring with a wrong vector.
   */
  @Test
  void cacheIgnoresARecordWithAFlippedBitThatKeepsItsLength() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("cache-flipped"));
    Path file = cacheFileOfOneRun(dir);
    long size = Files.size(file);
    long signByte = size - 4 - 4 * 384 + 4 * 100 + 3; // the last record's component 100, its sign (little-endian)
    try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.READ,
        java.nio.file.StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
      ch.read(b, signByte);
      b.put(0, (byte) (b.get(0) ^ 0x80)).rewind();
      ch.write(b, signByte);
    }
    CountingEmbedder counting = new CountingEmbedder(embedder);
    EvalReport again = StsEvaluator.builder(counting).cache(EmbeddingCache.open(dir)).build().evaluate(sts);
    assertThat(counting.texts.get()).as("the damaged record's text, embedded again").isEqualTo(1);
    EvalReport fresh = StsEvaluator.builder(embedder).cache(EmbeddingCache.inMemory()).build().evaluate(sts);
    again.scores().forEach((w, score) -> assertThat(score).as("width %d", w).isCloseTo(fresh.scores().get(w), within(1e-6)));
  }

  /**
   * A record whose checksum matches but whose vector is not of unit length (not what an embedder
   * writes) is not served; a unit vector beside it is.
   */
  @Test
  void cacheIgnoresARecordWhoseVectorIsNotOfUnitLength() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("cache-not-unit"));
    EmbeddingCache.open(dir).store(embedder.model(), 4)
        .putAll(List.of("long", "unit"), List.of(new float[] {2, 0, 0, 0}, new float[] {0, 1, 0, 0}));
    float[][] read = EmbeddingCache.open(dir).store(embedder.model(), 4).getAll(List.of("long", "unit"));
    assertThat(read[0]).isNull();
    assertThat(read[1]).containsExactly(0, 1, 0, 0);
  }

  /** A file of the format before the checksums (same name without ".v3") is neither read nor refused. */
  @Test
  void aCacheFileOfTheOlderFormatIsLeftAloneAndNotRead() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("cache-older"));
    Path file = cacheFileOfOneRun(dir);
    String name = file.getFileName().toString();
    Path older = dir.resolve(name.substring(0, name.length() - ".v3.f32".length()) + ".f32");
    byte[] olderBytes = "GKEMB002 whatever an older version wrote".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    Files.write(older, olderBytes);
    Files.delete(file);
    CountingEmbedder counting = new CountingEmbedder(embedder);
    StsEvaluator.builder(counting).cache(EmbeddingCache.open(dir)).build().evaluate(sts);
    CountingEmbedder all = new CountingEmbedder(embedder);
    StsEvaluator.builder(all).cache(EmbeddingCache.inMemory()).build().evaluate(sts);
    assertThat(counting.texts.get()).as("every text embedded: the older file is not read").isEqualTo(all.texts.get());
    assertThat(older).hasBinaryContent(olderBytes);
    assertThat(file).isRegularFile();
  }

  @Test
  void cacheHoldsOnlyTheVectorsItIsAskedFor() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("cache-partial"));
    Path file = cacheFileOfOneRun(dir); // the 61 pairs' sentences
    List<EmbedRequest> two = List.of(EmbedRequest.of(TaskType.SEMANTIC_SIMILARITY, sts.pairs().get(3).sentence1()),
        EmbedRequest.of(TaskType.SEMANTIC_SIMILARITY, sts.pairs().get(40).sentence2()));
    EmbeddingCache cache = EmbeddingCache.open(dir);
    CountingEmbedder counting = new CountingEmbedder(embedder);
    List<float[]> got = cache.embed(counting, two, "embedding", p -> { });
    assertThat(counting.texts.get()).as("both from the file").isZero();
    assertThat(cache.store(embedder.model(), 384).held()).as("and nothing else of it in memory").isEqualTo(2);
    List<float[]> fresh = EmbeddingCache.inMemory().embed(embedder, two, "embedding", p -> { });
    for (int i = 0; i < 2; i++) { // fp32: only float rounding differs with the batch's shape
      assertThat(VectorOps.dot(got.get(i), fresh.get(i))).isGreaterThan(0.99999f);
    }
    // a text the file lacks is embedded and appended; the file's others stay on disk only
    long size = Files.size(file);
    List<EmbedRequest> fresher = List.of(EmbedRequest.of("a sentence no pair holds"));
    cache.embed(counting, fresher, "embedding", p -> { });
    assertThat(counting.texts.get()).isEqualTo(1);
    assertThat(cache.store(embedder.model(), 384).held()).isEqualTo(3);
    assertThat(Files.size(file)).isEqualTo(size + 32 + 4 * 384 + 4);
  }

  /** The second cache names the folder through a symbolic link: the same file, the same turns. */
  @Test
  void twoCachesOnOneFolderInOneJvmAppendAtOnceWithoutLosingRecords() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("cache-twice"));
    Path link = Files.createSymbolicLink(tmp.resolve("cache-twice-link"), dir);
    EmbeddingCache.Store a = EmbeddingCache.open(dir).store(embedder.model(), 4);
    EmbeddingCache.Store b = EmbeddingCache.open(link).store(embedder.model(), 4);
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      List<java.util.concurrent.Future<?>> runs = new java.util.ArrayList<>();
      for (EmbeddingCache.Store store : List.of(a, b)) {
        String who = store == a ? "a" : "b";
        runs.add(pool.submit(() -> {
          for (int i = 0; i < 200; i++) { // one append per call: the file lock is taken 200 times on each side
            store.putAll(List.of(who + i), List.of(VectorOps.normalize(new float[] {i, 1, 2, 3})));
          }
          return null;
        }));
      }
      for (java.util.concurrent.Future<?> f : runs) {
        f.get(60, java.util.concurrent.TimeUnit.SECONDS); // was: OverlappingFileLockException
      }
    } finally {
      pool.shutdownNow();
    }
    List<String> all = new java.util.ArrayList<>();
    for (int i = 0; i < 200; i++) {
      all.add("a" + i);
      all.add("b" + i);
    }
    float[][] read = EmbeddingCache.open(dir).store(embedder.model(), 4).getAll(all);
    for (int i = 0; i < all.size(); i++) {
      assertThat(read[i]).as(all.get(i)).containsExactly(VectorOps.normalize(new float[] {i / 2, 1, 2, 3}));
    }
  }

  @Test
  void cacheStartsAgainAfterATornHeader() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("cache-torn-header"));
    Path file = cacheFileOfOneRun(dir);
    long size = Files.size(file);
    truncate(file, 10); // a crash while the first header was written
    assertTheNextRunRebuildsTheFile(dir, file, size);
  }

  /**
   * A run on {@code dir} writes {@code file} again to its full {@code size}, and the run after it
   * embeds nothing.
   */
  private void assertTheNextRunRebuildsTheFile(Path dir, Path file, long size) throws IOException {
    EvalReport again = StsEvaluator.builder(embedder).cache(EmbeddingCache.open(dir)).build().evaluate(sts);
    assertThat(again.scores()).isNotEmpty();
    assertThat(Files.size(file)).isEqualTo(size);
    CountingEmbedder counting = new CountingEmbedder(embedder);
    StsEvaluator.builder(counting).cache(EmbeddingCache.open(dir)).build().evaluate(sts);
    assertThat(counting.texts.get()).as("every text from the rebuilt file").isZero();
  }

  @Test
  void cacheStartsAgainAfterAHeaderOfZeros() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("cache-zero-header"));
    Path file = cacheFileOfOneRun(dir);
    long size = Files.size(file);
    try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.allocate(8 + 4 + 32), 0); // the header: a crash after the file was made, before its data reached the disk
    }
    assertTheNextRunRebuildsTheFile(dir, file, size);
  }

  @Test
  void aCacheFileThatCannotBeReadOrWrittenCostsSpeedNotTheRun() throws IOException {
    String name = cacheFileOfOneRun(Files.createDirectories(tmp.resolve("cache-name"))).getFileName().toString();
    Path dir = Files.createDirectories(tmp.resolve("cache-blocked"));
    Files.createDirectory(dir.resolve(name)); // where the file would go (a full disk or another user's file, as root)
    EvalReport reference = StsEvaluator.builder(embedder).cache(EmbeddingCache.inMemory()).build().evaluate(sts);
    EmbeddingCache cache = EmbeddingCache.open(dir);
    EvalReport report = StsEvaluator.builder(embedder).cache(cache).build().evaluate(sts);
    assertThat(report.metrics()).isEqualTo(reference.metrics());
    CountingEmbedder counting = new CountingEmbedder(embedder);
    StsEvaluator.builder(counting).cache(cache).build().evaluate(sts);
    assertThat(counting.texts.get()).as("the same cache object keeps the vectors in memory").isZero();
  }

  @Test
  void aLoneSurrogateIsKeyedAsTheTokenizerReadsItNotAsAnotherText() {
    byte[] lone = EmbeddingCache.Store.key("x\uD83D");
    assertThat(lone).isEqualTo(EmbeddingCache.Store.key("x\uFFFD"))
        .isNotEqualTo(EmbeddingCache.Store.key("x?")); // what String.getBytes writes for it
    assertThat(EmbeddingCache.Store.key("a\uD83D\uDE00b")).as("a pair is a character")
        .isNotEqualTo(EmbeddingCache.Store.key("a\uFFFD\uFFFDb"));
    assertThat(EmbeddingCache.Store.key("\uDE00\uD83D")).isEqualTo(EmbeddingCache.Store.key("\uFFFD\uFFFD"));
  }

  @Test
  void widthsAreValidated() throws IOException {
    assertThatThrownBy(() -> StsEvaluator.builder(embedder).dims(List.of(512)).build())
        .hasMessageContaining("width 512 exceeds all-MiniLM-L6-v2's 384 dimensions");
    assertThatThrownBy(() -> RetrievalEvaluator.builder(embedder).dims(List.of(0)))
        .hasMessageContaining("every width must be >= 1");
    assertThat(RetrievalMetrics.withMainCutoff(List.of(1, 5))).as("the main score's cutoff is added")
        .containsExactly(1, 5, 10);
    assertThat(RetrievalMetrics.withMainCutoff(List.of(100, 10, 1))).containsExactly(100, 10, 1);
  }

  @Test
  void reportJsonIsStable() throws IOException {
    EvalReport r = new EvalReport("m", "d", "sts", "cosine_spearman",
        java.util.Map.of(384, 85.5), java.util.Map.of(384, java.util.Map.of("cosine_spearman", 85.5)),
        java.util.Map.of("sentence", "{text}"), java.util.Map.of("pairs", 2), 1.25);
    assertThat(r.toJson()).isEqualTo(String.join(System.lineSeparator(), "{",
        "  \"model\" : \"m\",",
        "  \"data\" : \"d\",",
        "  \"task\" : \"sts\",",
        "  \"metric\" : \"cosine_spearman\",",
        "  \"scores\" : {",
        "    \"384\" : 85.5",
        "  },",
        "  \"metrics\" : {",
        "    \"384\" : {",
        "      \"cosine_spearman\" : 85.5",
        "    }",
        "  },",
        "  \"prompts\" : {",
        "    \"sentence\" : \"{text}\"",
        "  },",
        "  \"sizes\" : {",
        "    \"pairs\" : 2",
        "  },",
        "  \"seconds\" : 1.3",
        "}"));
  }

  /** Delegates to a real embedder and counts the texts it is asked to embed. */
  private static final class CountingEmbedder implements GeckoEmbedder {
    private final GeckoEmbedder delegate;
    final AtomicInteger texts = new AtomicInteger();
    final List<Integer> widths = new ArrayList<>();
    /** Every request of {@link #embedRequests}, in order. */
    final List<EmbedRequest> requests = java.util.Collections.synchronizedList(new ArrayList<>());
    /** A text whose vector comes back as NaNs (a model whose weights diverged), or null. */
    String poisoned;
    /** The value every component of the poisoned text's vector takes. */
    float poison = Float.NaN;
    /** Every vector the same (a collapsed model). */
    boolean collapsed;

    CountingEmbedder(GeckoEmbedder delegate) {
      this.delegate = delegate;
    }

    @Override
    public ModelPackage model() {
      return delegate.model();
    }

    @Override
    public int dimensions() {
      return delegate.dimensions();
    }

    @Override
    public List<float[]> embedAll(List<String> list, int dims) {
      texts.addAndGet(list.size());
      widths.add(dims);
      return delegate.embedAll(list, dims);
    }

    @Override
    public List<float[]> embedRequests(List<EmbedRequest> requests, int dims, dev.gecko.core.ProgressListener progress) {
      texts.addAndGet(requests.size());
      widths.add(dims);
      this.requests.addAll(requests);
      List<float[]> vectors = new ArrayList<>(delegate.embedRequests(requests, dims, progress));
      for (int i = 0; i < requests.size(); i++) {
        if (collapsed) {
          float[] same = new float[vectors.get(i).length];
          same[0] = 1;
          vectors.set(i, same);
        }
        if (requests.get(i).text().equals(poisoned)) {
          float[] nan = new float[vectors.get(i).length];
          java.util.Arrays.fill(nan, poison);
          vectors.set(i, nan);
        }
      }
      return vectors;
    }

    @Override
    public java.util.concurrent.CompletableFuture<List<float[]>> embedRequestsAsync(List<EmbedRequest> requests,
        int dims) {
      texts.addAndGet(requests.size());
      widths.add(dims);
      return delegate.embedRequestsAsync(requests, dims);
    }

    @Override
    public dev.gecko.core.EmbedderMetrics metrics() {
      return delegate.metrics();
    }

    @Override
    public int countTokens(EmbedRequest request) {
      return delegate.countTokens(request);
    }

    @Override
    public void close() {}
  }

  @Test
  void equalScoresAtTheCutKeepTheLargerIdAsMtebAndTrecEvalDo() throws IOException {
    // twelve copies of one passage (one vector: the cache embeds a text once) and a top-10 cut:
    // which ten are kept is decided by id alone, the larger ids first, whatever the file order
    List<dev.gecko.core.io.Passage> docs = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      docs.add(new dev.gecko.core.io.Passage(String.format("d%02d", i), "", "the same passage about tides"));
    }
    List<BeirDataset.Query> queries = List.of(new BeirDataset.Query("q1", "tides"),
        new BeirDataset.Query("q2", "tides again"), new BeirDataset.Query("q3", "tides once more"));
    java.util.Map<String, java.util.Map<String, Integer>> qrels = java.util.Map.of("q1", java.util.Map.of("d00", 1),
        "q2", java.util.Map.of("d01", 1), "q3", java.util.Map.of("d11", 1));
    EvalReport r = RetrievalEvaluator.builder(embedder).ks(List.of(1, 10)).dims(List.of(64)).build()
        .evaluate(new BeirDataset("copies", docs, queries, qrels));
    java.util.Map<String, Double> m = r.metrics().get(64);
    // d00 and d01, the smallest ids, fall past the cut (the first in the file, kept before); d11,
    // the largest, ranks first
    assertThat(m.get("recall_at_10")).isCloseTo(100.0 / 3, within(1e-9));
    assertThat(m.get("ndcg_at_1")).isCloseTo(100.0 / 3, within(1e-9));
  }

  @Test
  void anIdenticalIdIsDroppedAfterTheCutAsMtebDoes() throws IOException {
    // twelve copies of one passage, a top-10 cut keeping d02..d11, and a query whose id is d11:
    // MTEB removes it after its search, leaving 9 results, so d01 never slides into the run
    List<dev.gecko.core.io.Passage> docs = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      docs.add(new dev.gecko.core.io.Passage(String.format("d%02d", i), "", "the same passage about tides"));
    }
    BeirDataset data = new BeirDataset("copies", docs, List.of(new BeirDataset.Query("d11", "tides"),
        new BeirDataset.Query("q2", "tides again")), java.util.Map.of("d11", java.util.Map.of("d01", 1),
        "q2", java.util.Map.of("d02", 1)));
    EvalReport r = RetrievalEvaluator.builder(embedder).ks(List.of(1, 10)).dims(List.of(64)).ignoreIdenticalIds(true)
        .build().evaluate(data);
    // d11's d01 was cut before d11 itself was dropped; q2's d02, the tenth, stays
    assertThat(r.metrics().get(64).get("recall_at_10")).isCloseTo(50.0, within(1e-9));
    // d11's first result is d10 once it is dropped; q2's is d11
    assertThat(r.metrics().get(64).get("ndcg_at_1")).isZero();
  }
}
