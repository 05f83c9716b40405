package dev.gecko.train.fret;

import dev.gecko.train.llm.LlmClient;
import java.io.Serializable;
import java.util.Objects;

/**
 * What a FRet run asks of the LLM and how it picks its examples: the prompts, the candidates per
 * query, the hard negative's selection, the generation temperature, the attempts per question, the
 * seeds worked on at once, the seed limit, the early stop and, optionally, forced scorers. One value
 * configures both runners, {@link FretPipeline} (one JVM) and gecko-spark's {@code FretSparkJob}, so
 * that the same settings give the same examples.
 *
 * <pre>{@code
 * FretSettings settings = FretSettings.builder().candidates(30).limit(1_000).build();
 * FretPipeline.builder().llm(llm).embedder(embedder).corpus(passages).output(dir).settings(settings)...
 * }</pre>
 *
 * <p>Immutable and thread-safe; serializable, so that distributed runners can ship it to their
 * tasks. Build with {@link #builder()}, whose setters validate at once.
 */
public final class FretSettings implements Serializable {
  private static final long serialVersionUID = 1L;
  /** Default of {@link Builder#earlyStop(int)}: seeds that must not all be rejected at the start of a run. */
  public static final int DEFAULT_EARLY_STOP = 20;
  private static final FretSettings DEFAULTS = new Builder().build();

  private final Prompts prompts;
  private final int candidates;
  private final NegativeSelection negatives;
  private final long randomSeed;
  private final double generationTemperature;
  private final int attempts;
  private final int concurrency;
  private final int limit;
  private final int earlyStop;
  private final Scorer qlScorer;
  private final Scorer rcScorer;

  private FretSettings(Builder b) {
    this.prompts = b.prompts;
    this.candidates = b.candidates;
    this.negatives = b.negatives;
    this.randomSeed = b.randomSeed;
    this.generationTemperature = b.generationTemperature;
    this.attempts = b.attempts;
    this.concurrency = b.concurrency;
    this.limit = b.limit;
    this.earlyStop = b.earlyStop;
    this.qlScorer = b.qlScorer;
    this.rcScorer = b.rcScorer;
  }

  /** Returns the defaults: the paper's 20 candidates, the last-ranked negative, 3 attempts, 4 seeds at once, no limit. */
  public static FretSettings defaults() {
    return DEFAULTS;
  }

  /** Returns a builder holding the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns a builder holding these settings. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.prompts = prompts;
    b.candidates = candidates;
    b.negatives = negatives;
    b.randomSeed = randomSeed;
    b.generationTemperature = generationTemperature;
    b.attempts = attempts;
    b.concurrency = concurrency;
    b.limit = limit;
    b.earlyStop = earlyStop;
    b.qlScorer = qlScorer;
    b.rcScorer = rcScorer;
    return b;
  }

  /** The prompts. */
  public Prompts prompts() {
    return prompts;
  }

  /** N, the neighbours retrieved and relabeled per query. */
  public int candidates() {
    return candidates;
  }

  /** How the hard negative is chosen. */
  public NegativeSelection negatives() {
    return negatives;
  }

  /** The seed of {@link NegativeSelection#RANDOM}. */
  public long randomSeed() {
    return randomSeed;
  }

  /** The query generation temperature (scorers always use 0). */
  public double generationTemperature() {
    return generationTemperature;
  }

  /** The answers tried per LLM question before a seed is rejected. */
  public int attempts() {
    return attempts;
  }

  /** The seeds worked on at once (per task, for a distributed runner). */
  public int concurrency() {
    return concurrency;
  }

  /** The seeds: the first {@code limit} passages of the corpus ({@link Integer#MAX_VALUE}: all). */
  public int limit() {
    return limit;
  }

  /** The early stop: the first seeds of a run that must not all be rejected (0: never stop early). */
  public int earlyStop() {
    return earlyStop;
  }

  /** The forced query likelihood scorer, or null to pick the best the LLM's capabilities allow. */
  public Scorer qlScorer() {
    return qlScorer;
  }

  /** The forced relevance scorer, or null to pick the best the LLM's capabilities allow. */
  public Scorer rcScorer() {
    return rcScorer;
  }

  /** Returns the query generator these settings describe, asking {@code llm}. */
  public QueryGenerator queryGenerator(LlmClient llm) {
    return new QueryGenerator(llm, prompts, generationTemperature, attempts);
  }

  /** Returns the relabeler these settings describe (forced scorers, or the best {@code llm} allows). */
  public Relabeler relabeler(LlmClient llm) {
    return qlScorer != null ? new Relabeler(llm, prompts, qlScorer, rcScorer, attempts) : new Relabeler(llm, prompts, attempts);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FretSettings s && s.prompts.toJson().equals(prompts.toJson()) && s.candidates == candidates && s.negatives == negatives
        && s.randomSeed == randomSeed && Double.compare(s.generationTemperature, generationTemperature) == 0
        && s.attempts == attempts && s.concurrency == concurrency && s.limit == limit && s.earlyStop == earlyStop
        && s.qlScorer == qlScorer && s.rcScorer == rcScorer;
  }

