package dev.gecko.core.internal.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writing a file whole, and the temporary files a killed writer leaves. */
class AtomicFilesTest {
  @Test
  void aWriteRemovesTheStaleTemporaryFilesOfItsTargetOnly(@TempDir Path dir) throws Exception {
    Path target = dir.resolve("model.onnx");
    // left by writers killed before their finally: one of this target an hour and more ago, one
    // of this target now (a live writer in another JVM), one of another file, and a user's file
    Path stale = Files.writeString(dir.resolve(".model.onnx.1f2e3d4c5b6a7980.tmp"), "partial");
    Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(AtomicFiles.STALE).minusSeconds(60)));
    Path live = Files.writeString(dir.resolve(".model.onnx.0a1b2c3d4e5f6071.tmp"), "being written");
    Path other = Files.writeString(dir.resolve(".tokenizer.json.1f2e3d4c5b6a7980.tmp"), "partial");
    Files.setLastModifiedTime(other, FileTime.from(Instant.now().minus(AtomicFiles.STALE).minusSeconds(60)));
    Path users = Files.writeString(dir.resolve(".model.onnx.notes.tmp"), "mine");
    Files.setLastModifiedTime(users, FileTime.from(Instant.now().minus(AtomicFiles.STALE).minusSeconds(60)));

    AtomicFiles.write(target, "graph".getBytes(StandardCharsets.UTF_8));

    assertThat(Files.readString(target)).isEqualTo("graph");
    assertThat(stale).doesNotExist();
    assertThat(live).as("young: a writer may be at work").exists();
    assertThat(other).as("another target's: its own write cleans it").exists();
    assertThat(users).as("not a temporary name").exists();
  }
}
