package dev.gecko.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.gecko.core.vector.VectorOps;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GeckoEmbedderTest {
  private static GeckoEmbedder embedder;
  private static List<String> shortTexts;

  @BeforeAll
  static void open() {
    embedder = GeckoEmbedder.builder().model("bge-small-en-v1.5").threads(2).build();
    shortTexts = Golden.texts(Golden.read("short.jsonl"));
  }

  @AfterAll
  static void close() {
    embedder.close();
  }

  @Test
  void defaultEmbedderIsTheInt8BgeModel() {
    try (GeckoEmbedder def = GeckoEmbedder.createDefault()) {
      assertThat(GeckoEmbedder.Builder.DEFAULT_MODEL).isEqualTo("bge-small-en-v1.5-int8"); // README and docs say so
      assertThat(def.model().name()).isEqualTo(GeckoEmbedder.Builder.DEFAULT_MODEL);
      float[] v = def.embed("some text", 256);
      assertThat(v).hasSize(256);
      assertThat(VectorOps.norm(v)).isCloseTo(1f, within(1e-5f));
    }
  }

  @Test
  void progressCountsTheTokensTheModelRan() {
    List<EmbedRequest> requests = new ArrayList<>();
    long expected = 0;
    for (int i = 0; i < 520; i++) { // two windows of up to 512
      EmbedRequest r = i % 3 == 0 ? EmbedRequest.query(shortTexts.get(i % shortTexts.size()))
          : EmbedRequest.document(shortTexts.get(i % shortTexts.size())).withTitle("T" + i);
      requests.add(r);
      expected += embedder.countTokens(r);
    }
    String long_ = "word ".repeat(600); // truncated at the model's 512
    requests.add(EmbedRequest.of(long_));
    expected += 512;
    assertThat(embedder.countTokens(EmbedRequest.of(long_))).isGreaterThan(512);
    List<Progress> reports = new ArrayList<>();
    embedder.embedRequests(requests, 16, reports::add);
    assertThat(reports.get(0).metric("tokens")).hasValue(0);
    assertThat(reports.size()).isGreaterThan(2);
    Progress last = reports.get(reports.size() - 1);
    assertThat(last.done()).isEqualTo(requests.size());
    assertThat(last.metric("tokens")).hasValue((double) expected);
  }

  @Test
  void matryoshkaTruncatesThenNormalises() {
    for (String text : shortTexts.subList(0, 16)) {
      float[] full = embedder.embed(text);
      assertThat(full).hasSize(384);
      // truncating the unit vector and renormalising equals truncating the pooled vector: the
      // norm is a positive scale factor.
      for (int dims : new int[] {1, 64, 256, 383}) {
        float[] cut = embedder.embed(text, dims);
        float[] expected = VectorOps.truncateAndNormalize(full, dims);
        assertThat(cut).hasSize(dims);
        for (int i = 0; i < dims; i++) {
          assertThat(cut[i]).isCloseTo(expected[i], within(1e-6f));
        }
      }
    }
  }

  @Test
  void dimsOutOfRangeAreRejected() {
    assertThatThrownBy(() -> embedder.embed("x", 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("dims must be in [1, 384]");
    assertThatThrownBy(() -> embedder.embed("x", 385)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void resultsComeBackInTheCallersOrderWhateverTheBatching() {
    List<String> mixed = new ArrayList<>();
    List<String> passages = Golden.texts(Golden.read("passages.jsonl"));
    for (int i = 0; i < 40; i++) {
      mixed.add(i % 3 == 0 ? passages.get(i) : shortTexts.get(i));
    }
    List<float[]> batched = embedder.embedAll(mixed, 384);
    try (GeckoEmbedder small = GeckoEmbedder.builder().model("bge-small-en-v1.5").maxBatchTokens(600).maxBatchSize(3)
        .build()) {
      List<float[]> tiny = small.embedAll(mixed, 384);
      for (int i = 0; i < mixed.size(); i++) {
        assertThat(Golden.cosine(batched.get(i), tiny.get(i))).as("text %d", i).isGreaterThan(0.99999);
        assertThat(Golden.cosine(batched.get(i), embedder.embed(mixed.get(i)))).isGreaterThan(0.99999);
      }
    }
  }

  @Test
  void eightThreadsGetTheSameVectorsAsOne() throws Exception {
    List<String> texts = shortTexts.subList(0, 48);
    List<float[]> expected = embedder.embedAll(texts, 384);
    // coalesced with the other threads' calls: the same vectors up to float rounding
    for (List<float[]> got : eightThreads(embedder, texts)) {
      for (int i = 0; i < texts.size(); i++) {
        assertThat(Golden.cosine(got.get(i), expected.get(i))).as("text %d", i).isGreaterThan(0.99999);
      }
    }
    // not coalesced: each call's batches are its own, so the vectors are bit for bit the same
    try (GeckoEmbedder alone = GeckoEmbedder.builder().model(embedder.model()).coalescingWindow(Duration.ZERO)
        .build()) {
      List<float[]> own = alone.embedAll(texts, 384);
      for (List<float[]> got : eightThreads(alone, texts)) {
        for (int i = 0; i < texts.size(); i++) {
          assertThat(got.get(i)).isEqualTo(own.get(i));
        }
      }
    }
  }

  private static List<List<float[]>> eightThreads(GeckoEmbedder e, List<String> texts) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<List<float[]>>> futures = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        futures.add(pool.submit(() -> e.embedAll(texts, 384)));
      }
      List<List<float[]>> out = new ArrayList<>();
      for (Future<List<float[]>> f : futures) {
        out.add(f.get());
      }
      return out;
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void parallelBatchesGiveTheSameVectorsAsOneThread() {
    // int8 vectors depend on their batch's other rows (one activation scale per batch), so
    // bit-equality shows that batches are cut the same whatever the number of threads.
    List<String> mixed = new ArrayList<>();
    List<String> passages = Golden.texts(Golden.read("passages.jsonl"));
    for (int i = 0; i < 60; i++) {
      mixed.add(i % 4 == 0 ? passages.get(i) : shortTexts.get(i));
    }
    List<List<float[]>> results = new ArrayList<>();
    int[][] configs = {{1, 1}, {3, 1}, {4, 2}};
    for (int[] c : configs) {
      try (GeckoEmbedder e = GeckoEmbedder.builder().model("bge-small-en-v1.5-int8").maxBatchTokens(700)
          .threads(c[0]).intraOpThreads(c[1]).build()) {
        results.add(e.embedAll(mixed, 128));
      }
    }
    for (int k = 1; k < results.size(); k++) {
      for (int i = 0; i < mixed.size(); i++) {
        assertThat(results.get(k).get(i)).as("threads %s, text %d", Arrays.toString(configs[k]), i)
            .isEqualTo(results.get(0).get(i));
      }
    }
  }

  @Test
  void queryPromptIsTheModelsOwn() {
    String q = "how do closures capture variables";
    float[] viaTask = embedder.embed(EmbedRequest.query(q), 384);
    float[] manual = embedder.embed("Represent this sentence for searching relevant passages: " + q);
    assertThat(viaTask).isEqualTo(manual);
    // bge has no prompt for documents or similarity: the text as it is
    assertThat(embedder.embed(EmbedRequest.of(TaskType.SEMANTIC_SIMILARITY, q), 384)).isEqualTo(embedder.embed(q));
    assertThat(embedder.embed(EmbedRequest.document(q).withTitle("Closures"), 384)).isEqualTo(embedder.embed("Closures " + q));
  }

  @Test
  void longInputIsTruncatedOrRejectedWithItsIndexAndTokenCount() {
    String longText = "word ".repeat(600);
    assertThat(embedder.embed(longText)).hasSize(384);
    try (GeckoEmbedder strict = GeckoEmbedder.builder().model("bge-small-en-v1.5").threads(2).failOnTruncation(true).build()) {
      assertThatThrownBy(() -> strict.embedAll(List.of("short", longText), 384))
          .isInstanceOf(InputTooLongException.class)
          .hasMessageContaining("index 1")
          .hasMessageContaining("602 tokens")
          .hasMessageContaining("512");
      // a list long enough that its tokenisation is cut into pieces on several threads: the
      // index is the text's own, and the first too-long text in list order is the one reported
      List<String> many = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        many.add("text number " + i);
      }
      many.set(70, longText);
      assertThatThrownBy(() -> strict.embedAll(many, 384)).isInstanceOf(InputTooLongException.class)
          .hasMessageContaining("index 70");
      many.set(10, longText);
      assertThatThrownBy(() -> strict.embedAll(many, 384)).isInstanceOf(InputTooLongException.class)
          .hasMessageContaining("index 10");
    }
  }

  @Test
  void badInputGetsAClearExceptionOrADocumentedResult() {
    List<String> withNull = new ArrayList<>(List.of("a", "b"));
    withNull.add(null);
    assertThatThrownBy(() -> embedder.embedAll(withNull, 384)).isInstanceOf(NullPointerException.class)
        .hasMessage("texts[2] is null");
    assertThat(VectorOps.norm(embedder.embed(""))).isCloseTo(1f, within(1e-5f));
    assertThat(VectorOps.norm(embedder.embed("   \t "))).isCloseTo(1f, within(1e-5f));
    assertThat(embedder.embed("nul\u0000inside")).isEqualTo(embedder.embed("nulinside"));
    String emoji = "I love it \uD83D\uDE00";
    assertThat(Golden.cosine(embedder.embed(emoji + " \uDC00"), embedder.embed(emoji + " \uFFFD"))).isEqualTo(1.0,
        within(1e-6));
    assertThat(embedder.embedAll(List.of(), 384)).isEmpty();
  }

  @Test
  void closeWaitsForCallsInFlightThenRejectsNewOnes() throws Exception {
    GeckoEmbedder e = GeckoEmbedder.builder().model("bge-small-en-v1.5-int8").build();
    List<String> many = new ArrayList<>(shortTexts);
    CountDownLatch started = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<List<float[]>> inFlight = pool.submit(() -> {
        started.countDown();
        return e.embedAll(many, 384);
      });
      started.await();
      while (e.metrics().calls() == 0 && !inFlight.isDone()) { // until the call is past the gate
        Thread.sleep(1);
      }
      e.close();
      assertThat(inFlight.get()).hasSize(many.size()).allSatisfy(v -> assertThat(v).hasSize(384));
      assertThatThrownBy(() -> e.embed("x")).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
      e.close();
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void aProgressListenerMayCloseTheEmbedderItReportsTo() {
    List<EmbedRequest> many = new ArrayList<>();
    for (int i = 0; i < 700; i++) { // two windows: a report between them
      many.add(EmbedRequest.of("text number " + i));
    }
    List<EmbedRequest> few = List.of(EmbedRequest.of("a"), EmbedRequest.of("b")); // coalesced
    for (List<EmbedRequest> requests : List.of(many, few)) {
      GeckoEmbedder e = GeckoEmbedder.builder().model("bge-small-en-v1.5-int8").threads(2).build();
      List<Progress> seen = new ArrayList<>();
      // a hang detector, not a timing assertion: close() used to wait for the call it was called from
      List<float[]> vectors = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofMinutes(3),
          () -> e.embedRequests(requests, 8, p -> {
            seen.add(p);
            if (p.done() < p.total()) {
              e.close();
              e.close();
            }
          }));
      assertThat(vectors).hasSize(requests.size()).allSatisfy(v -> assertThat(v).hasSize(8));
      assertThat(seen.get(seen.size() - 1).done()).isEqualTo(requests.size());
      assertThatThrownBy(() -> e.embed("x")).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofMinutes(1), e::close);
    }
  }

  @Test
  void unknownModelNamesTheBuiltIns() {
    assertThatThrownBy(() -> GeckoEmbedder.builder().model("no-such-model"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bge-small-en-v1.5");
    assertThatThrownBy(() -> GeckoEmbedder.builder().intraOpThreads(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("intraOpThreads");
    assertThatThrownBy(() -> GeckoEmbedder.builder().threads(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("threads must be >= 1");
    assertThat(Arrays.asList(ModelPackage.builtInNames())).isNotEmpty();
  }

  @Test
  void batchSettingsWhoseBatchesCannotFitOneBufferAreRefusedWhenTheModelOpens() {
    // 2,000,000 tokens x 384 floats: 3 GB of hidden states, which no Java buffer holds; this
    // overflowed int arithmetic inside the first large batch before
    assertThatThrownBy(() -> GeckoEmbedder.builder().model("all-MiniLM-L6-v2-int8").maxBatchTokens(2_000_000)
        .maxBatchSize(8192).build()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxBatchTokens 2000000 and maxBatchSize 8192 are too large for all-MiniLM-L6-v2-int8")
        .hasMessageContaining("at most 1398101 tokens per batch");
    // the budget alone is not the bound: 64 texts of at most 256 tokens never pad past 16,384
    try (GeckoEmbedder e = GeckoEmbedder.builder().model("all-MiniLM-L6-v2-int8").maxBatchTokens(2_000_000)
        .threads(1).build()) {
      assertThat(e.embed("fine", 8)).hasSize(8);
    }
    // a [CLS]-pooled model whose graph computes the first token only holds one row per text
    try (GeckoEmbedder e = GeckoEmbedder.builder().model("bge-small-en-v1.5-int8").maxBatchTokens(2_000_000)
        .maxBatchSize(8192).threads(1).build()) {
      assertThat(e.embed("fine", 8)).hasSize(8);
    }
  }
}
