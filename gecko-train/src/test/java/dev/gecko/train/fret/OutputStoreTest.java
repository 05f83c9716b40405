package dev.gecko.train.fret;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A failed append leaves no torn fragment in the middle of a run file. */
class OutputStoreTest {

  @Test
  void aWriteThatFailsHalfWayIsCutBackSoTheFileHoldsOnlyWholeLines(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("rejects.jsonl");
    Files.writeString(file, "{\"seed_id\":\"a\"}\n", StandardCharsets.UTF_8);
    FretReject line = new FretReject("b", "generate", "no JSON object in the answer", "I cannot help with that.");
    try (FileChannel ch = new FailingChannel(OutputStore.APPEND.open(file), 10)) {
      assertThatThrownBy(() -> OutputStore.append(ch, "rejects.jsonl", line)).isInstanceOf(UncheckedIOException.class)
          .hasMessageContaining("cannot append to rejects.jsonl").hasMessageContaining("No space left on device");
    }
    assertThat(Files.readString(file, StandardCharsets.UTF_8)).isEqualTo("{\"seed_id\":\"a\"}\n");
    // the next append (the disk has room again) starts a line of its own
    try (FileChannel ch = OutputStore.APPEND.open(file)) {
      OutputStore.append(ch, "rejects.jsonl", line);
    }
    assertThat(Files.readAllLines(file, StandardCharsets.UTF_8)).hasSize(2).last().asString().startsWith("{\"seed_id\":\"b\"");
  }

  @Test
  void aStoreWhoseRejectsFileFailsKeepsItWhole(@TempDir Path dir) throws Exception {
    OutputStore.Appender failing = f -> f.endsWith(OutputStore.REJECTS) ? new FailingChannel(OutputStore.APPEND.open(f), 5)
        : OutputStore.APPEND.open(f);
    try (OutputStore s = OutputStore.open(dir, FretLockTest.CONFIG, null, "d", false, Clock.systemUTC(), failing)) {
      assertThatThrownBy(() -> s.writeReject(new FretReject("x", "generate", "r", "a"))).isInstanceOf(UncheckedIOException.class);
      assertThat(s.rejectCount()).isZero();
    }
    assertThat(Files.size(dir.resolve(OutputStore.REJECTS))).isZero();
  }

  /**
   * A run stops its workers by interrupting them; a worker interrupted as it writes must neither
   * lose its line nor close the file under the workers after it (an NIO channel closes when a
   * thread that uses it is interrupted).
   */
  @Test
  void anInterruptedWriterKeepsItsLineAndTheFileStaysOpenForTheOthers(@TempDir Path dir) throws Exception {
    try (OutputStore s = OutputStore.open(dir, FretLockTest.CONFIG, "d", false, Clock.systemUTC())) {
      Thread.currentThread().interrupt();
      try {
        s.writeReject(new FretReject("a", "generate", "r", "x"));
      } finally {
        assertThat(Thread.interrupted()).as("the interrupt is kept").isTrue();
      }
      Thread other = new Thread(() -> s.writeReject(new FretReject("b", "generate", "r", "x")));
      other.start();
      other.join();
      s.writeReject(new FretReject("c", "generate", "r", "x"));
      assertThat(s.rejectCount()).isEqualTo(3);
    }
    assertThat(Files.readAllLines(dir.resolve(OutputStore.REJECTS))).hasSize(3);
  }

