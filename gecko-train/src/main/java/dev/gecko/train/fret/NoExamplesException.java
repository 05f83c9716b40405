package dev.gecko.train.fret;

import dev.gecko.core.GeckoException;
import java.util.List;

/**
 * A run ended with no example in its folder: every seed it tried was rejected (fewer seeds than
 * the early stop watches, or the early stop off), and no earlier run of the folder wrote one
 * either; or a rerun found nothing left to do in a folder whose seeds were all rejected before.
 * The run did not fail part-way (its seeds count as done, their rejects are in {@code
 * rejects.jsonl}), but it produced no dataset, so it is not reported as a success: the manifest
 * says {@code stopped}, with this exception's message as its {@code error}. The message names how
 * many seeds this run tried and rejected, how many earlier runs did, and the three most common
 * reasons of this run with their counts and an example answer. After fixing the cause start a new
 * run ({@link FretPipeline.Builder#newRun(boolean)}, {@code gecko generate --new-run}) or use
 * another folder.
 *
 * <p>{@link #summary()} holds the counts a successful run would have returned. Immutable once
 * thrown; safe to hand to another thread.
 */
public final class NoExamplesException extends GeckoException {
  private static final long serialVersionUID = 1L;
  /** Not serialized: records are not {@link java.io.Serializable}. */
  private final transient RunSummary summary;

  /** Creates an exception for the run {@code summary} describes (its total of examples is 0). */
  public NoExamplesException(String message, RunSummary summary) {
    super(message);
    this.summary = summary;
  }

  /**
   * Returns the run's summary, as {@link FretPipeline#run()} returns it for a run with examples
   * (null after deserialization).
   */
  public RunSummary summary() {
    return summary;
  }

  /** Returns this run's reject reasons, most common first (empty after deserialization). */
  public List<RejectReason> reasons() {
    return summary == null ? List.of() : summary.rejectReasons();
  }
}
