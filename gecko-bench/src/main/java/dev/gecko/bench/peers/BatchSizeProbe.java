package dev.gecko.bench.peers;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.EmbedderMetrics;
import dev.gecko.core.GeckoEmbedder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a batch of a few short sentences is worth: the throughput of the default int8 model when
 * every call holds {@code b} random sentences of the {@code short} set, against one sentence per
 * call. With coalescing off, a call of {@code b} texts runs as the batches the library cuts from
 * them (least padding under the token budget), as a coalesced batch of {@code b} callers' texts
 * would. One thread per core calls at once, as the coalescer runs one batch per core; a last row
 * embeds the whole set in one call (sorted by length, cut into full batches: the batched rate).
 *
 * <p>This bounds what coalescing can gain with few callers: {@code n} closed-loop callers on
 * {@code r} runners fill batches of at most {@code n / r} texts on average while every runner is
 * busy, so the rate of batches of that size over the rate of single texts is the most coalescing
 * can reach over coalescing off at {@code n} callers.
 *
 * <p>System properties: {@code gecko.shared.dir} (default {@code ../shared}), {@code seconds} per
 * cell (default 5), {@code rounds} (default 2; each round runs every size once, in order), {@code
 * sizes} (default {@code 1,2,4,8,16,32}), {@code threads} (default: the available processors).
 * Prints a markdown table to standard output, progress to standard error. A tool, not library API.
 */
public final class BatchSizeProbe {
  private BatchSizeProbe() {}

  private static final int WHOLE_SET = 0;

  public static void main(String[] args) throws Exception {
    List<String> texts = TextSets.load(TextSets.sharedDir()).get("short");
    int seconds = Integer.getInteger("seconds", 5);
    int rounds = Integer.getInteger("rounds", 2);
    int threads = Integer.getInteger("threads", Runtime.getRuntime().availableProcessors());
    int[] sizes = Arrays.stream(System.getProperty("sizes", "1,2,4,8,16,32").split(","))
        .mapToInt(Integer::parseInt).toArray();
    for (int b : sizes) {
      if (b < 1) {
        throw new IllegalArgumentException("sizes must be >= 1, was " + b);
      }
    }
    Map<Integer, List<double[]>> cells = new HashMap<>(); // size -> per round {texts/s, tokens/s, texts per batch}
    try (GeckoEmbedder embedder = GeckoEmbedder.builder().coalescingWindow(Duration.ZERO).build()) {
      int[] tokens = texts.stream().mapToInt(t -> embedder.countTokens(EmbedRequest.of(t))).toArray();
      System.err.printf(Locale.ROOT, "batch sizes: %d short texts, %d threads, %d s per cell, %d rounds%n",
          texts.size(), threads, seconds, rounds);
      for (int i = 0; i < 3; i++) {
        embedder.embedAll(texts, embedder.dimensions()); // warm-up: ONNX Runtime's arena, JIT
      }
      for (int round = 1; round <= rounds; round++) {
        for (int b : append(sizes, WHOLE_SET)) {
          double[] r = measure(embedder, texts, tokens, b, threads, Duration.ofSeconds(seconds));
          cells.computeIfAbsent(b, k -> new ArrayList<>()).add(r);
          System.err.printf(Locale.ROOT, "round %d, %s: %.1f texts/s, %.0f tokens/s, %.1f texts per batch%n", round,
              b == WHOLE_SET ? "whole set" : b + " texts per call", r[0], r[1], r[2]);
        }
      }
    }
    double single = median(cells.getOrDefault(1, List.of()), 0);
    System.out.println("| texts per call | texts/s (each round) | median texts/s | tokens/s | texts per batch run | vs 1 text per call |");
    System.out.println("|---|---|---:|---:|---:|---:|");
    for (int b : append(sizes, WHOLE_SET)) {
      List<double[]> rs = cells.get(b);
      double median = median(rs, 0);
      StringBuilder each = new StringBuilder();
      for (double[] r : rs) {
        each.append(each.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.1f", r[0]));
      }
      System.out.printf(Locale.ROOT, "| %s | %s | %.1f | %.0f | %.1f | %s |%n",
          b == WHOLE_SET ? "whole set (" + texts.size() + ")" : Integer.toString(b), each, median, median(rs, 1),
          median(rs, 2), Double.isNaN(single) ? "-" : String.format(Locale.ROOT, "%.2fx", median / single));
    }
  }

  /**
   * {@code threads} threads, each embedding calls of {@code b} random texts ({@link #WHOLE_SET}:
   * the whole set in one call, on one thread, since the library spreads its batches over the cores
   * itself) for {@code duration}; returns texts/s, tokens/s and the texts per batch run.
   */
  private static double[] measure(GeckoEmbedder embedder, List<String> texts, int[] tokens, int b, int threads,
      Duration duration) throws InterruptedException {
    EmbedderMetrics before = embedder.metrics();
    AtomicLong textCount = new AtomicLong();
    AtomicLong tokenCount = new AtomicLong();
    int workers = b == WHOLE_SET ? 1 : threads;
    long start = System.nanoTime();
    long end = start + duration.toNanos();
    List<Thread> running = new ArrayList<>();
    List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    int wholeTokens = Arrays.stream(tokens).sum();
    for (int t = 0; t < workers; t++) {
      Random random = new Random(20241204L + 7919L * t);
      Thread thread = new Thread(() -> {
        while (System.nanoTime() < end) {
          if (b == WHOLE_SET) {
            embedder.embedAll(texts, embedder.dimensions());
            textCount.addAndGet(texts.size());
            tokenCount.addAndGet(wholeTokens);
            continue;
          }
          List<String> call = new ArrayList<>(b);
          long callTokens = 0;
          for (int k = 0; k < b; k++) {
            int i = random.nextInt(texts.size());
            call.add(texts.get(i));
            callTokens += tokens[i];
          }
          embedder.embedAll(call, embedder.dimensions());
          textCount.addAndGet(b);
          tokenCount.addAndGet(callTokens);
        }
      }, "probe-" + t);
      thread.setUncaughtExceptionHandler((th, e) -> failures.add(e));
      running.add(thread);
      thread.start();
    }
    for (Thread thread : running) {
      thread.join();
    }
    if (!failures.isEmpty()) {
      throw new IllegalStateException("a probe thread failed", failures.get(0));
    }
    double secs = (System.nanoTime() - start) / 1e9; // the last calls end after the deadline: counted
    EmbedderMetrics after = embedder.metrics();
    double perBatch = (after.texts() - before.texts()) / (double) Math.max(1, after.batches() - before.batches());
    return new double[] {textCount.get() / secs, tokenCount.get() / secs, perBatch};
  }

  private static int[] append(int[] a, int x) {
    int[] r = Arrays.copyOf(a, a.length + 1);
    r[a.length] = x;
    return r;
  }

  /** The median of one column of the rounds' results (NaN for none). */
  private static double median(List<double[]> rs, int column) {
    return rs.isEmpty() ? Double.NaN : PeerBenchmark.median(rs.stream().mapToDouble(r -> r[column]).toArray());
  }
}
