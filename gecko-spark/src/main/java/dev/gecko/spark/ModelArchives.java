package dev.gecko.spark;

import dev.gecko.core.internal.io.Hashes;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerApplicationEnd;

/**
 * The model archives {@link GeckoEmbeddings#shipModelFolder} writes on the driver, and their
 * lifetime. Each JVM writes its archives into a folder of its own under the temporary folder,
 * {@code gecko-model-<pid>-<16 random hex digits>}, named once per JVM, so that no other JVM reuses
 * or deletes them: Spark serves an added archive from its path for the life of the SparkContext,
 * so none may go while this JVM runs. They, and the folder, are deleted when the JVM exits ({@link
 * java.io.File#deleteOnExit}, which runs after the shutdown hooks, Spark's among them, have
 * finished); a JVM that is killed or crashes leaves them. Archives left by other JVMs, running or
 * not, are never touched. An archive shipped to a context ({@link #shipped}) is deleted sooner,
 * when that context stops: a long-lived driver that stops and starts contexts (a notebook, a
 * service) does not gather one archive per content it ever shipped; a later context that ships
 * the same content packs it again.
 *
 * <p>Thread-safe: two threads packing the same content both end with the one archive.
 */
final class ModelArchives {
  private static final System.Logger LOG = System.getLogger(ModelArchives.class.getName());
  /**
   * This JVM's folder name: the pid says whose it is, the random digits that no other JVM (an
   * earlier one of that pid, or another user's guess) made it.
   */
  private static final String HOME = "gecko-model-" + ProcessHandle.current().pid() + "-"
      + HexFormat.of().toHexDigits(new SecureRandom().nextLong());

  /** The archives shipped to each context that has not stopped yet. Guarded by itself. */
  private static final Map<SparkContext, Set<Path>> SHIPPED = new HashMap<>();

  private ModelArchives() {}

  /**
   * Records that {@code zip} was added to {@code sc}, so that it is deleted when {@code sc} stops
   * (Spark posts the application's end to its listeners while it stops, before {@code stop()}
   * returns, so before another context of this JVM can start and ship the same content).
   */
  static void shipped(SparkContext sc, Path zip) {
    synchronized (SHIPPED) {
      Set<Path> zips = SHIPPED.get(sc);
      if (zips == null) {
        zips = new HashSet<>();
        SHIPPED.put(sc, zips);
        sc.addSparkListener(new SparkListener() {
          @Override
          public void onApplicationEnd(SparkListenerApplicationEnd end) {
            stopped(sc);
          }
        });
      }
      zips.add(zip);
    }
  }

  /** Deletes the archives shipped to {@code sc}, which has stopped; where one cannot be, exit does. */
  private static void stopped(SparkContext sc) {
    Set<Path> zips;
    synchronized (SHIPPED) {
      zips = SHIPPED.remove(sc);
    }
    if (zips == null) {
      return;
    }
    for (Path zip : zips) {
      try {
        Files.deleteIfExists(zip);
      } catch (IOException e) {
        LOG.log(System.Logger.Level.DEBUG, () -> "cannot delete " + zip + " now; it goes when the JVM exits", e);
      }
    }
  }

  /** As {@link #pack(Path, Path)} under the JVM's temporary folder ({@code java.io.tmpdir}). */
  static Path pack(Path folder) {
    return pack(folder, Path.of(System.getProperty("java.io.tmpdir")));
  }

  /**
   * Packs {@code folder} as {@code <tmp>/<this JVM's folder>/<folder name>-<content>.zip}, where
   * {@code <content>} is the first 12 hex digits of a SHA-256 over the folder's file names, sizes
   * and bytes, and returns the archive's path. Written under a temporary name and moved into place;
   * where this JVM packed the same content before, that archive is returned (Spark adds a path
   * once, and refuses a second path of the same name). The archive and its folder are deleted when
   * the JVM exits (see the class comment).
   *
   * @throws UncheckedIOException naming the folder if it cannot be packed
   */
  static Path pack(Path folder, Path tmp) {
    Path dir = folder.toAbsolutePath().normalize();
    try {
      Path home = Files.createDirectories(tmp.toAbsolutePath().resolve(HOME));
      // registered before any archive in it, so deleted after them: the JVM deletes in reverse order of
      // registration, and a second registration keeps the first one's place
      home.toFile().deleteOnExit();
      Path part = Files.createTempFile(home, "packing-", ".zip.part");
      try {
        MessageDigest sha = Hashes.sha256();
        try (OutputStream os = Files.newOutputStream(part); ZipOutputStream z = new ZipOutputStream(os);
            Stream<Path> files = Files.walk(dir)) {
          for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
            String entry = dir.relativize(f).toString().replace('\\', '/');
            byte[] nameBytes = entry.getBytes(StandardCharsets.UTF_8);
            sha.update(ByteBuffer.allocate(4).putInt(nameBytes.length).array());
            sha.update(nameBytes);
            sha.update(ByteBuffer.allocate(8).putLong(Files.size(f)).array());
            z.putNextEntry(new ZipEntry(entry));
            try (InputStream in = new DigestInputStream(Files.newInputStream(f), sha)) {
              in.transferTo(z);
            }
            z.closeEntry();
          }
        }
        String content = Hashes.hex(sha).substring(0, 12);
        Path zip = home.resolve(dir.getFileName() + "-" + content + ".zip");
        zip.toFile().deleteOnExit(); // before it exists: no moment where it is there and would be left
        if (!Files.isRegularFile(zip)) { // else: this content was shipped before, and Spark adds that archive once
          Files.move(part, zip, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        return zip;
      } finally {
        Files.deleteIfExists(part); // moved into place, or not needed, or half written
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot pack " + dir + ": " + e.getMessage(), e);
    }
  }
}
