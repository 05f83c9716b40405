package dev.gecko.spark;

import java.io.Serializable;
import java.util.Objects;
import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

/**
 * What {@link GeckoEmbeddings} met while embedding: rows, null texts (given a null vector), texts
 * over the model's maximum tokens (truncated), texts whose Unicode was broken where they came from,
 * and tokens embedded (after truncation, prompt and special tokens included). Named Spark
 * accumulators, so they also show on the stage pages of the Spark UI.
 *
 * <pre>{@code
 * EmbeddingCounters counters = EmbeddingCounters.register(spark.sparkContext(), "corpus");
 * Dataset<Row> vectors = embeddings.transform(corpus, counters);
 * vectors.write().parquet("vectors");                    // the action: counters fill in
 * long truncated = counters.truncated();
 * }</pre>
 *
 * <p>Broken Unicode: a text or title holding U+FFFD, the replacement character, or an unpaired
 * UTF-16 surrogate (which the embedder replaces by U+FFFD). Spark stores strings as UTF-8, so an
 * unpaired surrogate in a Java string becomes {@code '?'} as soon as Spark stores it (its {@code
 * UTF8String} encodes with Java's replacement; invisible from then on); invalid UTF-8 bytes read by
 * Spark's text sources become U+FFFD when read; {@link SparkCorpus} replaces the unpaired
 * surrogates of JSON escapes (a lone {@code \ud83d}) by U+FFFD before Spark stores them, as the
 * single-JVM embedder would. These rows are embedded all the same.
 *
 * <p>Counts are Spark accumulator values: they grow while the output is computed, and count again
 * when the same output is computed again (a second action on an uncached result, a task retried or
 * run speculatively). Read them after one action, or cache the output.
 *
 * <p>Thread-safe (accumulators are). Serializable: tasks carry it and add to it; the driver reads
 * it. Holds no resources.
 */
public final class EmbeddingCounters implements Serializable {
  private static final long serialVersionUID = 1L;
  private final LongAccumulator rows;
  private final LongAccumulator nullTexts;
  private final LongAccumulator truncated;
  private final LongAccumulator brokenUnicode;
  private final LongAccumulator tokens;

  private EmbeddingCounters(SparkContext sc, String name) {
    String p = "gecko embeddings [" + name + "] ";
    rows = sc.longAccumulator(p + "rows");
    nullTexts = sc.longAccumulator(p + "null texts");
    truncated = sc.longAccumulator(p + "truncated texts");
    brokenUnicode = sc.longAccumulator(p + "broken unicode");
    tokens = sc.longAccumulator(p + "tokens");
  }

  /**
   * Registers a new set of counters on the driver's context, named {@code gecko embeddings [name]
   * ...} in the Spark UI.
   */
  public static EmbeddingCounters register(SparkContext sc, String name) {
    return new EmbeddingCounters(Objects.requireNonNull(sc, "sc is null"), Objects.requireNonNull(name, "name is null"));
  }

  /** Rows seen (every row, with a text or not). */
  public long rows() {
    return rows.value();
  }

  /** Rows whose text was null: their vector is null. */
  public long nullTexts() {
    return nullTexts.value();
  }

  /** Texts over the model's maximum tokens: embedded truncated (or the task failed, with failOnTruncation). */
  public long truncated() {
    return truncated.value();
  }

  /** Texts (or their titles) holding U+FFFD or unpaired surrogates: Unicode broken at the source (see the class comment). */
  public long brokenUnicode() {
    return brokenUnicode.value();
  }

  /** Tokens the model saw, after truncation: the measure of work (tokens per second). */
  public long tokens() {
    return tokens.value();
  }

  /** Adds one chunk's counts (on an executor). */
  void add(long rowCount, long nulls, long truncatedCount, long broken, long tokenCount) {
    rows.add(rowCount);
    nullTexts.add(nulls);
    truncated.add(truncatedCount);
    brokenUnicode.add(broken);
    tokens.add(tokenCount);
  }

  @Override
  public String toString() {
    return "EmbeddingCounters[rows=" + rows() + ", nullTexts=" + nullTexts() + ", truncated=" + truncated()
        + ", brokenUnicode=" + brokenUnicode() + ", tokens=" + tokens() + "]";
  }
}
