package dev.gecko.finetune.internal;

import ai.djl.engine.Engine;
import dev.gecko.core.ModelLoadException;

/**
 * DJL's PyTorch engine, started only from the natives that a Maven artifact ships on the class
 * path ({@code ai.djl.pytorch:pytorch-native-cpu}, classifier of the platform): if they are
 * missing the engine is not started at all, because DJL would then download libtorch.
 *
 * <p>No network: DJL's {@link Engine} class "calls home" in its static initializer (an HTTP
 * request to the AWS metadata address 169.254.169.254, and on EC2 one to an S3 telemetry URL)
 * unless the environment variable or system property {@code OPT_OUT_TRACKING} is true or DJL's
 * offline mode ({@code ai.djl.offline}, {@code DJL_OFFLINE}) is on. So this class, before it lets
 * anything touch {@code Engine}, sets the system property {@code OPT_OUT_TRACKING=true} where
 * neither that variable nor that property is set and offline mode is off, and says so once at
 * DEBUG through {@code System.Logger}. That is the one system property gecko-finetune sets; an
 * explicit {@code OPT_OUT_TRACKING} (false included) is left as it is, and offline mode is never
 * turned on here (it would also change an application's own DJL downloads). Code of this module
 * touches DJL's engine, managers and arrays only after {@link #engine()}.
 */
public final class Torch {
  static final String BUNDLED = "native/lib/pytorch.properties";
  /** DJL's switch of its call home, read from the environment first, then the system properties. */
  static final String OPT_OUT_TRACKING = "OPT_OUT_TRACKING";
  private static final System.Logger LOG = System.getLogger(Torch.class.getName());

  static {
    optOutOfTracking();
  }

  private Torch() {}

  /**
   * Returns the PyTorch engine, having opted out of DJL's call home first where the process has
   * not decided (see the class comment).
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

  /**
   * Sets the system property {@code OPT_OUT_TRACKING=true} unless the environment variable or the
   * system property is set (to any value) or DJL's offline mode is on, as DJL reads them; runs
   * once, when this class is initialised. Reads DJL's {@code Utils}, never {@code Engine}.
   *
   * @return whether it set the property
   */
  static synchronized boolean optOutOfTracking() {
    if (getenv(OPT_OUT_TRACKING) != null || System.getProperty(OPT_OUT_TRACKING) != null
        || ai.djl.util.Utils.isOfflineMode()) {
      return false;
    }
    System.setProperty(OPT_OUT_TRACKING, "true");
    LOG.log(System.Logger.Level.DEBUG, "set the system property OPT_OUT_TRACKING=true: DJL's Engine would "
        + "otherwise call home (169.254.169.254, a telemetry URL) when it is first used; set OPT_OUT_TRACKING "
        + "yourself to decide otherwise");
    return true;
  }

  private static String getenv(String name) {
    try {
      return System.getenv(name);
    } catch (SecurityException e) { // as DJL: the system property decides then
      return null;
    }
  }
}
