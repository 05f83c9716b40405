/**
 * Gecko on Apache Spark (opt-in: nothing else in the project depends on this module): {@link
 * dev.gecko.spark.GeckoEmbeddings}, a Spark ML transformer that embeds a text column in batches
 * inside {@code mapPartitions} with one shared embedder per executor; {@link
 * dev.gecko.spark.DistributedTopK}, exact top-k over a corpus cut into shards, equal to one {@link
 * dev.gecko.core.index.FlatIndex}; {@link dev.gecko.spark.FretSparkJob}, FRet as a Spark job whose
 * output holds each seed exactly once however tasks fail, retry or re-run; {@link
 * dev.gecko.spark.SparkRetrievalEvaluator}, {@code gecko eval retrieval} through Spark; and {@link
 * dev.gecko.spark.SparkCorpus}, gecko's corpus rule as a Spark reader. Spark itself is the
 * application's ({@code provided}); docs/spark.md covers cluster set-up and memory.
 */
package dev.gecko.spark;
