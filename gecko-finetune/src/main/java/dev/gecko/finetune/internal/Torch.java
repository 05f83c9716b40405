package dev.gecko.finetune.internal;

import ai.djl.engine.Engine;
import dev.gecko.core.ModelLoadException;

/**
 * DJL's PyTorch engine, started only from the natives that a Maven artifact ships on the class
 * path ({@code ai.djl.pytorch:pytorch-native-cpu}, classifier of the platform): if they are
 * missing the engine is not started at all, because DJL would then download libtorch. Nothing
 * here sets a system property.
 */
public final class Torch {
  static final String BUNDLED = "native/lib/pytorch.properties";

  private Torch() {}

  /**
   * Returns the PyTorch engine.
   *
   * @throws ModelLoadException if the natives are not on the class path (the message names the
   *     Maven coordinates) or the engine fails to start
   */
  public static Engine engine() {
    if (Torch.class.getClassLoader().getResource(BUNDLED) == null
        && Thread.currentThread().getContextClassLoader().getResource(BUNDLED) == null) {
      throw new ModelLoadException("PyTorch's native libraries are not on the class path: add the Maven dependency "
          + "ai.djl.pytorch:pytorch-native-cpu:2.7.1 with the classifier of this platform (linux-x86_64, "
          + "linux-aarch64, osx-aarch64, win-x86_64); gecko-finetune never downloads them");
    }
    try {
      return Engine.getEngine("PyTorch");
    } catch (RuntimeException | LinkageError e) {
      throw new ModelLoadException("the PyTorch engine did not start: " + e, e);
    }
  }
}
