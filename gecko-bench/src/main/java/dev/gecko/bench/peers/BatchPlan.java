package dev.gecko.bench.peers;

import dev.gecko.core.internal.runtime.BatchCutter;
import dev.gecko.core.GeckoEmbedder;
import java.util.Arrays;

/** The padding of Gecko's batches over a set: {@link BatchCutter}'s cut of the sorted lengths. */
final class BatchPlan {
  static final int DEFAULT_MAX_BATCH_TOKENS = GeckoEmbedder.Builder.DEFAULT_MAX_BATCH_TOKENS;
  static final int DEFAULT_MAX_BATCH_SIZE = GeckoEmbedder.Builder.DEFAULT_MAX_BATCH_SIZE;

  private BatchPlan() {}

  /** Returns padded tokens / real tokens - 1 for the plan over {@code lengths}. */
  static double paddingOverhead(int[] lengths, int maxBatchTokens, int maxBatchSize) {
    int[] sorted = lengths.clone();
    Arrays.sort(sorted);
    long real = 0;
    long padded = 0;
    int start = 0;
    for (int end : BatchCutter.cut(sorted, maxBatchTokens, maxBatchSize)) {
      for (int i = start; i < end; i++) {
        real += sorted[i];
      }
      padded += (long) (end - start) * sorted[end - 1];
      start = end;
    }
    return real == 0 ? 0 : (double) padded / real - 1;
  }
}
