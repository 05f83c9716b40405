package dev.gecko.train.fret;

import dev.gecko.train.llm.UsageMeter;

/**
 * A progress report of a {@link FretPipeline} run.
 *
 * @param seedsTotal seeds in this run (after {@code limit})
 * @param seedsDone seeds finished (examples, rejects, and those skipped as already done)
 * @param skipped seeds found already done by an earlier run
 * @param examplesWritten examples written by this run
 * @param rejected seeds rejected by this run
 * @param usage LLM usage so far, or null when the pipeline has no meter
 */
public record Progress(int seedsTotal, int seedsDone, int skipped, int examplesWritten, int rejected, UsageMeter.Snapshot usage) {}
