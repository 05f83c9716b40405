package dev.gecko.core;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;

/**
 * What an embedder has done since it opened, for a service's operator: calls, texts, tokens,
 * batches and how full they were, and how long texts waited in the queue and batches ran. A
 * snapshot: {@link GeckoEmbedder#metrics()} returns a new one each time. Its counters are read one
 * after the other, not atomically together: taken while batches run, it may count a batch in one
 * field and not yet in another (a ratio such as {@link #batchFill()} is then off by at most that
 * batch); taken while the embedder is idle, it is exact. Immutable and thread-safe.
 *
 * @param calls embedding calls an open embedder took in (sync and async; included are those refused
 *     for a full queue, see {@code rejected}, and those that fail on a text as it is tokenised: too
 *     long with {@code failOnTruncation}, or without tokens; not those refused before they are taken
 *     in, for a null text, a task type or width that is not valid, nor those made after close)
 * @param texts texts embedded
 * @param tokens tokens of those texts (prompts and special tokens included, after truncation)
 * @param paddedTokens tokens run, padding included ({@code rows x longest row} summed over batches)
 * @param batches inference batches run
 * @param coalescedBatches batches that held texts of more than one call
 * @param rejected async calls refused because the queue was full
 * @param queueWait how long coalesced texts waited between their call and the start of their batch
 *     (calls of more than {@code maxBatchSize} texts, and calls with coalescing off, are not queued)
 * @param runTime how long batches ran (inference and pooling)
 */
public record EmbedderMetrics(long calls, long texts, long tokens, long paddedTokens, long batches,
    long coalescedBatches, long rejected, LatencyHistogram queueWait, LatencyHistogram runTime) {
  /** Validates the fields. */
  public EmbedderMetrics {
    Objects.requireNonNull(queueWait, "queueWait is null");
    Objects.requireNonNull(runTime, "runTime is null");
  }

  /** Texts per batch, on average (0 before the first batch). */
  public double meanBatchSize() {
    return batches == 0 ? 0 : (double) texts / batches;
  }

  /** Real tokens over padded tokens, in (0, 1]: how little of the work was padding (1 before any). */
  public double batchFill() {
    return paddedTokens == 0 ? 1 : (double) tokens / paddedTokens;
  }

  /**
   * A histogram of durations in fixed buckets, 50 µs to 10 s on a 1-2.5-5 scale; the last bucket
   * counts everything longer. Immutable and thread-safe.
   *
   * @param upperBoundsMicros each bucket's inclusive upper bound in microseconds, ascending; the
   *     last is {@link Long#MAX_VALUE}
   * @param counts how many durations fell into each bucket
   */
  public record LatencyHistogram(List<Long> upperBoundsMicros, List<Long> counts) {
    /** Validates and copies. */
    public LatencyHistogram {
      upperBoundsMicros = List.copyOf(upperBoundsMicros);
      counts = List.copyOf(counts);
      if (upperBoundsMicros.size() != counts.size()) {
        throw new IllegalArgumentException("one count per bucket: " + upperBoundsMicros.size() + " bounds, "
            + counts.size() + " counts");
      }
      for (int i = 0; i < counts.size(); i++) {
        if (counts.get(i) < 0) {
          throw new IllegalArgumentException("counts[" + i + "] is negative: " + counts.get(i));
        }
        if (upperBoundsMicros.get(i) < 0 || i > 0 && upperBoundsMicros.get(i) <= upperBoundsMicros.get(i - 1)) {
          throw new IllegalArgumentException("upper bounds must be non-negative and ascending: " + upperBoundsMicros);
        }
      }
    }

    /** Returns the number of durations recorded. */
    public long count() {
      return counts.stream().mapToLong(Long::longValue).sum();
    }

    /**
     * Returns the upper bound of the bucket holding quantile {@code q} (0.5 for the median, 0.99
     * for p99): an upper estimate, exact to the bucket. {@link Duration#ZERO} when empty; a
     * duration past the last finite bound reads as that bound.
     *
     * @throws IllegalArgumentException if {@code q} is not in [0, 1]
     */
    public Duration quantile(double q) {
      if (!(q >= 0 && q <= 1)) {
        throw new IllegalArgumentException("q must be in [0, 1], was " + q);
      }
      long total = count();
      if (total == 0) {
        return Duration.ZERO;
      }
      long rank = Math.max(1, (long) Math.ceil(q * total));
      long seen = 0;
      for (int i = 0; i < counts.size(); i++) {
        seen += counts.get(i);
        if (seen >= rank) {
          long bound = upperBoundsMicros.get(i) == Long.MAX_VALUE && i > 0 ? upperBoundsMicros.get(i - 1)
              : upperBoundsMicros.get(i);
          return Duration.of(bound, ChronoUnit.MICROS);
        }
      }
      return Duration.of(upperBoundsMicros.get(counts.size() - 1), ChronoUnit.MICROS); // not reached: counts sum to total
    }
  }
}
