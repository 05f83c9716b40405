package dev.gecko.bench.peers;

import java.util.Arrays;

/**
 * Gecko's batching rule, restated to report padding: sort by token count, then cut batches of at
 * most {@code maxBatchSize} rows whose {@code rows x longest row} stays within {@code
 * maxBatchTokens} (a single row always fits). Must follow {@code OnnxEmbedder}'s rule.
 */
final class BatchPlan {
  static final int DEFAULT_MAX_BATCH_TOKENS = 1024;
  static final int DEFAULT_MAX_BATCH_SIZE = 64;

  private BatchPlan() {}

  /** Returns padded tokens / real tokens - 1 for the plan over {@code lengths}. */
  static double paddingOverhead(int[] lengths, int maxBatchTokens, int maxBatchSize) {
    int[] sorted = lengths.clone();
    Arrays.sort(sorted);
    long real = 0;
    long padded = 0;
    int start = 0;
    while (start < sorted.length) {
      int end = start;
      int longest = 0;
      while (end < sorted.length && end - start < maxBatchSize) {
        int newLongest = Math.max(longest, sorted[end]);
        if (end > start && (long) (end - start + 1) * newLongest > maxBatchTokens) {
          break;
        }
        longest = newLongest;
        end++;
      }
      for (int i = start; i < end; i++) {
        real += sorted[i];
      }
      padded += (long) (end - start) * longest;
      start = end;
    }
    return real == 0 ? 0 : (double) padded / real - 1;
  }
}
