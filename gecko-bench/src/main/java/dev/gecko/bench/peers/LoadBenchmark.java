package dev.gecko.bench.peers;

import dev.gecko.core.EmbedderMetrics;
import dev.gecko.core.GeckoEmbedder;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15q.BgeSmallEnV15QuantizedEmbeddingModel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Many callers, one model: a load generator in one JVM. Each caller embeds one short sentence (the
 * {@code short} set of {@code ../shared/golden}) per call, with the default int8 model.
 *
 * <ul>
 *   <li>Closed loop: 1, 4, 16 and 64 caller threads, each calling again as soon as its call
 *       returns, for a fixed time; calls/s, tokens/s, p50/p99 latency. Three peers, interleaved
 *       (each round runs every peer once per thread count): Gecko (coalescing on, the default),
 *       Gecko with coalescing off, and LangChain4j's {@code BgeSmallEnV15QuantizedEmbeddingModel}
 *       (same ONNX file).
 *   <li>Open loop: Gecko at a fixed arrival rate of 50% and 90% of the closed-loop capacity it
 *       measured at 64 callers; p99 latency and the queue's growth (calls started minus calls done
 *       at the end of each second).
 * </ul>
 *
 * <p>System properties: {@code gecko.shared.dir} (default {@code ../shared}), {@code seconds} per
 * cell (default 10), {@code rounds} (default 2), {@code callers} (default {@code 1,4,16,64}),
 * {@code peers} (default {@code gecko,gecko-off,lc4j}), {@code openSeconds} (default 20). Prints
 * markdown tables. Not thread-safe; a tool, not library API.
 */
public final class LoadBenchmark {
  private LoadBenchmark() {}

  /** One closed-loop measurement. */
  record Result(String peer, int callers, long calls, long tokens, double seconds, long p50Nanos, long p99Nanos,
      double meanBatchSize, double batchFill, double cpuShare) {}

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** A peer: embeds one text, synchronously, thread-safe. */
  interface Peer extends AutoCloseable {
    void embed(String text);

    default double meanBatchSize() {
      return Double.NaN;
    }

    /** Real tokens over padded tokens run (NaN where unknown). */
    default double batchFill() {
      return Double.NaN;
    }

    @Override
    default void close() {}
  }

  public static void main(String[] args) throws Exception {
    List<String> texts = TextSets.load(TextSets.sharedDir()).get("short");
    int seconds = Integer.getInteger("seconds", 10);
    int rounds = Integer.getInteger("rounds", 2);
    int[] callers = Arrays.stream(System.getProperty("callers", "1,4,16,64").split(",")).mapToInt(Integer::parseInt)
        .toArray();
    List<String> peers = List.of(System.getProperty("peers", "gecko,gecko-off,lc4j").split(","));
    int[] tokens = tokenCounts(texts);
    System.err.printf(Locale.ROOT, "load: %d short texts, %d-%d tokens; %d s per cell, %d rounds%n", texts.size(),
        Arrays.stream(tokens).min().orElse(0), Arrays.stream(tokens).max().orElse(0), seconds, rounds);

    List<Result> results = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      for (int n : callers) {
        for (String name : peers) {
          try (Peer peer = open(name)) {
            warm(peer, texts);
            Result r = closedLoop(name, peer, n, texts, tokens, Duration.ofSeconds(seconds));
            results.add(r);
            System.err.printf(Locale.ROOT, "round %d %-9s %3d callers: %8.1f calls/s, p50 %6.1f ms, p99 %6.1f ms%n",
                round + 1, name, n, r.calls() / r.seconds(), r.p50Nanos() / 1e6, r.p99Nanos() / 1e6);
            System.err.printf(Locale.ROOT, "    CPU busy %.0f %%, texts per batch %.1f, batch fill %.0f %%%n",
                100 * r.cpuShare(), r.meanBatchSize(), 100 * r.batchFill());
          }
        }
      }
    }
    printClosed(results, callers, peers);

