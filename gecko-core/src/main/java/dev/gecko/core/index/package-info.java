/**
 * Exact (brute-force) vector search over an in-memory matrix of vectors. No approximation: every
 * query is compared with every stored vector.
 */
package dev.gecko.core.index;
