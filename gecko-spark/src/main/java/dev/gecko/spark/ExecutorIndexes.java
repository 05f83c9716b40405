package dev.gecko.spark;

import dev.gecko.core.index.FlatIndex;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;

/**
 * The shard indexes of this JVM (a Spark executor, or the driver in local mode): each packed shard
 * of a {@link DistributedTopK} search gets its {@link FlatIndex} built once per JVM, on the first
 * (shard, query block) task that needs it, and shared by the tasks that follow, instead of being
 * built again in every task (reading the shard's vectors and copying them into the index each time).
 *
 * <h2>Keys: never stale</h2>
 * An index is keyed by the shard's pack id (a random id {@link DistributedTopK#pack} draws on the
 * driver each time it packs a corpus: one per {@link DistributedTopK#search} call, one per {@link
 * FretSparkJob} run), the shard's number, and the precision and metric. A later search, run or job
 * packs with a new id, so it never meets the index of another corpus that had the same shard number.
 * An index also keeps the ordinals and ids of the shard it was built from, and hits are named from
 * those, so even a shard Spark recomputed differently (a source whose order changed) gives hits
 * consistent with the index that scored them.
 *
 * <h2>Memory: bounded, evicted</h2>
 * A {@link FlatIndex} holds its vectors in Java arrays on the heap (no native or off-heap memory:
 * nothing to close), so an evicted index is freed by the garbage collector once no task still
 * searches it. The indexes held are bounded by an estimate of their bytes (the index's arrays as
 * {@link FlatIndex} grows them, plus the shard's ordinals and ids) to the Spark conf {@value
 * #MAX_BYTES_CONF} (read once per JVM; default a quarter of the JVM's maximum heap, 0 to cache
 * nothing). Past it the least recently used indexes are dropped; an index larger than the whole
 * budget is built for its task alone, as without this cache. An index unused for the Spark conf
 * {@value #IDLE_CONF} (default 10 minutes; 0: until evicted) is dropped by a daemon thread, so an
 * executor that goes on to other work gives the memory back. An evicted index a task still
 * searches stays alive until that task lets it go, outside the bound.
 *
 * <p>Concurrent tasks that ask for the same index wait for one build (the second does not build a
 * copy). A build that fails (a vector with NaN, say) fails every task that waited for it and leaves
 * nothing cached.
 *
 * <p>Thread-safe. The JVM's instance ({@link #shared()}) lives as long as the JVM; the cache owns
 * the indexes it holds, callers only borrow them (for searching: an index is never modified after
 * it is built).
 */
final class ExecutorIndexes {
  /** Spark conf: the bytes of shard indexes an executor keeps (a size such as {@code 2g}; 0: none). */
  static final String MAX_BYTES_CONF = "spark.gecko.indexCache.maxBytes";
  /** Spark conf: how long an unused shard index is kept (a time such as {@code 10min}; 0: until evicted). */
  static final String IDLE_CONF = "spark.gecko.indexCache.idleTimeout";
  private static final long DEFAULT_IDLE_MS = TimeUnit.MINUTES.toMillis(10);
  private static volatile ExecutorIndexes shared;

  /** What makes two indexes differ: the packing of the corpus, the shard, how it is stored and scored. */
  record Key(String packId, int shard, FlatIndex.Precision precision, FlatIndex.Metric metric) {}

  /** One index, built or being built. */
  private static final class Slot {
    final CompletableFuture<TopKParts.ShardIndex> index = new CompletableFuture<>();
    final long bytes;
    long lastUsed;

    Slot(long bytes, long now) {
      this.bytes = bytes;
      this.lastUsed = now;
    }
  }

  private final long maxBytes;
  private final long idleNanos;
  private final LongSupplier nanoClock;
  /** Guarded by {@code this}; in access order, least recently used first. */
  private final LinkedHashMap<Key, Slot> slots = new LinkedHashMap<>(16, 0.75f, true);
  private long bytes;
  private long builds;
  private long reuses;

  /**
   * A cache of at most {@code maxBytes} (estimated) that drops an index unused for {@code idleNanos}
   * ({@code 0}: never) when {@link #sweep} runs, timed by {@code nanoClock}.
   */
  ExecutorIndexes(long maxBytes, long idleNanos, LongSupplier nanoClock) {
    if (maxBytes < 0 || idleNanos < 0) {
      throw new IllegalArgumentException("maxBytes and idleNanos must be >= 0");
    }
    this.maxBytes = maxBytes;
    this.idleNanos = idleNanos;
    this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock is null");
  }

  /** This JVM's cache, configured from the executor's Spark conf on first use (see the class comment). */
  static ExecutorIndexes shared() {
    ExecutorIndexes s = shared;
    if (s == null) {
      synchronized (ExecutorIndexes.class) {
        s = shared;
        if (s == null) {
          SparkEnv env = SparkEnv.get();
          SparkConf conf = env == null ? null : env.conf();
          long heapQuarter = Runtime.getRuntime().maxMemory() / 4;
          long max = conf == null || !conf.contains(MAX_BYTES_CONF) ? heapQuarter : conf.getSizeAsBytes(MAX_BYTES_CONF);
          long idleMs = conf == null || !conf.contains(IDLE_CONF) ? DEFAULT_IDLE_MS : conf.getTimeAsMs(IDLE_CONF);
          s = new ExecutorIndexes(Math.max(0, max), TimeUnit.MILLISECONDS.toNanos(Math.max(0, idleMs)), System::nanoTime);
          s.startSweeper();
          shared = s;
        }
      }
    }
    return s;
  }

