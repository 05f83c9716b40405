package dev.gecko.core;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * A progress report of a long operation: embedding a list, evaluating, generating training data,
 * training. The same type for every producer, so that one listener (a progress bar, a log line, a
 * metrics gauge) serves them all. Immutable and thread-safe.
 *
 * @param phase what is being done, a short label ({@code "embedding corpus"}, {@code "epoch 3"})
 * @param unit what {@code done} and {@code total} count ({@code "texts"}, {@code "seeds"}, {@code
 *     "steps"})
 * @param done units finished in this phase; never decreases within a phase
 * @param total units in this phase (equals {@code done} on the phase's last report)
 * @param metrics named values of the producer, in a stable order (training: {@code loss}, {@code
 *     validation}; generation: {@code examples}, {@code rejected}, {@code tokens}, {@code cost}...);
 *     scores are on the x100 scale evaluations use
 */
public record Progress(String phase, String unit, long done, long total, Map<String, Double> metrics) {
  /**
   * Validates and copies.
   *
   * @throws IllegalArgumentException if {@code done} or {@code total} is negative
   */
  public Progress {
    Objects.requireNonNull(phase, "phase is null");
    Objects.requireNonNull(unit, "unit is null");
    if (done < 0 || total < 0) {
      throw new IllegalArgumentException("done and total must be >= 0, were " + done + " and " + total);
    }
    metrics = metrics == null || metrics.isEmpty() ? Map.of()
        : Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
  }

  /** A report without metrics. */
  public static Progress of(String phase, String unit, long done, long total) {
    return new Progress(phase, unit, done, total, Map.of());
  }

  /** Returns the named metric, if this report has it. */
  public OptionalDouble metric(String name) {
    Double v = metrics.get(name);
    return v == null ? OptionalDouble.empty() : OptionalDouble.of(v);
  }

  /** Whether the phase is finished ({@code done >= total}). */
  public boolean finished() {
    return done >= total;
  }
}
