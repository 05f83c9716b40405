package dev.gecko.train.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.adapter.Adapter;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Measurement command for docs/training.md (not a unit test, not public API): ArguAna nDCG@10
 * (exact search, one relevant document per query, the query's own id ignored as MTEB does) at
 * several widths. Queries get the model's RETRIEVAL_QUERY prompt; documents are title + " " + text
 * with the default prompt (the same rendering the trainer caches).
 *
 * <pre>java -cp ... dev.gecko.train.adapter.ArguAnaTool MODEL CACHE_DIR DIMS ARGUANA_DIR</pre>
 */
final class ArguAnaTool {
  private ArguAnaTool() {}

  public static void main(String[] args) throws Exception {
    ObjectMapper json = new ObjectMapper();
    ModelPackage pkg = ModelPackage.resolve(args[0]);
    String[] dimList = args[2].split(",");
    Path dir = Path.of(args[3]);
    List<String> docIds = new ArrayList<>();
    List<EmbedRequest> docs = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(
        new GZIPInputStream(Files.newInputStream(dir.resolve("corpus.jsonl.gz"))), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        JsonNode n = json.readTree(line);
        String title = n.path("title").asText("");
        String text = n.path("text").asText("");
        docIds.add(n.get("_id").asText());
        docs.add(EmbedRequest.of(title.isBlank() ? text : (title + " " + text).strip()));
      }
    }
    Map<String, String> relevant = new HashMap<>();
    for (String line : Files.readAllLines(dir.resolve("qrels/test.tsv"))) {
      String[] c = line.split("\t");
      if (c.length >= 3 && !c[0].equals("query-id") && Integer.parseInt(c[2].trim()) > 0) {
        relevant.put(c[0], c[1]);
      }
    }
    List<String> qIds = new ArrayList<>();
    List<EmbedRequest> queries = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve("queries.jsonl"))) {
      JsonNode n = json.readTree(line);
      if (relevant.containsKey(n.get("_id").asText())) {
        qIds.add(n.get("_id").asText());
        queries.add(EmbedRequest.query(n.get("text").asText()));
      }
    }
    try (GeckoEmbedder embedder = GeckoEmbedder.builder().model(pkg.toBuilder().adapter(null).build()).build()) {
      EmbeddingCache cache = EmbeddingCache.open(Path.of(args[1]), embedder.model(), embedder.dimensions());
      Adapter adapter = pkg.adapter().isPresent() ? Adapter.load(pkg.adapter().get().path().orElseThrow()) : null;
      long t0 = System.nanoTime();
      double[][] d = adapt(cache.embed(embedder, docs, x -> { }), adapter);
      double[][] q = adapt(cache.embed(embedder, queries, x -> { }), adapter);
      System.err.printf(Locale.ROOT, "embedded %d docs, %d queries in %.1f s%n", d.length, q.length,
          (System.nanoTime() - t0) / 1e9);
      StringBuilder out = new StringBuilder("| data | " + String.join(" | ", dimList) + " |\n| arguana nDCG@10");
      for (String ds : dimList) {
        int m = Integer.parseInt(ds.trim());
        double[][] dn = normalize(d, m);
        double[][] qn = normalize(q, m);
        double sum = 0;
        for (int i = 0; i < qn.length; i++) {
          String rel = relevant.get(qIds.get(i));
          int relIdx = docIds.indexOf(rel);
          if (relIdx < 0) {
            continue; // relevant id absent from the corpus: the query scores 0, as in MTEB
          }
          double target = dot(qn[i], dn[relIdx]);
          int better = 0;
          for (int j = 0; j < dn.length && better < 10; j++) {
            if (j != relIdx && !docIds.get(j).equals(qIds.get(i)) && dot(qn[i], dn[j]) > target) {
              better++;
            }
          }
          if (better < 10) {
            sum += 1 / (Math.log(better + 2) / Math.log(2));
          }
        }
        out.append(String.format(Locale.ROOT, " | %.2f", 100 * sum / qn.length));
      }
      System.out.println(out.append(" |"));
    }
  }

  private static double[][] adapt(List<float[]> vs, Adapter adapter) {
    double[][] out = new double[vs.size()][];
    for (int i = 0; i < vs.size(); i++) {
      float[] v = adapter == null ? vs.get(i) : adapter.apply(vs.get(i));
      out[i] = new double[v.length];
      for (int t = 0; t < v.length; t++) {
        out[i][t] = v[t];
      }
    }
    return out;
  }

  private static double[][] normalize(double[][] v, int m) {
    double[][] out = new double[v.length][m];
    for (int i = 0; i < v.length; i++) {
      double n = 0;
      for (int t = 0; t < m; t++) {
        n += v[i][t] * v[i][t];
      }
      n = Math.sqrt(n);
      for (int t = 0; t < m; t++) {
        out[i][t] = n == 0 ? 0 : v[i][t] / n;
      }
    }
    return out;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int t = 0; t < a.length; t++) {
      s += a[t] * b[t];
    }
    return s;
  }
}
