package dev.gecko.cli;

import dev.gecko.core.GeckoEmbedder;

/** Opens embedders from command-line options, shared by the subcommands. */
final class Embedders {
  private Embedders() {}

  /**
   * Opens a model by built-in name or folder ({@code null}: the default model).
   *
   * @throws GeckoCli.UsageException if the name is neither a built-in model nor a folder
   */
  static GeckoEmbedder open(String model, Integer threads) {
    GeckoEmbedder.Builder b = GeckoEmbedder.builder();
    if (model != null) {
      try {
        b.model(model);
      } catch (IllegalArgumentException e) {
        throw new GeckoCli.UsageException("--model: " + e.getMessage());
      }
    }
    if (threads != null) {
      if (threads < 1) {
        throw new GeckoCli.UsageException("--threads must be >= 1, was " + threads);
      }
      b.threads(threads);
    }
    return b.build();
  }
}
