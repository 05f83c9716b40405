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
   *     model nor a folder
   */
  dev.gecko.core.GeckoEmbedder.Builder builder(String option, String nameOrFolder) {
    dev.gecko.core.GeckoEmbedder.Builder b = dev.gecko.core.GeckoEmbedder.builder();
    if (nameOrFolder != null) {
      try {
        b.model(nameOrFolder);
      } catch (IllegalArgumentException e) {
        throw new GeckoCli.UsageException(option + ": " + e.getMessage());
      }
    }
    if (threads != null) {
      if (threads < 1) {
        throw new GeckoCli.UsageException("--threads must be >= 1, was " + threads);
      }
      b.threads(threads);
    }
    return b;
  }
}
