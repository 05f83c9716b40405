/**
 * Vector kernels for the embedding path and for search: dot product, cosine, norms, pooling over
 * ONNX Runtime's flat {@code [batch, tokens, hidden]} output, and quantisation.
 *
 * <p>{@link dev.gecko.core.vector.VectorOps} is the public facade. Behind it, an implementation
 * is chosen once per JVM: a SIMD one on {@code jdk.incubator.vector} when that module is present,
 * else a scalar twin that computes the same results.
 */
package dev.gecko.core.vector;
