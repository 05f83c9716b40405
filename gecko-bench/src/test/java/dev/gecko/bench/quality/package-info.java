/** Measurement commands for quality properties of the embedding path (not JMH benchmarks). */
package dev.gecko.bench.quality;
