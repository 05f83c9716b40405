package dev.gecko.bench.peers;

import dev.gecko.core.GeckoEmbedder;
import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * Startup and memory of the default model in a fresh JVM: time from {@code
 * GeckoEmbedder.createDefault()} to the first vector (and from JVM start), then peak resident set
 * size ({@code VmHWM}) after embedding the short set {@code rounds} times (argument, default 3).
 * Run it in its own JVM, e.g. with {@code -Xmx256m} or the JVM's defaults. A tool, not library API.
 */
public final class FootprintCheck {
  private FootprintCheck() {}

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    List<String> texts = TextSets.load(TextSets.sharedDir()).get("short");
    System.out.println("# FootprintCheck, " + Uptime.loadAverage() + ", max heap "
        + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB");
    double rssBefore = Uptime.statusMiB("VmRSS");
    long t0 = System.nanoTime();
    // -Dgecko.fuse=false: the graph as shipped (for A/B of the graph rewrites)
    try (GeckoEmbedder embedder = Boolean.parseBoolean(System.getProperty("gecko.fuse", "true"))
        ? GeckoEmbedder.createDefault()
        : GeckoEmbedder.builder().fuseLayerNorm(false).firstTokenOnly(false).build()) {
      float[] first = embedder.embed("The quick brown fox jumps over the lazy dog.");
      long t1 = System.nanoTime();
      long sinceJvmStart = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
      System.out.printf("model %s, %d dims: load to first vector %.3f s (JVM start to first vector %.3f s), RSS %.0f -> %.0f MiB%n",
          embedder.model().name(), first.length, (t1 - t0) / 1e9, sinceJvmStart / 1e3, rssBefore, Uptime.statusMiB("VmRSS"));
      for (int r = 0; r < rounds; r++) {
        long s = System.nanoTime();
        embedder.embedAll(texts, embedder.dimensions());
        System.out.printf("round %d: %d short texts in %.3f s, RSS %.0f MiB, peak RSS (VmHWM) %.0f MiB%n",
            r + 1, texts.size(), (System.nanoTime() - s) / 1e9, Uptime.statusMiB("VmRSS"), Uptime.statusMiB("VmHWM"));
      }
    }
    System.out.printf("peak RSS (VmHWM) %.0f MiB, %s%n", Uptime.statusMiB("VmHWM"), Uptime.loadAverage());
  }
}
