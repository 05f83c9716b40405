package dev.gecko.train.fret;

import java.nio.file.Path;
import java.util.List;

/**
 * The result of {@link FretPipeline#run()}. Immutable.
 *
 * @param examplesFile the JSONL dataset
 * @param manifestFile the run manifest
 * @param seeds seeds in this run (after {@code limit})
 * @param skipped seeds already done by an earlier run
 * @param written examples written by this run
 * @param rejected seeds rejected by this run (see {@code rejects.jsonl})
 * @param totalExamples examples in the file now
 * @param digest the configuration digest in the manifest
 * @param rejectReasons why this run's seeds were rejected, with counts, most common first (empty
 *     when none was)
 */
public record RunSummary(Path examplesFile, Path manifestFile, int seeds, int skipped, int written, int rejected,
    int totalExamples, String digest, List<RejectReason> rejectReasons) {
  /** Copies the reasons. */
  public RunSummary {
    rejectReasons = List.copyOf(rejectReasons);
  }
}
