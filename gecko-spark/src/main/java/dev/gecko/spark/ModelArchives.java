package dev.gecko.spark;

import dev.gecko.core.internal.io.Hashes;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
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
 * or deletes them; in it, each Spark context that was shipped a folder has a folder of its own
 * ({@code context-<n>-<application id>}), so that no context serves an archive another one
 * deletes. Spark serves an added archive from its path for the life of its context, so it stays
 * while the context runs, and is deleted, with the context's folder, when the context stops (a
 * {@link SparkListener} for the application's end): a driver that stops and starts contexts (a
 * notebook, a service) does not gather archives; a later context that ships the same content packs
 * it again. Whatever is left (Spark drops listener events when its queue is full, and stops
 * waiting for listeners after {@code spark.scheduler.listenerbus.exitTimeout} where that is set)
 * is deleted with the JVM's folder when the JVM exits ({@link java.io.File#deleteOnExit}, which
 * runs after the shutdown hooks, Spark's among them, have finished); a JVM that is killed or crashes
 * leaves it. Archives of other JVMs, running or not, are never touched.
 *
 * <p>Thread-safe: two threads shipping the same content to one context both end with the one
 * archive.
 */
final class ModelArchives {
  private static final System.Logger LOG = System.getLogger(ModelArchives.class.getName());
  /**
   * This JVM's folder name: the pid says whose it is, the random digits that no other JVM (an
   * earlier one of that pid, or another user's guess) made it.
   */
  private static final String HOME = "gecko-model-" + ProcessHandle.current().pid() + "-"
      + HexFormat.of().toHexDigits(new SecureRandom().nextLong());
  /**
   * Characters of an application id kept in a folder name, and of a model folder's name kept in its
   * archive's name; others become {@code _}. An archive's path reaches {@link SparkContext#addArchive}
   * as a string that Spark reads as a URI: a {@code #} would start a fragment (Spark's name for the
   * folder it unpacks into), a {@code ?} a query, a space or {@code %} an invalid or escaped one.
   */
  private static final Pattern UNSAFE = Pattern.compile("[^A-Za-z0-9._-]");

  /**
   * The folder name of each context that was shipped a folder, for as long as the context is
   * referenced (weak: a context whose end never reached its listener is not kept). Guarded by
   * itself.
   */
  private static final Map<SparkContext, String> CONTEXTS = new WeakHashMap<>();
  private static final AtomicInteger CONTEXT_NUMBERS = new AtomicInteger();

  private ModelArchives() {}

  /**
   * Packs {@code folder} into the folder of {@code sc} under this JVM's folder in the temporary
   * folder ({@code java.io.tmpdir}), adds it with {@link SparkContext#addArchive}, and returns its
   * path; the archive goes when {@code sc} stops (see the class comment).
   *
   * @throws IllegalStateException if {@code sc} is stopped
   * @throws UncheckedIOException naming the folder if it cannot be packed
   */
  static Path ship(SparkContext sc, Path folder) {
    if (sc.isStopped()) {
      throw new IllegalStateException("cannot ship " + folder + ": the Spark context is stopped");
    }
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    String context;
    synchronized (CONTEXTS) {
      context = CONTEXTS.get(sc);
      if (context == null) {
        context = "context-" + CONTEXT_NUMBERS.incrementAndGet() + "-" + UNSAFE.matcher(sc.applicationId()).replaceAll("_");
        Path dir = tmp.toAbsolutePath().resolve(HOME).resolve(context);
        // the listener first: once the context is known here, its end reaches the listener
        sc.addSparkListener(new SparkListener() {
          @Override
          public void onApplicationEnd(SparkListenerApplicationEnd end) {
            stopped(dir);
          }
        });
        CONTEXTS.put(sc, context);
      }
    }
    Path zip = pack(folder, tmp, context);
    sc.addArchive(zip.toString());
    return zip;
  }

  /** Deletes a stopped context's folder and its archives; what cannot be deleted now goes at exit. */
  private static void stopped(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.deleteIfExists(f);
      }
      Files.deleteIfExists(dir);
    } catch (NoSuchFileException e) {
      // never created, or already gone
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, () -> "cannot delete " + dir + " now; it goes when the JVM exits", e);
    }
  }

  /**
   * The archive's file name: {@code <folder name>-<content>.zip}, the folder's name with every
   * character outside {@code [A-Za-z0-9._-]} replaced by {@code _} ({@code v1#best} gives {@code
   * v1_best-<content>.zip}).
   */
  static String archiveName(Path folder, String content) {
    Path name = folder.getFileName();
    String safe = UNSAFE.matcher(name == null ? "model" : name.toString()).replaceAll("_");
    return safe + "-" + content + ".zip";
  }

  /** As {@link #pack(Path, Path)} under the JVM's temporary folder ({@code java.io.tmpdir}). */
  static Path pack(Path folder) {
    return pack(folder, Path.of(System.getProperty("java.io.tmpdir")));
  }

  /** As {@link #pack(Path, Path, String)} in this JVM's folder itself. */
  static Path pack(Path folder, Path tmp) {
    return pack(folder, tmp, null);
  }

  /**
   * Packs {@code folder} as {@code <tmp>/<this JVM's folder>/<context>/<folder name>-<content>.zip}
   * ({@code <context>} left out where null), where {@code <content>} is the first 12 hex digits of
   * a SHA-256 over the folder's file names, sizes and bytes, and {@code <folder name>} the folder's
   * name kept to {@code [A-Za-z0-9._-]} ({@link #archiveName}), and returns the archive's path.
   * Written under a temporary name and moved into place; where the same content was packed there
   * before, that archive is returned (Spark adds a path once, and refuses a second path of the same
   * name). The archive and its folders are deleted when the JVM exits, if not before (see the class
   * comment).
   *
   * @throws UncheckedIOException naming the folder if it cannot be packed
   */
  static Path pack(Path folder, Path tmp, String context) {
    Path dir = folder.toAbsolutePath().normalize();
    try {
      // a link to the folder (models/current -> models/v7) is packed as the folder: a walk does not
      // enter the link it starts from, and the archive would be empty
      Path root = dir.toRealPath();
      Path jvm = tmp.toAbsolutePath().resolve(HOME);
      Path home = Files.createDirectories(context == null ? jvm : jvm.resolve(context));
      // registered before any archive in them, so deleted after them: the JVM deletes in reverse order
      // of registration, and a second registration keeps the first one's place
      jvm.toFile().deleteOnExit();
      home.toFile().deleteOnExit();
      Path part = Files.createTempFile(home, "packing-", ".zip.part");
      try {
        MessageDigest sha = Hashes.sha256();
        try (OutputStream os = Files.newOutputStream(part); ZipOutputStream z = new ZipOutputStream(os);
            Stream<Path> files = Files.walk(root)) {
          for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
            String entry = root.relativize(f).toString().replace('\\', '/');
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
        Path zip = home.resolve(archiveName(dir, content));
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
