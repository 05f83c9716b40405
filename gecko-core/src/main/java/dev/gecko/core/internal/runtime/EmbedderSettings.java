package dev.gecko.core.internal.runtime;

/**
 * The settings of {@code GeckoEmbedder.Builder}, validated there, as the runtime takes them.
 * Internal.
 *
 * <p>Immutable and thread-safe.
 *
 * @param threads threads one call may use
 * @param intraOpThreads ONNX Runtime's threads per batch
 * @param maxBatchTokens the most padded tokens in one batch
 * @param maxBatchSize the most texts in one batch
 * @param failOnTruncation refuse texts over the model's maximum instead of truncating them
 * @param batchIndependent run every text alone
 * @param fuseLayerNorm rewrite residual blocks into SkipLayerNormalization
 * @param firstTokenOnly cut a CLS-pooled graph's last layer to the first token
 * @param coalescingWindow how long a batch not yet full may wait for other calls' texts; zero turns
 *     coalescing off
 * @param maxQueuedTokens the most tokens waiting to be coalesced
 * @param rejectAsyncWhenFull whether an asynchronous call finding the queue full is refused (else it
 *     waits)
 */
public record EmbedderSettings(int threads, int intraOpThreads, int maxBatchTokens, int maxBatchSize,
    boolean failOnTruncation, boolean batchIndependent, boolean fuseLayerNorm, boolean firstTokenOnly,
    java.time.Duration coalescingWindow, long maxQueuedTokens, boolean rejectAsyncWhenFull) {

  /** Whether concurrent calls are gathered into shared batches. */
  public boolean coalescing() {
    return !coalescingWindow.isZero() && !batchIndependent;
  }
}
