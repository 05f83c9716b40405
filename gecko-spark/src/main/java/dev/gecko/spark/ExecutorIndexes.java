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
 * budget is built for its task alone, as without this cache. An index still being built is never
 * evicted (a task asking for it would build a second copy): while builds are under way the cache
 * may hold more than the bound, until the next index is added after they finish. An evicted index
 * a task still searches stays alive until that task lets it go, outside the bound.
 *
 * <h2>Idle expiry: on the next use, no thread</h2>
 * An index unused for the Spark conf {@value #IDLE_CONF} (default 10 minutes; 0: until evicted)
 * is dropped the next time the cache is used (a task asks for an index, or a run releases its
 * own), so an executor that goes on to other searches gives the memory back. The cache starts no
 * thread (a thread per copy of this class would outlive a session's class loader, with Spark
 * Connect's per-session class loaders): an executor that runs no search again keeps its indexes,
 * up to the bound, until its next search or until its JVM exits.
 *
 * <p>Concurrent tasks that ask for the same index wait for one build (the second does not build a
 * copy). A build that fails (a vector with NaN, say) fails every task that waited for it, each with
 * an exception of its own (an {@link IllegalArgumentException} or {@link IllegalStateException}
 * whose cause is the builder's; an {@link Error} as is), and leaves nothing cached: a task that
 * asks after the failure builds again.
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

  /** How an index is built ({@link TopKParts.ShardIndex#build}; tests put another in). */
  interface Build {
    TopKParts.ShardIndex build(TopKParts.Shard shard, FlatIndex.Precision precision, FlatIndex.Metric metric);
  }

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
  private final Build build;
  /** Guarded by {@code this}; in access order, least recently used first. */
  private final LinkedHashMap<Key, Slot> slots = new LinkedHashMap<>(16, 0.75f, true);
  private long bytes;
  private long builds;
  private long reuses;

  /**
   * A cache of at most {@code maxBytes} (estimated) that drops an index unused for {@code idleNanos}
   * ({@code 0}: never) when it is next used ({@link #get}, {@link #release}), timed by {@code nanoClock}.
   */
  ExecutorIndexes(long maxBytes, long idleNanos, LongSupplier nanoClock) {
    this(maxBytes, idleNanos, nanoClock, TopKParts.ShardIndex::build);
  }

  /** As the other constructor, building with {@code build} (for tests). */
  ExecutorIndexes(long maxBytes, long idleNanos, LongSupplier nanoClock, Build build) {
    if (maxBytes < 0 || idleNanos < 0) {
      throw new IllegalArgumentException("maxBytes and idleNanos must be >= 0");
    }
    this.maxBytes = maxBytes;
    this.idleNanos = idleNanos;
    this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock is null");
    this.build = Objects.requireNonNull(build, "build is null");
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

  /**
   * Returns the index of {@code shard} (of the packing {@code shard.packId}) for this precision and
   * metric, building it here unless this JVM holds it or is building it. Drops the indexes that
   * have been idle too long first.
   *
   * @throws IllegalArgumentException if the shard holds a vector the index refuses (NaN, infinity)
   * @throws IllegalStateException if another task's build of this index failed in another way
   * @throws IllegalStateException if the task's thread is interrupted (Spark killed it) while it waits
   */
  TopKParts.ShardIndex get(TopKParts.Shard shard, FlatIndex.Precision precision, FlatIndex.Metric metric) {
    Key key = new Key(shard.packId, shard.index, precision, metric);
    long estimate = estimateBytes(shard, precision);
    if (estimate > maxBytes) {
      synchronized (this) {
        sweep(nanoClock.getAsLong());
        builds++;
      }
      return build.build(shard, precision, metric); // over the whole budget: this task's alone
    }
    Slot slot;
    boolean builder = false;
    synchronized (this) {
      long now = nanoClock.getAsLong();
      slot = slots.get(key);
      if (slot != null) {
        slot.lastUsed = now; // before the sweep: this one is in use
        reuses++;
      }
      sweep(now);
      if (slot == null) {
        slot = new Slot(estimate, now);
        slots.put(key, slot);
        bytes += estimate;
        builds++;
        builder = true;
        evictBeyondBudget(key);
      }
    }
    if (builder) {
      try {
        TopKParts.ShardIndex built = build.build(shard, precision, metric);
        synchronized (this) {
          slot.lastUsed = nanoClock.getAsLong(); // idle from now, not from when the build began
        }
        slot.index.complete(built);
      } catch (RuntimeException | Error e) {
        remove(key, slot); // first: a task that looks it up from now on builds again, never gets this failure
        slot.index.completeExceptionally(e);
        throw e;
      }
    }
    try {
      return slot.index.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted (task killed) while waiting for shard " + shard.index + "'s index", e);
    } catch (ExecutionException e) {
      throw forWaiter(e.getCause()); // another task's build failed (the builder threw its own above)
    }
  }

  /**
   * A new exception for one task that waited for a build another task's failure ended: a thrown
   * exception is mutable (suppressed exceptions, stack trace), so each waiter gets its own, of the
   * kind the contract names ({@link IllegalArgumentException}, else {@link IllegalStateException}),
   * with the builder's as its cause; an {@link Error} is rethrown as is.
   */
  static RuntimeException forWaiter(Throwable failure) {
    if (failure instanceof Error err) {
      throw err;
    }
    String message = failure.getMessage() != null ? failure.getMessage() : failure.toString();
    if (failure instanceof IllegalArgumentException) {
      return new IllegalArgumentException(message, failure);
    }
    return new IllegalStateException(message, failure);
  }

  /**
   * Drops the least recently used slots, never {@code keep} nor one still being built (a task
   * asking for it would build it twice), until the budget holds. Holding {@code this}.
   */
  private void evictBeyondBudget(Key keep) {
    Iterator<Map.Entry<Key, Slot>> it = slots.entrySet().iterator();
    while (bytes > maxBytes && it.hasNext()) {
      Map.Entry<Key, Slot> e = it.next();
      if (!e.getKey().equals(keep) && e.getValue().index.isDone()) {
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

  /**
   * Drops the built indexes unused for longer than the idle timeout (nothing when it is 0).
   * Holding {@code this}; called on every use of the cache, so that no thread is needed.
   */
  private void sweep(long now) {
    if (idleNanos == 0) {
      return;
    }
    Iterator<Map.Entry<Key, Slot>> it = slots.entrySet().iterator();
    while (it.hasNext()) {
      Slot s = it.next().getValue();
      if (now - s.lastUsed > idleNanos && s.index.isDone()) {
        it.remove();
        bytes -= s.bytes;
      }
    }
  }

  /** Drops the indexes of one packing (its search or run is over), and those idle too long. */
  synchronized void release(String packId) {
    sweep(nanoClock.getAsLong());
    Iterator<Map.Entry<Key, Slot>> it = slots.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Key, Slot> e = it.next();
      if (e.getKey().packId().equals(packId)) {
        it.remove();
        bytes -= e.getValue().bytes;
      }
    }
  }

  /** The build of {@code key} the cache holds, done or not, or null (for tests). */
  synchronized CompletableFuture<TopKParts.ShardIndex> pending(Key key) {
    Slot s = slots.get(key);
    return s == null ? null : s.index;
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
