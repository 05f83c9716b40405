package dev.gecko.core.internal.io;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file so that a reader sees the old content or the new, never a part: the bytes go to a
 * temporary sibling ({@code .<name>.<random>.tmp}, created with the process's default permissions),
 * are forced to the device, and the sibling is moved over the target (atomically where the file
 * system allows; a plain replace otherwise). Temporary siblings of the same target older than an
 * hour, left by a writer that was killed, are removed after a write. The one implementation of
 * this pattern in the project.
 * Internal: not part of the API.
 *
 * <p>Bytes are written through {@code java.io} in chunks: NIO's channel streams copy a large heap
 * array into a temporary direct buffer of its size and keep that buffer cached in the thread.
 *
 * <p>Thread-safe (stateless); two writers of one target end with one of the two contents.
 */
public final class AtomicFiles {
  private static final int CHUNK = 1 << 18;

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
    write(target, out -> {
      for (int from = 0; from < bytes.length; from += CHUNK) {
        out.write(bytes, from, Math.min(CHUNK, bytes.length - from));
      }
    });
  }

  /**
   * Replaces {@code target} with what {@code body} writes, creating its parent folders.
   *
   * @throws IOException if it cannot be written (the temporary file is removed)
   */
  public static void write(Path target, Body body) throws IOException {
    write(target, body, false);
  }

  /**
   * As {@link #write(Path, Body)}; with {@code ownerOnly} the file is readable and writable by its
   * owner only (POSIX {@code rw-------}; elsewhere the default permissions).
   *
   * @throws IOException if it cannot be written (the temporary file is removed)
   */
  public static void write(Path target, Body body, boolean ownerOnly) throws IOException {
    Objects.requireNonNull(target, "target is null");
    Objects.requireNonNull(body, "body is null");
    Path parent = target.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Path tmp = temporarySibling(parent, target.getFileName().toString(), ownerOnly);
    try {
      try (FileOutputStream file = new FileOutputStream(tmp.toFile());
          OutputStream out = new ChunkedOutputStream(file)) {
        body.writeTo(out);
        out.flush();
        file.getFD().sync();
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      syncFolder(parent);
    } catch (IOException | RuntimeException | Error e) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException | RuntimeException cleanup) {
        e.addSuppressed(cleanup); // the write's own failure is the one reported
      }
      throw e;
    }
    Files.deleteIfExists(tmp); // moved away: nothing left, unless the move copied
    removeStaleSiblings(parent, target.getFileName().toString());
  }

  /** How old a temporary sibling must be to count as left by a writer that was killed. */
  static final java.time.Duration STALE = java.time.Duration.ofHours(1);

  /**
   * Deletes the temporary siblings of {@code name} older than {@link #STALE}: a writer killed
   * before its {@code finally} (Ctrl-C, kill -9 during a first model open) leaves one behind,
   * as large as the file (a graph of 34 to 133 MB), which nothing else would ever remove. Best
   * effort; a live writer's file is younger.
   */
  private static void removeStaleSiblings(Path dir, String name) {
    removeSiblingsOlderThan(dir, name, java.time.Instant.now().minus(STALE));
  }

  /**
   * Deletes the temporary siblings of {@code name} in {@code dir} last written before this process
   * started: for a training run once its files are in place, so that what a killed earlier run
   * left (as large as a graph) does not stay, while a concurrent writer's file, written to now, is
   * left alone (where the start is unknown, those older than {@link #STALE}). Best effort.
   */
  public static void removeTemporarySiblings(Path dir, String name) {
    removeSiblingsOlderThan(dir, name, PROCESS_START.orElse(java.time.Instant.now().minus(STALE)));
  }

  private static final java.util.Optional<java.time.Instant> PROCESS_START =
      ProcessHandle.current().info().startInstant();

  private static void removeSiblingsOlderThan(Path dir, String name, java.time.Instant instant) {
    java.nio.file.attribute.FileTime before = java.nio.file.attribute.FileTime.from(instant);
    String prefix = "." + name + ".";
    try (java.nio.file.DirectoryStream<Path> siblings = Files.newDirectoryStream(dir,
        p -> isTemporaryName(p.getFileName().toString(), prefix))) {
      for (Path p : siblings) {
        try {
          if (Files.getLastModifiedTime(p).compareTo(before) < 0) {
            Files.deleteIfExists(p);
          }
        } catch (IOException e) {
          // another writer removed it, or it cannot be: left as it is
        }
      }
    } catch (IOException | RuntimeException e) {
      // the folder cannot be listed: nothing to clean here
    }
  }

  /** Whether {@code file} is {@code <prefix><hex>.tmp}, a temporary sibling's name. */
  private static boolean isTemporaryName(String file, String prefix) {
    if (!file.startsWith(prefix) || !file.endsWith(".tmp") || file.length() <= prefix.length() + 4) {
      return false;
    }
    for (int i = prefix.length(); i < file.length() - 4; i++) {
      if (Character.digit(file.charAt(i), 16) < 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Makes a rename in {@code dir} durable (the folder's entry flushed, so that a crash right after
   * cannot bring the old file back, nor reorder files written one after the other). Best effort:
   * where a folder cannot be opened for syncing (Windows, some file systems) the rename stands as
   * the file system keeps it.
   */
  private static void syncFolder(Path dir) {
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir, java.nio.file.StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // not supported here: nothing more this process can do
    }
  }

  private static Path temporarySibling(Path dir, String name, boolean ownerOnly) throws IOException {
    boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
    for (int attempt = 0; ; attempt++) {
      Path tmp = dir.resolve("." + name + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
      try {
        return ownerOnly && posix
            ? Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
            : Files.createFile(tmp);
      } catch (FileAlreadyExistsException e) {
        if (attempt > 16) {
          throw e;
        }
      }
    }
  }

  /** Passes writes on in chunks of at most {@link #CHUNK} bytes, buffering small ones. */
  private static final class ChunkedOutputStream extends OutputStream {
    private final OutputStream out;
    private final byte[] buffer = new byte[1 << 16];
    private int used;

    ChunkedOutputStream(OutputStream out) {
      this.out = out;
    }

    @Override
    public void write(int b) throws IOException {
      if (used == buffer.length) {
        flushBuffer();
      }
      buffer[used++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (len <= buffer.length - used) {
        System.arraycopy(b, off, buffer, used, len);
        used += len;
        return;
      }
      flushBuffer();
      for (int from = off, end = off + len; from < end; from += CHUNK) {
        out.write(b, from, Math.min(CHUNK, end - from));
      }
    }

    private void flushBuffer() throws IOException {
      if (used > 0) {
        out.write(buffer, 0, used);
        used = 0;
      }
    }

    @Override
    public void flush() throws IOException {
      flushBuffer();
      out.flush();
    }

    @Override
    public void close() throws IOException {
      flush();
    }
  }
}