  /** Drops one packing's indexes from this JVM's cache, if this JVM opened it (the driver, in local mode). */
  static void releaseIfOpen(String packId) {
    ExecutorIndexes s = shared;
    if (s != null) {
      s.release(packId);
    }
  }

  private void startSweeper() {
    if (idleNanos == 0 || maxBytes == 0) {
      return;
    }
    ScheduledThreadPoolExecutor pool = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "gecko-index-cache-sweeper");
      t.setDaemon(true);
      return t;
    });
    long period = Math.max(TimeUnit.SECONDS.toNanos(1), idleNanos / 2);
    pool.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.NANOSECONDS); // lives as long as the JVM
  }

  /**
   * Returns the index of {@code shard} (of the packing {@code shard.packId}) for this precision and
   * metric, building it here unless this JVM holds it or is building it.
   *
   * @throws IllegalArgumentException if the shard holds a vector the index refuses (NaN, infinity)
   * @throws IllegalStateException if the task's thread is interrupted (Spark killed it) while it waits
   */
  TopKParts.ShardIndex get(TopKParts.Shard shard, FlatIndex.Precision precision, FlatIndex.Metric metric) {
    Key key = new Key(shard.packId, shard.index, precision, metric);
    long estimate = estimateBytes(shard, precision);
    if (estimate > maxBytes) {
      synchronized (this) {
        builds++;
      }
      return TopKParts.ShardIndex.build(shard, precision, metric); // over the whole budget: this task's alone
    }
    Slot slot;
    boolean build = false;
    synchronized (this) {
      long now = nanoClock.getAsLong();
      slot = slots.get(key);
      if (slot == null) {
        slot = new Slot(estimate, now);
        slots.put(key, slot);
        bytes += estimate;
        builds++;
        build = true;
        evictBeyondBudget(key);
      } else {
        slot.lastUsed = now;
        reuses++;
      }
    }
    if (build) {
      try {
        slot.index.complete(TopKParts.ShardIndex.build(shard, precision, metric));
      } catch (RuntimeException | Error e) {
        slot.index.completeExceptionally(e);
        remove(key, slot);
        throw e;
      }
    }
    try {
      return slot.index.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted (task killed) while waiting for shard " + shard.index + "'s index", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  /** Drops the least recently used slots, never {@code keep}, until the budget holds. Holding {@code this}. */
  private void evictBeyondBudget(Key keep) {
    Iterator<Map.Entry<Key, Slot>> it = slots.entrySet().iterator();
    while (bytes > maxBytes && it.hasNext()) {
      Map.Entry<Key, Slot> e = it.next();
      if (!e.getKey().equals(keep)) {
        it.remove();
        bytes -= e.getValue().bytes;
      }
    }
  }

  private synchronized void remove(Key key, Slot slot) {
    if (slots.remove(key, slot)) {
      bytes -= slot.bytes;
    }
  }

  /** Drops the indexes unused for longer than the idle timeout (nothing when it is 0). */
  synchronized void sweep() {
    if (idleNanos == 0) {
      return;
    }
    long now = nanoClock.getAsLong();
    Iterator<Map.Entry<Key, Slot>> it = slots.entrySet().iterator();
    while (it.hasNext()) {
      Slot s = it.next().getValue();
      if (now - s.lastUsed > idleNanos && s.index.isDone()) {
        it.remove();
        bytes -= s.bytes;
      }
    }
  }

  /** Drops the indexes of one packing (its search or run is over). */
  synchronized void release(String packId) {
    Iterator<Map.Entry<Key, Slot>> it = slots.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Key, Slot> e = it.next();
      if (e.getKey().packId().equals(packId)) {
        it.remove();
        bytes -= e.getValue().bytes;
      }
    }
  }

  /** The keys held, least recently used first (for tests). */
  synchronized List<Key> keys() {
    return new ArrayList<>(slots.keySet());
  }

  /** The estimated bytes held. */
  synchronized long bytes() {
    return bytes;
  }

  /** Indexes built by this cache's callers (cached or not). */
  synchronized long builds() {
    return builds;
  }

  /** Requests served by an index held (or being built by another task). */
  synchronized long reuses() {
    return reuses;
  }

  /**
   * The bytes a shard's index holds on the heap, estimated: its arrays at the capacity {@link
   * FlatIndex} grows them to (doubling, as gecko-core's storage does), plus the shard's ordinals,
   * its id references and the ids' characters.
   */
  static long estimateBytes(TopKParts.Shard shard, FlatIndex.Precision precision) {
    long n = shard.size();
    int dims = Math.max(shard.dims, 1);
    long index;
    switch (precision) {
      case FLOAT32:
        index = 4 * grownCapacity(n, dims);
        break;
      case INT8:
        index = grownCapacity(n, dims) + 4 * grownCapacity(n, 1);
        break;
      case BINARY:
        index = 8 * grownCapacity(n, (dims + 63) / 64);
        break;
      default:
        throw new AssertionError(precision);
    }
    long ids = 0;
    for (String id : shard.ids) {
      ids += 48 + id.length();
    }
    return index + 8 * n + ids;
  }

  /** The length an array reaches when {@code n} vectors of {@code per} elements are added one by one, doubling. */
  static long grownCapacity(long n, long per) {
    long needed = n * per;
    long cap = 0;
    while (cap < needed) {
      long next = (cap / per + 1) * per; // the elements the next add needs
      cap = Math.max(next, Math.max(64, cap * 2));
    }
    return Math.min(cap, Integer.MAX_VALUE - 16);
  }
}
