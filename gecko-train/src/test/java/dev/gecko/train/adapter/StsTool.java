package dev.gecko.train.adapter;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Measurement command for docs/training.md (not a unit test, not public API): STS Spearman of a
 * model folder or built-in model at several widths, with embeddings from the on-disk cache.
 *
 * <pre>
 * java -cp ... dev.gecko.train.adapter.StsTool MODEL CACHE_DIR DIMS FILE...
 * </pre>
 */
final class StsTool {
  private StsTool() {}

  public static void main(String[] args) throws Exception {
    String model = args[0];
    Path cacheDir = Path.of(args[1]);
    String[] dimList = args[2].split(",");
    ModelPackage pkg = ModelPackage.resolve(model);
    try (GeckoEmbedder embedder = GeckoEmbedder.builder().model(pkg.toBuilder().adapter(null).build()).build()) {
      dev.gecko.eval.EmbeddingCache cache = dev.gecko.eval.EmbeddingCache.open(cacheDir);
      dev.gecko.core.adapter.Adapter adapter = pkg.adapter().isPresent()
          ? dev.gecko.core.adapter.Adapter.load(pkg.adapter().get().path().orElseThrow()) : null;
      StringBuilder table = new StringBuilder("| data | " + String.join(" | ", dimList) + " |\n");
      for (int f = 3; f < args.length; f++) {
        TrainingData data = TrainingData.read(Path.of(args[f]));
        List<EmbedRequest> reqs = new ArrayList<>();
        for (TrainingExample e : data.examples()) {
          reqs.add(EmbedRequest.of(e.anchor()));
          reqs.add(EmbedRequest.of(e.positive()));
        }
        long t0 = System.nanoTime();
        List<float[]> vs = cache.embed(embedder, reqs, "embedding", dev.gecko.core.ProgressListener.none());
        System.err.printf(Locale.ROOT, "%s: %d texts in %.1f s%n", args[f], reqs.size(), (System.nanoTime() - t0) / 1e9);
        table.append("| ").append(Path.of(args[f]).getParent().getFileName()).append('/')
            .append(Path.of(args[f]).getFileName());
        for (String ds : dimList) {
          int m = Integer.parseInt(ds.trim());
          double[] gold = new double[data.size()];
          double[] pred = new double[data.size()];
          for (int i = 0; i < data.size(); i++) {
            gold[i] = data.examples().get(i).score();
            double[] a = toDouble(vs.get(2 * i), adapter);
            double[] b = toDouble(vs.get(2 * i + 1), adapter);
            pred[i] = Stats.cosine(a, b, m);
          }
          table.append(String.format(Locale.ROOT, " | %.2f", 100 * Stats.spearman(pred, gold)));
        }
        table.append(" |\n");
      }
      System.out.print(table);
    }
  }

  private static double[] toDouble(float[] v, dev.gecko.core.adapter.Adapter adapter) {
    float[] x = adapter == null ? v : adapter.apply(v);
    double[] d = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      d[i] = x[i];
    }
    return d;
  }
}
