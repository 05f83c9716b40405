package dev.gecko.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.gecko.core.index.FlatIndex;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** {@link ExecutorIndexes}: a shard's index built once per JVM, keyed so that nothing stale is served, bounded. */
class ExecutorIndexesTest {
  private static final FlatIndex.Precision F32 = FlatIndex.Precision.FLOAT32;
  private static final FlatIndex.Metric DOT = FlatIndex.Metric.DOT;
  private static final int DIMS = 8;

  private static TopKParts.Shard shard(String packId, int index, int rows, long seed) {
    Random r = new Random(seed);
    List<TopKParts.Entry> entries = new ArrayList<>();
    for (int i = 0; i < rows; i++) {
      float[] v = new float[DIMS];
      for (int d = 0; d < DIMS; d++) {
        v[d] = (float) r.nextGaussian();
      }
      entries.add(new TopKParts.Entry(i * 10L + index, packId + "-" + index + "-" + i, v));
    }
    return TopKParts.Shard.pack(packId, index, entries.iterator());
  }

  private static ExecutorIndexes cache(long maxBytes) {
    return new ExecutorIndexes(maxBytes, 0, System::nanoTime);
  }

  @Test
  void theSecondTaskOfAShardReusesTheIndexTheFirstBuilt() {
    ExecutorIndexes c = cache(1 << 20);
    TopKParts.Shard s = shard("run-a", 0, 50, 1);
    TopKParts.ShardIndex first = c.get(s, F32, DOT);
    // another query block's task: the shard deserialised again, an equal copy
    TopKParts.ShardIndex second = c.get(shard("run-a", 0, 50, 1), F32, DOT);
    assertThat(second).isSameAs(first);
    assertThat(c.builds()).isEqualTo(1);
    assertThat(c.reuses()).isEqualTo(1);
    assertThat(c.keys()).containsExactly(new ExecutorIndexes.Key("run-a", 0, F32, DOT));
    // and it searches as a flat index built in the task did
    float[] q = shard("q", 0, 1, 99).vectors;
    TopKParts.Hits cached = second.search("q", q, 5);
    TopKParts.Hits fresh = TopKParts.ShardIndex.build(s, F32, DOT).search("q", q, 5);
    assertThat(cached.ids).containsExactly(fresh.ids);
    assertThat(cached.scores).containsExactly(fresh.scores);
    assertThat(cached.ordinals).containsExactly(fresh.ordinals);
  }

  @Test
  void anotherRunOrJobWithTheSameShardNumberNeverGetsTheOldIndex() {
    ExecutorIndexes c = cache(1 << 20);
    TopKParts.Shard old = shard("run-a", 0, 40, 1);
    TopKParts.Shard next = shard("run-b", 0, 40, 2); // same shard number, another corpus
    TopKParts.ShardIndex a = c.get(old, F32, DOT);
    TopKParts.ShardIndex b = c.get(next, F32, DOT);
    assertThat(b).isNotSameAs(a);
    assertThat(b.ids).containsExactly(next.ids);
    assertThat(next.ids).contains(b.search("q", java.util.Arrays.copyOf(next.vectors, DIMS), 3).ids);
    // another shard of the same run, and the same shard in another precision or metric
    assertThat(c.get(shard("run-a", 1, 40, 3), F32, DOT)).isNotSameAs(a);
    assertThat(c.get(old, FlatIndex.Precision.INT8, DOT)).isNotSameAs(a);
    assertThat(c.get(old, F32, FlatIndex.Metric.COSINE)).isNotSameAs(a);
    assertThat(c.builds()).isEqualTo(5);
    assertThat(c.get(old, F32, DOT)).isSameAs(a);
    assertThat(c.reuses()).isEqualTo(1);
  }

