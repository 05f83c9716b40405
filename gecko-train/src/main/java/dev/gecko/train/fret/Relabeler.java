package dev.gecko.train.fret;

import dev.gecko.core.io.Passage;
import dev.gecko.train.llm.GenerationOptions;
import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmRequest;
import dev.gecko.train.llm.LlmResponse;
import dev.gecko.train.llm.Message;
import dev.gecko.train.llm.TokenLogprob;
import dev.gecko.train.llm.UnsupportedCapabilityException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * FRet step 2's relabeling: scores each retrieved passage with a query likelihood scorer and a
 * relevance scorer (see {@link Scorer}), ranks the passages by each, and fuses the ranks as the
 * paper does: {@code R(q, p) = 1/rank_QL(p) + 1/rank_RC(p)} (ranks from 1, no constant).
 *
 * <p>Graded answers must be one of the labels 0-3 (a text answer may wrap its digit in markdown or
 * a label: see {@link #textGrade}); anything else is sent back once per remaining attempt. A
 * candidate whose grade stays invalid gets the lowest score under that scorer (so an injected
 * passage cannot promote itself); when most candidates stay invalid the seed is refused
 * with {@link RejectedAnswerException}. Thread-safe.
 */
public final class Relabeler {
  /** Markdown emphasis and code marks, dropped before a text grade is read. */
  private static final Pattern EMPHASIS = Pattern.compile("[*_`#~]+");
  /** A leading label such as {@code Grade:} or {@code Relevance (0-3) =}: a letter first, up to the first colon or equals sign. */
  private static final Pattern LABEL = Pattern.compile("^\\s*\\p{L}[^:=\\n]{0,40}[:=]");
  /** A standalone number (not part of a word or a longer number), with a sign written against it. */
  private static final Pattern NUMBER = Pattern.compile("(?<![\\p{Alnum}.,])[-+\u2212]?[0-9]+(?:[.,][0-9]+)?(?![\\p{Alnum}]|[.,][0-9])");
  private static final int LABELS = 4;
  private final LlmClient llm;
  private final Prompts prompts;
  private final Scorer qlScorer;
  private final Scorer rcScorer;
  private final int attempts;

  /**
   * Creates a relabeler with explicit scorers.
   *
   * @throws IllegalArgumentException if a scorer is of the wrong kind, or {@code attempts < 1}
   * @throws UnsupportedCapabilityException if the client lacks what a scorer needs
   */
  public Relabeler(LlmClient llm, Prompts prompts, Scorer ql, Scorer rc, int attempts) {
    this.llm = Objects.requireNonNull(llm, "llm is null");
    this.prompts = Objects.requireNonNull(prompts, "prompts is null");
    if (!ql.isQueryLikelihood() || rc.isQueryLikelihood()) {
      throw new IllegalArgumentException("need a query likelihood scorer and a relevance scorer, got " + ql + ", " + rc);
    }
    for (Scorer s : List.of(ql, rc)) {
      if (s.requires() != null && !llm.capabilities().contains(s.requires())) {
        throw new UnsupportedCapabilityException(s.requires(), llm.model());
      }
    }
    if (attempts < 1) {
      throw new IllegalArgumentException("attempts must be >= 1, was " + attempts);
    }
    this.qlScorer = ql;
    this.rcScorer = rc;
    this.attempts = attempts;
  }

  /** Creates a relabeler with the best scorers the client's capabilities allow. */
  public Relabeler(LlmClient llm, Prompts prompts, int attempts) {
    this(llm, prompts, Scorer.forQl(llm.capabilities()), Scorer.forRc(llm.capabilities()), attempts);
  }

  /** Returns the query likelihood scorer. */
  public Scorer qlScorer() {
    return qlScorer;
  }

  /** Returns the relevance scorer. */
  public Scorer rcScorer() {
    return rcScorer;
  }

  /**
   * Scores and fuses the candidates (in retrieval order, with their retrieval scores).
   *
   * @return the candidates ordered by final rank, best first
   * @throws RejectedAnswerException if most candidates' grades stayed invalid after the repair attempts
   * @throws dev.gecko.train.llm.LlmException if an LLM call fails
   */
  public List<ScoredCandidate> relabel(String query, List<Passage> candidates, float[] retrievalScores) {
    Grades ql = new Grades(qlScorer, "ql", candidates.size());
    Grades rc = new Grades(rcScorer, "rc", candidates.size());
    RejectedAnswerException last = null;
    int n = candidates.size();
    for (int i = 0; i < n; i++) {
      for (Grades g : List.of(ql, rc)) {
        RejectedAnswerException failed = g.grade(query, candidates, i);
        if (failed != null) {
          last = failed;
        }
      }
      if (2 * Math.max(ql.invalid, rc.invalid) > n) {
        // the seed is lost whatever the other candidates' grades: they are not paid for
        throw new RejectedAnswerException(last.stage(), "most candidates got no valid grade; last: " + last.reason(),
            "(" + ql.invalid + " QL, " + rc.invalid + " RC of " + n + " invalid" + (i + 1 < n ? ", the last "
                + (n - i - 1) + " not graded" : "") + ")" + (last.detail().isEmpty() ? "" : " " + last.detail()),
            last.lastAnswer());
      }
    }
    return fuse(candidates, retrievalScores, ql.scores, rc.scores);
  }

  /** One scorer's grades of a seed's candidates, and how many were invalid or refused. Not thread-safe. */
  private final class Grades {
    private final Scorer scorer;
    private final String stage;
    final double[] scores;
    int invalid;
    private int refused;

    Grades(Scorer scorer, String stage, int candidates) {
      this.scorer = scorer;
      this.stage = stage;
      this.scores = new double[candidates];
    }

    /**
     * Grades candidate {@code i}; an invalid grade ranks last (it cannot promote its passage) and
     * is returned, null otherwise.
     *
     * @throws dev.gecko.train.llm.BadRequestException where this scorer's first two requests were
     *     refused alike: the request itself, not a passage (see {@link #refused})
     */
    RejectedAnswerException grade(String query, List<Passage> candidates, int i) {
      try {
        scores[i] = score(scorer, query, candidates.get(i));
        return null;
      } catch (RejectedAnswerException e) {
        scores[i] = Double.NEGATIVE_INFINITY;
        invalid++;
        return e;
      } catch (dev.gecko.train.llm.BadRequestException e) { // this candidate's prompt (a long passage, say)
        if (++refused == 2 && refused == i + 1) {
          throw e; // the seed goes, as before
        }
        scores[i] = Double.NEGATIVE_INFINITY;
        invalid++;
        return refused(stage, candidates.get(i), e);
      }
    }
  }

  /**
   * A candidate's grade request that the server refused as invalid (HTTP 400, 413, 422: its
   * passage too long for the model's context, a content filter): that grade is invalid, as a
   * refused answer is, and the seed goes on with the other candidates. Where the first two
   * candidates' requests of a scorer are both refused, the request itself is at fault (a server
   * that refuses the scorer's options): the failure is thrown and the seed rejected, as before.
   */
  private static RejectedAnswerException refused(String stage, Passage candidate, dev.gecko.train.llm.BadRequestException e) {
    // the reason is the same for every candidate, so that refused seeds count together; the id is detail
    return new RejectedAnswerException(stage, "the LLM server refused a grading request as invalid"
        + (e.statusCode() > 0 ? " (HTTP " + e.statusCode() + ")" : ""), "(candidate " + candidate.id() + ")",
        e.body() == null ? "" : e.body());
  }

  /**
   * Ranks by each score (descending; ties share the best rank), fuses with {@code 1/rank_QL +
   * 1/rank_RC} and orders by the fused score (descending; ties by retrieval order).
   *
   * @throws IllegalArgumentException if the arrays differ in length or a score is NaN
   */
  public static List<ScoredCandidate> fuse(List<Passage> candidates, float[] retrievalScores, double[] ql, double[] rc) {
    int n = candidates.size();
    if (retrievalScores.length != n || ql.length != n || rc.length != n) {
      throw new IllegalArgumentException("candidates and scores differ in length");
    }
    int[] qlRank = ranks(ql);
    int[] rcRank = ranks(rc);
    List<ScoredCandidate> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double r = 1.0 / qlRank[i] + 1.0 / rcRank[i];
      out.add(new ScoredCandidate(candidates.get(i), i + 1, retrievalScores[i], ql[i], rc[i], qlRank[i], rcRank[i], r, 0));
    }
    out.sort(Comparator.comparingDouble(ScoredCandidate::rrf).reversed().thenComparingInt(ScoredCandidate::retrievalRank));
    List<ScoredCandidate> ranked = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ScoredCandidate c = out.get(i);
      ranked.add(new ScoredCandidate(c.passage(), c.retrievalRank(), c.retrievalScore(), c.ql(), c.rc(), c.qlRank(),
          c.rcRank(), c.rrf(), i + 1));
    }
    return ranked;
  }

  /** Competition ranks, descending: rank = 1 + number of strictly higher scores. */
  static int[] ranks(double[] scores) {
    int[] r = new int[scores.length];
    for (int i = 0; i < scores.length; i++) {
      if (Double.isNaN(scores[i])) {
        throw new IllegalArgumentException("score " + i + " is NaN");
      }
      int higher = 0;
      for (double s : scores) {
        if (s > scores[i]) {
          higher++;
        }
      }
      r[i] = higher + 1;
    }
    return r;
  }

  double score(Scorer scorer, String query, Passage p) {
    if (scorer == Scorer.QL_PROMPT_LOGPROBS) {
      Prompts.LikelihoodPrompt lp = prompts.likelihoodPrompt(query, p);
      // outside the try: a server that gives no usable echo at all (after the client's retries)
      // does not support this scorer, which stops the run; only an echo that does not line up
      // with this prompt is this grade's problem
      dev.gecko.train.llm.PromptLogprobs echo;
      try {
        echo = llm.promptLogprobs(lp.prompt());
      } catch (dev.gecko.train.llm.MalformedResponseException e) {
        throw new dev.gecko.train.llm.LlmException("the LLM server gave no usable echo of prompt log-probabilities, which"
            + " the query-likelihood scorer " + scorer + " needs (" + e.getMessage() + "), after the client's retries: if"
            + " the connection is sound, use a server that supports echo with logprobs, or another scorer (gecko"
            + " generate: leave out --prompt-logprobs)", e);
      }
      try {
        return echo.suffixLogLikelihood(lp.queryStart());
      } catch (dev.gecko.train.llm.MalformedResponseException | IllegalArgumentException e) {
        // the echo does not line up with the prompt (a character the tokenizer splits, echoed as
        // U+FFFD or bytes): this grade is invalid, not the run; the same echo, replayed from the
        // cache on a rerun, is refused the same way
        throw new RejectedAnswerException("ql", "the echoed prompt tokens do not align with the prompt: "
            + e.getMessage(), "");
      }
    }
    List<Message> messages = new ArrayList<>(scorer.isQueryLikelihood()
        ? prompts.likelihoodJudgedMessages(query, p) : prompts.relevanceMessages(query, p));
    boolean logprobs = scorer == Scorer.QL_JUDGED_TOP_LOGPROBS || scorer == Scorer.RC_TOP_LOGPROBS;
    GenerationOptions options = logprobs ? GenerationOptions.DEFAULT.withMaxTokens(1).withTopLogprobs(10)
        : GenerationOptions.DEFAULT.withMaxTokens(4);
    Refusal refusal = null;
    String answer = "";
    for (int i = 0; i < attempts; i++) {
      LlmRequest request = new LlmRequest(messages, options);
      LlmResponse r = llm.generate(request);
      answer = r.text();
      Object v = logprobs ? expectedGrade(r) : textGrade(answer);
      if (v instanceof Double) {
        return (Double) v;
      }
      llm.refused(request);
      refusal = (Refusal) v;
      if (answer == null || answer.isBlank()) {
        // nothing to show back (providers refuse an empty assistant turn): the same request again
        continue;
      }
      messages.add(Message.assistant(QueryGenerator.cut(answer, 200)));
      messages.add(Message.user("That answer was refused: " + refusal + ". Reply with the single digit 0, 1, 2 or 3 only."));
    }
    throw new RejectedAnswerException(scorer.isQueryLikelihood() ? "ql" : "rc",
        refusal.reason() + " (after " + attempts + " attempts)", refusal.detail().isEmpty() ? "" : "(" + refusal.detail() + ")",
        answer);
  }

  /**
   * Why a grade was refused: a reason that is the same for every answer refused alike (seeds
   * rejected for it count together in a run's summary), and what was particular to this answer.
   */
  record Refusal(String reason, String detail) {
    @Override
    public String toString() {
      return detail.isEmpty() ? reason : reason + " (" + detail + ")";
    }
  }

  /**
   * The grade parsed from text (a {@code Double}), or why it is refused (a {@link Refusal}). Real models wrap the digit ({@code
   * **2**}, {@code Grade: 2}, {@code 2 - somewhat relevant}): markdown emphasis and a leading label
   * are dropped (a label holding the only number, as in {@code Grade 2: relevant}, is kept), and
   * the rest must hold exactly one standalone number, a whole grade 0-3. An answer with two
   * numbers ({@code 2 or 3}) is ambiguous and refused, as is one outside the label set ({@code 7},
   * {@code -1}, {@code 2.5}).
   */
  static Object textGrade(String answer) {
    String text = EMPHASIS.matcher(answer == null ? "" : answer).replaceAll("");
    List<String> numbers = numbers(LABEL.matcher(text).replaceFirst(""));
    if (numbers.isEmpty()) {
      numbers = numbers(text); // "Grade 2: somewhat relevant": the grade was in what looked like a label
    }
    if (numbers.isEmpty()) {
      return new Refusal("the answer is not a single grade digit", "");
    }
    if (numbers.size() > 1) {
      return new Refusal("the answer holds more than one number, so its grade is ambiguous", "");
    }
    String n = numbers.get(0).replace('\u2212', '-');
    if (!n.matches("[-+]?[0-9]{1,9}")) {
      return new Refusal("the grade is outside the label set 0-3", "grade " + (n.length() > 12 ? n.substring(0, 12) + "..." : n));
    }
    int g = Integer.parseInt(n);
    if (g < 0 || g >= LABELS) {
      return new Refusal("the grade is outside the label set 0-3", "grade " + g);
    }
    return (double) g;
  }

  private static List<String> numbers(String text) {
    Matcher m = NUMBER.matcher(text);
    List<String> out = new ArrayList<>();
    while (m.find()) {
      out.add(m.group());
    }
    return out;
  }

  /**
   * Expected grade from the first generated token's top log-probabilities (a {@code Double}), or why
   * it is refused (a {@link Refusal}).
   */
  static Object expectedGrade(LlmResponse r) {
    if (r.logprobs().isEmpty()) {
      return new Refusal("the response carries no log-probabilities", "");
    }
    TokenLogprob first = r.logprobs().get(0);
    double[] lse = new double[LABELS];
    java.util.Arrays.fill(lse, Double.NEGATIVE_INFINITY);
    boolean any = false;
    List<TokenLogprob.Alternative> alts = new ArrayList<>(first.top());
    if (alts.isEmpty()) {
      alts.add(new TokenLogprob.Alternative(first.token(), first.logprob()));
    }
    for (TokenLogprob.Alternative a : alts) {
      String t = a.token().strip();
      if (t.length() == 1 && t.charAt(0) >= '0' && t.charAt(0) < '0' + LABELS && Double.isFinite(a.logprob())) {
        int k = t.charAt(0) - '0';
        lse[k] = logAdd(lse[k], a.logprob());
        any = true;
      }
    }
    if (!any) {
      return new Refusal("no grade 0-3 among the first token's likely tokens", "answer '" + first.token() + "'");
    }
    double max = Double.NEGATIVE_INFINITY;
    for (double v : lse) {
      max = Math.max(max, v);
    }
    double z = 0;
    double e = 0;
    for (int k = 0; k < LABELS; k++) {
      double w = Math.exp(lse[k] - max);
      z += w;
      e += k * w;
    }
    double mass = z * Math.exp(max); // the probability the first token is a grade at all
    if (mass < MIN_GRADE_MASS) {
      // a refusal ("I ...") with a stray digit far down the list would renormalise into a confident grade
      return new Refusal("the first token is mostly not a grade", String.format(java.util.Locale.ROOT,
          "p = %.3f that it is 0-3; answer '%s'", mass, first.token()));
    }
    return e / z;
  }

  /** The least probability, summed over the labels 0-3, that the first token must give them to be read as a grade. */
  static final double MIN_GRADE_MASS = 0.5;

  private static double logAdd(double a, double b) {
    if (a == Double.NEGATIVE_INFINITY) {
      return b;
    }
    double m = Math.max(a, b);
    return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
  }
}
