package dev.gecko.core.internal.runtime;

import dev.gecko.core.internal.cache.ResourceCache;

import ai.onnxruntime.OrtEnvironment;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Points ONNX Runtime at copies of its native libraries in the {@link ResourceCache}, so that a
 * JVM does not inflate them (28 MB on Linux x64) into a fresh temporary directory every time it
 * starts: about 0.17 s of the time to the first vector.
 *
 * <p>It only sets ONNX Runtime's own per-library properties ({@code
 * onnxruntime.native.onnxruntime.path}, {@code onnxruntime.native.onnxruntime4j_jni.path}), and
 * only where all of these hold: Linux; neither those nor {@code onnxruntime.native.path} are set;
 * the jar is the CPU build (GPU builds extract provider libraries that must sit beside the
 * runtime); ONNX Runtime is on the application class loader; the cache directory is not on a
 * {@code noexec} mount. Otherwise ONNX Runtime loads its libraries its own way. The properties
 * are cleared once ONNX Runtime has loaded. Has no effect once ONNX Runtime is loaded.
 *
 * <p>It also creates ONNX Runtime's environment on a thread with a stack large enough for ONNX
 * Runtime's telemetry start-up (see {@link #load()}).
 */
final class OrtLibraries {
  private static final String PREFIX = "onnxruntime.native.";
  private static boolean done;

  private OrtLibraries() {}

  /**
   * Returns ONNX Runtime's environment; called once, by {@link OrtRuntime#environment()}. The first
   * call in a class loader loads ONNX Runtime (if nothing has yet), from the cached copies where
   * they apply; the properties are set only around that load and cleared after it, so that an ONNX
   * Runtime in another class loader (a second web application, a plugin) extracts its own copy as
   * usual: one native library file cannot be loaded by two class loaders. The environment is
   * created on a thread of its own with a stack sized for the command line ({@code
   * createOnLargeStack}).
   */
  static synchronized OrtEnvironment load() {
    if (done) {
      return OrtEnvironment.getEnvironment();
    }
    done = true;
    List<String> set = preferCached();
    try {
      return createOnLargeStack();
    } finally {
      set.forEach(System::clearProperty);
    }
  }

  /**
   * Creates ONNX Runtime's environment on a thread of its own whose stack grows with the process's
   * command line. Where {@code ORT_DISABLE_TELEMETRY} is not set, ONNX Runtime 1.29's Linux build
   * starts its telemetry client here, on the calling thread, with stack use that grows with the
   * length of the command line (measured: a 5 KB class path overflows the JVM's default 1 MiB
   * thread stack, 20 KB overflows 4 MiB, 99 KB passes with 32 MiB): the JVM dies with a
   * segmentation fault and no error report. An application started from an IDE or with a long
   * {@code -cp} has such a command line. Where the thread cannot be started (its stack cannot be
   * reserved), the environment is created on the calling thread, as ONNX Runtime does.
   */
  private static OrtEnvironment createOnLargeStack() {
    AtomicReference<OrtEnvironment> env = new AtomicReference<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread t = new Thread(null, () -> {
      try {
        env.set(OrtEnvironment.getEnvironment());
      } catch (RuntimeException | Error e) {
        failure.set(e);
      }
    }, "gecko-onnxruntime-init", stackBytes(commandLineBytes()));
    t.setDaemon(true);
    try {
      t.start();
    } catch (OutOfMemoryError e) {
      return OrtEnvironment.getEnvironment();
    }
    boolean interrupted = false;
    while (true) {
      try {
        t.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true; // the load cannot be stopped half-way: finish it, keep the flag
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    Throwable f = failure.get();
    if (f instanceof RuntimeException r) {
      throw r;
    }
    if (f instanceof Error e) {
      throw e;
    }
    return env.get();
  }

  /**
   * The stack for {@link #createOnLargeStack}: 32 MiB plus 512 bytes a byte of command line (above
   * the roughly 200-330 measured), at most 1 GiB. Reserved, not committed: only what ONNX Runtime
   * touches becomes memory.
   */
  static long stackBytes(long commandLineBytes) {
    return Math.min(1L << 30, (32L << 20) + 512L * Math.max(0, commandLineBytes));
  }

  /** The length of this process's command line ({@code /proc/self/cmdline}); 0 where it cannot be read. */
  private static long commandLineBytes() {
    try {
      return Files.readAllBytes(Path.of("/proc/self/cmdline")).length;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** Sets the properties that apply; returns their names. */
  private static List<String> preferCached() {
    if (!System.getProperty("os.name", "").startsWith("Linux") || System.getProperty(PREFIX + "path") != null) {
      return List.of();
    }
    String arch = switch (System.getProperty("os.arch", "")) {
      case "amd64", "x86_64" -> "x64";
      case "aarch64" -> "aarch64";
      default -> null;
    };
    // a class literal: ONNX Runtime is not loaded by this. Only ONNX Runtime on the application
    // class loader, which exists once per JVM: in a child loader (a web application) a redeploy
    // would load the same file again in a new loader, which the JVM refuses.
    ClassLoader loader = OrtEnvironment.class.getClassLoader();
    if (arch == null || loader == null || loader != ClassLoader.getSystemClassLoader()) {
      return List.of();
    }
    String dir = "ai/onnxruntime/native/linux-" + arch + "/";
    if (loader.getResource(dir + System.mapLibraryName("onnxruntime_providers_shared")) != null) {
      return List.of();
    }
    Optional<ResourceCache> cache = ResourceCache.configured();
    if (cache.isEmpty() || onNoexecMount(cache.get().root())) {
      return List.of();
    }
    List<String> set = new ArrayList<>();
    for (String library : List.of("onnxruntime", "onnxruntime4j_jni")) {
      String property = PREFIX + library + ".path";
      URL url = loader.getResource(dir + System.mapLibraryName(library));
      if (System.getProperty(property) == null && url != null) {
        Optional<Path> file = cache.get().file(url);
        if (file.isPresent()) {
          System.setProperty(property, file.get().toString());
          set.add(property);
        }
      }
    }
    return set;
  }

  /**
   * Whether {@code dir} (or its nearest existing parent) lies on a mount whose options include
   * {@code noexec} (native libraries there cannot be mapped); true where that cannot be told.
   */
  static boolean onNoexecMount(Path dir) {
    try {
      Optional<Path> p = ResourceCache.nearestExisting(dir);
      return p.isEmpty() || noexec(p.get().toRealPath().toString(), Files.readAllLines(Path.of("/proc/self/mountinfo")));
    } catch (IOException | RuntimeException e) {
      return true;
    }
  }

  /**
   * Whether the mount holding {@code realPath} has {@code noexec}, after {@code mountinfo} (the
   * lines of {@code /proc/self/mountinfo}: the longest mount point holding the path, the later of
   * two on the same point); true where no mount holds it.
   */
  static boolean noexec(String realPath, List<String> mountinfo) {
    String best = null;
    boolean noexec = true;
    for (String line : mountinfo) {
      String[] f = line.split(" ");
      if (f.length < 6) {
        continue;
      }
      String mount = f[4].replace("\\040", " ");
      boolean holds = realPath.equals(mount) || realPath.startsWith(mount.endsWith("/") ? mount : mount + "/");
      if (holds && (best == null || mount.length() >= best.length())) {
        best = mount;
        noexec = Arrays.asList(f[5].split(",")).contains("noexec");
      }
    }
    return noexec;
  }
}