  @Test
  void theLeastRecentlyUsedIndexIsEvictedPastTheBudget() {
    TopKParts.Shard s0 = shard("run", 0, 100, 1);
    TopKParts.Shard s1 = shard("run", 1, 100, 2);
    TopKParts.Shard s2 = shard("run", 2, 100, 3);
    long one = ExecutorIndexes.estimateBytes(s0, F32);
    assertThat(one).as("at least the vectors, ordinals and ids").isGreaterThan(100L * (DIMS * 4 + 8 + 8));
    ExecutorIndexes c = cache(2 * one + one / 2); // room for two
    TopKParts.ShardIndex i0 = c.get(s0, F32, DOT);
    c.get(s1, F32, DOT);
    assertThat(c.get(s0, F32, DOT)).isSameAs(i0); // s0 used last: s1 goes first
    c.get(s2, F32, DOT);
    assertThat(c.keys()).extracting(ExecutorIndexes.Key::shard).containsExactly(0, 2);
    assertThat(c.bytes()).isLessThanOrEqualTo(2 * one + one / 2);
    assertThat(c.get(s1, F32, DOT)).as("built again").isNotNull();
    assertThat(c.builds()).isEqualTo(4);
    assertThat(c.keys()).extracting(ExecutorIndexes.Key::shard).containsExactly(2, 1);
  }

  @Test
  void anIndexLargerThanTheBudgetIsBuiltForItsTaskAloneAndZeroCachesNothing() {
    TopKParts.Shard s = shard("run", 0, 100, 1);
    ExecutorIndexes small = cache(ExecutorIndexes.estimateBytes(s, F32) - 1);
    TopKParts.ShardIndex a = small.get(s, F32, DOT);
    assertThat(small.get(s, F32, DOT)).isNotSameAs(a);
    assertThat(small.keys()).isEmpty();
    assertThat(small.bytes()).isZero();
    ExecutorIndexes off = cache(0);
    off.get(s, F32, DOT);
    off.get(s, F32, DOT);
    assertThat(off.builds()).isEqualTo(2);
    assertThat(off.keys()).isEmpty();
  }

