package dev.gecko.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Checks on the files a command is given, before any model opens (an error then costs nothing). */
final class CliFiles {
  private CliFiles() {}

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
