package dev.gecko.core.internal.runtime;

/**
 * The rule {@link GeckoEmbedder} cuts a call's texts into batches by: texts sorted by token
 * count, consecutive runs of at most {@code maxRows} texts and {@code maxTokens} padded tokens
 * ({@code rows x longest}; a text longer than that goes alone), chosen to minimise padded tokens
 * plus {@value #BATCH_COST_TOKENS} per batch. Public so that tools (the peer benchmark) can report
 * the padding a call will have; the embedder is the only caller that matters.
 *
 * <p>Cutting greedily, each batch as full as the budget allows, left 3-4 % padding on sets of
 * short and of mixed-length texts; this leaves about 1 % (docs/performance.md). Thread-safe:
 * stateless.
 */
public final class BatchCutter {
  /**
   * What one batch costs in padded tokens, beyond its tokens: ONNX Runtime's per-run overhead and
   * the smaller matrix products of more, smaller batches.
   */
  public static final int BATCH_COST_TOKENS = 32;

  private BatchCutter() {}

  /**
   * Cuts texts of the given token counts, sorted ascending, into batches (dynamic programming
   * over the cut points, O(n x maxRows)).
   *
   * @return the exclusive end index of each batch, ascending (the last is {@code lengths.length})
   * @throws IllegalArgumentException if the lengths are not sorted ascending or not positive, or
   *     {@code maxTokens} or {@code maxRows} is not positive
   */
  public static int[] cut(int[] sortedLengths, int maxTokens, int maxRows) {
    if (maxTokens <= 0 || maxRows <= 0) {
      throw new IllegalArgumentException("maxTokens and maxRows must be positive, were " + maxTokens + ", " + maxRows);
    }
    int n = sortedLengths.length;
    for (int i = 0; i < n; i++) {
      if (sortedLengths[i] <= 0 || i > 0 && sortedLengths[i] < sortedLengths[i - 1]) {
        throw new IllegalArgumentException("lengths must be positive and sorted ascending; index " + i
            + " is " + sortedLengths[i]);
      }
    }
    long[] best = new long[n + 1];
    int[] from = new int[n + 1];
    for (int end = 1; end <= n; end++) {
      best[end] = Long.MAX_VALUE;
      long longest = sortedLengths[end - 1];
      for (int start = end - 1; start >= Math.max(0, end - maxRows); start--) {
        long rows = end - start;
        if (rows > 1 && rows * longest > maxTokens) {
          break; // more texts only exceed the budget further
        }
        long cost = best[start] + rows * longest + BATCH_COST_TOKENS;
        if (cost < best[end]) {
          best[end] = cost;
          from[end] = start;
        }
      }
    }
    int count = 0;
    for (int end = n; end > 0; end = from[end]) {
      count++;
    }
    int[] ends = new int[count];
    for (int end = n, i = count - 1; end > 0; end = from[end], i--) {
      ends[i] = end;
    }
    return ends;
  }
}
