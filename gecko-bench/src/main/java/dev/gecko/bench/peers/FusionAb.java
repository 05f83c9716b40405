package dev.gecko.bench.peers;

import dev.gecko.core.GeckoEmbedder;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A/B of {@code GeckoEmbedder.Builder.fuseLayerNorm}: two embedders on the same model in one JVM,
 * library defaults otherwise, whole-set calls interleaved (fused first on even rounds), medians of
 * the repeats after one warm-up call each. A tool, not library API.
 *
 * <pre>java -cp ... dev.gecko.bench.peers.FusionAb MODEL[,MODEL...] [REPEATS]</pre>
 */
public final class FusionAb {
  private FusionAb() {}

  public static void main(String[] args) {
    Map<String, List<String>> sets = TextSets.load(TextSets.sharedDir());
    int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    System.out.printf(Locale.ROOT, "# FusionAb %s, %s%n", String.join(" ", args), Uptime.loadAverage());
    for (String model : args[0].split(",")) {
      try (GeckoEmbedder fused = GeckoEmbedder.builder().model(model).build();
          GeckoEmbedder plain = GeckoEmbedder.builder().model(model).fuseLayerNorm(false).build()) {
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
          System.out.printf(Locale.ROOT, "%s %s: fused %.3f s, as shipped %.3f s (medians of %d) -> %.2fx %s%n", model,
              set, ma, mb, repeats, mb / ma, Arrays.toString(a) + " / " + Arrays.toString(b));
        }
      }
    }
    System.out.printf(Locale.ROOT, "# %s%n", Uptime.loadAverage());
  }
}
