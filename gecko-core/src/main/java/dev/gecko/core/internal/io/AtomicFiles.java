package dev.gecko.core.internal.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;

/**
 * Writes a file so that a reader sees the old content or the new, never a part: the bytes go to a
 * temporary sibling, are forced to the device, and the sibling is moved over the target
 * (atomically where the file system allows; a plain replace otherwise). The one implementation of
 * this pattern in the project. Internal: not part of the API.
 *
 * <p>Thread-safe (stateless); two writers of one target end with one of the two contents.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** What writes the new content; the stream is closed by {@link #write(Path, Body)}. */
  @FunctionalInterface
  public interface Body {
    /** Writes the content to {@code out}. */
    void writeTo(OutputStream out) throws IOException;
  }

  /**
   * Replaces {@code target} with {@code bytes}, creating its parent folders.
   *
   * @throws IOException if it cannot be written (the temporary file is removed)
   */
  public static void write(Path target, byte[] bytes) throws IOException {
    Objects.requireNonNull(bytes, "bytes is null");
    write(target, out -> out.write(bytes));
  }

  /**
   * Replaces {@code target} with what {@code body} writes, creating its parent folders.
   *
   * @throws IOException if it cannot be written (the temporary file is removed)
   */
  public static void write(Path target, Body body) throws IOException {
    Objects.requireNonNull(target, "target is null");
    Objects.requireNonNull(body, "body is null");
    Path parent = target.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Path tmp = Files.createTempFile(parent, "." + target.getFileName(), ".tmp");
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
          OutputStream out = new java.io.BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16)) {
        body.writeTo(out);
        out.flush();
        ch.force(true);
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
