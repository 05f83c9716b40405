package dev.gecko.tokenizer;

import java.util.Arrays;

/**
 * One tokenised text: token ids and token type ids, with special tokens, after truncation.
 *
 * <p>Immutable and thread-safe. Accessors return copies; use {@link GeckoTokenizer#pad} to pack
 * many encodings into a batch without copying them one by one.
 */
public final class Encoding {
  final long[] ids;
  final long[] typeIds;
  private final int originalLength;

  Encoding(long[] ids, long[] typeIds, int originalLength) {
    this.ids = ids;
    this.typeIds = typeIds;
    this.originalLength = originalLength;
  }

  /** Returns the number of tokens after truncation, special tokens included. */
  public int length() {
    return ids.length;
  }

  /** Returns the number of tokens the text had before truncation, special tokens included. */
  public int originalLength() {
    return originalLength;
  }

  /** Returns whether the text was cut to the tokenizer's maximum length. */
  public boolean truncated() {
    return originalLength > ids.length;
  }

  /** Returns a copy of the token ids. */
  public long[] ids() {
    return ids.clone();
  }

  /** Returns a copy of the token type ids (segment ids). */
  public long[] typeIds() {
    return typeIds.clone();
  }

  @Override
  public String toString() {
    return "Encoding" + Arrays.toString(ids) + (truncated() ? " (truncated from " + originalLength + ")" : "");
  }
}
