package dev.gecko.train.adapter;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.adapter.Adapter;
import dev.gecko.core.index.FlatIndex;
import dev.gecko.core.index.SearchHit;
import dev.gecko.core.vector.VectorOps;
import dev.gecko.eval.BeirDataset;
import dev.gecko.eval.RetrievalMetrics;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Measurement command for docs/training.md (not a unit test, not public API): nDCG@10 on a BEIR
 * folder (ArguAna) at several widths, base model or a trained folder's adapter applied to the
 * base model's cached vectors. Requests, exact float search ({@code FlatIndex}), the query's own id
 * dropped from its results (as MTEB does for ArguAna) and the metrics ({@code RetrievalMetrics},
 * pytrec_eval's definitions and tie order) are those of {@code gecko eval retrieval}, so the base
 * row equals its numbers.
 *
 * <pre>java -cp ... dev.gecko.train.adapter.ArguAnaTool MODEL CACHE_DIR DIMS BEIR_DIR</pre>
 */
final class ArguAnaTool {
  private ArguAnaTool() {}

  public static void main(String[] args) throws Exception {
    ModelPackage pkg = ModelPackage.resolve(args[0]);
    String[] dimList = args[2].split(",");
    BeirDataset data = BeirDataset.read(Path.of(args[3]), "test");
    List<EmbedRequest> queries = new ArrayList<>();
    for (BeirDataset.Query q : data.queries()) {
      queries.add(EmbedRequest.query(q.text()));
    }
    List<EmbedRequest> docs = new ArrayList<>();
    for (dev.gecko.core.io.Passage d : data.corpus()) {
      docs.add(EmbedRequest.document(d.text().strip()).withTitle(d.title()));
    }
    try (GeckoEmbedder embedder = GeckoEmbedder.builder().model(pkg.toBuilder().adapter(null).build()).build()) {
      dev.gecko.eval.EmbeddingCache cache = dev.gecko.eval.EmbeddingCache.open(Path.of(args[1]));
      Adapter adapter = pkg.adapter().isPresent() ? Adapter.load(pkg.adapter().get().path().orElseThrow()) : null;
      long t0 = System.nanoTime();
      List<float[]> d = adapt(cache.embed(embedder, docs, "embedding", dev.gecko.core.ProgressListener.none()), adapter);
      List<float[]> q = adapt(cache.embed(embedder, queries, "embedding", dev.gecko.core.ProgressListener.none()), adapter);
      System.err.printf(Locale.ROOT, "embedded %d docs, %d queries in %.1f s%n", d.size(), q.size(),
          (System.nanoTime() - t0) / 1e9);
      StringBuilder out = new StringBuilder("| data | " + String.join(" | ", dimList) + " |\n| " + data.name()
          + " nDCG@10");
      int topK = Math.min(1000, d.size());
      for (String ds : dimList) {
        int m = Integer.parseInt(ds.trim());
        FlatIndex index = FlatIndex.builder(m).build();
        for (float[] v : d) {
          index.add(VectorOps.truncateAndNormalize(v, m));
        }
        Map<String, Map<String, Double>> run = new HashMap<>();
        for (int i = 0; i < q.size(); i++) {
          Map<String, Double> ranked = new HashMap<>();
          for (SearchHit h : index.search(VectorOps.truncateAndNormalize(q.get(i), m), topK)) {
            ranked.put(data.corpus().get(h.ordinal()).id(), (double) h.score());
          }
          ranked.remove(data.queries().get(i).id());
          run.put(data.queries().get(i).id(), ranked);
        }
        double ndcg = RetrievalMetrics.evaluate(data.qrels(), run, List.of(10)).get("ndcg_at_10");
        out.append(String.format(Locale.ROOT, " | %.2f", 100 * ndcg));
      }
      System.out.println(out.append(" |"));
    }
  }

  private static List<float[]> adapt(List<float[]> vs, Adapter adapter) {
    if (adapter == null) {
      return vs;
    }
    List<float[]> out = new ArrayList<>(vs.size());
    for (float[] v : vs) {
      out.add(adapter.apply(v));
    }
    return out;
  }
}
