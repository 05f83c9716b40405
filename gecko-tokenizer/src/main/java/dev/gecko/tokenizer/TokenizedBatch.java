package dev.gecko.tokenizer;

import java.nio.LongBuffer;

/**
 * A batch of encodings padded to the longest row of the batch, laid out row-major as
 * {@code [rows, sequenceLength]} {@code int64} arrays, the layout ONNX Runtime expects.
 *
 * <p>Immutable and thread-safe: the buffers it returns are read-only views.
 */
public final class TokenizedBatch {
  private final int rows;
  private final int sequenceLength;
  private final long[] inputIds;
  private final long[] attentionMask;
  private final long[] tokenTypeIds;
  private final int[] lengths;
  private final int[] originalLengths;

  TokenizedBatch(
      int rows,
      int sequenceLength,
      long[] inputIds,
      long[] attentionMask,
      long[] tokenTypeIds,
      int[] lengths,
      int[] originalLengths) {
    this.rows = rows;
    this.sequenceLength = sequenceLength;
    this.inputIds = inputIds;
    this.attentionMask = attentionMask;
    this.tokenTypeIds = tokenTypeIds;
    this.lengths = lengths;
    this.originalLengths = originalLengths;
  }

  /** Returns the number of rows (texts). */
  public int rows() {
    return rows;
  }

  /** Returns the padded length of every row: the longest row's token count. */
  public int sequenceLength() {
    return sequenceLength;
  }

  /** Returns the shape {@code [rows, sequenceLength]}. */
  public long[] shape() {
    return new long[] {rows, sequenceLength};
  }

  /** Returns the input ids, padded with the tokenizer's pad id, as a read-only buffer. */
  public LongBuffer inputIds() {
    return LongBuffer.wrap(inputIds).asReadOnlyBuffer();
  }

  /** Returns the attention mask (1 for tokens, 0 for padding) as a read-only buffer. */
  public LongBuffer attentionMask() {
    return LongBuffer.wrap(attentionMask).asReadOnlyBuffer();
  }

  /** Returns the token type ids (0 for padding) as a read-only buffer. */
  public LongBuffer tokenTypeIds() {
    return LongBuffer.wrap(tokenTypeIds).asReadOnlyBuffer();
  }

  /** Returns the unpadded token count of {@code row}, after truncation. */
  public int length(int row) {
    return lengths[row];
  }

  /** Returns the token count of {@code row} before truncation. */
  public int originalLength(int row) {
    return originalLengths[row];
  }

  /** Returns whether {@code row} was truncated. */
  public boolean truncated(int row) {
    return originalLengths[row] > lengths[row];
  }

  /** Returns the number of real (non-padding) tokens in the batch. */
  public long tokenCount() {
    long sum = 0;
    for (int length : lengths) {
      sum += length;
    }
    return sum;
  }

  /** Returns the number of padding positions: {@code rows * sequenceLength - tokenCount()}. */
  public long paddingCount() {
    return (long) rows * sequenceLength - tokenCount();
  }
}
