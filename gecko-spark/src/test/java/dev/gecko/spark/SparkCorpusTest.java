package dev.gecko.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SparkCorpus} closes each file it opened, whether its task reads it to the end or not. */
class SparkCorpusTest {
  @TempDir static Path dir;

  /**
   * The local file system under the scheme {@code counting:}, counting the streams it opened and
   * those closed since. Hadoop instantiates it from {@code fs.counting.impl}.
   */
  public static final class CountingFileSystem extends RawLocalFileSystem {
    static final AtomicInteger OPENED = new AtomicInteger();
    static final AtomicInteger OPEN = new AtomicInteger();
    private static final URI NAME = URI.create("counting:///");

    @Override
    public URI getUri() {
      return NAME;
    }

    @Override
    public String getScheme() {
      return "counting";
    }

    @Override
    public FSDataInputStream open(org.apache.hadoop.fs.Path f, int bufferSize) throws IOException {
      FSDataInputStream in = super.open(f, bufferSize);
      OPENED.incrementAndGet();
      OPEN.incrementAndGet();
      AtomicBoolean closed = new AtomicBoolean();
      return new FSDataInputStream(in) {
        @Override
        public void close() throws IOException {
          if (closed.compareAndSet(false, true)) {
            OPEN.decrementAndGet();
          }
          super.close();
        }
      };
    }
  }

  @BeforeAll
  static void register() {
    org.apache.hadoop.conf.Configuration conf = TestSpark.session().sparkContext().hadoopConfiguration();
    conf.set("fs.counting.impl", CountingFileSystem.class.getName());
    conf.setBoolean("fs.counting.impl.disable.cache", true);
  }

  private static String counting(Path file) {
    return "counting://" + file.toAbsolutePath();
  }

  private static Path write(String name, String... lines) throws IOException {
    Path f = dir.resolve(name);
    Files.writeString(f, String.join("\n", lines) + "\n");
    return f;
  }

  @Test
  void aFileReadToTheEndIsClosed() throws Exception {
    Path f = write("whole.jsonl", "{\"_id\":\"a\",\"text\":\"one\"}", "{\"_id\":\"b\",\"text\":\"two\"}");
    int opened = CountingFileSystem.OPENED.get();
    int open = CountingFileSystem.OPEN.get();
    assertThat(SparkCorpus.read(TestSpark.session(), counting(f)).count()).isEqualTo(2);
    assertThat(CountingFileSystem.OPENED.get() - opened).as("streams opened").isPositive();
    assertThat(CountingFileSystem.OPEN.get()).as("streams left open").isEqualTo(open);
  }

  @Test
  void aTaskThatStopsEarlyClosesItsFile() throws Exception {
    String[] lines = new String[50];
    for (int i = 0; i < lines.length; i++) {
      lines[i] = "{\"_id\":\"p" + i + "\",\"title\":\"\",\"text\":\"passage number " + i + "\"}";
    }
    Path f = write("many.jsonl", lines);
    int opened = CountingFileSystem.OPENED.get();
    int open = CountingFileSystem.OPEN.get();
    Dataset<Row> corpus = SparkCorpus.read(TestSpark.session(), counting(f));
    List<Row> first = corpus.takeAsList(1);
    assertThat(first).hasSize(1);
    assertThat(first.get(0).getString(1)).isEqualTo("p0");
    assertThat(corpus.limit(3).collectAsList()).hasSize(3);
    assertThat(CountingFileSystem.OPENED.get() - opened).as("streams opened").isGreaterThanOrEqualTo(2);
    assertThat(CountingFileSystem.OPEN.get()).as("streams left open").isEqualTo(open);
  }

  /**
   * Half a surrogate pair reads as U+FFFD in ids, titles and texts, as the model reads it; two ids
   * that differ only there are one, and the refusal names both lines and says why.
   */
  @Test
  void idsReadAsTheModelReadsThemAndARepeatedOneNamesBothLines() throws Exception {
    Path halves = write("halves.jsonl", "{\"_id\":\"s\\ud83d\",\"title\":\"t\\udc00\",\"text\":\"one \\ud83d\"}",
        "{\"_id\":\"u\",\"text\":\"two\"}");
    List<Row> rows = SparkCorpus.read(TestSpark.session(), halves.toString()).orderBy("ordinal").collectAsList();
    assertThat(rows).extracting(r -> r.getString(1)).containsExactly("s\uFFFD", "u");
    assertThat(rows.get(0).getString(2)).isEqualTo("t\uFFFD");
    assertThat(rows.get(0).getString(3)).isEqualTo("one \uFFFD");
    Path repeated = write("repeated.jsonl", "{\"_id\":\"x\",\"text\":\"a\"}",
        "{\"_id\":\"s\\ud83d\",\"text\":\"b\"}", "{\"_id\":\"s\\udc00\",\"text\":\"c\"}");
    assertThatThrownBy(() -> SparkCorpus.read(TestSpark.session(), repeated.toString()).count())
        .hasStackTraceContaining("repeated.jsonl:3: duplicate id 's\uFFFD' (first on line 2); half a surrogate pair "
            + "reads as U+FFFD, so ids that differ only there are one");
  }

  @Test
  void aTaskThatFailsOnABadLineClosesItsFile() throws Exception {
    Path f = write("bad.jsonl", "{\"_id\":\"a\",\"text\":\"one\"}", "{\"_id\":\"b\"}", "{\"_id\":\"c\",\"text\":\"three\"}");
    int opened = CountingFileSystem.OPENED.get();
    int open = CountingFileSystem.OPEN.get();
    assertThatThrownBy(() -> SparkCorpus.read(TestSpark.session(), counting(f)).count())
        .hasStackTraceContaining("text");
    assertThat(CountingFileSystem.OPENED.get() - opened).as("streams opened (each attempt)").isPositive();
    assertThat(CountingFileSystem.OPEN.get()).as("streams left open").isEqualTo(open);
  }
}
