package dev.gecko.bench.peers;

import dev.gecko.core.GeckoEmbedder;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A/B of gecko-core's graph rewrites: two embedders on the same model in one JVM, one at the
 * library defaults ("rewritten") and one with the rewrites named in the system property {@code
 * off} turned off ({@code fuseLayerNorm}, {@code firstTokenOnly}; default both: "as shipped"),
 * whole-set calls interleaved (rewritten first on even rounds), medians of the repeats after one
 * warm-up call each. A tool, not library API.
 *
 * <pre>java [-Doff=fuseLayerNorm|firstTokenOnly] -cp ... dev.gecko.bench.peers.FusionAb MODEL[,MODEL...] [REPEATS]</pre>
 */
public final class FusionAb {
  private FusionAb() {}

  public static void main(String[] args) {
    Map<String, List<String>> sets = TextSets.load(TextSets.sharedDir());
    int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    List<String> off = List.of(System.getProperty("off", "fuseLayerNorm,firstTokenOnly").split(","));
    System.out.printf(Locale.ROOT, "# FusionAb %s, off %s, %s%n", String.join(" ", args), off, Uptime.loadAverage());
    for (String model : args[0].split(",")) {
      try (GeckoEmbedder fused = GeckoEmbedder.builder().model(model).build();
          GeckoEmbedder plain = GeckoEmbedder.builder().model(model).fuseLayerNorm(!off.contains("fuseLayerNorm"))
              .firstTokenOnly(!off.contains("firstTokenOnly")).build()) {
        for (String set : List.of("short", "passages", "mixed")) {
          List<String> texts = sets.get(set);
          fused.embedAll(texts, 384);
          plain.embedAll(texts, 384);
          double[] a = new double[repeats];
          double[] b = new double[repeats];
          for (int r = 0; r < repeats; r++) {
            boolean fusedFirst = r % 2 == 0;
            for (int k = 0; k < 2; k++) {
              boolean runFused = (k == 0) == fusedFirst;
              long t0 = System.nanoTime();
              (runFused ? fused : plain).embedAll(texts, 384);
              (runFused ? a : b)[r] = (System.nanoTime() - t0) / 1e9;
            }
          }
          double ma = PeerBenchmark.median(a);
          double mb = PeerBenchmark.median(b);
          System.out.printf(Locale.ROOT, "%s %s: rewritten %.3f s, %s off %.3f s (medians of %d) -> %.2fx %s%n", model,
              set, ma, String.join("+", off), mb, repeats, mb / ma, Arrays.toString(a) + " / " + Arrays.toString(b));
        }
      }
    }
    System.out.printf(Locale.ROOT, "# %s%n", Uptime.loadAverage());
  }
}
