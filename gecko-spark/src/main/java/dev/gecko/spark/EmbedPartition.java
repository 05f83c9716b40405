package dev.gecko.spark;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.InputTooLongException;
import dev.gecko.core.TaskType;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Embeds one partition's rows in calls of up to {@link #ROWS_PER_CALL} rows to this JVM's shared
 * embedder ({@link ExecutorEmbedders}), lazily: a chunk is read, embedded and handed on before the
 * next is read, so a partition is never held whole. Each output row is the input row with the
 * vector appended.
 *
 * <p>Rows: a null text gives a null vector; a text or title with broken Unicode (U+FFFD, unpaired
 * surrogates) is embedded as the embedder does and counted; a text over the model's maximum tokens is truncated,
 * or, with {@code failOnTruncation}, fails the task with {@link InputTooLongException} whose index
 * is the row's position in its partition (Spark's failure names the partition). Each kind is counted on the {@link EmbeddingCounters}.
 *
 * <p>Serializable: carries settings only; the embedder is looked up on the executor when the
 * partition's first row is read, so an empty partition loads no model (nor fails on one that does
 * not load: only a partition with rows checks the model and the width).
 */
final class EmbedPartition implements MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;
  /** Rows per embedder call: the embedder's own window, inside which it sorts by length and cuts batches. */
  static final int ROWS_PER_CALL = 512;

  /**
   * What to embed and how. Serializable. {@code fingerprint} is the model's as the driver read it
   * ({@link ExecutorEmbedders#driverFingerprint}), null where the driver does not find the model.
   */
  record Settings(String model, String fingerprint, int threads, int maxBatchTokens, int dims, TaskType taskType,
      boolean failOnTruncation, boolean vectorOutput) implements Serializable {}

  private final Settings settings;
  private final int textIndex;
  private final int titleIndex;
  private final EmbeddingCounters counters;

  /**
   * @param textIndex the text column's index in the input rows
   * @param titleIndex the title column's index, or -1 for none
   */
  EmbedPartition(Settings settings, int textIndex, int titleIndex, EmbeddingCounters counters) {
    this.settings = settings;
    this.textIndex = textIndex;
    this.titleIndex = titleIndex;
    this.counters = counters;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> input) {
    return new Iterator<>() {
      /** This JVM's embedder, fetched on the partition's first row: an empty partition opens no model. */
      private GeckoEmbedder embedder;
      private int dims;
      private List<Row> chunk = List.of();
      private int next;
      private long rowInPartition;

      @Override
      public boolean hasNext() {
        if (next < chunk.size()) {
          return true;
        }
        if (!input.hasNext()) {
          return false;
        }
        if (embedder == null) {
          embedder = embedder();
          dims = dimsOf(embedder);
        }
        chunk = embedChunk(embedder, dims, input, rowInPartition);
        rowInPartition += chunk.size();
        next = 0;
        return !chunk.isEmpty();
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return chunk.get(next++);
      }
    };
  }

  /**
   * This JVM's shared embedder for the settings (model load and fingerprint check on first use:
   * {@link ExecutorEmbedders#get}).
   */
  private GeckoEmbedder embedder() {
    return ExecutorEmbedders.get(settings.model(), settings.threads(), settings.maxBatchTokens(), settings.fingerprint());
  }

  /**
   * The width to embed at: the settings' (0: the model's full width).
   *
   * @throws IllegalArgumentException if it is above the model's width
   */
  private int dimsOf(GeckoEmbedder embedder) {
    int dims = settings.dims() == 0 ? embedder.dimensions() : settings.dims();
    if (dims < 1 || dims > embedder.dimensions()) {
      throw new IllegalArgumentException("dims must be in [1, " + embedder.dimensions() + "] for model " + embedder.model().name()
          + ", was " + dims);
    }
    return dims;
  }

  private List<Row> embedChunk(GeckoEmbedder embedder, int dims, Iterator<Row> input, long firstRow) {
    List<Row> rows = new ArrayList<>(ROWS_PER_CALL);
    while (rows.size() < ROWS_PER_CALL && input.hasNext()) {
      rows.add(input.next());
    }
    int max = embedder.model().maxTokens();
    List<EmbedRequest> requests = new ArrayList<>(rows.size());
    int[] requestOf = new int[rows.size()];
    long nulls = 0;
    long truncated = 0;
    long broken = 0;
    long tokens = 0;
    for (int i = 0; i < rows.size(); i++) {
      Row row = rows.get(i);
      String text = row.isNullAt(textIndex) ? null : row.getString(textIndex);
      if (text == null) {
        nulls++;
        requestOf[i] = -1;
        continue;
      }
      String title = titleIndex < 0 || row.isNullAt(titleIndex) ? null : row.getString(titleIndex);
      EmbedRequest request = new EmbedRequest(text, settings.taskType(), title);
      if (brokenUnicode(text) || (title != null && brokenUnicode(title))) {
        broken++;
      }
      int count = embedder.countTokens(request);
      if (count > max) {
        if (settings.failOnTruncation()) {
          // the task fails (Spark names the partition: its task index); the index is the row's place in it
          throw new InputTooLongException((int) Math.min(Integer.MAX_VALUE, firstRow + i), count, max);
        }
        truncated++;
      }
      tokens += Math.min(count, max);
      requestOf[i] = requests.size();
      requests.add(request);
    }
    List<float[]> vectors = requests.isEmpty() ? List.of() : embedder.embedRequests(requests, dims);
    List<Row> out = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      Row row = rows.get(i);
      Object[] values = new Object[row.length() + 1];
      for (int c = 0; c < row.length(); c++) {
        values[c] = row.get(c);
      }
      float[] v = requestOf[i] < 0 ? null : vectors.get(requestOf[i]);
      values[row.length()] = v == null ? null : settings.vectorOutput() ? Vectors.dense(toDoubles(v)) : v;
      out.add(RowFactory.create(values));
    }
    counters.add(rows.size(), nulls, truncated, broken, tokens);
    return out;
  }

  private static double[] toDoubles(float[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    return d;
  }

  /** Whether {@code s} holds U+FFFD or an unpaired surrogate (see {@link EmbeddingCounters}). */
  static boolean brokenUnicode(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\uFFFD') {
        return true;
      }
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else {
          return true;
        }
      } else if (Character.isLowSurrogate(c)) {
        return true;
      }
    }
    return false;
  }
}
