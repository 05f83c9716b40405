/**
 * Vector kernels for the embedding path and for search: dot product, cosine, norms,
 * normalisation, pooling over ONNX Runtime's flat {@code [batch, tokens, hidden]} output, int8
 * and binary quantisation, int8 dot product and Hamming distance.
 *
 * <p>{@link dev.gecko.core.vector.VectorOps} is the public facade; it validates arguments and
 * delegates to one of two package-private implementations, chosen once per JVM (Lucene's
 * pattern): SIMD kernels on {@code jdk.incubator.vector} ({@code PanamaVectorSupport}, loaded by
 * name after every guard passed, the only class that imports the incubator module), else plain
 * loops ({@code ScalarVectorSupport}). Nothing requires the incubator module at compile or link
 * time for callers: start the JVM with {@code --add-modules jdk.incubator.vector} to turn SIMD on
 * (one INFO log line), or get one WARNING saying so and the scalar twin. {@code
 * -Dgecko.vectorization=scalar} is the kill switch. The library never sets system properties.
 */
package dev.gecko.core.vector;
