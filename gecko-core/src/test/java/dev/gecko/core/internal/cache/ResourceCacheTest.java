package dev.gecko.core.internal.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Random;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cache of files made from jar entries, on real jars in a temporary folder. */
class ResourceCacheTest {
  @TempDir Path tmp;
  private byte[] content;
  private URL deflated;
  private URL stored;
  private ResourceCache cache;

  @BeforeEach
  void jar() throws IOException {
    content = new byte[300_000];
    new Random(7).nextBytes(content);
    System.arraycopy("compressible ".repeat(5000).getBytes(StandardCharsets.US_ASCII), 0, content, 0, 65_000);
    Path jar = tmp.resolve("model.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      out.putNextEntry(new JarEntry("models/some model.onnx"));
      out.write(content);
      out.closeEntry();
      JarEntry plain = new JarEntry("plain.bin");
      plain.setMethod(ZipEntry.STORED);
      plain.setSize(content.length);
      plain.setCrc(crc(content));
      out.putNextEntry(plain);
      out.write(content);
      out.closeEntry();
    }
    deflated = new URL("jar:" + jar.toUri() + "!/models/some%20model.onnx");
    stored = new URL("jar:" + jar.toUri() + "!/plain.bin");
    cache = new ResourceCache(tmp.resolve("cache"));
  }