  @Override
  public int hashCode() {
    return Objects.hash(prompts.toJson(), candidates, negatives, randomSeed, generationTemperature, attempts, concurrency, limit,
        earlyStop, qlScorer, rcScorer);
  }

  @Override
  public String toString() {
    return "FretSettings[candidates=" + candidates + ", negatives=" + negatives + ", randomSeed=" + randomSeed
        + ", generationTemperature=" + generationTemperature + ", attempts=" + attempts + ", concurrency=" + concurrency
        + ", limit=" + (limit == Integer.MAX_VALUE ? "all" : limit) + ", earlyStop=" + earlyStop
        + (qlScorer == null ? "" : ", scorers=" + qlScorer + "/" + rcScorer) + "]";
  }

  /** Builds {@link FretSettings}. Setters validate at once. Not thread-safe; reusable. */
  public static final class Builder {
    private Prompts prompts = Prompts.defaults();
    private int candidates = 20;
    private NegativeSelection negatives = NegativeSelection.LAST;
    private long randomSeed = 42;
    private double generationTemperature = 0.7;
    private int attempts = 3;
    private int concurrency = 4;
    private int limit = Integer.MAX_VALUE;
    private int earlyStop = DEFAULT_EARLY_STOP;
    private Scorer qlScorer;
    private Scorer rcScorer;

    private Builder() {}

    /** Sets the prompts (default {@link Prompts#defaults()}). */
    public Builder prompts(Prompts prompts) {
      this.prompts = Objects.requireNonNull(prompts, "prompts is null");
      return this;
    }

    /**
     * Sets N, the neighbours retrieved and relabeled per query (default 20, as in the paper).
     *
     * @throws IllegalArgumentException if {@code n < 2}
     */
    public Builder candidates(int n) {
      if (n < 2) {
        throw new IllegalArgumentException("candidates must be >= 2, was " + n);
      }
      this.candidates = n;
      return this;
    }

    /** Sets how the hard negative is chosen (default {@link NegativeSelection#LAST}). */
    public Builder negatives(NegativeSelection s) {
      this.negatives = Objects.requireNonNull(s, "negatives is null");
      return this;
    }

    /** Sets the seed of {@link NegativeSelection#RANDOM} (default 42). */
    public Builder randomSeed(long seed) {
      this.randomSeed = seed;
      return this;
    }

    /**
     * Sets the query generation temperature (default 0.7; scorers always use 0).
     *
     * @throws IllegalArgumentException if not in [0, 2]
     */
    public Builder generationTemperature(double t) {
      if (!(t >= 0 && t <= 2)) {
        throw new IllegalArgumentException("temperature must be in [0, 2], was " + t);
      }
      this.generationTemperature = t;
      return this;
    }

    /**
     * Sets the answers tried per LLM question before a seed is rejected (default 3).
     *
     * @throws IllegalArgumentException if {@code n < 1}
     */
    public Builder attempts(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("attempts must be >= 1, was " + n);
      }
      this.attempts = n;
      return this;
    }

    /**
     * Sets the seeds worked on at once (default 4): by the pipeline, or by each task of a
     * distributed run. Bound in-flight HTTP calls separately with {@link
     * dev.gecko.train.llm.LlmClients#concurrencyLimited}.
     *
     * @throws IllegalArgumentException if {@code n < 1}
     */
    public Builder concurrency(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("concurrency must be >= 1, was " + n);
      }
      this.concurrency = n;
      return this;
    }

    /**
     * Uses only the first {@code n} passages as seeds (all passages remain candidates). Default: all.
     *
     * @throws IllegalArgumentException if {@code n < 1}
     */
    public Builder limit(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("limit must be >= 1, was " + n);
      }
      this.limit = n;
      return this;
    }

    /**
     * Stops the run with {@link TooManyRejectsException} when the first {@code n} seeds it finishes
     * are all rejected: the LLM's answers do not fit, and going on would only pay for more rejects.
     * Seeds done by an earlier run do not count. 0 never stops early. Default {@value
     * FretSettings#DEFAULT_EARLY_STOP}. Not part of the configuration digest.
     *
     * @throws IllegalArgumentException if {@code n < 0}
     */
    public Builder earlyStop(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("earlyStop must be >= 0 (0: never stop early), was " + n);
      }
      this.earlyStop = n;
      return this;
    }

    /**
     * Forces the scorers instead of picking the best the client allows.
     *
     * @throws IllegalArgumentException if {@code ql} is not a QL scorer or {@code rc} not an RC one
     */
    public Builder scorers(Scorer ql, Scorer rc) {
      Objects.requireNonNull(ql, "ql is null");
      Objects.requireNonNull(rc, "rc is null");
      if (!ql.isQueryLikelihood() || rc.isQueryLikelihood()) {
        throw new IllegalArgumentException("need a query likelihood scorer and a relevance scorer, got " + ql + ", " + rc);
      }
      this.qlScorer = ql;
      this.rcScorer = rc;
      return this;
    }

    /** Returns the settings. */
    public FretSettings build() {
      return new FretSettings(this);
    }
  }
}
