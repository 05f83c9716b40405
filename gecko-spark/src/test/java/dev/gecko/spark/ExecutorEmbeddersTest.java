package dev.gecko.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gecko.core.GeckoEmbedder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class ExecutorEmbeddersTest {
  /**
   * Task threads share one embedder; were their calls coalesced, a partition's int8 vectors would
   * depend on the partitions that ran beside it, and a re-executed task would change them.
   */
  @Test
  void concurrentTasksNeverShareABatch() throws Exception {
    // options no other test uses, so this embedder sees only these calls
    GeckoEmbedder embedder = ExecutorEmbedders.get(GeckoEmbedder.Builder.DEFAULT_MODEL, 2, 777);
    assertThat(ExecutorEmbedders.get(GeckoEmbedder.Builder.DEFAULT_MODEL, 2, 777)).isSameAs(embedder);
    int callers = 8;
    int calls = 40;
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < callers; c++) {
        int caller = c;
        done.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < calls; i++) {
            assertThat(embedder.embed("caller " + caller + " asks question number " + i)).hasSize(384);
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(embedder.metrics().calls()).isEqualTo((long) callers * calls);
    assertThat(embedder.metrics().coalescedBatches()).isZero();
  }
}
