package dev.gecko.core.internal.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.EmbedderMetrics;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.InferenceException;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.vector.VectorOps;
import dev.gecko.tokenizer.Encoding;
import dev.gecko.tokenizer.GeckoTokenizer;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link Coalescer}'s failure paths, which no input of the public API reaches (inputs are
 * checked before they are queued, and a package's maximum tokens are checked against the graph's
 * position table when it opens): a shared batch that ONNX Runtime refuses is run again call by
 * call, a failure several calls share reaches each as its own instance, the run times of the
 * batches run again are counted, and an {@link Error} in a batch fails its callers without leaving
 * the embedder's gate entered or a runner counted that no longer runs.
 *
 * <p>Real model, real ONNX Runtime failures: a tokenizer allowed more tokens than the model's 512
 * positions makes ONNX Runtime refuse every batch padded past them, and a closed session refuses
 * every batch. Batches are made deterministic by holding the coalescer's helper runners
 * ({@link HeldRunners}) until every call is queued, then running them on the test thread. Only an
 * {@link Error} cannot come from ONNX Runtime, and {@link InferenceSession} is final: the error is
 * thrown by the batch counter that the batch's run calls right after the session returns ({@link
 * FailingBatchCounter}, the counter of an embedder opened as the builder opens one, through {@link
 * OnnxEmbedder}'s seam for tests), or by the workspace pool before the batch runs (its seam for
 * tests makes workspaces).
 */
class CoalescerFailureTest {
  private static final String MODEL = "bge-small-en-v1.5";
  /** A batch budget that lets four texts of about 512 tokens share one batch. */
  private static final int MAX_BATCH_TOKENS = 4096;
  private static final int MAX_BATCH_SIZE = 64;
  /** The model's positions: a batch padded past them fails inside ONNX Runtime. */
  private static final int POSITIONS = 512;
  private static final long WAIT_SECONDS = 60;

  static ModelPackage pkg;
  /** The model's tokenizer, allowed twice the model's positions. */
  static GeckoTokenizer wide;
  static InferenceSession session;
  /** Each call embedded alone, one thread, coalescing off: the vectors a call must get. */
  static GeckoEmbedder reference;

  ExecutorService callers;

  @BeforeAll
  static void open() throws Exception {
    pkg = ModelPackage.builtIn(MODEL);
    wide = CoalescerFixtures.tokenizer(pkg, 2 * POSITIONS);
    session = SessionLoader.open(OrtRuntime.environment(), pkg, settings(1));
    reference = GeckoEmbedder.builder().model(pkg).threads(1).coalescingWindow(Duration.ZERO)
        .maxBatchTokens(MAX_BATCH_TOKENS).build();
  }

  @AfterAll
  static void close() {
    reference.close();
    session.close();
    wide.close();
  }

