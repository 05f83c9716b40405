package dev.gecko.train.fret;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gecko.core.io.Passage;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * FRet's last steps for one seed, as a function: relabel the retrieved candidates, select the
 * positive and the hard negative, and write the output line. {@link FretPipeline} runs it for each
 * seed after its own retrieval; runners that retrieve another way (gecko-spark's distributed top-k)
 * call it with their candidates, so that the same seed, query and candidates give the same example
 * wherever it runs. The line formats are those of {@code examples.jsonl} and {@code rejects.jsonl}
 * described in {@link FretPipeline}.
 *
 * <p>Stateless and thread-safe (the LLM calls go through the relabeler's client).
 */
public final class FretExamples {
  private static final ObjectMapper JSON = new ObjectMapper();

  private FretExamples() {}

  /**
   * Relabels one seed's candidates and returns its {@code examples.jsonl} object.
   *
   * @param seed the seed passage
   * @param query the task and query generated for it (step 1)
   * @param candidates the retrieved passages, nearest first (step 2)
   * @param retrievalScores their retrieval scores, in the same order
   * @param relabeler the relabeler (step 3: its LLM calls happen here)
   * @param negatives how the hard negative is chosen
   * @param randomSeed the run's seed for {@link NegativeSelection#RANDOM}
   * @throws RejectedAnswerException if fewer than 2 candidates were retrieved (stage {@code
   *     retrieve}), the LLM's grades stayed invalid (stage {@code ql} or {@code rc}), or the
   *     selection fell outside the candidates (stage {@code select})
   * @throws IllegalArgumentException if the candidates and scores differ in length
   * @throws dev.gecko.train.llm.LlmException if an LLM call failed beyond the client's retries
   */
  public static ObjectNode example(Passage seed, GeneratedQuery query, List<Passage> candidates, float[] retrievalScores,
      Relabeler relabeler, NegativeSelection negatives, long randomSeed) {
    Objects.requireNonNull(seed, "seed is null");
    Objects.requireNonNull(query, "query is null");
    Objects.requireNonNull(negatives, "negatives is null");
    if (candidates.size() != retrievalScores.length) {
      throw new IllegalArgumentException(candidates.size() + " candidates but " + retrievalScores.length + " scores");
    }
    if (candidates.size() < 2) {
      throw new RejectedAnswerException("retrieve", "fewer than 2 candidates retrieved", "");
    }
    List<ScoredCandidate> ranked = relabeler.relabel(query.query(), candidates, retrievalScores);
    ScoredCandidate pos = ranked.get(0);
    ScoredCandidate neg;
    if (negatives == NegativeSelection.LAST) {
      neg = ranked.get(ranked.size() - 1);
    } else {
      Random r = new Random(randomSeed * 31 + seed.id().hashCode());
      neg = ranked.get(1 + r.nextInt(ranked.size() - 1));
    }
    // the selection must come from the candidate set (defence in depth against any id confusion)
    if (!candidates.contains(pos.passage()) || !candidates.contains(neg.passage()) || pos == neg) {
      throw new RejectedAnswerException("select", "selection outside the candidate set", "");
    }
    ObjectNode o = JSON.createObjectNode();
    o.put("anchor", query.query());
    o.put("positive", pos.passage().text());
    o.put("negative", neg.passage().text());
    o.put("task", query.task());
    o.put("query", query.query());
    if (!query.extra().isEmpty()) {
      ObjectNode extra = o.putObject("extra"); // the answer's other keys: provenance, never the query
      query.extra().forEach(extra::put);
    }
    o.put("seed_id", seed.id());
    o.put("positive_id", pos.passage().id());
    o.put("negative_id", neg.passage().id());
    o.put("positive_title", pos.passage().title());
    o.put("negative_title", neg.passage().title());
    o.put("positive_changed", !pos.passage().id().equals(seed.id()));
    Integer seedRank = null;
    for (ScoredCandidate c : ranked) {
      if (c.passage().id().equals(seed.id())) {
        seedRank = c.rank();
      }
    }
    if (seedRank == null) {
      o.putNull("seed_rank");
    } else {
      o.put("seed_rank", seedRank);
    }
    o.putObject("scorer").put("ql", relabeler.qlScorer().id()).put("rc", relabeler.rcScorer().id());
    ArrayNode arr = o.putArray("candidates");
    for (ScoredCandidate c : ranked) {
      ObjectNode cn = arr.addObject().put("id", c.passage().id()).put("rank", c.rank()).put("rrf", c.rrf());
      score(cn, "ql", c.ql()).put("ql_rank", c.qlRank());
      score(cn, "rc", c.rc()).put("rc_rank", c.rcRank());
      cn.put("retrieval_rank", c.retrievalRank()).put("retrieval_score", c.retrievalScore());
    }
    return o;
  }

  /**
   * Returns the {@code rejects.jsonl} object of a seed: {@code seed_id}, {@code stage}, {@code
   * reason} (the exception's message) and {@code answer} (the last answer, cut to 500 chars).
   */
  public static ObjectNode reject(String seedId, RejectedAnswerException e) {
    Objects.requireNonNull(seedId, "seedId is null");
    ObjectNode r = JSON.createObjectNode();
    r.put("seed_id", seedId).put("stage", e.stage()).put("reason", e.getMessage()).put("answer", e.lastAnswer());
    return r;
  }

  /** Writes a score; null for a refused grade (negative infinity internally). */
  private static ObjectNode score(ObjectNode n, String field, double v) {
    if (Double.isFinite(v)) {
      n.put(field, v);
    } else {
      n.putNull(field);
    }
    return n;
  }
}
