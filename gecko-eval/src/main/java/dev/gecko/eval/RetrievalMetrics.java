package dev.gecko.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Retrieval metrics exactly as pytrec_eval (trec_eval 9.0.x) and MTEB compute them. Stateless and
 * thread-safe.
 *
 * <ul>
 *   <li>Ranking: a run's documents are sorted by score, highest first; equal scores are ordered by
 *       document id DESCENDING (trec_eval's {@code strcmp(b, a)}); the caller's order is ignored.
 *   <li>Relevant: a qrels grade {@code >= 1}. Documents absent from the qrels have grade 0.
 *   <li>{@code ndcg_at_k}: gain is the grade itself (linear), discount {@code 1/log2(rank + 1)};
 *       the ideal DCG uses all positive grades of the query's qrels, best first, cut at k; 0 if
 *       the query has no positive grade.
 *   <li>{@code map_at_k}: sum of precision at each relevant rank within k, divided by the number
 *       of relevant documents in the qrels (not {@code min(k, R)}).
 *   <li>{@code recall_at_k}: relevant in the top k divided by relevant in the qrels (0 if none).
 *   <li>{@code precision_at_k}: relevant in the top k divided by k, however many were retrieved.
 *   <li>{@code mrr_at_k}: 1/rank of the first document with grade {@code > 0} within k, else 0.
 *       MTEB ranks with Python's stable sort (ties in insertion order); this class uses the
 *       trec_eval order above, which differs only between documents with bit-identical scores.
 * </ul>
 *
 * Averages are over the queries that appear in both the qrels and the run, as pytrec_eval returns
 * them and MTEB averages them; queries whose qrels have no relevant document count, with 0.
 * Relevant documents that are missing from the corpus still count in R and the ideal DCG.
 */
public final class RetrievalMetrics {
  /** The cutoffs MTEB reports (its retrieval tasks' {@code k_values}). */
  public static final List<Integer> DEFAULT_KS = List.of(1, 3, 5, 10, 20, 100, 1000);

  /**
   * Returns {@code ks} with 10 among them (added in order where missing): the main score is
   * nDCG@10, and the run holds only the top {@code max(ks)} documents per query.
   */
  public static List<Integer> withMainCutoff(List<Integer> ks) {
    if (ks.contains(10)) {
      return List.copyOf(ks);
    }
    java.util.TreeSet<Integer> sorted = new java.util.TreeSet<>(ks);
    sorted.add(10);
    return List.copyOf(sorted);
  }

  /** The metric families, in report order; names are MTEB's prefixes. */
  public static final List<String> FAMILIES = List.of("ndcg", "map", "recall", "precision", "mrr");

  private RetrievalMetrics() {}

  /**
   * Returns the mean of every metric over the evaluated queries, as fractions in [0, 1], keyed
   * {@code "<family>_at_<k>"} (for example {@code "ndcg_at_10"}) in {@link #FAMILIES} then k
   * order.
   *
   * @param qrels query id to (document id to grade)
   * @param run query id to (document id to score)
   * @param ks cutoffs, each {@code >= 1}
   * @throws IllegalArgumentException if a cutoff is below 1 or no query is in both maps
   */
  public static Map<String, Double> evaluate(
      Map<String, Map<String, Integer>> qrels, Map<String, Map<String, Double>> run, List<Integer> ks) {
    Objects.requireNonNull(qrels, "qrels is null");
    Objects.requireNonNull(run, "run is null");
    Objects.requireNonNull(ks, "ks is null");
    for (int k : ks) {
      if (k < 1) {
        throw new IllegalArgumentException("cutoff k must be >= 1, was " + k);
      }
    }
    Map<String, Double> sums = new LinkedHashMap<>();
    for (String family : FAMILIES) {
      for (int k : ks) {
        sums.put(family + "_at_" + k, 0.0);
      }
    }
    int queries = 0;
    for (Map.Entry<String, Map<String, Double>> e : run.entrySet()) {
      Map<String, Integer> judged = qrels.get(e.getKey());
      if (judged == null) {
        continue;
      }
      queries++;
      Map<String, Double> one = evaluateQuery(judged, e.getValue(), ks);
      one.forEach((name, v) -> sums.merge(name, v, Double::sum));
    }
    if (queries == 0) {
      throw new IllegalArgumentException("no query is in both the qrels (" + qrels.size() + " queries) and the run ("
          + run.size() + " queries)");
    }
    int n = queries;
    sums.replaceAll((name, v) -> v / n);
    return sums;
  }

  /**
   * Returns every metric for one query, as fractions, keyed as in {@link #evaluate}.
   *
   * @param judged document id to grade for this query (may be empty or all zeros)
   * @param retrieved document id to score
   * @param ks cutoffs, each {@code >= 1}
   */
  public static Map<String, Double> evaluateQuery(
      Map<String, Integer> judged, Map<String, Double> retrieved, List<Integer> ks) {
    Objects.requireNonNull(judged, "judged is null");
    Objects.requireNonNull(retrieved, "retrieved is null");
    List<Map.Entry<String, Double>> ranked = new ArrayList<>(retrieved.entrySet());
    ranked.sort(TREC_ORDER);
    int n = ranked.size();
    int[] grade = new int[n];
    for (int i = 0; i < n; i++) {
      grade[i] = judged.getOrDefault(ranked.get(i).getKey(), 0);
    }
    int numRel = 0;
    List<Integer> positive = new ArrayList<>();
    for (int g : judged.values()) {
      if (g >= 1) {
        numRel++;
      }
      if (g > 0) {
        positive.add(g);
      }
    }
    positive.sort(Comparator.reverseOrder());

    Map<String, Double> out = new LinkedHashMap<>();
    for (int k : ks) {
      double dcg = 0;
      for (int i = 0; i < Math.min(k, n); i++) {
        if (grade[i] > 0) {
          dcg += grade[i] / log2(i + 2);
        }
      }
      double idcg = 0;
      for (int i = 0; i < Math.min(k, positive.size()); i++) {
        idcg += positive.get(i) / log2(i + 2);
      }
      out.put("ndcg_at_" + k, idcg > 0 ? dcg / idcg : 0.0);
    }
    for (int k : ks) {
      double sum = 0;
      int relSoFar = 0;
      for (int i = 0; i < Math.min(k, n); i++) {
        if (grade[i] >= 1) {
          relSoFar++;
          sum += (double) relSoFar / (i + 1);
        }
      }
      out.put("map_at_" + k, numRel == 0 ? 0.0 : sum / numRel);
    }
    for (int k : ks) {
      out.put("recall_at_" + k, numRel == 0 ? 0.0 : (double) relevantIn(grade, k) / numRel);
    }
    for (int k : ks) {
      out.put("precision_at_" + k, (double) relevantIn(grade, k) / k);
    }
    for (int k : ks) {
      double rr = 0;
      for (int i = 0; i < Math.min(k, n); i++) {
        if (grade[i] > 0) {
          rr = 1.0 / (i + 1);
          break;
        }
      }
      out.put("mrr_at_" + k, rr);
    }
    return out;
  }

  private static int relevantIn(int[] grade, int k) {
    int c = 0;
    for (int i = 0; i < Math.min(k, grade.length); i++) {
      if (grade[i] >= 1) {
        c++;
      }
    }
    return c;
  }

  private static double log2(int x) {
    return Math.log(x) / Math.log(2);
  }

  /** Score descending, then document id descending by code point (C strcmp on UTF-8 bytes). */
  static final Comparator<Map.Entry<String, Double>> TREC_ORDER = (a, b) -> {
    int c = Double.compare(b.getValue(), a.getValue());
    return c != 0 ? c : compareCodePoints(b.getKey(), a.getKey());
  };

  static int compareCodePoints(String a, String b) {
    int[] x = a.codePoints().toArray();
    int[] y = b.codePoints().toArray();
    return Arrays.compare(x, y);
  }
}
