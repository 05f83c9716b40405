/**
 * The gecko-spark example application ({@link dev.gecko.spark.example.GeckoSparkExample}), run with
 * {@code spark-submit} or as a plain {@code main}; not API.
 */
package dev.gecko.spark.example;
