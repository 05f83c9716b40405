package dev.gecko.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gecko.core.vector.VectorOps;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Many callers on one embedder: concurrent small calls share batches, and each caller gets exactly
 * its own vectors (compared with the same texts embedded alone, one thread), a failing caller fails
 * alone, cancelled calls leave the queue, a full queue refuses async calls, and close() during load
 * loses no accepted call. Not timed: docs/performance.md measures the speed.
 */
class CoalescingTest {
  static GeckoEmbedder fp32;
  static ModelPackage fp32Package;
  static final List<String> TEXTS = new ArrayList<>();

  @BeforeAll
  static void open() {
    fp32Package = ModelPackage.builtIn("bge-small-en-v1.5");
    fp32 = GeckoEmbedder.builder().model(fp32Package).threads(2).build();
    String[] words = {"river", "mountain", "library", "engine", "garden", "violin", "harbour", "desert", "comet"};
    for (int i = 0; i < 60; i++) {
      StringBuilder b = new StringBuilder("Sentence " + i + " about");
      for (int w = 0; w <= i % 7; w++) {
        b.append(' ').append(words[(i + w) % words.length]);
      }
      TEXTS.add(b.append('.').toString());
    }
  }

  @AfterAll
  static void close() {
    fp32.close();
  }

  /** One caller's request: which text, task type and width. */
  record Call(int text, TaskType task, int dims) {
    EmbedRequest request() {
      return task == null ? EmbedRequest.of(TEXTS.get(text)) : EmbedRequest.of(task, TEXTS.get(text));
    }
  }

