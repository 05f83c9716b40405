package dev.gecko.core.internal.io;

import dev.gecko.tokenizer.GeckoTokenizer;

/**
 * The tokenizer's rule for unpaired UTF-16 surrogates, for modules that key or store text as the
 * model reads it without seeing gecko-tokenizer (the corpus reader, the embedding cache, Spark's corpus reader).
 * Internal: not part of the API. Stateless and thread-safe.
 */
public final class Utf16 {
  private Utf16() {}

  /** Returns {@code text} with each unpaired surrogate as U+FFFD ({@link GeckoTokenizer#sanitize}). */
  public static String wellFormed(String text) {
    return GeckoTokenizer.sanitize(text);
  }
}
