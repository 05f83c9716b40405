/**
 * Exact (brute-force) vector search over an in-memory matrix of vectors stored as float32, int8
 * or sign bits: {@link dev.gecko.core.index.FlatIndex}. No approximation in the search: every
 * query is compared with every stored vector, using the {@link dev.gecko.core.vector.VectorOps}
 * kernels.
 */
package dev.gecko.core.index;
