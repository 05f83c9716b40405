package dev.gecko.train.fret;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.core.io.Passage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

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
  private static final System.Logger LOG = System.getLogger(FretExamples.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();

  private FretExamples() {}

  /**
   * The LLM servers of a run folder's manifest ({@code llmEndpoints}) once a run goes on there:
   * those of the runs before, then {@code endpoint} if it is new. Provenance, outside the digest: a
   * run that goes on on another server (the same model name) is logged as a warning and added, not
   * refused. {@link FretPipeline}'s manifest and gecko-spark's keep the list by this one rule.
   *
   * @param folder the run folder, for the warning
   * @param before the manifest's list so far (empty for a new run)
   * @param endpoint this run's ({@code LlmClient.endpoint()}), or null to add none
   */
  public static List<String> endpointsWith(Object folder, List<String> before, String endpoint) {
    List<String> endpoints = new ArrayList<>(before);
    if (endpoint != null && !endpoints.contains(endpoint)) {
      if (!endpoints.isEmpty()) {
        LOG.log(System.Logger.Level.WARNING, "{0}: the run goes on with answers from {1} (before: {2})", folder, endpoint,
            String.join(", ", endpoints));
      }
      endpoints.add(endpoint);
    }
    return List.copyOf(endpoints);
  }

  /**
   * What differs between a run folder's configuration and this run's, for a {@link
   * ResumeConflictException}'s message: each differing leaf as {@code path (was 'x', now 'y')}
   * ({@code (absent)} for a missing or null key), paths dotted ({@code embedder.fingerprint}), keys in
   * sorted order, at most 8. Numbers compare by value (42 read back as an int equals 42 written as
   * a long). Empty if they are equal. {@link FretPipeline}'s manifest and gecko-spark's name their
   * conflicts by this one rule.
   */
  public static List<String> configDifferences(JsonNode was, JsonNode now) {
    Objects.requireNonNull(was, "was is null");
    Objects.requireNonNull(now, "now is null");
    List<String> out = new ArrayList<>();
    diff("", was, now, out);
    return List.copyOf(out);
  }

  private static void diff(String path, JsonNode a, JsonNode b, List<String> out) {
    if (out.size() >= 8 || a.equals(b) || (absent(a) && absent(b))) {
      return;
    }
    if (a.isNumber() && b.isNumber() && a.decimalValue().compareTo(b.decimalValue()) == 0) {
      return; // 42 read back as an int equals 42 written as a long
    }
    if (a.isObject() && b.isObject()) {
      Set<String> keys = new TreeSet<>();
      a.fieldNames().forEachRemaining(keys::add);
      b.fieldNames().forEachRemaining(keys::add);
      for (String k : keys) {
        diff(path.isEmpty() ? k : path + "." + k, a.path(k), b.path(k), out);
      }
      return;
    }
    String was = absent(a) ? "(absent)" : shorten(a.isTextual() ? a.asText() : a.toString());
    String now = absent(b) ? "(absent)" : shorten(b.isTextual() ? b.asText() : b.toString());
    out.add(path + " (was " + was + ", now " + now + ")");
  }

  /** A key that is missing, or null (how a record reads a key an earlier writer did not write). */
  private static boolean absent(JsonNode n) {
    return n.isMissingNode() || n.isNull();
  }

  private static String shorten(String s) {
    return s.length() > 60 ? "'" + s.substring(0, 57) + "...'" : "'" + s + "'";
  }

  /**
   * Relabels one seed's candidates and returns its {@code examples.jsonl} line.
   *
   * @param seed the seed passage
   * @param query the task and query generated for it (step 1)
   * @param candidates the retrieved passages, nearest first (step 2)
   * @param retrievalScores their retrieval scores, in the same order
   * @param relabeler the relabeler (step 3: its LLM calls happen here)
   * @param negatives how the hard negative is chosen
   * @param randomSeed the run's seed for {@link NegativeSelection#RANDOM}
   * @throws RejectedAnswerException if fewer than 2 candidates were retrieved (stage {@code
   *     retrieve}), the LLM's grades stayed invalid (stage {@code ql} or {@code rc}), or no
   *     candidate fits as the hard negative, or the selection fell outside the candidates (stage
   *     {@code select})
   * @throws IllegalArgumentException if the candidates and scores differ in length
   * @throws dev.gecko.train.llm.LlmException if an LLM call failed beyond the client's retries
   */
  public static FretExample example(Passage seed, GeneratedQuery query, List<Passage> candidates, float[] retrievalScores,
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
    // a hard negative is a passage the LLM judged, both ways, less relevant: never the seed (the
    // query was written from it; it sinks to the bottom only when its grades were refused), never
    // an ungraded candidate (a refused grade ranks last, though its relevance is unknown), never a
    // copy of the positive's text
    List<ScoredCandidate> eligible = new java.util.ArrayList<>();
    for (ScoredCandidate c : ranked.subList(1, ranked.size())) {
      if (!c.passage().id().equals(seed.id()) && Double.isFinite(c.ql()) && Double.isFinite(c.rc())
          && !c.passage().text().equals(pos.passage().text())) {
        eligible.add(c);
      }
    }
    if (eligible.isEmpty()) {
      throw new RejectedAnswerException("select", "no candidate fits as the hard negative (the others are the seed,"
          + " ungraded or copies of the positive)", "");
    }
    ScoredCandidate neg;
    if (negatives == NegativeSelection.LAST) {
      neg = eligible.get(eligible.size() - 1);
    } else {
      Random r = new Random(randomSeed * 31 + seed.id().hashCode());
      neg = eligible.get(r.nextInt(eligible.size()));
    }
    // the selection must come from the candidate set (defence in depth against any id confusion)
    if (!candidates.contains(pos.passage()) || !candidates.contains(neg.passage()) || pos == neg) {
      throw new RejectedAnswerException("select", "selection outside the candidate set", "");
    }
    Integer seedRank = null;
    List<FretExample.Candidate> ranks = new ArrayList<>(ranked.size());
    for (ScoredCandidate c : ranked) {
      if (c.passage().id().equals(seed.id())) {
        seedRank = c.rank();
      }
      ranks.add(new FretExample.Candidate(c.passage().id(), c.rank(), c.rrf(), finite(c.ql()), c.qlRank(),
          finite(c.rc()), c.rcRank(), c.retrievalRank(), c.retrievalScore()));
    }
    Map<String, String> scorer = new LinkedHashMap<>();
    scorer.put("ql", relabeler.qlScorer().id());
    scorer.put("rc", relabeler.rcScorer().id());
    return new FretExample(query.query(), pos.passage().text(), neg.passage().text(), query.task(), query.query(),
        query.extra(), seed.id(), pos.passage().id(), neg.passage().id(), pos.passage().title(), neg.passage().title(),
        !pos.passage().id().equals(seed.id()), seedRank, scorer, ranks);
  }

  /**
   * A seed whose request the server refused as invalid (HTTP 400, 413, 422: a content filter, a
   * passage too long for the model) as a reject of stage {@code request}, for {@link #reject}: the
   * reason names the status (so that seeds refused alike count together), the answer the server's
   * words. The local pipeline and the Spark job treat such a seed alike: rejected, the run goes on.
   */
  public static RejectedAnswerException requestRefused(dev.gecko.train.llm.BadRequestException e) {
    String reason = "the LLM server refused the request as invalid" + (e.statusCode() > 0 ? " (HTTP " + e.statusCode() + ")" : "");
    return new RejectedAnswerException("request", reason, "(" + e.getMessage() + ")", e.body());
  }

  /**
   * Returns the {@code rejects.jsonl} line of a seed: {@code seed_id}, {@code stage}, {@code
   * reason} (the exception's message) and {@code answer} (the last answer, cut to 500 chars).
   */
  public static FretReject reject(String seedId, RejectedAnswerException e) {
    Objects.requireNonNull(seedId, "seedId is null");
    return new FretReject(seedId, e.stage(), e.getMessage(), e.lastAnswer());
  }

  /**
   * Returns an example's or a reject's line as {@code examples.jsonl} and {@code rejects.jsonl}
   * hold it (one JSON object, no line break): the one writer of both files.
   */
  public static String jsonLine(FretExample example) {
    return write(example);
  }

  /** Returns a reject's {@code rejects.jsonl} line; see {@link #jsonLine(FretExample)}. */
  public static String jsonLine(FretReject reject) {
    return write(reject);
  }

  static String write(Object line) {
    try {
      return JSON.writeValueAsString(line);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a FRet line: " + e.getOriginalMessage(), e);
    }
  }

  /** A score, or null for a refused grade (negative infinity internally). */
  private static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }
}
