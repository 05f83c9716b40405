package dev.gecko.spark;

import dev.gecko.core.io.Corpus;
import dev.gecko.core.io.Passage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The tests' one Spark: {@code local[2]} (two task threads, a task retried up to 3 times), bound to
 * loopback, no UI, shared by every test class of the run and stopped when the JVM exits. Also the
 * public data the tests read (../shared, never copied into the repository).
 */
final class TestSpark {
  private static SparkSession session;

  private TestSpark() {}

  /** The message of the first IllegalArgumentException in what {@code call} threw (a failed job's cause, or its own). */
  static String refusal(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
    Throwable t = org.assertj.core.api.Assertions.catchThrowable(call);
    org.assertj.core.api.Assertions.assertThat(t).as("a refusal").isNotNull();
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof IllegalArgumentException) {
        return c.getMessage();
      }
    }
    throw new AssertionError("no IllegalArgumentException in", t);
  }

  static synchronized SparkSession session() {
    if (session == null) {
      session = SparkSession.builder().master("local[2,3]").appName("gecko-spark-tests")
          .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
          .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
          .config("spark.sql.shuffle.partitions", "4").config("spark.local.dir", Path.of("target/spark-local").toAbsolutePath().toString())
          .config("spark.sql.warehouse.dir", Path.of("target/spark-warehouse").toAbsolutePath().toString())
          .getOrCreate();
      Runtime.getRuntime().addShutdownHook(new Thread(session::stop));
    }
    return session;
  }

  static Path shared() {
    return Path.of(System.getProperty("gecko.shared.dir", "../../shared"));
  }

  static Path arguana() {
    return shared().resolve("data/beir/arguana");
  }

  /** The first {@code n} passages of ArguAna's corpus, in file order. */
  static List<Passage> arguanaPassages(int n) {
    try {
      return Corpus.read(arguana().resolve("corpus.jsonl.gz"), n);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static final StructType PASSAGES = new StructType().add("id", DataTypes.StringType, false)
      .add("title", DataTypes.StringType, true).add("text", DataTypes.StringType, true);

  /** Passages as rows (id, title, text) in {@code partitions} partitions, order kept. */
  static Dataset<Row> passages(List<Passage> passages, int partitions) {
    List<Row> rows = new ArrayList<>();
    for (Passage p : passages) {
      rows.add(RowFactory.create(p.id(), p.title(), p.text()));
    }
    return rows(rows, PASSAGES, partitions);
  }

  /** Rows in {@code partitions} partitions of consecutive rows, order kept. */
  static Dataset<Row> rows(List<Row> rows, StructType schema, int partitions) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(session().sparkContext());
    return session().createDataFrame(jsc.parallelize(rows, partitions), schema);
  }

  /** The cosine of two unit vectors. */
  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (double) a[i] * b[i];
    }
    return s;
  }
}
