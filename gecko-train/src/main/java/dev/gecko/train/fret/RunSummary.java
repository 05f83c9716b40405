package dev.gecko.train.fret;

import java.nio.file.Path;

/**
 * The result of {@link FretPipeline#run()}.
 *
 * @param examplesFile the JSONL dataset
 * @param manifestFile the run manifest
 * @param seeds seeds in this run (after {@code limit})
 * @param skipped seeds already done by an earlier run
 * @param written examples written by this run
 * @param rejected seeds rejected by this run (see {@code rejects.jsonl})
 * @param totalExamples examples in the file now
 * @param digest the configuration digest in the manifest
 */
public record RunSummary(Path examplesFile, Path manifestFile, int seeds, int skipped, int written, int rejected,
    int totalExamples, String digest) {}