  @Test
  void aRunThatWroteNothingGivesWayToACorrectedRerunButOneWithDataDoesNot(@TempDir Path dir) throws Exception {
    // a run stopped before its first line (a mistyped model answered 404): its manifest alone
    try (OutputStore s = OutputStore.open(dir, FretLockTest.CONFIG, "d1", false, Clock.systemUTC())) {
      s.writeManifest("stopped", "HTTP 404", null, 2);
    }
    try (OutputStore s = OutputStore.open(dir, FretLockTest.CONFIG, "d2", false, Clock.systemUTC())) {
      s.writeManifest("running", null, null, 2);
      s.writeReject(new FretReject("s1", "generate", "r", "a"));
    }
    assertThat(Files.readString(dir.resolve(OutputStore.MANIFEST))).contains("\"d2\"");
    try (java.util.stream.Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(f -> f.getFileName().toString())).noneMatch(f -> f.startsWith("archive"));
    }
    // now it holds a dataset: another configuration is refused, and nothing moves
    assertThatThrownBy(() -> OutputStore.open(dir, FretLockTest.CONFIG, "d3", false, Clock.systemUTC()))
        .isInstanceOf(ResumeConflictException.class).hasMessageContaining("Refusing to mix datasets");
    assertThat(Files.readAllLines(dir.resolve(OutputStore.REJECTS))).hasSize(1);
  }

  @Test
  void aManifestWithKeysANewerVersionAddedAtAnyDepthStillResumes(@TempDir Path dir) throws Exception {
    try (OutputStore s = OutputStore.open(dir, FretLockTest.CONFIG, "d", false, Clock.systemUTC())) {
      s.writeReject(new FretReject("a", "generate", "r", "x"));
      s.writeManifest("stopped", null, null, 2);
    }
    Path manifest = dir.resolve(OutputStore.MANIFEST);
    String json = Files.readString(manifest);
    assertThat(json).contains("\"counts\" : {").contains("\"llm\" : {");
    Files.writeString(manifest, json.replace("\"counts\" : {", "\"counts\" : {\"duplicates\":0,")
        .replace("\"llm\" : {", "\"llm\" : {\"reasoning\":\"high\","));
    try (OutputStore s = OutputStore.open(dir, FretLockTest.CONFIG, "d", false, Clock.systemUTC())) {
      assertThat(s.done()).containsExactly("a");
    }
  }

  @Test
  void aWholeLastRecordWithoutItsNewlineIsKeptAndATornOneIsCut(@TempDir Path dir) throws Exception {
    try (OutputStore s = OutputStore.open(dir, FretLockTest.CONFIG, "d", false, Clock.systemUTC())) {
      s.writeManifest("stopped", null, null, 5);
    }
    // a hand edit (the docs say to delete rejected seeds' lines) that dropped the final newline
    Files.writeString(dir.resolve(OutputStore.REJECTS), "{\"seed_id\":\"a\",\"stage\":\"generate\"}\n"
        + "{\"seed_id\":\"b\",\"stage\":\"generate\"}");
    Files.writeString(dir.resolve(OutputStore.EXAMPLES), "{\"seed_id\":\"c\"}\n{\"seed_id\":\"d\",\"que");
    try (OutputStore s = OutputStore.open(dir, FretLockTest.CONFIG, "d", false, Clock.systemUTC())) {
      assertThat(s.done()).containsExactlyInAnyOrder("a", "b", "c");
      assertThat(s.rejectCount()).isEqualTo(2);
      assertThat(s.exampleCount()).isOne();
      s.writeReject(new FretReject("e", "generate", "r", "x"));
    }
    assertThat(Files.readAllLines(dir.resolve(OutputStore.REJECTS))).hasSize(3)
        .extracting(l -> l.substring(0, 14)).containsExactly("{\"seed_id\":\"a\"", "{\"seed_id\":\"b\"", "{\"seed_id\":\"e\"");
    assertThat(Files.readString(dir.resolve(OutputStore.EXAMPLES))).isEqualTo("{\"seed_id\":\"c\"}\n");
  }

  /** A file channel that writes {@code budget} bytes, then fails every write as a full disk does. */
  static final class FailingChannel extends FileChannel {
    private final FileChannel inner;
    private long budget;

    FailingChannel(FileChannel inner, long budget) {
      this.inner = inner;
      this.budget = budget;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      if (budget <= 0) {
        throw new IOException("No space left on device");
      }
      int n = (int) Math.min(budget, src.remaining());
      ByteBuffer part = src.slice();
      part.limit(n);
      int w = inner.write(part);
      src.position(src.position() + w);
      budget -= w;
      return w;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      throw new IOException("No space left on device");
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      throw new IOException("No space left on device");
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return inner.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
      return inner.read(dsts, offset, length);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return inner.read(dst, position);
    }

    @Override
    public long position() throws IOException {
      return inner.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
      inner.position(newPosition);
      return this;
    }

    @Override
    public long size() throws IOException {
      return inner.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      inner.truncate(size);
      return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
      inner.force(metaData);
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
      return inner.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
      throw new IOException("No space left on device");
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
      return inner.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
      return inner.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
      return inner.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
      inner.close();
    }
  }
}
