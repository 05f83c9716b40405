package dev.gecko.bench.peers;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A/B of two gecko-core builds in one JVM, runs interleaved, so that load from other processes
 * hits both alike: each build is loaded by its own class loader over a shared parent (ONNX
 * Runtime, the tokenizer and DJL load once). Arguments: {@code A_CLASSES B_CLASSES MODEL SET...}
 * where the first two are gecko-core class folders or jars (put everything else, but not
 * gecko-core, on the class path), MODEL a built-in model name. System property {@code repeats}
 * (default 5), {@code limit} (first N texts of each set), {@code maxBatchTokens} (for both). Prints median wall and CPU seconds per pass. A tool, not library API.
 */
public final class CoreAbCompare {
  private CoreAbCompare() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: CoreAbCompare A_CORE B_CORE MODEL SET...");
      System.exit(2);
    }
    int repeats = Integer.getInteger("repeats", 5);
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    Map<String, List<String>> sets = TextSets.load(TextSets.sharedDir());
    Object[] embedders = new Object[2];
    Method[] embedAll = new Method[2];
    for (int k = 0; k < 2; k++) {
      URLClassLoader loader = new URLClassLoader(new URL[] {Path.of(args[k]).toUri().toURL()},
          CoreAbCompare.class.getClassLoader());
      Class<?> api = Class.forName("dev.gecko.core.GeckoEmbedder", true, loader);
      if (api.getClassLoader() != loader) {
        throw new IllegalStateException("gecko-core must not be on the class path itself");
      }
      Object builder = api.getMethod("builder").invoke(null);
      builder.getClass().getMethod("model", String.class).invoke(builder, args[2]);
      if (Integer.getInteger("maxBatchTokens") != null) {
        builder.getClass().getMethod("maxBatchTokens", int.class).invoke(builder, Integer.getInteger("maxBatchTokens"));
      }
      embedders[k] = builder.getClass().getMethod("build").invoke(builder);
      embedAll[k] = api.getMethod("embedAll", List.class, int.class);
    }
    System.out.println("# CoreAbCompare " + args[2] + ", A=" + args[0] + ", B=" + args[1] + ", repeats " + repeats);
    for (int s = 3; s < args.length; s++) {
      List<String> all = sets.get(args[s]);
      List<String> texts = all.subList(0, Math.min(all.size(), Integer.getInteger("limit", all.size())));
      double[][] wall = new double[2][repeats];
      double[][] cpu = new double[2][repeats];
      String load = Uptime.loadAverage();
      for (int r = -1; r < repeats; r++) {
        for (int i = 0; i < 2; i++) {
          int k = (r & 1) == 0 ? i : 1 - i;
          long t = System.nanoTime();
          long c = os.getProcessCpuTime();
          embedAll[k].invoke(embedders[k], texts, 384);
          if (r >= 0) {
            wall[k][r] = (System.nanoTime() - t) / 1e9;
            cpu[k][r] = (os.getProcessCpuTime() - c) / 1e9;
          }
        }
      }
      List<String> cells = new ArrayList<>();
      for (int k = 0; k < 2; k++) {
        cells.add(String.format("%s wall %.3f s CPU %.3f s", k == 0 ? "A" : "B", PeerBenchmark.median(wall[k]), PeerBenchmark.median(cpu[k])));
      }
      System.out.printf("%-9s %s | B/A speed (wall) %.3f | %s -> %s%n", args[s], String.join(" | ", cells),
          PeerBenchmark.median(wall[0]) / PeerBenchmark.median(wall[1]), load, Uptime.loadAverage().replace("load average: ", ""));
    }
    for (Object e : embedders) {
      ((AutoCloseable) e).close();
    }
  }
}
