package dev.gecko.cli;

import dev.gecko.eval.EmbeddingCache;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Checks on the files a command is given, before any model opens (an error then costs nothing). */
final class CliFiles {
  private CliFiles() {}

  /**
   * Opens the embedding cache of gecko train and gecko eval: {@code dir}, or the default folder
   * when null. A cache that cannot be used (a folder that cannot be created or written, a file
   * where the folder should be) only costs speed: it is replaced by one in memory, with one
   * warning line on {@code err} that names the path.
   */
  static EmbeddingCache embeddingCache(Path dir, PrintWriter err) {
    Path target = dir;
    try {
      EmbeddingCache cache = dir != null ? EmbeddingCache.open(dir) : EmbeddingCache.openDefault();
      if (cache.directory().isPresent()) {
        target = cache.directory().get();
        Files.delete(Files.createTempFile(target, ".gecko-write-check", ".tmp"));
      }
      return cache;
    } catch (IOException | UncheckedIOException e) {
      Throwable cause = e instanceof UncheckedIOException u && u.getCause() != null ? u.getCause() : e;
      String why = cause instanceof FileSystemException f && f.getFile() != null ? GeckoCli.describe(cause)
          : (target != null ? target + ": " : "") + GeckoCli.describe(cause);
      err.println("gecko: warning: cannot use the embedding cache (" + why + "); this run keeps embeddings in memory"
          + " only");
      err.flush();
      return EmbeddingCache.inMemory();
    }
  }

  /**
   * Checks that {@code file} is a readable regular file.
   *
   * @throws NoSuchFileException if it does not exist (the command exits 1, "file not found")
   * @throws AccessDeniedException if it cannot be read
   * @throws IOException if it is a folder
   */
  static Path readableFile(String option, Path file) throws IOException {
    if (!Files.exists(file)) {
      throw new NoSuchFileException(file.toString(), null, option + ": file not found");
    }
    if (Files.isDirectory(file)) {
      throw new IOException(file + ": " + option + " expects a file, this is a folder");
    }
    if (!Files.isReadable(file)) {
      throw new AccessDeniedException(file.toString(), null, option + ": permission denied");
    }
    return file;
  }

  /**
   * Checks that {@code dir} is a readable folder.
   *
   * @throws NoSuchFileException if it does not exist
   * @throws IOException if it is not a folder
   */
  static Path readableFolder(String option, Path dir) throws IOException {
    if (!Files.exists(dir)) {
      throw new NoSuchFileException(dir.toString(), null, option + ": folder not found");
    }
    if (!Files.isDirectory(dir)) {
      throw new IOException(dir + ": " + option + " expects a folder, this is a file");
    }
    return dir;
  }

  /**
   * Checks, before the work that ends in writing it, that {@code dir} could be an output folder:
   * an existing writable folder, or a new one whose nearest existing parent is a writable folder.
   * The rule of gecko train and gecko finetune: an output that is a file is a usage error (2), one
   * that cannot be created or written a failure (1).
   *
   * @throws GeckoCli.UsageException if it is a file
   * @throws AccessDeniedException if it cannot be written or created (the command exits 1)
   */
  static Path writableFolder(String option, Path dir) throws IOException {
    if (Files.exists(dir)) {
      if (!Files.isDirectory(dir)) {
        throw new GeckoCli.UsageException(option + ": " + dir + ": the output folder is a file");
      }
      if (!Files.isWritable(dir)) {
        throw new AccessDeniedException(dir.toString(), null, option + ": the output folder is not writable");
      }
      return dir;
    }
    Path parent = dir.toAbsolutePath().getParent();
    while (parent != null && !Files.exists(parent)) {
      parent = parent.getParent();
    }
    if (parent == null || !Files.isDirectory(parent) || !Files.isWritable(parent)) {
      throw new AccessDeniedException(dir.toString(), null, option + ": the output folder cannot be created ("
          + (parent == null ? "no existing parent" : parent + " is not a writable folder") + ")");
    }
    return dir;
  }

  /**
   * Checks, before the work that ends in writing it, that {@code file} could be written: not a
   * folder, and its folder, where it exists, writable.
   *
   * @throws GeckoCli.UsageException if not (the command exits 2)
   */
  static Path writableFile(String option, Path file) {
    if (Files.isDirectory(file)) {
      throw new GeckoCli.UsageException(option + ": " + file + " is a folder; give a file name");
    }
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null && Files.isDirectory(parent) && !Files.isWritable(parent)) {
      throw new GeckoCli.UsageException(option + ": cannot write in " + parent);
    }
    return file;
  }
}
