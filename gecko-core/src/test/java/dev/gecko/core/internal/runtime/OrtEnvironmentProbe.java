package dev.gecko.core.internal.runtime;

/** Run in a fresh JVM by {@link OrtLongCommandLineTest}: creates ONNX Runtime's environment as the library does. */
public final class OrtEnvironmentProbe {
  private OrtEnvironmentProbe() {}

  public static void main(String[] args) {
    OrtRuntime.environment();
    System.out.println("environment ok");
  }
}
