package dev.gecko.tokenizer;

import ai.djl.huggingface.tokenizers.jni.LibUtils;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;
import java.util.jar.JarEntry;
import java.util.zip.CRC32;

/**
 * Loads the native HuggingFace tokenizers library that DJL ships in its jar, without DJL's
 * loader. DJL's {@code LibUtils} detects the platform first, which asks CUDA for the GPU count
 * ("Failed to detect GPU count", twice, on a machine with a CUDA runtime and no GPU) and starts
 * SLF4J (three "No SLF4J providers were found" lines where the application has no binding), for a
 * CPU library that needs neither. Here the library is copied, once, to the very place DJL itself
 * keeps it ({@code ~/.djl.ai/tokenizers/<version>-cpu-<os>-<arch>/}, moved by DJL's own {@code
 * ENGINE_CACHE_DIR} or {@code DJL_CACHE_DIR}) and loaded by path; a copy already there is used
 * when its size and CRC-32 match the jar's entry.
 *
 * <p>Only where all of these hold: Linux or macOS on x86-64 or arm64; DJL's {@code
 * TokenizersLibrary} defined by this class's loader (a JNI library belongs to the loader that
 * loads it); the jar carries the CPU library for the platform. Otherwise, or if anything fails
 * (an unwritable cache, a {@code noexec} mount), DJL's loader runs as before. Internal; sets no
 * system property. Thread-safe (one load per class loader).
 */
final class TokenizerNatives {
  private static final System.Logger LOG = System.getLogger(GeckoTokenizer.class.getName());
  private static final String DIR = "native/lib/";
  private static boolean loaded;
  private static String how = "not loaded";

  private TokenizerNatives() {}

  /** Loads the library on first use in this class loader. */
  static synchronized void ensureLoaded() {
    if (loaded) {
      return;
    }
    String direct;
    try {
      direct = loadDirect();
    } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
      direct = "failed: " + e;
    }
    if (direct == null) {
      how = "direct";
    } else {
      String reason = direct;
      LOG.log(System.Logger.Level.DEBUG, () -> "native tokenizers library through DJL's loader (" + reason + ")");
      LibUtils.checkStatus(); // DJL's own way: platform detection, SLF4J and all
      how = "djl";
    }
    loaded = true;
  }

  /** How the library was loaded: {@code "direct"}, {@code "djl"} or {@code "not loaded"}; for tests. */
  static synchronized String how() {
    return how;
  }

  /** Loads the library by path; returns null on success, else why it was not tried. */
  private static String loadDirect() throws IOException {
    String os = System.getProperty("os.name", "");
    String osPrefix = os.startsWith("Linux") ? "linux" : os.startsWith("Mac") ? "osx" : null;
    String arch = switch (System.getProperty("os.arch", "")) {
      case "amd64", "x86_64" -> "x86_64";
      case "aarch64", "arm64" -> "aarch64";
      default -> null;
    };
    if (osPrefix == null || arch == null) {
      return "platform " + os + "/" + System.getProperty("os.arch");
    }
    ClassLoader loader = TokenizersLibrary.class.getClassLoader(); // a class literal: nothing is initialised
    if (loader == null || loader != TokenizerNatives.class.getClassLoader()) {
      return "DJL is in another class loader";
    }
    String classifier = osPrefix + "-" + arch;
    String libName = System.mapLibraryName("tokenizers");
    URL lib = loader.getResource(DIR + classifier + "/cpu/" + libName);
    URL props = loader.getResource(DIR + "tokenizers.properties");
    if (lib == null || props == null) {
      return "no CPU library for " + classifier + " in DJL's jar";
    }
    Properties p = new Properties();
    try (InputStream in = props.openStream()) {
      p.load(in);
    }
    String version = p.getProperty("version");
    if (version == null || version.isBlank() || version.contains("/") || version.contains("\\")) {
      return "no version in " + props;
    }
    Path dir = cacheRoot().resolve("tokenizers").resolve(version + "-cpu-" + classifier);
    Path file = dir.resolve(libName);
    if (!matches(file, lib)) {
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, libName, ".tmp");
      try {
        try (InputStream in = open(lib)) {
          Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
      if (!matches(file, lib)) {
        return file + " does not match the jar's library after copying";
      }
    }
    System.load(file.toAbsolutePath().toString());
    return null;
  }

  /** DJL's cache folder: ENGINE_CACHE_DIR, else DJL_CACHE_DIR, else ~/.djl.ai (each from the environment or a property). */
  static Path cacheRoot() {
    for (String name : new String[] {"ENGINE_CACHE_DIR", "DJL_CACHE_DIR"}) {
      String v = System.getenv(name);
      if (v == null || v.isEmpty()) {
        v = System.getProperty(name);
      }
      if (v != null && !v.isEmpty()) {
        return Path.of(v);
      }
    }
    return Path.of(System.getProperty("user.home"), ".djl.ai");
  }

  /** Whether {@code file} exists with the size and CRC-32 of the resource {@code lib}. */
  private static boolean matches(Path file, URL lib) throws IOException {
    if (!Files.isRegularFile(file)) {
      return false;
    }
    long size;
    long crc;
    URLConnection c = lib.openConnection();
    if (c instanceof JarURLConnection jar) {
      jar.setUseCaches(false);
      JarEntry e = jar.getJarEntry();
      size = e.getSize();
      crc = e.getCrc();
      jar.getJarFile().close();
    } else {
      try (InputStream in = open(lib)) {
        long[] sc = sizeAndCrc(in);
        size = sc[0];
        crc = sc[1];
      }
    }
    if (size < 0 || crc < 0 || Files.size(file) != size) {
      return false;
    }
    try (InputStream in = Files.newInputStream(file)) {
      return sizeAndCrc(in)[1] == crc;
    }
  }

  private static InputStream open(URL url) throws IOException {
    URLConnection c = url.openConnection();
    c.setUseCaches(false); // the jar opened for this read is closed with the stream
    return c.getInputStream();
  }

  private static long[] sizeAndCrc(InputStream in) throws IOException {
    CRC32 crc = new CRC32();
    byte[] buf = new byte[1 << 16];
    long size = 0;
    for (int n; (n = in.read(buf)) > 0; ) {
      crc.update(buf, 0, n);
      size += n;
    }
    return new long[] {size, crc.getValue()};
  }
}
