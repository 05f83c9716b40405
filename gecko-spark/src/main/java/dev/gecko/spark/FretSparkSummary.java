package dev.gecko.spark;

import dev.gecko.train.fret.RejectReason;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link FretSparkJob} run did. Immutable and thread-safe.
 *
 * @param output the run folder
 * @param seeds the seeds of the run (the first {@code limit} passages)
 * @param skipped seeds already done by earlier runs (found in the folder), not redone
 * @param written examples this run wrote
 * @param rejected seeds this run rejected
 * @param totalExamples examples in the folder now
 * @param digest the configuration's digest (the manifest's)
 * @param calls LLM calls answered by the server this run (counted per task; a task Spark runs twice counts twice)
 * @param cacheHits LLM calls answered from the response cache this run (likewise)
 * @param promptTokens prompt tokens this run (likewise)
 * @param completionTokens completion tokens this run (likewise)
 * @param cost the cost of those tokens at the spec's prices
 * @param rejectReasons this run's rejects by reason as written in {@code rejects.jsonl}, most common first
 */
public record FretSparkSummary(Path output, int seeds, int skipped, int written, int rejected, long totalExamples,
    String digest, long calls, long cacheHits, long promptTokens, long completionTokens, double cost,
    List<RejectReason> rejectReasons) {
  /** Copies the reasons. */
  public FretSparkSummary {
    Objects.requireNonNull(output, "output is null");
    rejectReasons = List.copyOf(rejectReasons);
  }
}
