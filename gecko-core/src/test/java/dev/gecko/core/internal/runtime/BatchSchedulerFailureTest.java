package dev.gecko.core.internal.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.gecko.core.ModelPackage;
import dev.gecko.core.ProgressListener;
import dev.gecko.tokenizer.GeckoTokenizer;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The uncoalesced path's helper threads when they cannot run: a helper whose workspace cannot be
 * had, and a helper thread that cannot be started, must neither hang the call (and with it the
 * embedder's {@code close()}) nor leave a helper running once the call has returned. Real model
 * and ONNX Runtime; the failures come from the workspace pool's seam for tests and from a thread
 * factory that throws as {@code Thread.start} does without native threads.
 */
class BatchSchedulerFailureTest {
  private static final String MODEL = "all-MiniLM-L6-v2-int8";
  private static final Duration AT_MOST = Duration.ofSeconds(60);

  static ModelPackage pkg;
  static GeckoTokenizer tokenizer;
  static InferenceSession session;

  @BeforeAll
  static void open() throws Exception {
    pkg = ModelPackage.builtIn(MODEL);
    tokenizer = CoalescerFixtures.tokenizer(pkg, pkg.maxTokens());
    session = SessionLoader.open(OrtRuntime.environment(), pkg, settings());
  }

  @AfterAll
  static void close() {
    session.close();
    tokenizer.close();
  }

  /** Two threads (the caller and one helper) and batches of two texts: a call of 12 texts has 6 batches. */
  private static EmbedderSettings settings() {
    return CoalescerFixtures.builderDefaults(2, 512, 2);
  }

  private static List<String> texts() {
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      texts.add("sentence number " + i + " about " + "tides ".repeat(i));
    }
    return texts;
  }

  @Test
  void aHelperThatCannotTakeAWorkspaceFailsTheCallInsteadOfHangingIt() {
    OutOfMemoryError oom = new OutOfMemoryError("injected: no workspace for the helper");
    AtomicInteger made = new AtomicInteger();
    CountDownLatch helperAsked = new CountDownLatch(1);
    WorkspacePool workspaces = new WorkspacePool(() -> {
      int n = made.incrementAndGet();
      if (n == 1) { // the caller's: its first batch's buffers wait until the helper has asked for its own
        return new Workspace(bytes -> {
          try {
            helperAsked.await(60, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return ByteBuffer.allocateDirect(bytes);
        });
      }
      if (n == 2) { // the helper's, taken while the caller's first batch is still running
        helperAsked.countDown();
        throw oom;
      }
      return new Workspace();
    });
    BatchScheduler scheduler = new BatchScheduler(tokenizer, session, null, settings(), workspaces, new Stats());
    try {
      Throwable thrown = assertTimeoutPreemptively(AT_MOST,
          () -> catchThrowable(() -> scheduler.embed(texts(), 32, ProgressListener.none())));
      assertThat(thrown).isSameAs(oom);
      // nothing was left behind: the next call runs on both threads and returns every vector
      List<float[]> vectors = assertTimeoutPreemptively(AT_MOST,
          () -> scheduler.embed(texts(), 32, ProgressListener.none()));
      assertThat(vectors).hasSize(12).allSatisfy(v -> assertThat(v).hasSize(32));
    } finally {
      scheduler.shutdown();
    }
  }

  @Test
  void aHelperThreadThatCannotStartLeavesTheCallersBatchesToTheCaller() {
    BatchScheduler reference = new BatchScheduler(tokenizer, session, null, settings(), new WorkspacePool(), new Stats());
    BatchScheduler scheduler = new BatchScheduler(tokenizer, session, null, settings(), new WorkspacePool(), new Stats());
    scheduler.inferenceThreads.setThreadFactory(r -> {
      throw new OutOfMemoryError("unable to create native thread: possibly out of memory or process/resource limits"
          + " reached");
    });
    try {
      List<float[]> expected = reference.embed(texts(), 32, ProgressListener.none());
      List<float[]> vectors = assertTimeoutPreemptively(AT_MOST,
          () -> scheduler.embed(texts(), 32, ProgressListener.none()));
      assertThat(vectors).hasSize(12);
      for (int i = 0; i < 12; i++) {
        assertThat(vectors.get(i)).as("text %d", i).containsExactly(expected.get(i));
      }
    } finally {
      reference.shutdown();
      scheduler.shutdown();
    }
  }
}
