package dev.gecko.finetune.internal;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.index.FlatIndex;
import dev.gecko.core.index.SearchHit;
import dev.gecko.core.io.Passage;
import dev.gecko.core.vector.VectorOps;
import dev.gecko.eval.BeirDataset;
import dev.gecko.eval.EmbeddingCache;
import dev.gecko.eval.RetrievalMetrics;
import dev.gecko.train.adapter.Basis;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One-off probe behind docs/finetuning.md's "reordered hidden coordinates" table: a model's
 * retrieval nDCG@10 per width, truncated and renormalised, with its coordinates as exported,
 * ordered by {@link HiddenOrder#byVariance} over the corpus vectors, rotated to the corpus
 * vectors' principal axes ({@link Basis#PRINCIPAL_AXES}, what {@code --basis PRINCIPAL_AXES}
 * starts from), to the axes of the corpus texts rendered as queries (what {@code --basis-task
 * retrieval-query} starts from) or of both, and centred on the corpus mean; no query or qrel
 * decides the order or the axes. Embeds the way {@code gecko eval retrieval} does, through the same embedding cache, so
 * the as-exported row equals that command's scores. Arguments: model, BEIR folder. Prints a
 * markdown table to standard output.
 */
public final class PrefixOrderProbe {
  private PrefixOrderProbe() {}

  public static void main(String[] args) throws Exception {
    BeirDataset data = BeirDataset.read(Path.of(args[1]));
    int[] widths = {384, 256, 128, 64, 32};
    try (GeckoEmbedder embedder = GeckoEmbedder.builder().model(args[0]).build()) {
      List<EmbedRequest> queries = new ArrayList<>();
      for (BeirDataset.Query q : data.queries()) {
        queries.add(EmbedRequest.query(q.text()));
      }
      List<EmbedRequest> docs = new ArrayList<>();
      for (Passage d : data.corpus()) {
        docs.add(EmbedRequest.document(d.text().strip()).withTitle(d.title()));
      }
      EmbeddingCache cache = EmbeddingCache.openDefault();
      List<float[]> qv = cache.embed(embedder, queries, "queries", p -> { });
      List<float[]> dv = cache.embed(embedder, docs, "corpus", p -> { });
      int width = dv.get(0).length;
      int[] byVariance = HiddenOrder.byVariance(dv.toArray(new float[0][]));
      float[][] axes = Basis.PRINCIPAL_AXES.ofUnitVectors(dv.toArray(new float[0][]));
      float[][] identityBasis = new float[width][width];
      float[][] varianceBasis = new float[width][width];
      for (int i = 0; i < width; i++) {
        identityBasis[i][i] = 1;
        varianceBasis[i][byVariance[i]] = 1;
      }
      System.out.print("| coordinates |");
      for (int w : widths) {
        System.out.print(" " + w + " |");
      }
      System.out.println();
      System.out.println("|---|---:|---:|---:|---:|---:|");
      List<EmbedRequest> corpusAsQueries = new ArrayList<>();
      for (Passage d : data.corpus()) {
        corpusAsQueries.add(EmbedRequest.query(d.text().strip()));
      }
      List<float[]> dq = cache.embed(embedder, corpusAsQueries, "corpus as queries", p -> { });
      List<float[]> both = new ArrayList<>(dv);
      both.addAll(dq);
      Map<String, float[][]> bases = new java.util.LinkedHashMap<>();
      bases.put("as exported", identityBasis);
      bases.put("by variance", varianceBasis);
      bases.put("principal axes (corpus as documents)", axes);
      bases.put("principal axes (corpus as queries)", Basis.PRINCIPAL_AXES.ofUnitVectors(dq.toArray(new float[0][])));
      bases.put("principal axes (corpus as both)", Basis.PRINCIPAL_AXES.ofUnitVectors(both.toArray(new float[0][])));
      for (Map.Entry<String, float[][]> order : bases.entrySet()) {
        printRow(order.getKey(), data, qv, dv, order.getValue(), widths);
      }
      // Centred: the corpus mean of the unit vectors subtracted from every vector first.
      float[] mean = new float[width];
      for (float[] v : dv) {
        float[] u = VectorOps.normalize(v.clone());
        for (int k = 0; k < width; k++) {
          mean[k] += u[k] / dv.size();
        }
      }
      List<float[]> cq = centre(qv, mean);
      List<float[]> cd = centre(dv, mean);
      printRow("centred, as exported", data, cq, cd, identityBasis, widths);
      printRow("centred, principal axes of the centred corpus", data, cq, cd, Basis.PRINCIPAL_AXES.of(toDouble(cd)),
          widths);
    }
  }

  private static void printRow(String name, BeirDataset data, List<float[]> qv, List<float[]> dv, float[][] basis,
      int[] widths) {
    System.out.print("| " + name + " |");
    for (int w : widths) {
      System.out.printf(" %.2f |", ndcg10(data, qv, dv, basis, Math.min(w, basis.length)));
    }
    System.out.println();
  }

  private static double ndcg10(BeirDataset data, List<float[]> qv, List<float[]> dv, float[][] basis, int w) {
    FlatIndex index = FlatIndex.builder(w).build();
    for (float[] v : dv) {
      index.add(VectorOps.truncateAndNormalize(rotate(v, basis), w));
    }
    Map<String, Map<String, Double>> run = new HashMap<>();
    int k = Math.min(1000, data.corpus().size());
    for (int i = 0; i < qv.size(); i++) {
      BeirDataset.Query q = data.queries().get(i);
      Map<String, Double> ranked = new HashMap<>();
      for (SearchHit h : index.search(VectorOps.truncateAndNormalize(rotate(qv.get(i), basis), w), k)) {
        ranked.put(data.corpus().get(h.ordinal()).id(), (double) h.score());
      }
      String name = data.name().toLowerCase(java.util.Locale.ROOT);
      if (name.contains("arguana") || name.contains("quora")) { // as gecko eval retrieval does by default
        ranked.remove(q.id());
      }
      run.put(q.id(), ranked);
    }
    return 100 * RetrievalMetrics.evaluate(data.qrels(), run, List.of(10)).get("ndcg_at_10");
  }

  private static List<float[]> centre(List<float[]> vs, float[] mean) {
    List<float[]> out = new ArrayList<>();
    for (float[] v : vs) {
      float[] u = VectorOps.normalize(v.clone());
      for (int k = 0; k < u.length; k++) {
        u[k] -= mean[k];
      }
      out.add(u);
    }
    return out;
  }

  private static double[][] toDouble(List<float[]> vs) {
    double[][] d = new double[vs.size()][];
    for (int i = 0; i < d.length; i++) {
      d[i] = new double[vs.get(i).length];
      for (int k = 0; k < d[i].length; k++) {
        d[i][k] = vs.get(i)[k];
      }
    }
    return d;
  }

  /** {@code B v}: rows of the basis are the new coordinates' axes (a permutation is a 0/1 basis). */
  private static float[] rotate(float[] v, float[][] basis) {
    float[] p = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      p[i] = VectorOps.dot(basis[i], v);
    }
    return p;
  }
}
