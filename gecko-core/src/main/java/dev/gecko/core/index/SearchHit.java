package dev.gecko.core.index;

/**
 * One search result. Immutable and thread-safe.
 *
 * @param ordinal the position of the vector in the index (insertion order, from 0)
 * @param score the similarity (higher is better)
 */
public record SearchHit(int ordinal, float score) {}
