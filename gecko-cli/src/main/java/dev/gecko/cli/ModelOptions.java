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

  /**
   * Checks Matryoshka widths before any work (a data file read, a model's graph opened): each must
   * be at least 1 and at most the width the model's package declares (where it declares one; a
   * folder that does not, or does not resolve, is checked when it opens).
   *
   * @param several whether the option takes a list ({@code --dims 64,128}), for the message
   * @throws GeckoCli.UsageException naming {@code option} for a width out of range (exit 2)
   */
  void checkDims(String option, java.util.Collection<Integer> dims, boolean several) {
    if (dims.isEmpty()) {
      return;
    }
    int width = 0;
    try {
      width = dev.gecko.core.ModelPackage.resolve(name()).dimensions();
    } catch (RuntimeException e) {
      // an unknown name or a folder that does not load: builder() and open() say so with their exit codes
    }
    checkDims(option, dims, several, width);
  }

  /**
   * Checks Matryoshka widths against a model's {@code width} (0: unknown, only the lower bound is
   * checked): before work with the declared width, or once the model is open with its own.
   *
   * @throws GeckoCli.UsageException naming {@code option} for a width out of range (exit 2)
   */
  static void checkDims(String option, java.util.Collection<Integer> dims, boolean several, int width) {
    for (int d : dims) {
      if (d < 1 || (width > 0 && d > width)) {
        throw new GeckoCli.UsageException(option + (several ? ": every width" : "") + " must be in [1, "
            + (width > 0 ? String.valueOf(width) : "the model's width") + "], was " + d);
      }
    }
  }

  /** The model's name as given, or the default's. */
  String name() {
    return model != null ? model : GeckoEmbedder.Builder.DEFAULT_MODEL;
  }
}
