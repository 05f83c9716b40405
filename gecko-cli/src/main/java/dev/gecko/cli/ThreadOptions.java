package dev.gecko.cli;

import picocli.CommandLine.Option;

/** {@code --threads}, shared by every command that embeds. */
final class ThreadOptions {
  @Option(names = "--threads", paramLabel = "N",
      description = "CPU threads for embedding (batches run in parallel, one per thread). Default: all cores.")
  Integer threads;

  /**
   * The builder of the model {@code nameOrFolder} (null: the default) with these threads.
   *
   * @throws GeckoCli.UsageException if the threads are below 1, or the name is neither a built-in
   *     model nor a folder (the command exits 2)
   * @throws dev.gecko.core.InvalidDataException if the name is a folder with a bad file, naming the
   *     file (the command exits 1)
   * @throws dev.gecko.core.ModelLoadException if the name is a folder that does not load for
   *     another reason (exit 1)
   */
  dev.gecko.core.GeckoEmbedder.Builder builder(String option, String nameOrFolder) {
    dev.gecko.core.GeckoEmbedder.Builder b = dev.gecko.core.GeckoEmbedder.builder();
    if (nameOrFolder != null) {
      try {
        b.model(nameOrFolder);
      } catch (dev.gecko.core.InvalidDataException e) {
        throw e; // bad data in a file of the folder, which the message names: a failure (1)
      } catch (IllegalArgumentException e) {
        if (isFolder(nameOrFolder)) { // a folder that does not load is a failure (1), not a bad option value
          throw new dev.gecko.core.ModelLoadException(option + " " + nameOrFolder + ": the folder does not load: "
              + e.getMessage(), e);
        }
        throw new GeckoCli.UsageException(option + ": " + e.getMessage());
      }
    }
    check();
    if (threads != null) {
      b.threads(threads);
    }
    return b;
  }

  /**
   * Checks the value before any work.
   *
   * @throws GeckoCli.UsageException if the threads are below 1 (exit 2)
   */
  void check() {
    if (threads != null && threads < 1) {
      throw new GeckoCli.UsageException("--threads must be >= 1, was " + threads);
    }
  }

  private static boolean isFolder(String path) {
    try {
      return java.nio.file.Files.isDirectory(java.nio.file.Path.of(path));
    } catch (java.nio.file.InvalidPathException e) {
      return false;
    }
  }
}
