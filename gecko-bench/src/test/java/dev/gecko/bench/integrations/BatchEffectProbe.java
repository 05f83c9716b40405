package dev.gecko.bench.integrations;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The int8 batch effect on the ArguAna corpus (docs/integrations.md): every passage embedded as the
 * LangChain4j ingest does it with the defaults (one call of the whole corpus, as documents) and
 * each alone ({@code batchIndependent(true)}); prints the distribution of the two vectors' cosine
 * and the passages where it is lowest; then, for the lowest, its cosine to its alone-vector when
 * its only company is each of its length neighbours in turn (the passages of the 512-text window
 * whose token counts are nearest, the company a length-sorted batch gives it): whether the drop
 * comes from one unusual neighbour or from any company at all.
 *
 * <p>Run from the repository root (about 5 minutes on 2 cores): {@code java ... -cp
 * gecko-bench/target/test-classes:gecko-bench/target/classes:$(cat gecko-bench/target/cp.txt)
 * dev.gecko.bench.integrations.BatchEffectProbe [worst] [neighbours]} (defaults 8 and 12).
 */
public final class BatchEffectProbe {
  private static final String MODEL = "bge-small-en-v1.5-int8";
  /** The embedder's window of texts sorted and batched together ({@code BatchScheduler.WINDOW}). */
  private static final int WINDOW = 512;

  private BatchEffectProbe() {}

  /** Entry point. */
  public static void main(String[] args) throws Exception {
    int worst = args.length > 0 ? Integer.parseInt(args[0]) : 8;
    int around = args.length > 1 ? Integer.parseInt(args[1]) : 12;
    List<String> texts = ArguAnaTexts.read(0);
    List<EmbedRequest> docs = texts.stream().map(EmbedRequest::document).toList();
    try (GeckoEmbedder batched = GeckoEmbedder.builder().model(MODEL).build();
        GeckoEmbedder alone = GeckoEmbedder.builder().model(MODEL).batchIndependent(true).build()) {
      int dims = batched.dimensions();
      List<float[]> b = batched.embedRequests(docs, dims);
      List<float[]> a = alone.embedRequests(docs, dims);
      int n = texts.size();
      double[] cos = new double[n];
      Integer[] order = new Integer[n];
      for (int i = 0; i < n; i++) {
        cos[i] = ArguAnaTexts.cosine(b.get(i), a.get(i));
        order[i] = i;
      }
      Arrays.sort(order, Comparator.comparingDouble(i -> cos[i]));
      double[] sorted = cos.clone();
      Arrays.sort(sorted);
      System.out.printf("# %d passages, %s: cosine of the batched vector to the vector alone: min %.5f, 1st percentile"
          + " %.5f, median %.5f; below 0.99: %d%n", n, MODEL, sorted[0], sorted[n / 100], sorted[n / 2],
          Arrays.stream(sorted).filter(c -> c < 0.99).count());
      System.out.println();
      System.out.println("| passage | tokens | cosine |");
      System.out.println("|---:|---:|---:|");
      for (int k = 0; k < Math.min(worst, n); k++) {
        int i = order[k];
        System.out.printf("| %d | %d | %.5f |%n", i, batched.countTokens(docs.get(i)), cos[i]);
      }

      int target = order[0];
      int windows = (n + WINDOW - 1) / WINDOW;
      int size = (n + windows - 1) / windows;
      int from = target / size * size;
      List<Integer> window = new ArrayList<>();
      int[] tokens = new int[n];
      for (int i = from; i < Math.min(n, from + size); i++) {
        window.add(i);
        tokens[i] = batched.countTokens(docs.get(i));
      }
      window.sort(Comparator.comparingInt(i -> tokens[i]));
      int at = window.indexOf(target);
      List<Double> pairs = new ArrayList<>();
      for (int p = Math.max(0, at - around); p < Math.min(window.size(), at + around + 1); p++) {
        int other = window.get(p);
        if (other != target) {
          float[] v = batched.embedRequests(List.of(docs.get(target), docs.get(other)), dims).get(0);
          pairs.add(ArguAnaTexts.cosine(v, a.get(target)));
        }
      }
      double min = pairs.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
      double max = pairs.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
      System.out.printf("%npassage %d (%d tokens): with each of its %d nearest-length neighbours as its only company,"
          + " cosine to its vector alone %.5f to %.5f (in its whole batch %.5f)%n", target, tokens[target],
          pairs.size(), min, max, cos[target]);
    }
  }
}
