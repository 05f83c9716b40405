package dev.gecko.train.fret;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One line of a FRet run's {@code examples.jsonl}: a sentence-transformers triplet ({@code anchor},
 * {@code positive}, {@code negative}) with the task and its provenance. The format other tools read
 * (datasets' JSON loader, sentence-transformers' anchor/positive/negative columns), written and
 * read by Jackson databind. Immutable and thread-safe.
 *
 * @param anchor the query (the triplet's anchor)
 * @param positive the text of the passage ranked first after relabeling (often not the seed)
 * @param negative the text of the hard negative
 * @param task the generated task description
 * @param query the generated query (equals {@code anchor})
 * @param extra keys of the LLM's answer beyond task and query, kept as provenance and never used
 *     (absent when there were none)
 * @param seedId the seed passage's id
 * @param positiveId the positive's id
 * @param negativeId the negative's id
 * @param positiveTitle the positive's title
 * @param negativeTitle the negative's title
 * @param positiveChanged whether the positive is not the seed
 * @param seedRank the seed's final rank among the candidates, or null when it was not retrieved
 * @param scorer the scorers' ids: {@code ql} and {@code rc}
 * @param candidates every candidate, best first
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"anchor", "positive", "negative", "task", "query", "extra", "seed_id", "positive_id", "negative_id",
    "positive_title", "negative_title", "positive_changed", "seed_rank", "scorer", "candidates"})
public record FretExample(String anchor, String positive, String negative, String task, String query,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, String> extra,
    @JsonProperty("seed_id") String seedId,
    @JsonProperty("positive_id") String positiveId,
    @JsonProperty("negative_id") String negativeId,
    @JsonProperty("positive_title") String positiveTitle,
    @JsonProperty("negative_title") String negativeTitle,
    @JsonProperty("positive_changed") boolean positiveChanged,
    @JsonProperty("seed_rank") @JsonInclude(JsonInclude.Include.ALWAYS) Integer seedRank,
    Map<String, String> scorer,
    List<Candidate> candidates) {

  /** Copies the collections. */
  public FretExample {
    extra = extra == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extra)); // keeps the order
    scorer = scorer == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(scorer));
    candidates = candidates == null ? List.of() : List.copyOf(candidates);
  }

  /**
   * One relabeled candidate. Immutable and thread-safe.
   *
   * @param id the passage's id
   * @param rank its final rank (from 1)
   * @param rrf its reciprocal-rank-fusion score
   * @param ql the query likelihood score, or null where the LLM's grade stayed invalid (ranks last)
   * @param qlRank its rank by {@code ql}
   * @param rc the relevance score, or null where the LLM's grade stayed invalid (ranks last)
   * @param rcRank its rank by {@code rc}
   * @param retrievalRank its rank from the retriever
   * @param retrievalScore the retriever's similarity
   */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  @JsonPropertyOrder({"id", "rank", "rrf", "ql", "ql_rank", "rc", "rc_rank", "retrieval_rank", "retrieval_score"})
  public record Candidate(String id, int rank, double rrf, Double ql, @JsonProperty("ql_rank") int qlRank, Double rc,
      @JsonProperty("rc_rank") int rcRank, @JsonProperty("retrieval_rank") int retrievalRank,
      @JsonProperty("retrieval_score") float retrievalScore) {}
}
