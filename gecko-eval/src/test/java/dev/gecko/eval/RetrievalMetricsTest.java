package dev.gecko.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every metric against values computed by hand from trec_eval's definitions. */
class RetrievalMetricsTest {
  private static final List<Integer> KS = List.of(1, 3, 5, 10);
  private static final double EPS = 1e-12;

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }

  private static Map<String, Double> run(Object... idScore) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int i = 0; i < idScore.length; i += 2) {
      m.put((String) idScore[i], (Double) idScore[i + 1]);
    }
    return m;
  }

  /** q1: graded qrels, one relevant doc never retrieved, one judged non-relevant doc retrieved. */
  private static final Map<String, Integer> Q1_QRELS = Map.of("d1", 2, "d2", 1, "d3", 0, "d9", 1);
  // ranking by score: d1 (grade 2), d3 (0), d4 (unjudged), d2 (1)
  private static final Map<String, Double> Q1_RUN = run("d2", 0.5, "d4", 0.7, "d1", 0.9, "d3", 0.8);

  @Test
  void gradedQueryMatchesHandComputedValues() {
    Map<String, Double> m = RetrievalMetrics.evaluateQuery(Q1_QRELS, Q1_RUN, KS);
    // R = 3 relevant (d1, d2, d9); ideal gains 2, 1, 1 (linear gain, log2(rank + 1) discount)
    double idcg1 = 2;
    double idcg3 = 2 + 1 / log2(3) + 1 / log2(4);
    assertThat(m.get("ndcg_at_1")).isCloseTo(2 / idcg1, within(EPS));
    assertThat(m.get("ndcg_at_3")).isCloseTo(2 / idcg3, within(EPS));
    assertThat(m.get("ndcg_at_5")).isCloseTo((2 + 1 / log2(5)) / idcg3, within(EPS));
    assertThat(m.get("ndcg_at_10")).isCloseTo((2 + 1 / log2(5)) / idcg3, within(EPS));
    // MAP: precision at each relevant rank (1 at rank 1, 2/4 at rank 4) over R = 3
    assertThat(m.get("map_at_1")).isCloseTo(1.0 / 3, within(EPS));
    assertThat(m.get("map_at_3")).isCloseTo(1.0 / 3, within(EPS));
    assertThat(m.get("map_at_5")).isCloseTo((1 + 2.0 / 4) / 3, within(EPS));
    assertThat(m.get("recall_at_1")).isCloseTo(1.0 / 3, within(EPS));
    assertThat(m.get("recall_at_3")).isCloseTo(1.0 / 3, within(EPS));
    assertThat(m.get("recall_at_5")).isCloseTo(2.0 / 3, within(EPS));
    assertThat(m.get("recall_at_10")).isCloseTo(2.0 / 3, within(EPS));
    // P@k divides by k even when fewer than k documents were retrieved
    assertThat(m.get("precision_at_1")).isCloseTo(1.0, within(EPS));
    assertThat(m.get("precision_at_3")).isCloseTo(1.0 / 3, within(EPS));
    assertThat(m.get("precision_at_5")).isCloseTo(2.0 / 5, within(EPS));
    assertThat(m.get("precision_at_10")).isCloseTo(2.0 / 10, within(EPS));
    for (int k : KS) {
      assertThat(m.get("mrr_at_" + k)).isCloseTo(1.0, within(EPS));
    }
  }

  @Test
  void tiesAreBrokenByDocumentIdDescendingNotByInputOrder() {
    Map<String, Integer> qrels = Map.of("b", 1);
    // all equal: trec_eval ranks c, b, a; the relevant b is second whatever the input order
    for (Map<String, Double> r : List.of(run("a", 0.5, "b", 0.5, "c", 0.5), run("c", 0.5, "a", 0.5, "b", 0.5))) {
      Map<String, Double> m = RetrievalMetrics.evaluateQuery(qrels, r, KS);
      assertThat(m.get("ndcg_at_1")).isZero();
      assertThat(m.get("ndcg_at_3")).isCloseTo(1 / log2(3), within(EPS));
      assertThat(m.get("map_at_3")).isCloseTo(0.5, within(EPS));
      assertThat(m.get("recall_at_1")).isZero();
      assertThat(m.get("recall_at_3")).isCloseTo(1.0, within(EPS));
      assertThat(m.get("precision_at_3")).isCloseTo(1.0 / 3, within(EPS));
      assertThat(m.get("mrr_at_1")).isZero();
      assertThat(m.get("mrr_at_3")).isCloseTo(0.5, within(EPS));
    }
    // a higher score still wins over the id order
    Map<String, Double> m = RetrievalMetrics.evaluateQuery(qrels, run("c", 0.5, "b", 0.6), KS);
    assertThat(m.get("mrr_at_1")).isCloseTo(1.0, within(EPS));
  }

  @Test
  void idsTieBreakByCodePointsLikeStrcmp() {
    // "a10" > "a1" > "B" byte-wise; descending order puts a10 first
    Map<String, Double> m = RetrievalMetrics.evaluateQuery(Map.of("a1", 1), run("B", 1.0, "a1", 1.0, "a10", 1.0), KS);
    assertThat(m.get("mrr_at_10")).isCloseTo(0.5, within(EPS));
  }

  @Test
  void queryWithoutRelevantDocumentsScoresZeroAndCounts() {
    Map<String, Double> none = RetrievalMetrics.evaluateQuery(Map.of("x", 0), run("x", 0.9, "y", 0.1), KS);
    assertThat(none).hasSize(5 * KS.size());
    assertThat(none.values()).allSatisfy(v -> assertThat(v).isZero());

    Map<String, Map<String, Integer>> qrels = Map.of("q1", Q1_QRELS, "q3", Map.of("x", 0));
    Map<String, Map<String, Double>> runs = new LinkedHashMap<>();
    runs.put("q1", Q1_RUN);
    runs.put("q3", run("x", 0.9, "y", 0.1));
    runs.put("q-unjudged", run("d1", 1.0)); // not in qrels: ignored, as trec_eval does
    Map<String, Double> mean = RetrievalMetrics.evaluate(qrels, runs, KS);
    double idcg3 = 2 + 1 / log2(3) + 1 / log2(4);
    assertThat(mean.get("ndcg_at_3")).isCloseTo((2 / idcg3 + 0) / 2, within(EPS));
    assertThat(mean.get("map_at_5")).isCloseTo(((1 + 2.0 / 4) / 3) / 2, within(EPS));
    assertThat(mean.get("precision_at_1")).isCloseTo(0.5, within(EPS));
    assertThat(mean.get("mrr_at_10")).isCloseTo(0.5, within(EPS));
    assertThat(mean.keySet()).startsWith("ndcg_at_1", "ndcg_at_3", "ndcg_at_5", "ndcg_at_10", "map_at_1");
    assertThat(mean).hasSize(5 * KS.size());
  }

  @Test
  void emptyRunForAJudgedQueryScoresZero() {
    Map<String, Double> m = RetrievalMetrics.evaluateQuery(Map.of("d", 1), Map.of(), KS);
    assertThat(m).hasSize(5 * KS.size());
    assertThat(m.values()).allSatisfy(v -> assertThat(v).isZero());
  }

  @Test
  void rejectsBadInput() {
    assertThatThrownBy(() -> RetrievalMetrics.evaluate(Map.of("q", Map.of("d", 1)), Map.of("other", Map.of()), KS))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no query is in both");
    assertThatThrownBy(() -> RetrievalMetrics.evaluate(Map.of(), Map.of(), List.of(0)))
        .hasMessageContaining("k must be >= 1");
  }
}
