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

/**
 * Checks on the files a command is given, before any model opens (an error then costs nothing).
 *
 * <p>The one rule for outputs (a folder such as {@code --out}, a file such as {@code --json}), in
 * every command, checked before any input is read or model opened:
 *
 * <ul>
 *   <li>an output of the wrong kind, a file where a folder is needed or a folder where a file is
 *       needed, is a usage error: the command exits 2 ({@link GeckoCli.UsageException});
 *   <li>an output that cannot be written or created, a folder or file without write permission or
 *       one that cannot be created (a file, or a folder without write permission, on the way to
 *       it), is a failure: the command exits 1 ({@link IOException}).
 * </ul>
 *
 * <p>Either message names the option, the path and the reason: {@code --out: DIR: ...}. Inputs
 * follow the same rule: one of the wrong kind is a usage error (2), one that is missing or cannot
 * be read a failure (1).
 */
final class CliFiles {
  /**
   * Whether a path may be written: {@link Files#isWritable}. Tests that run as root, whom no
   * permission stops, replace it to reach the refusals below; nothing else does.
   */
  static volatile java.util.function.Predicate<Path> writable = Files::isWritable;

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
   * @throws GeckoCli.UsageException if it is a folder (the command exits 2, as for an output of the wrong kind)
   */
  static Path readableFile(String option, Path file) throws IOException {
    if (!Files.exists(file)) {
      throw new NoSuchFileException(file.toString(), null, option + ": file not found");
    }
    if (Files.isDirectory(file)) {
      throw new GeckoCli.UsageException(file + ": " + option + " expects a file, this is a folder");
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
   * @throws GeckoCli.UsageException if it is not a folder (the command exits 2)
   */
  static Path readableFolder(String option, Path dir) throws IOException {
    if (!Files.exists(dir)) {
      throw new NoSuchFileException(dir.toString(), null, option + ": folder not found");
    }
    if (!Files.isDirectory(dir)) {
      throw new GeckoCli.UsageException(dir + ": " + option + " expects a folder, this is a file");
    }
    return dir;
  }

  /**
   * Checks that {@code dir} could be an output folder: an existing writable folder, or a new one
   * whose nearest existing parent is a writable folder (the rule above).
   *
   * @throws GeckoCli.UsageException if it is a file (the command exits 2)
   * @throws IOException if it cannot be written or created (the command exits 1)
   */
  static Path writableFolder(String option, Path dir) throws IOException {
    if (Files.exists(dir)) {
      if (!Files.isDirectory(dir)) {
        throw new GeckoCli.UsageException(option + ": " + dir + ": the output folder is a file");
      }
      if (!writable.test(dir)) {
        throw new AccessDeniedException(null, null, option + ": " + dir + ": the output folder is not writable"
            + " (permission denied)");
      }
      return dir;
    }
    creatable(option, dir, "the output folder");
    return dir;
  }

  /**
   * Checks that {@code file} could be an output file: not a folder, not an existing file that
   * cannot be written, and in a folder that exists and is writable or can be created (the rule
   * above).
   *
   * @throws GeckoCli.UsageException if it is a folder (the command exits 2)
   * @throws IOException if it cannot be written or created (the command exits 1)
   */
  static Path writableFile(String option, Path file) throws IOException {
    if (Files.isDirectory(file)) {
      throw new GeckoCli.UsageException(option + ": " + file + " is a folder; give a file name");
    }
    if (Files.exists(file)) {
      if (!writable.test(file)) {
        throw new AccessDeniedException(null, null, option + ": " + file + ": the file is not writable"
            + " (permission denied)");
      }
      Path folder = file.toAbsolutePath().getParent();
      if (folder != null && !writable.test(folder)) { // replaced atomically: a new file is written beside it
        throw new AccessDeniedException(null, null, option + ": " + file + ": its folder " + folder
            + " is not writable (permission denied)");
      }
      return file;
    }
    creatable(option, file, "the file");
    return file;
  }

  /**
   * Checks that {@code target}, which does not exist, can be created: its nearest existing parent
   * is a writable folder.
   */
  private static void creatable(String option, Path target, String what) throws IOException {
    Path parent = target.toAbsolutePath().getParent();
    while (parent != null && !Files.exists(parent)) {
      parent = parent.getParent();
    }
    String why = parent == null ? "no parent folder exists"
        : !Files.isDirectory(parent) ? parent + " is a file"
        : !writable.test(parent) ? parent + " is not writable (permission denied)" : null;
    if (why != null) {
      throw new IOException(option + ": " + target + ": " + what + " cannot be created: " + why);
    }
  }
}