    if (peers.contains("gecko")) {
      double capacity = results.stream().filter(r -> r.peer().equals("gecko") && r.callers() == callers[callers.length - 1])
          .mapToDouble(r -> r.calls() / r.seconds()).max().orElse(0);
      int openSeconds = Integer.getInteger("openSeconds", 20);
      System.out.println();
      System.out.println("| open loop (gecko) | rate | calls done | p50 ms | p99 ms | max in flight | in flight at end |");
      System.out.println("|---|---|---|---|---|---|---|");
      for (double share : new double[] {0.5, 0.9}) {
        try (Peer peer = open("gecko")) {
          warm(peer, texts);
          openLoop(peer, texts, share, capacity * share, Duration.ofSeconds(openSeconds));
        }
      }
    }
  }

  static Peer open(String name) {
    switch (name) {
      case "gecko": { // -DwindowMicros: another coalescing window than the default, to tune it
        GeckoEmbedder.Builder b = GeckoEmbedder.builder();
        String window = System.getProperty("windowMicros");
        if (window != null) {
          b.coalescingWindow(Duration.ofNanos(Long.parseLong(window) * 1000));
        }
        Integer intraOp = Integer.getInteger("intraOpThreads");
        if (intraOp != null) {
          b.intraOpThreads(intraOp);
        }
        return gecko(b.build());
      }
      case "gecko-off":
        return gecko(GeckoEmbedder.builder().coalescingWindow(Duration.ZERO).build());
      case "lc4j":
        EmbeddingModel model = new BgeSmallEnV15QuantizedEmbeddingModel();
        return text -> model.embed(TextSegment.from(text));
      default:
        throw new IllegalArgumentException("unknown peer " + name + "; expected gecko, gecko-off or lc4j");
    }
  }

  private static Peer gecko(GeckoEmbedder e) {
    return new Peer() {
      @Override
      public void embed(String text) {
        e.embed(text);
      }

      @Override
      public double meanBatchSize() {
        EmbedderMetrics m = e.metrics();
        return m.meanBatchSize();
      }

      @Override
      public double batchFill() {
        return e.metrics().batchFill();
      }

      @Override
      public void close() {
        e.close();
      }
    };
  }

  private static int[] tokenCounts(List<String> texts) {
    try (GeckoEmbedder e = GeckoEmbedder.builder().build()) {
      return texts.stream().mapToInt(t -> e.countTokens(dev.gecko.core.EmbedRequest.of(t))).toArray();
    }
  }

  private static void warm(Peer peer, List<String> texts) {
    for (int i = 0; i < 64; i++) {
      peer.embed(texts.get(i % texts.size()));
    }
  }

  /** {@code n} threads, each embedding text after text for {@code duration}. */
  static Result closedLoop(String name, Peer peer, int n, List<String> texts, int[] tokens, Duration duration)
      throws InterruptedException {
    ExecutorService pool = Executors.newFixedThreadPool(n);
    List<long[]> latencies = new ArrayList<>();
    AtomicLong calls = new AtomicLong();
    AtomicLong tokenCount = new AtomicLong();
    CountDownLatch ready = new CountDownLatch(n);
    CountDownLatch go = new CountDownLatch(1);
    long[] window = new long[2];
    List<Runnable> jobs = new ArrayList<>();
    for (int t = 0; t < n; t++) {
      long[] own = new long[1 << 20];
      latencies.add(own);
      int thread = t;
      jobs.add(() -> {
        int i = thread * 7919;
        int count = 0;
        ready.countDown();
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        long end = window[1];
        while (true) {
          long start = System.nanoTime();
          if (start >= end) {
            break;
          }
          int k = Math.floorMod(i++, texts.size());
          peer.embed(texts.get(k));
          long took = System.nanoTime() - start;
          if (count < own.length) {
            own[count++] = took;
          }
          calls.incrementAndGet();
          tokenCount.addAndGet(tokens[k]);
        }
        own[own.length - 1] = count; // the count, in the last slot
      });
    }
    for (Runnable r : jobs) {
      pool.execute(r);
    }
    ready.await();
    long cpu0 = processCpuNanos();
    window[0] = System.nanoTime();
    window[1] = window[0] + duration.toNanos();
    go.countDown();
    pool.shutdown();
    pool.awaitTermination(duration.toSeconds() + 120, TimeUnit.SECONDS);
    double elapsed = (System.nanoTime() - window[0]) / 1e9;
    double cpuShare = (processCpuNanos() - cpu0) / 1e9 / elapsed / Runtime.getRuntime().availableProcessors();
    long total = 0;
    for (long[] l : latencies) {
      total += l[l.length - 1];
    }
    long[] all = new long[(int) total];
    int at = 0;
    for (long[] l : latencies) {
      int c = (int) l[l.length - 1];
      System.arraycopy(l, 0, all, at, c);
      at += c;
    }
    Arrays.sort(all);
    return new Result(name, n, calls.get(), tokenCount.get(), elapsed, quantile(all, 0.5), quantile(all, 0.99),
        peer.meanBatchSize(), peer.batchFill(), cpuShare);
  }

  private static long quantile(long[] sorted, double q) {
    return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
  }

  private static void printClosed(List<Result> results, int[] callers, List<String> peers) {
    System.out.println("| callers | peer | calls/s | tokens/s | p50 ms | p99 ms | texts per batch | batch fill | CPU busy |"
        + " calls/s vs gecko-off | calls/s vs lc4j |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
    for (int n : callers) {
      for (String p : peers) {
        Result r = median(results, p, n);
        double rate = r.calls() / r.seconds();
        System.out.printf(Locale.ROOT, "| %d | %s | %.1f | %.0f | %.2f | %.2f | %s | %s | %.0f %% | %s | %s |%n", n, p,
            rate, r.tokens() / r.seconds(), r.p50Nanos() / 1e6, r.p99Nanos() / 1e6,
            Double.isNaN(r.meanBatchSize()) ? "-" : String.format(Locale.ROOT, "%.1f", r.meanBatchSize()),
            Double.isNaN(r.batchFill()) ? "-" : String.format(Locale.ROOT, "%.0f %%", 100 * r.batchFill()),
            100 * r.cpuShare(),
            ratio(rate, median(results, "gecko-off", n)), ratio(rate, median(results, "lc4j", n)));
      }
    }
  }

  private static String ratio(double rate, Result base) {
    return base == null ? "-" : String.format(Locale.ROOT, "%.2fx", rate / (base.calls() / base.seconds()));
  }

  /** The round with the median calls/s (the lower median for an even count). */
  private static Result median(List<Result> results, String peer, int n) {
    List<Result> rs = new ArrayList<>(results.stream().filter(r -> r.peer().equals(peer) && r.callers() == n).toList());
    if (rs.isEmpty()) {
      return null;
    }
    rs.sort((a, b) -> Double.compare(a.calls() / a.seconds(), b.calls() / b.seconds()));
    return rs.get((rs.size() - 1) / 2);
  }

  /**
   * Calls arrive at {@code rate} per second, each on its own task (up to 256 in flight), for
   * {@code duration}; prints the latency quantiles and how many calls were in flight.
   */
  static void openLoop(Peer peer, List<String> texts, double share, double rate, Duration duration)
      throws InterruptedException {
    ExecutorService callers = Executors.newFixedThreadPool(256);
    ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor();
    long periodNanos = (long) (1e9 / rate);
    long[] latencies = new long[(int) Math.min(Integer.MAX_VALUE - 8, rate * duration.toSeconds() * 2 + 16)];
    AtomicInteger done = new AtomicInteger();
    AtomicInteger started = new AtomicInteger();
    AtomicInteger maxInFlight = new AtomicInteger();
    long t0 = System.nanoTime();
    long end = t0 + duration.toNanos();
    Consumer<Integer> call = k -> {
      long scheduled = t0 + k * periodNanos;
      peer.embed(texts.get(k % texts.size()));
      int d = done.getAndIncrement();
      if (d < latencies.length) {
        latencies[d] = System.nanoTime() - scheduled; // from the arrival, waiting for a thread included
      }
    };
    AtomicInteger next = new AtomicInteger();
    clock.scheduleAtFixedRate(() -> {
      long now = System.nanoTime();
      while (t0 + next.get() * periodNanos <= now && t0 + next.get() * periodNanos < end) {
        int k = next.getAndIncrement();
        started.incrementAndGet();
        maxInFlight.accumulateAndGet(started.get() - done.get(), Math::max);
        callers.execute(() -> call.accept(k));
      }
    }, 0, 1, TimeUnit.MILLISECONDS);
    Thread.sleep(duration.toMillis());
    clock.shutdownNow();
    int inFlightAtEnd = started.get() - done.get();
    callers.shutdown();
    callers.awaitTermination(120, TimeUnit.SECONDS);
    long[] all = Arrays.copyOf(latencies, Math.min(done.get(), latencies.length));
    Arrays.sort(all);
    System.out.printf(Locale.ROOT, "| %.0f%% of capacity | %.1f calls/s | %d | %.2f | %.2f | %d | %d |%n", share * 100,
        rate, done.get(), quantile(all, 0.5) / 1e6, quantile(all, 0.99) / 1e6, maxInFlight.get(), inFlightAtEnd);
  }
}