  @BeforeEach
  void startCallers() {
    callers = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "test-caller");
      t.setDaemon(true); // a caller that hangs (a broken coalescer) does not keep the JVM alive
      return t;
    });
  }

  @AfterEach
  void stopCallers() {
    callers.shutdownNow();
  }

  /**
   * An executor that hands runners to {@code held} but, while {@code noThreads} is set, cannot start
   * a thread, as a JVM at its thread limit ("unable to create native thread").
   */
  private static java.util.concurrent.Executor startingThreadsUnless(AtomicBoolean noThreads, HeldRunners held) {
    return r -> {
      if (noThreads.get()) {
        throw new OutOfMemoryError("unable to create native thread: possibly out of memory or process/resource limits reached");
      }
      held.execute(r);
    };
  }

  /** The builder's defaults, but {@code threads} runners and a batch budget for long texts. */
  private static EmbedderSettings settings(int threads) {
    return CoalescerFixtures.builderDefaults(threads, MAX_BATCH_TOKENS, MAX_BATCH_SIZE);
  }

  /** A text of {@code word} repeated, whose rendered request is exactly {@code tokens} tokens long. */
  private static String text(String word, int tokens) {
    return CoalescerFixtures.textOfTokens(CoalescerFailureTest::encode, word, tokens);
  }

  /** The encoding the embedder would queue for a text (default prompt applied), without truncation. */
  private static Encoding encode(String text) {
    Encoding e = wide.encode(pkg.render(EmbedRequest.of(text)));
    assertThat(e.truncated()).isFalse();
    return e;
  }

  private static Throwable failure(CompletableFuture<?> f) throws Exception {
    assertThat(f).as("completed by the runner").isDone();
    return f.handle((v, x) -> x).get();
  }

  @Test
  void aBatchThatOnnxRuntimeRefusesRunsAgainCallByCallSoOnlyTheCallAtFaultFails() throws Exception {
    // three calls' texts about the model's length: the least-padding cut keeps all four in one
    // batch, padded to the bad call's 514 tokens, past the 512 positions, so ONNX Runtime refuses it
    String a = text("river", 508);
    String b1 = text("garden", 509);
    String b2 = text("violin", 511);
    String bad = text("comet", POSITIONS + 2);
    assertThat(BatchCutter.cut(new int[] {508, 509, 511, POSITIONS + 2}, MAX_BATCH_TOKENS, MAX_BATCH_SIZE))
        .as("one batch of the three calls' texts").containsExactly(4);

    Stats stats = new Stats();
    HeldRunners runners = new HeldRunners();
    CallGate gate = new CallGate();
    Coalescer coalescer = new Coalescer(wide, session, null, settings(1), runners, gate, new WorkspacePool(), stats);
    CompletableFuture<List<float[]>> callA = coalescer.submit(List.of(encode(a)), 384);
    CompletableFuture<List<float[]>> callB = coalescer.submit(List.of(encode(b1), encode(b2)), 64);
    CompletableFuture<List<float[]>> callBad = coalescer.submit(List.of(encode(bad)), 128);
    Runnable runner = runners.next();
    assertThat(runners.held).as("one runner for the three calls").isEmpty();
    List<String> debug;
    java.util.Locale saved = java.util.Locale.getDefault();
    java.util.Locale.setDefault(java.util.Locale.GERMANY); // decimal commas, which the lines must not use
    try (dev.gecko.core.LoggedLines lines = new dev.gecko.core.LoggedLines(Coalescer.class.getName(),
        java.util.logging.Level.FINE)) {
      runner.run(); // here: the shared batch, then each call's texts again, alone
      debug = lines.messages();
    } finally {
      java.util.Locale.setDefault(saved);
    }
    assertThat(debug).as("a debug line for each batch run again, none for the refused ones")
        .filteredOn(l -> l.startsWith("batch of")).hasSize(2)
        .allSatisfy(l -> assertThat(l).matches("batch of [12] texts from 1 call, run again alone after a shared batch"
            + " failed, ran \\d+\\.\\d\\d ms"));

    float[] wantA = reference.embed(a, 384);
    List<float[]> wantB = reference.embedAll(List.of(b1, b2), 64);
    assertThat(VectorOps.cosine(Arrays.copyOf(wantA, 64), wantB.get(0))).as("the texts' vectors tell them apart")
        .isLessThan(0.999f);
    assertThat(callA).as("a neighbour of the call at fault: vectors, not its failure").isCompleted();
    assertThat(callA.get()).hasSize(1);
    assertThat(callA.get().get(0)).hasSize(384);
    assertThat(VectorOps.cosine(callA.get().get(0), wantA)).isGreaterThanOrEqualTo(0.99999f);
    assertThat(callB).as("a neighbour of the call at fault: vectors, not its failure").isCompleted();
    assertThat(callB.get()).hasSize(2);
    for (int i = 0; i < 2; i++) {
      assertThat(callB.get().get(i)).hasSize(64);
      assertThat(VectorOps.cosine(callB.get().get(i), wantB.get(i))).as("b[%d]", i).isGreaterThanOrEqualTo(0.99999f);
    }
    assertThat(failure(callBad)).as("its own batch's failure, run again alone")
        .isInstanceOf(InferenceException.class).hasMessageContaining("batch of 1 x " + (POSITIONS + 2) + " tokens");

    EmbedderMetrics m = stats.snapshot();
    assertThat(m.batches()).as("the two calls run again; nothing for the refused batch or the failed retry")
        .isEqualTo(2);
    assertThat(m.texts()).isEqualTo(3);
    assertThat(m.tokens()).isEqualTo(508 + 509 + 511);
    assertThat(m.coalescedBatches()).as("each retry holds one call's texts").isZero();
    assertThat(m.runTime().count()).as("one run time per batch run again, none for the refused attempt")
        .isEqualTo(2);
    assertThat(m.queueWait().count()).as("one queue wait per text, not again on the retry").isEqualTo(4);

    // the runner left: a later call runs (inline, on this thread), and nothing holds the gate
    assertThat(VectorOps.cosine(coalescer.embed(List.of(encode(a)), 384).get(0), wantA)).isGreaterThanOrEqualTo(0.99999f);
    assertThat(runners.held).isEmpty();
    assertThat(gate.closeAndAwait()).isTrue();
  }

  @Test
  void aHelperThreadThatCannotStartLeavesTheCallerToRunItsOwnBatchesAndFailsOnlyAnAsyncCallWithNoRunner()
      throws Exception {
    // an executor that cannot start threads, as a JVM at its thread limit ("unable to create native thread")
    AtomicBoolean noThreads = new AtomicBoolean(true);
    HeldRunners held = new HeldRunners();
    java.util.concurrent.Executor threads = startingThreadsUnless(noThreads, held);
    CallGate gate = new CallGate();
    Coalescer coalescer = new Coalescer(wide, session, null, settings(2), threads, gate, new WorkspacePool(), new Stats());
    // a synchronous call of two batches (9 x 480 tokens, over the 4,096-token budget) on an idle
    // embedder: it would start a helper beside itself
    String[] words = {"river", "garden", "violin", "harbour", "desert", "comet", "engine", "library", "mountain"};
    List<String> texts = Arrays.stream(words).map(w -> text(w, 480)).toList();
    List<Encoding> encodings = texts.stream().map(CoalescerFailureTest::encode).toList();
    List<float[]> got = coalescer.embed(encodings, 64);
    List<float[]> want = reference.embedAll(texts, 64);
    for (int i = 0; i < texts.size(); i++) {
      assertThat(VectorOps.cosine(got.get(i), want.get(i))).as("text %d, run by the caller itself", i)
          .isGreaterThanOrEqualTo(0.99999f);
    }
    // an asynchronous call with no runner at work and none to start: refused, and not left queued
    CompletableFuture<List<float[]>> async = coalescer.submit(List.of(encode(texts.get(0))), 64);
    assertThat(failure(async)).isInstanceOf(java.util.concurrent.RejectedExecutionException.class)
        .hasMessageContaining("no helper thread could be started");
    // threads again: no runner left counted, nothing queued; a later async call runs
    noThreads.set(false);
    CompletableFuture<List<float[]>> later = coalescer.submit(List.of(encode(texts.get(1))), 64);
    held.next().run();
    assertThat(VectorOps.cosine(later.get(WAIT_SECONDS, TimeUnit.SECONDS).get(0), want.get(1)))
        .isGreaterThanOrEqualTo(0.99999f);
    assertThat(held.held).isEmpty();
    assertThat(gate.closeAndAwait()).isTrue();
  }

  /**
   * A runner that leaves while another call's texts are queued and no helper thread can be
   * started stays and runs them: here the caller running its own batch, whose async neighbour was
   * queued (not refused: a runner was at work) while no thread could start. Before, the runner
   * left, the neighbour waited forever with no runner, and so did close().
   */
  @Test
  void aRunnerThatCannotHandOverStaysUntilTheQueueIsEmpty() throws Exception {
    AtomicBoolean noThreads = new AtomicBoolean(false);
    HeldRunners held = new HeldRunners();
    java.util.concurrent.Executor threads = startingThreadsUnless(noThreads, held);
    CountDownLatch inBatch = new CountDownLatch(1);
    CountDownLatch go = new CountDownLatch(1);
    LongAdder batches = new LongAdder() {
      private static final long serialVersionUID = 1L;

      @Override
      public void increment() {
        super.increment();
        if (inBatch.getCount() > 0) { // the caller's own batch: held until the neighbour has queued
          inBatch.countDown();
          try {
            go.await(WAIT_SECONDS, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }
    };
    CallGate gate = new CallGate();
    Coalescer coalescer = new Coalescer(wide, session, null, settings(2), threads, gate, new WorkspacePool(),
        new Stats(batches));
    Future<List<float[]>> first = callers.submit(() -> coalescer.embed(List.of(encode("the first caller's text")), 32));
    assertThat(inBatch.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
    noThreads.set(true);
    CompletableFuture<List<float[]>> second = coalescer.submit(List.of(encode("a neighbour queued meanwhile")), 32);
    assertThat(second).as("queued: a runner is at work").isNotDone();
    go.countDown();
    assertThat(first.get(WAIT_SECONDS, TimeUnit.SECONDS).get(0)).hasSize(32);
    assertThat(second).as("run by the caller's thread before it left").isDone();
    assertThat(VectorOps.cosine(second.get().get(0), reference.embed("a neighbour queued meanwhile", 32)))
        .isGreaterThanOrEqualTo(0.99999f);
    assertThat(held.held).isEmpty();
    noThreads.set(false);
    assertThat(gate.closeAndAwait()).isTrue();
  }

  @Test
  void aFailureThatSeveralCallersOfOneBatchShareReachesEachAsItsOwnInstance() throws Exception {
    // a closed session refuses every batch (IllegalStateException, not an InferenceException that
    // would be run again call by call): a failure the batch's calls share
    InferenceSession closed = SessionLoader.open(OrtRuntime.environment(), pkg, settings(2));
    closed.close();
    Encoding first = encode("first caller");
    Encoding second = encode("second caller");
    Encoding third = encode("third caller");
    assertThat(List.of(second.length(), third.length())).as("same lengths: one batch").containsOnly(first.length());

    Stats stats = new Stats();
    HeldRunners runners = new HeldRunners();
    Coalescer coalescer = new Coalescer(wide, closed, null, settings(2), runners, new CallGate(), new WorkspacePool(),
        stats);
    CompletableFuture<List<float[]>> async1 = coalescer.submit(List.of(first), 32);
    Runnable runner = runners.next();
    // a synchronous caller finds a runner busy (held) and a second one free: it queues its text and
    // starts that runner, then waits for its vectors
    Future<List<float[]>> sync = callers.submit(() -> coalescer.embed(List.of(second), 32));
    Runnable other = runners.next(); // started after the synchronous caller's text was queued
    CompletableFuture<List<float[]>> async2 = coalescer.submit(List.of(third), 32);
    assertThat(runners.held).as("both runners started").isEmpty();
    runner.run(); // the three calls' texts as one batch, which fails
    other.run(); // nothing left

    Throwable a1 = failure(async1);
    Throwable a2 = failure(async2);
    Throwable s = null;
    try {
      sync.get(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      s = e.getCause();
    }
    assertThat(s).as("thrown to the synchronous caller").isNotNull();
    assertThat(a1).as("each caller's own instance").isNotSameAs(s).isNotSameAs(a2);
    assertThat(s).as("each caller's own instance").isNotSameAs(a2);
    Throwable shared = a1.getCause();
    assertThat(shared).as("ONNX Runtime's own failure").isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed OrtSession");
    for (Throwable t : List.of(a1, s, a2)) {
      assertThat(t).isInstanceOf(IllegalStateException.class).isNotSameAs(shared).hasMessage(shared.getMessage());
      assertThat(t.getCause()).as("the one batch's failure").isSameAs(shared);
    }
    a1.addSuppressed(new IllegalStateException("the first caller's cleanup"));
    assertThat(s.getSuppressed()).as("one caller's additions stay its own").isEmpty();
    assertThat(a2.getSuppressed()).isEmpty();
    assertThat(shared.getSuppressed()).isEmpty();

    EmbedderMetrics m = stats.snapshot();
    assertThat(m.batches()).isZero();
    assertThat(m.runTime().count()).as("a failed batch records no run time").isZero();
    assertThat(m.queueWait().count()).isEqualTo(3);
  }

  @Test
  void anErrorBeforeTheBatchRunsStillFailsItsCallers() throws Exception {
    // the batch's workspace cannot be had (out of memory): the batch's calls are already taken
    // from the queue, so nothing but this runner can complete them
    OutOfMemoryError oom = new OutOfMemoryError("injected: no workspace");
    AtomicBoolean thrown = new AtomicBoolean();
    WorkspacePool workspaces = new WorkspacePool(() -> {
      if (thrown.compareAndSet(false, true)) {
        throw oom; // the first workspace the pool makes
      }
      return new Workspace();
    });
    Stats stats = new Stats();
    HeldRunners runners = new HeldRunners();
    CallGate gate = new CallGate();
    Coalescer coalescer = new Coalescer(wide, session, null, settings(1), runners, gate, workspaces, stats);
    CompletableFuture<List<float[]>> first = coalescer.submit(List.of(encode("first caller")), 32);
    CompletableFuture<List<float[]>> second = coalescer.submit(List.of(encode("second caller")), 32);
    Runnable runner = runners.next();
    try {
      runner.run();
    } catch (OutOfMemoryError escaped) {
      // whether the runner passes it on is not the point; its callers must not wait forever
    }
    assertThat(failure(first)).isSameAs(oom);
    assertThat(failure(second)).isSameAs(oom);
    // the runner left: a later call runs (inline, on this thread), and nothing holds the gate
    assertThat(coalescer.embed(List.of(encode("third caller")), 32).get(0)).hasSize(32);
    assertThat(runners.held).isEmpty();
    assertThat(gate.closeAndAwait()).isTrue();
  }

  @Test
  void aFailureBeforeTheBatchRunsReachesEachCallAsItsOwnInstanceOrAsItIsForALoneCall() throws Exception {
    // pins which instance each caller gets; that the failure path allocates nothing of its own (for
    // an OutOfMemoryError) is not something a test here can observe
    // taking the batch's workspace fails (not an Error): a failure the batch's calls share, one of
    // which has two texts in the batch
    List<RuntimeException> injected = new ArrayList<>();
    WorkspacePool workspaces = new WorkspacePool(() -> {
      RuntimeException e = new IllegalStateException("injected: no workspace " + injected.size());
      injected.add(e);
      throw e;
    });
    Encoding first = encode("first caller");
    Encoding second = encode("second caller");
    Encoding third = encode("third caller");
    assertThat(List.of(second.length(), third.length())).as("same lengths: one batch").containsOnly(first.length());
    HeldRunners runners = new HeldRunners();
    CallGate gate = new CallGate();
    Coalescer coalescer = new Coalescer(wide, session, null, settings(1), runners, gate, workspaces, new Stats());

    CompletableFuture<List<float[]>> one = coalescer.submit(List.of(first), 32);
    CompletableFuture<List<float[]>> two = coalescer.submit(List.of(second, third), 32);
    runners.next().run(); // one batch of both calls' texts, which fails before it runs
    assertThat(injected).as("one batch, one failure").hasSize(1);
    Throwable shared = injected.get(0);
    Throwable f1 = failure(one);
    Throwable f2 = failure(two);
    assertThat(f1).as("each caller's own instance").isNotSameAs(f2);
    for (Throwable t : List.of(f1, f2)) {
      assertThat(t).isInstanceOf(IllegalStateException.class).isNotSameAs(shared).hasMessage(shared.getMessage());
      assertThat(t.getCause()).as("the one batch's failure").isSameAs(shared);
      assertThat(t.getSuppressed()).isEmpty();
    }

    // a batch of one call's texts: the failure reaches it as it is
    CompletableFuture<List<float[]>> alone = coalescer.submit(List.of(first, second), 32);
    runners.next().run();
    assertThat(injected).hasSize(2);
    assertThat(failure(alone)).isSameAs(injected.get(1));
    assertThat(runners.held).isEmpty();
    assertThat(gate.closeAndAwait()).as("nothing left inside the gate").isTrue();
  }

  /**
   * The embedder's batch counter, which the batch's run calls right after the session returned:
   * while {@link #error} is set, every batch throws it, the first one after waiting for {@link
   * #release} if that is set.
   */
  static final class FailingBatchCounter extends LongAdder {
    private static final long serialVersionUID = 1L;
    volatile Error error;
    volatile CountDownLatch release;
    final CountDownLatch holding = new CountDownLatch(1);

    @Override
    public void increment() {
      Error e = error;
      if (e == null) {
        super.increment();
        return;
      }
      CountDownLatch r = release;
      if (r != null) {
        release = null;
        holding.countDown();
        try {
          if (!r.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException("not released");
          }
        } catch (InterruptedException x) {
          Thread.currentThread().interrupt();
        }
      }
      throw e;
    }
  }

  @Test
  void anErrorInABatchFailsItsCallersAndLeavesNeitherTheGateEnteredNorARunnerCounted() throws Exception {
    String[] texts = {"alpha one", "alpha two", "alpha three", "alpha four"};
    for (String t : texts) {
      assertThat(encode(t).length()).as("same lengths: one batch").isEqualTo(encode(texts[0]).length());
    }
    // one runner: a runner counted that no longer runs would leave every later call waiting
    FailingBatchCounter counter = new FailingBatchCounter();
    GeckoEmbedder embedder = OnnxEmbedder.open(pkg, CoalescerFixtures.builderDefaults(1), new Stats(counter));
    CountDownLatch release = new CountDownLatch(1);
    try {
      // a synchronous call on an idle embedder runs its batch itself: the error is thrown to it
      AssertionError assertion = new AssertionError("injected into the caller's own batch");
      counter.error = assertion;
      Future<float[]> inline = callers.submit(() -> embedder.embed(texts[0], 32));
      assertThatThrownBy(() -> inline.get(WAIT_SECONDS, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
          .cause().isSameAs(assertion);

      // asynchronous calls: the first one's batch runs on a helper and is held while the others
      // queue; they form the next batch, which fails too
      OutOfMemoryError oom = new OutOfMemoryError("injected into a helper's batches");
      counter.release = release;
      counter.error = oom;
      List<CompletableFuture<float[]>> calls = new ArrayList<>();
      calls.add(embedder.embedAsync(EmbedRequest.of(texts[0]), 32));
      assertThat(counter.holding.await(WAIT_SECONDS, TimeUnit.SECONDS)).as("the first batch runs").isTrue();
      for (int i = 1; i < texts.length; i++) {
        calls.add(embedder.embedAsync(EmbedRequest.of(texts[i]), 32));
      }
      release.countDown();
      for (CompletableFuture<float[]> f : calls) {
        assertThat(f.handle((v, x) -> x).get(WAIT_SECONDS, TimeUnit.SECONDS)).as("the error itself").isSameAs(oom);
      }

      // no runner left counted: later calls, synchronous (inline) and asynchronous (helper), run
      counter.error = null;
      float[] want = reference.embed(texts[1], 32);
      float[] sync = callers.submit(() -> embedder.embed(texts[1], 32)).get(WAIT_SECONDS, TimeUnit.SECONDS);
      assertThat(VectorOps.cosine(sync, want)).isGreaterThanOrEqualTo(0.99999f);
      float[] async = embedder.embedAsync(EmbedRequest.of(texts[1]), 32).get(WAIT_SECONDS, TimeUnit.SECONDS);
      assertThat(VectorOps.cosine(async, want)).isGreaterThanOrEqualTo(0.99999f);

      // no call left inside the gate: close returns, and later calls are refused
      callers.submit(embedder::close).get(WAIT_SECONDS, TimeUnit.SECONDS);
      assertThatThrownBy(() -> embedder.embed(texts[0], 32)).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("closed");
      assertThat(embedder.embedAsync(EmbedRequest.of(texts[0]), 32).handle((v, x) -> x).get(WAIT_SECONDS,
          TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    } finally {
      counter.error = null;
      release.countDown();
      callers.submit(embedder::close); // not waited for: it would hang where the test found a call left inside
    }
  }
}
