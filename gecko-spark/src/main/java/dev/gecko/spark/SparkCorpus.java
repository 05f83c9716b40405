package dev.gecko.spark;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gecko.core.internal.io.CorpusIds;
import dev.gecko.core.io.Corpus;
import dev.gecko.core.io.JsonlReader;
import dev.gecko.core.io.LineReader;
import dev.gecko.core.io.Passage;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.input.PortableDataStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.TaskCompletionListener;
import scala.Tuple2;

/**
 * Reads corpora into Spark by gecko-core's one rule for corpus files ({@link Corpus}): JSON Lines,
 * plain or gzip-compressed (recognised by content), strict UTF-8, {@code _id}/{@code id} (string or
 * integer; the line number where neither), optional {@code title}, required {@code text}. Each file
 * is read whole by one task, as {@link Corpus#read} reads it (so gzip, which cannot be split,
 * costs nothing more); a bad line fails its task with an {@link dev.gecko.core.InvalidDataException}
 * naming the file, line and field, as it stops every gecko command.
 *
 * <pre>{@code
 * Dataset<Row> corpus = SparkCorpus.read(spark, "hdfs://nn/corpus/");   // ordinal, id, title, text
 * }</pre>
 *
 * <p>Rows: {@code ordinal} (long: the file's place among the paths sorted by name, times 2^32, plus
 * the line number: the corpus order, unique; rows come in that order within a file, files in
 * Spark's order, so sort by it where order matters), {@code id}, {@code title} (empty when none), {@code
 * text}. Unpaired UTF-16 surrogates (from JSON escapes such as a lone {@code \ud83d}) are replaced
 * by U+FFFD before Spark stores the strings, as {@code GeckoEmbedder} replaces them (Spark would
 * store {@code '?'} instead; see {@link EmbeddingCounters}), so the same file gives the same
 * vectors here and in a single JVM. Ids must be unique within a file, as {@link Corpus} requires;
 * uniqueness across files is not checked here ({@link FretSparkJob} checks it).
 *
 * <p>A file stays open while its task reads it: it is closed after its last line, or when the
 * task ends first ({@code limit}, {@code take}, {@code show}, a bad line, a killed task).
 *
 * <p>Stateless and thread-safe.
 */
public final class SparkCorpus {
  private static final System.Logger LOG = System.getLogger(SparkCorpus.class.getName());
  /** The schema of the rows read. */
  public static final StructType SCHEMA = new StructType().add("ordinal", DataTypes.LongType, false)
      .add("id", DataTypes.StringType, false).add("title", DataTypes.StringType, false)
      .add("text", DataTypes.StringType, false);

  private SparkCorpus() {}

  /**
   * Reads every corpus file at {@code path} (a file, a folder or a glob, on any file system Spark
   * reads). Lazy, apart from listing the files.
   *
   * @throws IllegalArgumentException if no file matches
   */
  public static Dataset<Row> read(SparkSession spark, String path) {
    Objects.requireNonNull(path, "path is null");
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    JavaPairRDD<String, PortableDataStream> files = jsc.binaryFiles(path);
    List<String> names = new ArrayList<>(files.keys().collect());
    if (names.isEmpty()) {
      throw new IllegalArgumentException("no corpus file at " + path);
    }
    names.sort(null);
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < names.size(); i++) {
      index.put(names.get(i), i);
    }
    JavaRDD<Row> rows = files.flatMap(new ReadFile(index));
    return spark.createDataFrame(rows, SCHEMA);
  }

  /** Reads one file lazily, line by line. Serializable: carries the file index only. */
  private static final class ReadFile implements FlatMapFunction<Tuple2<String, PortableDataStream>, Row> {
    private static final long serialVersionUID = 1L;
    private final Map<String, Integer> index;

    ReadFile(Map<String, Integer> index) {
      this.index = new HashMap<>(index);
    }

    @Override
    public Iterator<Row> call(Tuple2<String, PortableDataStream> file) throws IOException {
      long base = (long) index.get(file._1()) << 32;
      InputStream stream = file._2().open();
      JsonlReader in;
      try {
        in = JsonlReader.of(LineReader.of(stream, file._1()));
      } catch (IOException | RuntimeException e) {
        closeQuietly(stream, file._1());
        throw e;
      }
      // The iterator closes the file at its end; a task that stops early (limit, take, show) or
      // fails (a bad line) never gets there, so the task's end closes it too. The listener holds the
      // reader only while it is open: a task of many files keeps no buffers of those it finished.
      AtomicReference<JsonlReader> open = new AtomicReference<>(in);
      TaskContext task = TaskContext.get();
      if (task != null) {
        String name = file._1();
        task.addTaskCompletionListener((TaskCompletionListener) t -> {
          JsonlReader r = open.getAndSet(null);
          if (r != null) {
            closeQuietly(r, name);
          }
        });
      }
      CorpusIds ids = new CorpusIds();
      return new Iterator<>() {
        private Row next = advance();

        private Row advance() {
          try {
            ObjectNode o = in.next();
            if (o == null) {
              open.set(null);
              in.close();
              return null;
            }
            Passage p = Corpus.passage(o, in);
            ids.add(p.id(), in);
            return RowFactory.create(base + in.lineNumber(), p.id(), p.title(), p.text()); // well-formed UTF-16
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }

        @Override
        public boolean hasNext() {
          return next != null;
        }

        @Override
        public Row next() {
          if (next == null) {
            throw new NoSuchElementException();
          }
          Row r = next;
          next = advance();
          return r;
        }
      };
    }
  }

  private static void closeQuietly(Closeable c, String file) {
    try {
      c.close();
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot close corpus file " + file + ": " + e);
    }
  }
}
