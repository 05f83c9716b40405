package dev.gecko.train.llm;

import java.time.Duration;
import java.util.Objects;
import java.util.Random;

/**
 * How {@link LlmClients#retrying(LlmClient, RetryPolicy)} retries: only {@link
 * LlmException#retryable()} failures (408, 409, 429, 5xx, timeouts, I/O errors, unreadable
 * bodies), at most {@link Builder#maxRetries(int)} times, waiting {@code initial * multiplier^n}
 * capped at {@code maxBackoff}, with full jitter in {@code [50%, 100%]} of that, or the server's
 * {@code Retry-After} hint when it is longer (plus up to a tenth of it, never past {@code
 * maxRetryAfter}). A hint longer than {@code maxRetryAfter} (a daily
 * quota, say) ends the retries at once: the failure is thrown, its hint said; so does one too
 * large to hold (10^9 seconds or more, read as that). The hint is read by
 * the HTTP client when the failure arrives, with the clock set on its builder ({@link
 * LlmClients.HttpBuilder#clock}); the policy itself needs no clock.
 *
 * <p>Immutable and thread-safe; one policy may serve any number of clients. It shares, and does not
 * own, the {@link Sleeper} and {@link Random} it was given (jitter is drawn under the {@code
 * Random}'s lock, so a seeded source gives one sequence across threads).
 *
 * @param maxRetries retries after the first attempt
 * @param initialBackoff the first wait
 * @param maxBackoff the longest computed wait
 * @param multiplier the backoff growth factor
 * @param maxRetryAfter the longest server hint honoured
 * @param sleeper how to wait
 * @param random the jitter source
 */
public record RetryPolicy(int maxRetries, Duration initialBackoff, Duration maxBackoff, double multiplier,
    Duration maxRetryAfter, Sleeper sleeper, Random random) {

  /** Validates the fields. */
  public RetryPolicy {
    if (maxRetries < 0) {
      throw new IllegalArgumentException("maxRetries must be >= 0, was " + maxRetries);
    }
    Builder.multiplierOf(multiplier);
    Builder.positive(initialBackoff, "initialBackoff");
    Builder.positive(maxBackoff, "maxBackoff");
    Builder.positive(maxRetryAfter, "maxRetryAfter");
    Objects.requireNonNull(sleeper, "sleeper is null");
    Objects.requireNonNull(random, "random is null");
  }

  /** A number in [0, 1) from this policy's jitter source, for spreading waits. */
  double jitter() {
    synchronized (random) {
      return random.nextDouble();
    }
  }

  /** Returns a builder with the defaults: 5 retries, 1 s initial, x2, max 60 s, Retry-After up to 5 min. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the wait before retry number {@code retry} (from 1) after {@code failure}: the
   * exponential backoff with jitter, or the server's Retry-After hint where longer, plus up to a
   * tenth of it.
   */
  Duration delay(int retry, LlmException failure) {
    double base = initialBackoff.toMillis() * Math.pow(multiplier, retry - 1);
    long capped = (long) Math.min(base, maxBackoff.toMillis());
    double jitter = 0.5 + 0.5 * jitter();
    Duration computed = Duration.ofMillis((long) (capped * jitter));
    Duration hint = failure.retryAfter().orElse(Duration.ZERO);
    if (hint.compareTo(maxRetryAfter) > 0) { // the retrying client gives up before asking for this
      hint = maxRetryAfter;
    }
    if (hint.compareTo(computed) <= 0) {
      return computed;
    }
    // up to a tenth more than the hint (never past maxRetryAfter): calls told the same moment do
    // not all come back at it
    Duration spread = hint.plusMillis((long) (hint.toMillis() * (jitter - 0.5) / 5));
    return spread.compareTo(maxRetryAfter) > 0 ? maxRetryAfter : spread; // the hint itself is capped above
  }

  /** Builds a {@link RetryPolicy}. Not thread-safe; reusable. */
  public static final class Builder {
    private int maxRetries = 5;
    private Duration initialBackoff = Duration.ofSeconds(1);
    private Duration maxBackoff = Duration.ofSeconds(60);
    private double multiplier = 2.0;
    private Duration maxRetryAfter = Duration.ofMinutes(5);
    private Sleeper sleeper = Sleeper.SYSTEM;
    private Random random = new Random();

    Builder() {}

    /** Sets the retries after the first attempt (default 5). */
    public Builder maxRetries(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("maxRetries must be >= 0, was " + n);
      }
      this.maxRetries = n;
      return this;
    }

    /** Sets the first backoff (default 1 s). */
    public Builder initialBackoff(Duration d) {
      this.initialBackoff = positive(d, "initialBackoff");
      return this;
    }

    /** Sets the longest computed backoff (default 60 s). */
    public Builder maxBackoff(Duration d) {
      this.maxBackoff = positive(d, "maxBackoff");
      return this;
    }

    /** Sets the growth factor (default 2). */
    public Builder multiplier(double m) {
      this.multiplier = multiplierOf(m);
      return this;
    }

    /** Sets the longest Retry-After hint honoured (default 5 min). */
    public Builder maxRetryAfter(Duration d) {
      this.maxRetryAfter = positive(d, "maxRetryAfter");
      return this;
    }

    /** Sets how to wait (tests pass a recording sleeper). */
    public Builder sleeper(Sleeper s) {
      this.sleeper = Objects.requireNonNull(s, "sleeper is null");
      return this;
    }

    /** Sets the jitter source. */
    public Builder random(Random r) {
      this.random = Objects.requireNonNull(r, "random is null");
      return this;
    }

    /** Builds the policy. */
    public RetryPolicy build() {
      return new RetryPolicy(maxRetries, initialBackoff, maxBackoff, multiplier, maxRetryAfter, sleeper, random);
    }

    static double multiplierOf(double m) {
      if (!(m >= 1) || Double.isInfinite(m)) { // NaN too: every wait would be 0
        throw new IllegalArgumentException("multiplier must be finite and >= 1, was " + m);
      }
      return m;
    }

    static Duration positive(Duration d, String name) {
      Objects.requireNonNull(d, name + " is null");
      if (d.isNegative()) {
        throw new IllegalArgumentException(name + " must be >= 0, was " + d);
      }
      return d;
    }
  }
}