  private static List<Call> calls(int n) {
    TaskType[] tasks = {null, TaskType.RETRIEVAL_QUERY, TaskType.RETRIEVAL_DOCUMENT, TaskType.SEMANTIC_SIMILARITY};
    int[] widths = {384, 256, 64, 17};
    List<Call> calls = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      calls.add(new Call(i % TEXTS.size(), tasks[i % tasks.length], widths[(i / 3) % widths.length]));
    }
    return calls;
  }

  /** The vectors each call would get alone: each request embedded by itself, coalescing off. */
  private static Map<Call, float[]> alone(List<Call> calls) {
    Map<Call, float[]> expected = new ConcurrentHashMap<>();
    try (GeckoEmbedder single = GeckoEmbedder.builder().model(fp32Package).threads(1)
        .coalescingWindow(Duration.ZERO).build()) {
      for (Call c : calls) {
        expected.computeIfAbsent(c, k -> single.embed(k.request(), k.dims()));
      }
    }
    return expected;
  }

  @Test
  void manyThreadsWithMixedWidthsAndTasksGetExactlyTheirOwnVectors() throws Exception {
    List<Call> calls = calls(240);
    Map<Call, float[]> expected = alone(calls);
    EmbedderMetrics before = fp32.metrics();
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<float[]>> results = new ArrayList<>();
      for (Call c : calls) {
        results.add(pool.submit(() -> {
          go.await();
          return fp32.embed(c.request(), c.dims());
        }));
      }
      go.countDown();
      for (int i = 0; i < calls.size(); i++) {
        float[] got = results.get(i).get(120, TimeUnit.SECONDS);
        float[] want = expected.get(calls.get(i));
        assertThat(got).as("call %d", i).hasSize(calls.get(i).dims());
        assertThat(VectorOps.cosine(got, want)).as("call %d: %s", i, calls.get(i)).isGreaterThanOrEqualTo(0.99999f);
      }
    } finally {
      pool.shutdownNow();
    }
    EmbedderMetrics after = fp32.metrics();
    assertThat(after.calls() - before.calls()).isEqualTo(240);
    assertThat(after.texts() - before.texts()).isEqualTo(240);
    // sixteen threads on a two-runner embedder: texts of different calls shared batches
    assertThat(after.coalescedBatches() - before.coalescedBatches()).isPositive();
    assertThat(after.batches() - before.batches()).isLessThan(240);
    assertThat(after.queueWait().count()).isGreaterThanOrEqualTo(240);
  }

  @Test
  void aFailingCallerFailsAloneAndItsNeighboursGetTheirVectors() throws Exception {
    try (GeckoEmbedder strict = GeckoEmbedder.builder().model(fp32Package).threads(2).failOnTruncation(true).build()) {
      String tooLong = "word ".repeat(2000);
      List<CompletableFuture<float[]>> futures = new ArrayList<>();
      List<Integer> bad = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        if (i % 10 == 3) {
          bad.add(i);
          futures.add(strict.embedAsync(EmbedRequest.of(tooLong), 64));
        } else if (i % 10 == 7) {
          bad.add(i);
          futures.add(strict.embedAsync(null, 64));
        } else {
          futures.add(strict.embedAsync(EmbedRequest.of(TEXTS.get(i)), 64));
        }
      }
      for (int i = 0; i < futures.size(); i++) {
        CompletableFuture<float[]> f = futures.get(i);
        if (bad.contains(i)) {
          assertThatThrownBy(() -> f.get(60, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
              .cause().isInstanceOf(i % 10 == 3 ? InputTooLongException.class : NullPointerException.class);
        } else {
          float[] want = fp32.embed(EmbedRequest.of(TEXTS.get(i)), 64);
          assertThat(VectorOps.cosine(f.get(60, TimeUnit.SECONDS), want)).isGreaterThanOrEqualTo(0.99999f);
        }
      }
      // a synchronous caller's bad input is thrown to it, and only to it
      assertThatThrownBy(() -> strict.embed(tooLong, 8)).isInstanceOf(InputTooLongException.class);
      assertThat(strict.embed(TEXTS.get(0), 8)).hasSize(8);
    }
  }

  @Test
  void closeDuringLoadLosesNoAcceptedCallAndRefusesNewOnes() throws Exception {
    GeckoEmbedder e = GeckoEmbedder.builder().model(fp32Package).threads(2).build();
    List<CompletableFuture<float[]>> accepted = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger refused = new AtomicInteger();
    CountDownLatch loaded = new CountDownLatch(40); // calls accepted before close is called
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Future<?>> workers = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      int thread = t;
      workers.add(pool.submit(() -> {
        // bursts of 5 calls, each burst waited for, until the embedder refuses a call
        for (int i = 0; ; i += 5) {
          List<CompletableFuture<float[]>> burst = new ArrayList<>();
          for (int j = 0; j < 5; j++) {
            String text = TEXTS.get((thread * 41 + i + j) % TEXTS.size());
            CompletableFuture<float[]> f = e.embedAsync(EmbedRequest.of(text), 32);
            Throwable failure = f.isCompletedExceptionally() ? f.handle((v, x) -> x).join() : null;
            if (failure instanceof IllegalStateException) {
              refused.incrementAndGet();
              burst.forEach(b -> b.handle((v, x) -> null).join());
              return null;
            }
            accepted.add(f);
            burst.add(f);
            loaded.countDown();
          }
          burst.forEach(b -> b.handle((v, x) -> null).join());
        }
      }));
    }
    try {
      assertThat(loaded.await(120, TimeUnit.SECONDS)).as("40 calls accepted").isTrue();
      e.close(); // waits for every accepted call
      List<CompletableFuture<float[]>> atClose;
      synchronized (accepted) {
        atClose = new ArrayList<>(accepted);
      }
      // every call accepted before close returned is done by then (a worker may list its last one later)
      assertThat(atClose).hasSizeGreaterThanOrEqualTo(40)
          .allSatisfy(f -> assertThat(f).as("accepted before close").isDone());
      pool.shutdown();
      assertThat(pool.awaitTermination(120, TimeUnit.SECONDS)).isTrue();
      for (Future<?> w : workers) {
        w.get(); // a worker that failed fails the test
      }
      assertThat(refused).as("each worker stops at its first refused call").hasValue(8);
      for (CompletableFuture<float[]> f : accepted) {
        assertThat(f.get()).hasSize(32);
      }
    } finally { // a failure above leaves no worker calling an open embedder into the next tests
      e.close();
      pool.shutdownNow();
    }
    assertThatThrownBy(() -> e.embed("after close", 8)).isInstanceOf(IllegalStateException.class);
    assertThat(e.embedAsync(EmbedRequest.of("after close"), 8)).isCompletedExceptionally();
  }

  @Test
  void aFullQueueRefusesAsyncCallsOrMakesThemWait() throws Exception {
    // a queue of a few tokens: a burst of async calls finds it full
    try (GeckoEmbedder tiny = GeckoEmbedder.builder().model(fp32Package).threads(1).maxQueuedTokens(16).build()) {
      List<CompletableFuture<float[]>> burst = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        burst.add(tiny.embedAsync(EmbedRequest.of(TEXTS.get(i)), 16));
      }
      int rejected = 0;
      for (CompletableFuture<float[]> f : burst) {
        try {
          assertThat(f.get(60, TimeUnit.SECONDS)).hasSize(16);
        } catch (ExecutionException x) {
          assertThat(x.getCause()).isInstanceOf(RejectedExecutionException.class).hasMessageContaining("maxQueuedTokens");
          rejected++;
        }
      }
      assertThat(rejected).isPositive();
      assertThat(tiny.metrics().rejected()).isEqualTo(rejected);
    }
    try (GeckoEmbedder waiting = GeckoEmbedder.builder().model(fp32Package).threads(1).maxQueuedTokens(16)
        .rejectAsyncWhenFull(false).build()) {
      List<CompletableFuture<float[]>> burst = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        burst.add(waiting.embedAsync(EmbedRequest.of(TEXTS.get(i)), 16));
      }
      for (CompletableFuture<float[]> f : burst) {
        assertThat(f.get(60, TimeUnit.SECONDS)).hasSize(16);
      }
      assertThat(waiting.metrics().rejected()).isZero();
    }
  }

  @Test
  void aCallCancelledBeforeItsBatchStartsLeavesTheQueue() throws Exception {
    try (GeckoEmbedder one = GeckoEmbedder.builder().model(fp32Package).threads(1).build()) {
      // a long call occupies the only runner; the small ones queue behind it
      List<String> longTexts = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        longTexts.add("a longer passage number " + i + " " + "with many words in it ".repeat(20));
      }
      CompletableFuture<List<float[]>> busy = one.embedRequestsAsync(
          longTexts.stream().map(EmbedRequest::of).toList(), 384);
      List<CompletableFuture<float[]>> queued = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        queued.add(one.embedAsync(EmbedRequest.of(TEXTS.get(i)), 8));
      }
      int cancelled = 0;
      for (CompletableFuture<float[]> f : queued) {
        if (f.cancel(false)) {
          cancelled++;
        }
      }
      busy.get(120, TimeUnit.SECONDS);
      assertThat(cancelled).isPositive();
      for (CompletableFuture<float[]> f : queued) {
        if (f.isCancelled()) {
          assertThatThrownBy(f::join).isInstanceOf(CancellationException.class);
        } else {
          assertThat(f.get(60, TimeUnit.SECONDS)).hasSize(8);
        }
      }
      // texts of cancelled calls were not embedded: 40 long ones and the small ones that ran
      assertThat(one.metrics().texts()).isEqualTo(40 + (20 - cancelled));
    }
  }

  @Test
  void aCancelledCallFreesItsRoomInTheQueueAtOnce() throws Exception {
    List<EmbedRequest> longTexts = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      longTexts.add(EmbedRequest.of("a longer passage number " + i + " " + "with many words in it ".repeat(50)));
    }
    EmbedRequest small = EmbedRequest.of("one two three four five six seven eight nine ten ".repeat(4)); // ~42 tokens
    try (GeckoEmbedder e = GeckoEmbedder.builder().model(fp32Package).threads(1).maxBatchTokens(16_384)
        .maxQueuedTokens(64).build()) {
      CompletableFuture<List<float[]>> busy = e.embedRequestsAsync(longTexts, 8); // one long batch on the only runner
      // a refusal is counted before the call returns (its future fails a moment later, on a callback thread)
      CompletableFuture<float[]> a;
      long rejected;
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      do { // refused while the long call still waits in the queue; let in once its batch runs
        rejected = e.metrics().rejected();
        a = e.embedAsync(small, 8);
      } while (e.metrics().rejected() > rejected && System.nanoTime() < until);
      assertThat(e.metrics().rejected()).as("a small call let in beside the running batch").isEqualTo(rejected);
      CompletableFuture<float[]> b = e.embedAsync(small, 8);
      assertThat(b.handle((v, x) -> x).get(60, TimeUnit.SECONDS)).as("the queue holds a: full")
          .isInstanceOf(RejectedExecutionException.class);
      assertThat(a.cancel(false)).isTrue();
      CompletableFuture<float[]> c = e.embedAsync(small, 8);
      assertThat(e.metrics().rejected()).as("a's room was freed by its cancel, not at the next batch")
          .isEqualTo(rejected + 1);
      // completing a future any other way (orTimeout, completeExceptionally) frees its room too
      assertThat(c.completeExceptionally(new java.util.concurrent.TimeoutException("gave up"))).isTrue();
      CompletableFuture<float[]> d = e.embedAsync(small, 8);
      assertThat(e.metrics().rejected()).as("c's room was freed when its caller gave up").isEqualTo(rejected + 1);
      assertThat(d.get(120, TimeUnit.SECONDS)).hasSize(8);
      assertThat(busy.get(120, TimeUnit.SECONDS)).hasSize(16);
    }
  }

  @Test
  void aTextWithNoTokensIsRefusedAloneAndTheQueueGoesOn(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    // a tokenizer without special tokens ([CLS], [SEP]) gives an empty text no tokens at all
    ClassLoader loader = CoalescingTest.class.getClassLoader();
    try (var in = loader.getResourceAsStream("gecko-models/bge-small-en-v1.5-q.onnx")) {
      java.nio.file.Files.copy(in, dir.resolve("model.onnx"));
    }
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    try (var in = loader.getResourceAsStream("gecko-models/bge-small-en-v1.5-q-tokenizer.json")) {
      var tokenizer = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(in);
      tokenizer.putNull("post_processor");
      json.writeValue(dir.resolve("tokenizer.json").toFile(), tokenizer);
    }
    java.nio.file.Files.writeString(dir.resolve(ModelPackage.MANIFEST), """
        {"name": "no-specials", "dimensions": 384, "pooling": "cls", "maxTokens": 512,
         "model": "model.onnx", "tokenizer": "tokenizer.json"}""");
    try (GeckoEmbedder e = GeckoEmbedder.builder().model(dir.toString()).threads(1).build()) {
      assertThatThrownBy(() -> e.embedAll(List.of("fine", "also fine", ""), 8))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("text 2 encodes to no tokens");
      CompletableFuture<float[]> empty = e.embedAsync(EmbedRequest.of(" "), 8);
      CompletableFuture<float[]> neighbour = e.embedAsync(EmbedRequest.of("a neighbour"), 8);
      assertThat(empty.handle((v, x) -> x).get(60, TimeUnit.SECONDS)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("no tokens");
      assertThat(neighbour.get(60, TimeUnit.SECONDS)).hasSize(8);
      assertThat(e.embed("still running", 8)).hasSize(8); // nothing is left stuck in the queue
    }
  }

  /** Under a locale that writes decimal commas, which the line must not use. */
  @Test
  void eachCoalescedBatchLogsOneDebugLineAndTheMetricsCountIt() throws Exception {
    java.util.Locale saved = java.util.Locale.getDefault();
    java.util.Locale.setDefault(java.util.Locale.GERMANY);
    try (LoggedLines log = new LoggedLines("dev.gecko.core.internal.runtime.Coalescer", java.util.logging.Level.FINE);
        GeckoEmbedder e = GeckoEmbedder.builder().model(fp32Package).threads(2).build()) {
      List<CompletableFuture<float[]>> calls = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        calls.add(e.embedAsync(EmbedRequest.of(TEXTS.get(i)), 32));
      }
      for (CompletableFuture<float[]> f : calls) {
        assertThat(f.get(60, TimeUnit.SECONDS)).hasSize(32);
      }
      EmbedderMetrics m = e.metrics();
      assertThat(m.texts()).isEqualTo(40);
      assertThat(m.runTime().count()).as("one run time per batch").isEqualTo(m.batches());
      assertThat(m.queueWait().count()).as("one queue wait per text").isEqualTo(40);
      assertThat(m.batchFill()).isGreaterThan(0).isLessThanOrEqualTo(1);
      // a batch's line is logged after its vectors are handed over: closing waits for the runners
      e.close();
      assertThat(log.messages()).as("one debug line per batch").hasSize((int) m.batches())
          .allSatisfy(l -> assertThat(l).matches("batch of \\d+ texts from \\d+ calls, \\d+ tokens \\(\\d+ padded\\), ran \\d+\\.\\d\\d ms"));
    } finally {
      java.util.Locale.setDefault(saved);
    }
  }

  @Test
  void aLoneCallerNeverWaitsForCompanyEvenWithManyBatches() throws Exception {
    // the longest window: a lone call's text that waited for company would wait a whole second
    List<String> texts = new ArrayList<>(TEXTS); // 60 texts, over 512 tokens: two batches at once, on two runners
    try (GeckoEmbedder e = GeckoEmbedder.builder().model(fp32Package).threads(2).coalescingWindow(Duration.ofSeconds(1))
        .build()) {
      List<float[]> sync = e.embedAll(texts, 32);
      List<float[]> async = e.embedRequestsAsync(texts.stream().map(EmbedRequest::of).toList(), 32)
          .get(60, TimeUnit.SECONDS);
      EmbedderMetrics m = e.metrics();
      assertThat(m.batches()).as("the calls ran as several batches").isGreaterThanOrEqualTo(4);
      assertThat(m.queueWait().count()).isEqualTo(2L * texts.size());
      // the longest queue wait's bucket: milliseconds here; waiting out the window puts it past 1 s
      assertThat(m.queueWait().quantile(1.0)).isLessThanOrEqualTo(Duration.ofSeconds(1));
      for (int i = 0; i < texts.size(); i++) {
        assertThat(VectorOps.dot(sync.get(i), async.get(i))).isGreaterThan(0.99999f);
      }
    }
  }

  @Test
  void callbacksOfAsyncCallsMayCallTheEmbedderAndCloseIt() throws Exception {
    // one runner: a callback run on it that embeds again would wait for itself
    for (GeckoEmbedder.Builder b : List.of(GeckoEmbedder.builder().model(fp32Package).threads(1),
        GeckoEmbedder.builder().model(fp32Package).threads(1).coalescingWindow(Duration.ZERO))) {
      GeckoEmbedder e = b.build();
      float[] nested = e.embedAsync(EmbedRequest.of(TEXTS.get(0)), 16)
          .thenApply(v -> e.embed(TEXTS.get(1), 16)).get(60, TimeUnit.SECONDS);
      assertThat(nested).hasSize(16);
      List<CompletableFuture<float[]>> calls = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        calls.add(e.embedAsync(EmbedRequest.of(TEXTS.get(i)), 16));
      }
      CompletableFuture.allOf(calls.toArray(new CompletableFuture<?>[0])).thenRun(e::close).get(60, TimeUnit.SECONDS);
      assertThatThrownBy(() -> e.embed("after close", 8)).isInstanceOf(IllegalStateException.class);
      // a failure reaches the caller as the synchronous call would throw it, not wrapped
      assertThat(e.embedAsync(EmbedRequest.of("after close"), 8).handle((v, x) -> x).get(60, TimeUnit.SECONDS))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }
  }

  @Test
  void aRowLimitAsLargeAsAnIntStillEmbeds() {
    try (GeckoEmbedder e = GeckoEmbedder.builder().model(fp32Package).threads(2).maxBatchSize(Integer.MAX_VALUE)
        .build()) {
      assertThat(e.embed(TEXTS.get(3), 32)).hasSize(32);
      List<float[]> all = e.embedAll(TEXTS, 32);
      assertThat(all).hasSize(TEXTS.size());
      assertThat(VectorOps.dot(all.get(3), e.embed(TEXTS.get(3), 32))).isGreaterThan(0.99999f);
    }
  }

  @Test
  void anInterruptedCallerStillGetsItsVectorsAndKeepsItsInterrupt() {
    List<String> many = new ArrayList<>();
    for (int i = 0; i < 600; i++) { // more than one window of 512 texts
      many.add(TEXTS.get(i % TEXTS.size()));
    }
    Thread.currentThread().interrupt();
    try {
      assertThat(fp32.embedAll(many, 8)).hasSize(600);
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
  }

  @Test
  void batchIndependentAndAZeroWindowNeverCoalesce() throws Exception {
    for (GeckoEmbedder.Builder b : List.of(
        GeckoEmbedder.builder().model(fp32Package).threads(2).batchIndependent(true),
        GeckoEmbedder.builder().model(fp32Package).threads(2).coalescingWindow(Duration.ZERO))) {
      try (GeckoEmbedder e = b.build()) {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<float[]>> results = new ArrayList<>();
        for (int i = 0; i < 48; i++) {
          int t = i;
          results.add(pool.submit(() -> e.embed(TEXTS.get(t), 64)));
        }
        for (Future<float[]> f : results) {
          assertThat(f.get(60, TimeUnit.SECONDS)).hasSize(64);
        }
        pool.shutdown();
        assertThat(e.metrics().coalescedBatches()).isZero();
        assertThat(e.metrics().batches()).isEqualTo(48);
      }
    }
    assertThatThrownBy(() -> GeckoEmbedder.builder().coalescingWindow(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("coalescingWindow");
    assertThatThrownBy(() -> GeckoEmbedder.builder().maxQueuedTokens(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxQueuedTokens");
  }
}
