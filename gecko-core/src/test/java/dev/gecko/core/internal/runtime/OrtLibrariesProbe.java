package dev.gecko.core.internal.runtime;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in a fresh JVM by {@link OrtLibrariesTest}: loads ONNX Runtime through {@link OrtLibraries},
 * then prints where its native library was mapped from, whether the properties were cleared, and
 * whether an ONNX Runtime in a second class loader still loads.
 */
public final class OrtLibrariesProbe {
  private OrtLibrariesProbe() {}

  public static void main(String[] args) throws Exception {
    OrtRuntime.environment();
    for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
      if (line.endsWith("/libonnxruntime.so")) {
        System.out.println("mapped " + line.substring(line.indexOf('/')));
        break;
      }
    }
    System.out.println("property " + System.getProperty("onnxruntime.native.onnxruntime.path"));
    URL ortJar = ai.onnxruntime.OrtEnvironment.class.getProtectionDomain().getCodeSource().getLocation();
    try (URLClassLoader other = new URLClassLoader(new URL[] {ortJar}, ClassLoader.getPlatformClassLoader())) {
      Object env = Class.forName("ai.onnxruntime.OrtEnvironment", true, other).getMethod("getEnvironment").invoke(null);
      System.out.println("second loader " + (env != null ? "ok" : "null"));
    }
  }
}
