package dev.gecko.core;

/** How token vectors of the last hidden state become one text vector. Immutable and thread-safe. */
public enum Pooling {
  /** The first token's vector ({@code [CLS]}). */
  CLS,
  /** The mean of the token vectors where the attention mask is 1. A row with none gives zeros. */
  MEAN
}