  @Test
  void concurrentTasksOfOneShardWaitForOneBuild() throws Exception {
    ExecutorIndexes c = cache(64L << 20);
    TopKParts.Shard s = shard("run", 0, 20_000, 1);
    int tasks = 8;
    ExecutorService pool = Executors.newFixedThreadPool(tasks);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<TopKParts.ShardIndex>> got = new ArrayList<>();
      for (int t = 0; t < tasks; t++) {
        got.add(pool.submit(() -> {
          start.await();
          return c.get(s, F32, DOT);
        }));
      }
      start.countDown();
      TopKParts.ShardIndex first = got.get(0).get(1, TimeUnit.MINUTES);
      for (Future<TopKParts.ShardIndex> f : got) {
        assertThat(f.get(1, TimeUnit.MINUTES)).isSameAs(first);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(c.builds()).isEqualTo(1);
    assertThat(c.reuses()).isEqualTo(tasks - 1);
  }

  @Test
  void aFailedBuildFailsItsTaskAndLeavesNothingCached() {
    ExecutorIndexes c = cache(1 << 20);
    // a vector the dot-product index refuses (packing refuses NaN already: see DistributedTopKTest)
    float[] huge = new float[DIMS];
    huge[3] = 2 * (float) Math.sqrt(dev.gecko.core.index.FlatIndex.MAX_DOT_SQUARED_NORM);
    TopKParts.Shard bad = TopKParts.Shard.pack("run", 0, List.of(new TopKParts.Entry(0, "x", huge)).iterator());
    assertThatThrownBy(() -> c.get(bad, F32, DOT)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("corpus vector of id 'x' (ordinal 0) has squared norm");
    assertThat(c.keys()).isEmpty();
    assertThat(c.bytes()).isZero();
    assertThatThrownBy(() -> c.get(bad, F32, DOT)).as("tried again, not a cached failure")
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(c.builds()).isEqualTo(2);
  }

  @Test
  void idleIndexesAreDroppedOnTheNextUseAndAFinishedRunsAreReleased() {
    AtomicLong now = new AtomicLong();
    ExecutorIndexes c = new ExecutorIndexes(1 << 20, TimeUnit.MINUTES.toNanos(10), now::get);
    TopKParts.Shard a = shard("a", 0, 10, 1);
    c.get(a, F32, DOT);
    now.addAndGet(TimeUnit.MINUTES.toNanos(6));
    TopKParts.ShardIndex b0 = c.get(shard("b", 0, 10, 2), F32, DOT);
    c.get(shard("b", 1, 10, 3), F32, DOT);
    now.addAndGet(TimeUnit.MINUTES.toNanos(6));
    assertThat(c.keys()).as("nothing drops them between uses").hasSize(3);
    // the next use: "a" has been idle 12 minutes and goes; "b"'s are 6 minutes idle and stay
    assertThat(c.get(shard("b", 0, 10, 2), F32, DOT)).isSameAs(b0);
    assertThat(c.keys()).extracting(ExecutorIndexes.Key::packId).containsExactly("b", "b");
    c.release("b");
    assertThat(c.keys()).isEmpty();
    assertThat(c.bytes()).isZero();
    // a release drops the idle indexes of other packings too
    c.get(a, F32, DOT);
    now.addAndGet(TimeUnit.MINUTES.toNanos(11));
    c.release("none");
    assertThat(c.keys()).isEmpty();
    assertThat(c.bytes()).isZero();
  }

  /**
   * The JVM's cache starts no thread: a sweeper thread (one per copy of the class, with Spark
   * Connect's per-session class loaders) held the task's class loader until the JVM exited. Failed
   * before the sweep moved into the cache's uses.
   */
  @Test
  void theSharedCacheStartsNoThread() {
    ExecutorIndexes.shared().get(shard("no-thread", 0, 10, 1), F32, DOT);
    ExecutorIndexes.releaseIfOpen("no-thread");
    assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
        .noneMatch(n -> n.contains("index-cache"));
  }

  /** A build the test holds until it lets it go, on the shards of {@code packId}; others build at once. */
  private static final class HeldBuild implements ExecutorIndexes.Build {
    final CountDownLatch started = new CountDownLatch(1);
    final CountDownLatch go = new CountDownLatch(1);
    final AtomicLong builds = new AtomicLong();
    final String packId;
    final RuntimeException failure;

    HeldBuild(String packId, RuntimeException failure) {
      this.packId = packId;
      this.failure = failure;
    }

    @Override
    public TopKParts.ShardIndex build(TopKParts.Shard shard, FlatIndex.Precision precision, FlatIndex.Metric metric) {
      if (shard.packId.equals(packId)) {
        builds.incrementAndGet();
        started.countDown();
        try {
          go.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
        if (failure != null) {
          throw failure;
        }
      }
      return TopKParts.ShardIndex.build(shard, precision, metric);
    }
  }

  /**
   * An index still being built is not evicted when another is added past the budget: a task
   * asking for it waits for that build instead of starting a second one. Failed before: the
   * building slot, least recently used, was evicted.
   */
  @Test
  void anIndexStillBeingBuiltIsNotEvicted() throws Exception {
    TopKParts.Shard s0 = shard("held", 0, 100, 1);
    TopKParts.Shard s1 = shard("run", 1, 100, 2);
    TopKParts.Shard s2 = shard("run", 2, 100, 3);
    long one = ExecutorIndexes.estimateBytes(s0, F32);
    HeldBuild held = new HeldBuild("held", null);
    ExecutorIndexes c = new ExecutorIndexes(2 * one + one / 2, 0, System::nanoTime, held); // room for two
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<TopKParts.ShardIndex> first = pool.submit(() -> c.get(s0, F32, DOT));
      held.started.await();
      c.get(s1, F32, DOT);
      c.get(s2, F32, DOT); // past the budget: s0 is the least recently used, but still building
      assertThat(c.keys()).extracting(ExecutorIndexes.Key::shard).containsExactly(0, 2);
      Future<TopKParts.ShardIndex> second = pool.submit(() -> c.get(shard("held", 0, 100, 1), F32, DOT));
      held.go.countDown();
      assertThat(second.get(1, TimeUnit.MINUTES)).isSameAs(first.get(1, TimeUnit.MINUTES));
      assertThat(held.builds.get()).as("builds of the held shard").isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * A task killed (its thread interrupted, as Spark's kill does) while it waits for another task's
   * build of the same index fails with the documented exception, its thread still marked
   * interrupted; the build goes on and is kept for the tasks that follow. No timing: the waiting
   * thread is interrupted before it asks, so its wait ends at once.
   */
  @Test
  void aTaskInterruptedWhileWaitingForAnotherTasksBuildFailsAndTheBuildGoesOn() throws Exception {
    HeldBuild held = new HeldBuild("held", null);
    ExecutorIndexes c = new ExecutorIndexes(1 << 20, 0, System::nanoTime, held);
    TopKParts.Shard s = shard("held", 0, 10, 1);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<TopKParts.ShardIndex> builder = pool.submit(() -> c.get(s, F32, DOT));
      held.started.await();
      Future<Throwable> killed = pool.submit(() -> {
        Thread.currentThread().interrupt(); // Spark's kill, before or during the wait: the same to get()
        Throwable t = catchThrowable(() -> c.get(shard("held", 0, 10, 1), F32, DOT));
        return Thread.interrupted() ? t : new AssertionError("the interrupt was swallowed", t);
      });
      Throwable t = killed.get(1, TimeUnit.MINUTES);
      assertThat(t).isInstanceOf(IllegalStateException.class)
          .hasMessage("interrupted (task killed) while waiting for shard 0's index")
          .hasCauseInstanceOf(InterruptedException.class);
      assertThat(c.reuses()).as("it found the build under way").isEqualTo(1);
      assertThat(c.keys()).as("the build is not dropped").containsExactly(new ExecutorIndexes.Key("held", 0, F32, DOT));
      held.go.countDown();
      TopKParts.ShardIndex built = builder.get(1, TimeUnit.MINUTES);
      assertThat(c.get(shard("held", 0, 10, 1), F32, DOT)).isSameAs(built);
      assertThat(held.builds.get()).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * Tasks that waited for a build that failed each get an exception of their own, of the
   * contract's kind, caused by the builder's (which the builder's task gets). Failed before: every
   * waiter rethrew the builder's very object.
   */
  @Test
  void eachTaskThatWaitedForAFailedBuildGetsItsOwnException() throws Exception {
    IllegalArgumentException failure = new IllegalArgumentException("vector 3 of shard 0 is NaN");
    HeldBuild held = new HeldBuild("held", failure);
    ExecutorIndexes c = new ExecutorIndexes(1 << 20, 0, System::nanoTime, held);
    TopKParts.Shard s = shard("held", 0, 10, 1);
    int waiters = 2;
    ExecutorService pool = Executors.newFixedThreadPool(1 + waiters);
    try {
      Future<TopKParts.ShardIndex> builder = pool.submit(() -> c.get(s, F32, DOT));
      held.started.await();
      List<Future<TopKParts.ShardIndex>> waiting = new ArrayList<>();
      for (int i = 0; i < waiters; i++) {
        waiting.add(pool.submit(() -> c.get(s, F32, DOT)));
      }
      while (c.reuses() < waiters) { // both found the build under way (no timing: they are waiting for it)
        Thread.onSpinWait();
      }
      held.go.countDown();
      assertThat(catchThrowable(builder::get)).hasCauseReference(failure);
      List<Throwable> got = new ArrayList<>();
      for (Future<TopKParts.ShardIndex> f : waiting) {
        Throwable t = catchThrowable(f::get).getCause(); // ExecutionException's cause: what get threw
        assertThat(t).isInstanceOf(IllegalArgumentException.class).isNotSameAs(failure)
            .hasMessage(failure.getMessage()).hasCauseReference(failure);
        got.add(t);
      }
      assertThat(got.get(0)).isNotSameAs(got.get(1));
      assertThat(failure.getSuppressed()).isEmpty();
    } finally {
      pool.shutdownNow();
    }
    assertThat(c.keys()).isEmpty();
    assertThat(c.bytes()).isZero();
  }

  /**
   * A failed build leaves the cache before its failure is published: a task that looks the index
   * up once the failure is out builds it again instead of failing with another task's error.
   * Failed before: the failure was published first, and the failed slot stayed in the cache until
   * the builder's task took the cache's lock to remove it (here: while the test holds that lock).
   */
  @Test
  void aFailedBuildLeavesTheCacheBeforeItsFailureIsPublished() throws Exception {
    IllegalArgumentException failure = new IllegalArgumentException("vector 3 of shard 0 is NaN");
    HeldBuild held = new HeldBuild("held", failure);
    ExecutorIndexes c = new ExecutorIndexes(1 << 20, 0, System::nanoTime, held);
    TopKParts.Shard s = shard("held", 0, 10, 1);
    ExecutorIndexes.Key key = new ExecutorIndexes.Key("held", 0, F32, DOT);
    java.util.concurrent.atomic.AtomicReference<Thread> builderThread = new java.util.concurrent.atomic.AtomicReference<>();
    ExecutorService pool = Executors.newFixedThreadPool(1);
    try {
      Future<TopKParts.ShardIndex> builder = pool.submit(() -> {
        builderThread.set(Thread.currentThread());
        return c.get(s, F32, DOT);
      });
      held.started.await();
      synchronized (c) { // the cache's lock: the builder's task stops where it needs it
        held.go.countDown();
        Thread t = builderThread.get();
        while (!(t.getState() == Thread.State.BLOCKED && inRemove(t))) {
          Thread.onSpinWait();
        }
        java.util.concurrent.CompletableFuture<TopKParts.ShardIndex> pending = c.pending(key);
        assertThat(pending == null || !pending.isCompletedExceptionally())
            .as("a failure published while the failed build is still in the cache").isTrue();
      }
      assertThat(catchThrowable(builder::get)).hasCauseReference(failure);
    } finally {
      pool.shutdownNow();
    }
    assertThat(c.keys()).isEmpty();
  }

  private static boolean inRemove(Thread t) {
    for (StackTraceElement e : t.getStackTrace()) {
      if (e.getClassName().equals(ExecutorIndexes.class.getName()) && e.getMethodName().equals("remove")) {
        return true;
      }
    }
    return false;
  }

  @Test
  void theGrowthEstimateFollowsDoubling() {
    assertThat(ExecutorIndexes.grownCapacity(0, 8)).isZero();
    assertThat(ExecutorIndexes.grownCapacity(1, 8)).isEqualTo(64); // the first array holds 64 elements
    assertThat(ExecutorIndexes.grownCapacity(8, 8)).isEqualTo(64);
    assertThat(ExecutorIndexes.grownCapacity(9, 8)).isEqualTo(128);
    assertThat(ExecutorIndexes.grownCapacity(1000, 384)).isBetween(1000L * 384, 2000L * 384);
  }

  /**
   * Through Spark: 2 shards x 4 query blocks are 8 tasks, and this JVM (local mode: one executor)
   * builds 2 indexes; a second search packs the corpus again (a new pack id) and builds its own.
   */
  @Test
  void aSearchBuildsEachShardsIndexOncePerExecutor() {
    StructType schema = new StructType().add("id", DataTypes.StringType, false)
        .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), true);
    Random r = new Random(7);
    List<Row> corpus = new ArrayList<>();
    FlatIndex reference = FlatIndex.builder(DIMS).build();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      float[] v = new float[DIMS];
      for (int d = 0; d < DIMS; d++) {
        v[d] = (float) r.nextGaussian();
      }
      corpus.add(RowFactory.create("c" + i, v));
      reference.add(v);
      ids.add("c" + i);
    }
    List<Row> queries = new ArrayList<>();
    Map<String, float[]> byId = new HashMap<>();
    for (int i = 0; i < 24; i++) {
      float[] v = new float[DIMS];
      for (int d = 0; d < DIMS; d++) {
        v[d] = (float) r.nextGaussian();
      }
      queries.add(RowFactory.create("q" + i, v));
      byId.put("q" + i, v);
    }
    DistributedTopK topK = DistributedTopK.builder().k(5).shards(2).queryBlocks(4).build();
    Dataset<Row> c = TestSpark.rows(corpus, schema, 3);
    Dataset<Row> q = TestSpark.rows(queries, schema, 4);
    ExecutorIndexes shared = ExecutorIndexes.shared();
    long before = shared.builds();
    long reusesBefore = shared.reuses();
    DistributedTopKTest.assertEqualsFlatIndex(DistributedTopKTest.byQuery(topK.search(q, c)), reference, ids, byId, 5);
    assertThat(shared.builds() - before).as("indexes built for 8 tasks").isEqualTo(2);
    assertThat(shared.reuses() - reusesBefore).as("the other 6 tasks").isEqualTo(6);
    DistributedTopKTest.assertEqualsFlatIndex(DistributedTopKTest.byQuery(topK.search(q, c)), reference, ids, byId, 5);
    assertThat(shared.builds() - before).as("a second search: a new packing, its own indexes").isEqualTo(4);
  }
}