  @Test
  void extractsACompressedEntryOnceNamedByItsCrcAndSize() throws IOException {
    Path file = cache.file(deflated).orElseThrow();
    assertThat(file).hasBinaryContent(content);
    assertThat(file.getParent().getFileName().toString())
        .isEqualTo(String.format(java.util.Locale.ROOT, "%08x-%d", crc(content), content.length));
    assertThat(file.getFileName().toString()).isEqualTo("some_model.onnx");
    var written = Files.getLastModifiedTime(file);

    assertThat(cache.file(deflated)).contains(file);
    assertThat(Files.getLastModifiedTime(file)).isEqualTo(written);
    try (var files = Files.list(file.getParent())) {
      assertThat(files).containsExactly(file); // no temporary file left behind
    }
    if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("cache")))).isEqualTo("rwx------");
    }
  }

  @Test
  void replacesADamagedCopy() throws IOException {
    Path file = cache.file(deflated).orElseThrow();
    byte[] damaged = content.clone();
    damaged[1234] ^= 1;
    Files.write(file, damaged);

    assertThat(cache.file(deflated)).contains(file);
    assertThat(file).hasBinaryContent(content);

    Files.write(file, new byte[10]); // truncated
    assertThat(cache.file(deflated)).contains(file);
    assertThat(file).hasBinaryContent(content);
  }

  @Test
  void doesNotUseAFileOthersCouldHaveWritten() throws IOException {
    Path file = cache.file(deflated).orElseThrow();
    assumeTrue(file.getFileSystem().supportedFileAttributeViews().contains("posix"));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-rw-"));

    assertThat(cache.file(deflated)).contains(file); // written again, private
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");

    Files.setPosixFilePermissions(file.getParent(), PosixFilePermissions.fromString("rwxrwxrwx"));
    assertThat(cache.file(deflated)).isEmpty(); // a directory anyone may write: not trusted, not fixed
    ResourceCache.Derived derived = cache.derived(deflated, "fused", "1").orElseThrow();
    derived.store(content);
    assertThat(derived.find()).isEmpty();
  }

  @Test
  void doesNotUseADirectoryOthersCanMove() throws IOException {
    assumeTrue(tmp.getFileSystem().supportedFileAttributeViews().contains("posix"));
    Path open = Files.createDirectory(tmp.resolve("open"));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
    assertThat(new ResourceCache(open.resolve("gecko")).file(deflated)).isEmpty(); // a parent anyone may write
    assertThat(new ResourceCache(open).derived(deflated, "fused", "1")).isEmpty(); // the root itself
    assertThat(open).isEmptyDirectory();

    Path sticky = Files.createDirectory(tmp.resolve("sticky"));
    Files.setPosixFilePermissions(sticky, PosixFilePermissions.fromString("rwxrwxrwx"));
    Process chmod = new ProcessBuilder("chmod", "+t", sticky.toString()).start();
    assumeTrue(waitFor(chmod) == 0, "chmod +t");
    assertThat(new ResourceCache(sticky.resolve("gecko")).file(deflated)).isPresent(); // like /tmp
  }

  private static int waitFor(Process p) {
    try {
      return p.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  @Test
  void leavesStoredEntriesAndPlainFilesAlone() throws IOException {
    assertThat(cache.file(stored)).isEmpty();
    assertThat(cache.file(tmp.resolve("model.jar").toUri().toURL())).isEmpty();
    assertThat(cache.file(new URL("jar:" + tmp.resolve("model.jar").toUri() + "!/missing"))).isEmpty();
    assertThat(cache.derived(stored, "fused", "1")).isEmpty();
    assertThat(tmp.resolve("cache")).doesNotExist();
  }

  @Test
  void anUnwritableDirectoryMeansNoCacheNotAnError() throws IOException {
    Path blocked = tmp.resolve("blocked");
    Files.writeString(blocked, "a file where the cache directory should be");
    ResourceCache unusable = new ResourceCache(blocked.resolve("gecko"));

    assertThat(unusable.file(deflated)).isEmpty();
    ResourceCache.Derived derived = unusable.derived(deflated, "fused", "1").orElseThrow();
    derived.store(content);
    assertThat(derived.find()).isEmpty();
  }

  /**
   * Under a locale whose digits are not ASCII (Arabic, Persian), names are written as they are
   * read: a stored graph is found again, and a copy lands where any other locale looks for it.
   */
  @Test
  void namesAreTheSameUnderALocaleWithOtherDigits() throws IOException {
    java.util.Locale saved = java.util.Locale.getDefault();
    try {
      java.util.Locale.setDefault(java.util.Locale.forLanguageTag("ar-SA-u-nu-arab")); // Arabic-Indic digits
      assertThat(String.format("%d", 7)).as("the locale's digits are not ASCII").isEqualTo("\u0667");
      ResourceCache arabic = new ResourceCache(tmp.resolve("cache-ar"));
      Path file = arabic.file(deflated).orElseThrow();
      assertThat(file.getParent().getFileName().toString())
          .isEqualTo(String.format(java.util.Locale.ROOT, "%08x-%d", crc(content), content.length));
      ResourceCache.Derived fused = arabic.derived(deflated, "fused", "1a").orElseThrow();
      byte[] rewritten = "a rewritten graph".getBytes(StandardCharsets.UTF_8);
      fused.store(rewritten);
      assertThat(fused.find()).as("the stored graph, found again").isPresent();
    } finally {
      java.util.Locale.setDefault(saved);
    }
  }

  @Test
  void keepsDerivedFilesByRecipeAndChecksThem() throws IOException {
    ResourceCache.Derived fused = cache.derived(deflated, "fused", "1a").orElseThrow();
    ResourceCache.Derived other = cache.derived(deflated, "fused-first", "1a").orElseThrow();
    assertThat(fused.find()).isEmpty();

    byte[] rewritten = "a rewritten graph".getBytes(StandardCharsets.UTF_8);
    fused.store(rewritten);
    Path file = fused.find().orElseThrow();
    assertThat(file).hasBinaryContent(rewritten);
    assertThat(file.getFileName().toString()).isEqualTo(
        String.format(java.util.Locale.ROOT, "some_model.fused.v1a.%08x-%d.onnx", crc(rewritten), rewritten.length));
    assertThat(other.find()).isEmpty();
    other.store(new byte[] {1, 2, 3});

    Files.write(file, "a rewritten graQh".getBytes(StandardCharsets.UTF_8)); // same size, damaged
    assertThat(fused.find()).isEmpty();
    fused.store(rewritten);
    assertThat(fused.find()).contains(file);

    ResourceCache.Derived next = cache.derived(deflated, "fused", "2b").orElseThrow();
    assertThat(next.find()).isEmpty();
    next.store(rewritten);
    Path nextFile = next.find().orElseThrow();
    assertThat(nextFile.getFileName().toString()).contains(".v2b.");
    assertThat(file).exists(); // another version, used lately (a second library on the machine): kept
    assertThat(fused.find()).contains(file);

    Files.setLastModifiedTime(file, FileTime.from(Instant.now().minus(Duration.ofDays(30))));
    Files.setLastModifiedTime(nextFile, FileTime.from(Instant.now().minus(Duration.ofDays(30))));
    assertThat(next.find()).contains(nextFile); // a use marks it used
    assertThat(Files.getLastModifiedTime(nextFile).toInstant()).isAfter(Instant.now().minus(Duration.ofHours(1)));
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().minus(Duration.ofDays(30))));
    next.store(rewritten);
    assertThat(file).doesNotExist(); // superseded, and unused for longer than a week
    assertThat(next.find()).contains(nextFile);
    assertThat(other.find()).isPresent(); // another recipe: kept
  }

  @Test
  void recipesAreFileNameSafe() {
    assertThatThrownBy(() -> cache.derived(deflated, "../escape", "1")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("../escape");
    assertThatThrownBy(() -> cache.derived(deflated, "fused", "1.2")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void isConfiguredBySystemProperties() {
    String enabled = System.getProperty(ResourceCache.ENABLED_PROPERTY);
    String dir = System.getProperty(ResourceCache.DIR_PROPERTY);
    try {
      System.setProperty(ResourceCache.DIR_PROPERTY, tmp.resolve("elsewhere").toString());
      System.clearProperty(ResourceCache.ENABLED_PROPERTY);
      assertThat(ResourceCache.configured().map(ResourceCache::root)).contains(tmp.resolve("elsewhere"));
      System.setProperty(ResourceCache.ENABLED_PROPERTY, "false");
      assertThat(ResourceCache.configured()).isEmpty();
      System.clearProperty(ResourceCache.ENABLED_PROPERTY);
      System.clearProperty(ResourceCache.DIR_PROPERTY);
      Optional<ResourceCache> byDefault = ResourceCache.configured();
      assertThat(byDefault).isPresent();
      assertThat(byDefault.get().root().getFileName().toString()).isEqualTo("gecko");
    } finally {
      restore(ResourceCache.ENABLED_PROPERTY, enabled);
      restore(ResourceCache.DIR_PROPERTY, dir);
    }
  }



  private static void restore(String key, String value) {
    if (value == null) {
      System.clearProperty(key);
    } else {
      System.setProperty(key, value);
    }
  }

  private static long crc(byte[] bytes) {
    CRC32 crc = new CRC32();
    crc.update(bytes);
    return crc.getValue();
  }
}
