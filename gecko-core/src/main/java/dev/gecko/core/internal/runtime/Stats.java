package dev.gecko.core.internal.runtime;

import dev.gecko.core.EmbedderMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/** The counters behind {@link EmbedderMetrics}. Internal. Thread-safe (lock-free). */
final class Stats {
  private static final long[] BOUNDS_MICROS = bounds();

  final LongAdder calls = new LongAdder();
  final LongAdder texts = new LongAdder();
  final LongAdder tokens = new LongAdder();
  final LongAdder paddedTokens = new LongAdder();
  final LongAdder batches;
  final LongAdder coalescedBatches = new LongAdder();
  final LongAdder rejected = new LongAdder();
  private final AtomicLongArray queueWait = new AtomicLongArray(BOUNDS_MICROS.length);
  private final AtomicLongArray runTime = new AtomicLongArray(BOUNDS_MICROS.length);

  Stats() {
    this(new LongAdder());
  }

  /**
   * For tests: counters whose batch counter is {@code batches}, which {@link #batch} calls right
   * after a batch's session run returned (a test's counter can throw there).
   */
  Stats(LongAdder batches) {
    this.batches = batches;
  }

  /** 50 µs, 100 µs, 250 µs, 500 µs, 1 ms ... 10 s, then everything longer. */
  private static long[] bounds() {
    List<Long> b = new ArrayList<>();
    b.add(50L);
    for (long decade = 100; decade <= 1_000_000; decade *= 10) {
      b.add(decade);
      b.add(decade * 5 / 2);
      b.add(decade * 5);
    }
    b.add(10_000_000L);
    b.add(Long.MAX_VALUE);
    return b.stream().mapToLong(Long::longValue).toArray();
  }

  void queueWait(long nanos) {
    record(queueWait, nanos);
  }

  void runTime(long nanos) {
    record(runTime, nanos);
  }

  /** One batch: its rows, real and padded tokens, and whether it held several calls' texts. */
  void batch(int rows, long realTokens, long padded, boolean coalesced) {
    batches.increment();
    texts.add(rows);
    tokens.add(realTokens);
    paddedTokens.add(padded);
    if (coalesced) {
      coalescedBatches.increment();
    }
  }

  private static void record(AtomicLongArray histogram, long nanos) {
    long micros = Math.max(0, nanos / 1000);
    int i = 0;
    while (micros > BOUNDS_MICROS[i]) {
      i++;
    }
    histogram.incrementAndGet(i);
  }

  EmbedderMetrics snapshot() {
    return new EmbedderMetrics(calls.sum(), texts.sum(), tokens.sum(), paddedTokens.sum(), batches.sum(),
        coalescedBatches.sum(), rejected.sum(), histogram(queueWait), histogram(runTime));
  }

  private static EmbedderMetrics.LatencyHistogram histogram(AtomicLongArray h) {
    List<Long> bounds = new ArrayList<>();
    List<Long> counts = new ArrayList<>();
    for (int i = 0; i < BOUNDS_MICROS.length; i++) {
      bounds.add(BOUNDS_MICROS[i]);
      counts.add(h.get(i));
    }
    return new EmbedderMetrics.LatencyHistogram(bounds, counts);
  }
}
