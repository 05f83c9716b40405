package dev.gecko.cli;

import dev.gecko.core.GeckoEmbedder;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code --model} and {@code --threads}, shared by every command that opens a model of the user's choice. */
final class ModelOptions {
  @Option(names = "--model", paramLabel = "MODEL",
      description = "Built-in model name or model folder. Default: " + GeckoEmbedder.Builder.DEFAULT_MODEL + ".")
  String model;

  @Mixin ThreadOptions threads = new ThreadOptions();

  /**
   * Opens the model.
   *
   * @throws GeckoCli.UsageException if the options are bad (see {@link ThreadOptions#builder})
   * @throws dev.gecko.core.ModelLoadException if the model does not open
   */
  GeckoEmbedder open() {
    return builder().build();
  }

  /**
   * The builder of the model, for a command that sets more.
   *
   * @throws GeckoCli.UsageException if the options are bad (see {@link ThreadOptions#builder})
   */
  GeckoEmbedder.Builder builder() {
    return threads.builder("--model", model);
  }

  /** The model's name as given, or the default's. */
  String name() {
    return model != null ? model : GeckoEmbedder.Builder.DEFAULT_MODEL;
  }
}
