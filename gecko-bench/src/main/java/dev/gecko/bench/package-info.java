/**
 * JMH benchmarks for Gecko: vector kernels (scalar against Panama), masked mean pooling, exact
 * flat search, tokenizer throughput and end-to-end embedding. Build with {@code mvn -pl
 * gecko-bench -am package -DskipTests} and run {@code java -jar gecko-bench/target/benchmarks.jar};
 * docs/benchmarks.md has the commands and the measured tables.
 */
package dev.gecko.bench;
