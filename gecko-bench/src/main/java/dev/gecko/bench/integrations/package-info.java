/**
 * Benchmarks of the framework integrations against the frameworks' own in-process models, on the
 * ArguAna corpus: {@link dev.gecko.bench.integrations.LangChain4jIngestBenchmark} and {@link
 * dev.gecko.bench.integrations.SpringAiEmbedBenchmark}. Tools, not library API.
 */
package dev.gecko.bench.integrations;
