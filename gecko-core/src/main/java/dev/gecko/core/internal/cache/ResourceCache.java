package dev.gecko.core.internal.cache;

import dev.gecko.core.internal.io.AtomicFiles;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;

/**
 * Files that ONNX Runtime loads, made from compressed jar entries once and kept in a directory, so
 * that later JVMs hand it a path instead of inflating the entry again: native libraries ({@link
 * OrtLibraries}), and model graphs as shipped or as rewritten ({@link Derived}). ONNX Runtime
 * reads a graph from a path much faster than from a Java array, which must be inflated, filled and
 * copied first: for the default model 0.4 s against 0.8 s, about half its time to the first vector.
 *
 * <p>A copy is named by the entry's CRC-32 and size as the jar's central directory records them
 * ({@code <dir>/<crc>-<size>/<file name>}), a derived file by its recipe, the version of the code
 * that made it, and its own CRC-32 and size ({@code <stem>.<recipe>.v<version>.<crc>-<size><ext>}
 * beside the copy; a new version's file replaces the old one's). Each is written to a temporary
 * file and moved into place, and checked against its size and CRC every time it is used: a damaged
 * file is never used, nor one that another user could have written (POSIX owner and permissions).
 * Nothing here throws for a cache that cannot be used: callers load from the jar as before (logged
 * once at INFO).
 *
 * <p>Where: {@code -Dgecko.cache.dir}, else {@code $XDG_CACHE_HOME/gecko}, else {@code
 * ~/.cache/gecko}; {@code -Dgecko.cache=false} turns it off. Directories it creates are private to
 * the user (POSIX {@code rwx------}). Copies of entries are never pruned; derived files of other
 * code versions are, once unused for {@value #SUPERSEDED_DAYS} days.
 *
 * <p>Thread-safe, and safe across JVMs sharing the directory: fields are final, files are written
 * to a temporary sibling and moved into place, and no file stays open between calls.
 */
public final class ResourceCache {
  private static final System.Logger LOG = System.getLogger(ResourceCache.class.getName());
  /** {@code false} turns the cache off. */
  public static final String ENABLED_PROPERTY = "gecko.cache";
  /** The cache directory. */
  public static final String DIR_PROPERTY = "gecko.cache.dir";
  private static final AtomicBoolean UNUSABLE_LOGGED = new AtomicBoolean();
  private static final int BUFFER = 1 << 18;
  /** Days after their last use that other versions' derived files are removed. */
  static final int SUPERSEDED_DAYS = 7;
  private static final Duration SUPERSEDED = Duration.ofDays(SUPERSEDED_DAYS);
  /** How stale a derived file's time may get before a use marks it used again. */
  private static final Duration USE_MARK = Duration.ofDays(1);

  private final Path root;

  public ResourceCache(Path root) {
    this.root = root;
  }

  /** Returns the cache the system properties and environment name, or empty where it is off. */
  public static Optional<ResourceCache> configured() {
    if ("false".equalsIgnoreCase(System.getProperty(ENABLED_PROPERTY, "").trim())) {
      return Optional.empty();
    }
    try {
      String dir = System.getProperty(DIR_PROPERTY, "").trim();
      if (!dir.isEmpty()) {
        return Optional.of(new ResourceCache(Path.of(dir)));
      }
      String xdg = System.getenv("XDG_CACHE_HOME");
      if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
        return Optional.of(new ResourceCache(Path.of(xdg, "gecko")));
      }
      String home = System.getProperty("user.home", "");
      if (home.isBlank() || home.equals("?")) {
        return Optional.empty();
      }
      return Optional.of(new ResourceCache(Path.of(home, ".cache", "gecko")));
    } catch (InvalidPathException e) {
      unusable("the cache directory is not a valid path: " + e.getMessage());
      return Optional.empty();
    }
  }

  /** Returns the cache's directory. */
  public Path root() {
    return root;
  }

  /**
   * Returns a file with the content of a compressed jar entry, extracting it on first use. Empty
   * where {@code url} is not a compressed jar entry with a recorded size and CRC, or the cache
   * cannot hold it.
   */
  public Optional<Path> file(URL url) {
    Optional<Entry> entry = Entry.of(url);
    if (entry.isEmpty() || !secureRoot()) {
      return Optional.empty();
    }
    Entry e = entry.get();
    Path copy = copyOf(e);
    if (sound(copy, e.size, e.crc)) {
      return Optional.of(copy);
    }
    boolean stored = store(copy, out -> {
      CRC32 crc = new CRC32();
      long size = 0;
      byte[] buffer = new byte[BUFFER];
      try (InputStream in = e.open()) {
        for (int n; (n = in.read(buffer)) >= 0; size += n) {
          crc.update(buffer, 0, n);
          out.write(buffer, 0, n);
        }
      }
      if (size != e.size || crc.getValue() != e.crc) { // checked here, so the copy need not be read back
        throw new IOException(url + " does not match the size and CRC-32 its jar records");
      }
    });
    if (stored && !trusted(copy)) {
      unusable(copy + " or its directory can be written by others once written (umask, ACLs)");
      return Optional.empty();
    }
    return stored ? Optional.of(copy) : Optional.empty();
  }

  /**
   * Returns the place for a file made from a compressed jar entry by {@code recipe} (a graph
   * rewritten a given way) at {@code version} of the code that makes it (letters, digits and
   * dashes each), kept beside the entry's copy. Empty where {@code url} is not a compressed jar
   * entry with a recorded size and CRC.
   */
  public Optional<Derived> derived(URL url, String recipe, String version) {
    for (String part : new String[] {recipe, version}) {
      if (!part.matches("[A-Za-z0-9-]+")) {
        throw new IllegalArgumentException("recipe and version must be letters, digits and dashes: " + part);
      }
    }
    return secureRoot() ? Entry.of(url).map(e -> new Derived(copyOf(e), recipe, version)) : Optional.empty();
  }

  /**
   * A file made from a jar entry by a recipe: {@code <copy stem>.<recipe>.v<version>.<crc>-<size>
   * <ext>}, so that finding it also gives what to check it against. Finding one marks it used
   * (its modification time, refreshed at most daily); storing one removes the recipe's files of
   * other versions unused for {@value ResourceCache#SUPERSEDED_DAYS} days. Immutable; {@code find}
   * and {@code store} may run concurrently, in this JVM or others.
   */
  public final class Derived {
    private final Path dir;
    private final String recipePrefix;
    private final String prefix;
    private final String extension;

    private Derived(Path copy, String recipe, String version) {
      String name = copy.getFileName().toString();
      int dot = name.lastIndexOf('.');
      this.dir = copy.getParent();
      this.recipePrefix = (dot > 0 ? name.substring(0, dot) : name) + "." + recipe + ".v";
      this.prefix = recipePrefix + version + ".";
      this.extension = dot > 0 ? name.substring(dot) : "";
    }

    /** Returns the stored file, if one is there and sound. */
    public Optional<Path> find() {
      if (!Files.isDirectory(dir)) {
        return Optional.empty();
      }
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
        for (Path f : files) {
          String name = f.getFileName().toString();
          if (!name.startsWith(prefix) || !name.endsWith(extension)) {
            continue;
          }
          String[] crcSize = name.substring(prefix.length(), name.length() - extension.length()).split("-");
          if (crcSize.length == 2 && crcSize[0].matches("[0-9a-f]{8}") && crcSize[1].matches("[0-9]{1,18}")
              && sound(f, Long.parseLong(crcSize[1]), Long.parseLong(crcSize[0], 16))) {
            markUsed(f);
            return Optional.of(f);
          }
        }
      } catch (IOException | RuntimeException e) {
        LOG.log(System.Logger.Level.DEBUG, () -> "cannot list " + dir + ": " + e);
      }
      return Optional.empty();
    }

    /** Stores {@code content} (best effort: a failure is logged once and otherwise ignored). */
    public void store(byte[] content) {
      Path file = dir.resolve(prefix + String.format(java.util.Locale.ROOT, "%08x-%d", crc(content), content.length) + extension);
      boolean stored = ResourceCache.this.store(file, out -> {
        for (int from = 0; from < content.length; from += BUFFER) {
          out.write(content, from, Math.min(BUFFER, content.length - from));
        }
      });
      if (!stored) {
        return;
      }
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
        for (Path f : files) {
          String name = f.getFileName().toString();
          if (name.startsWith(recipePrefix) && name.endsWith(extension) && !f.equals(file)) {
            try {
              if (unusedFor(f, SUPERSEDED)) {
                Files.deleteIfExists(f); // made by another version of the code, which no one has used lately
              }
            } catch (IOException e) { // gone meanwhile (another JVM's cleanup): the others still get theirs
              LOG.log(System.Logger.Level.DEBUG, () -> "cannot remove " + f + ": " + e);
            }
          }
        }
      } catch (IOException | RuntimeException e) {
        LOG.log(System.Logger.Level.DEBUG, () -> "cannot remove superseded files in " + dir + ": " + e);
      }
    }
  }

  /** Refreshes a used file's modification time where it is older than a day (best effort). */
  private static void markUsed(Path file) {
    try {
      if (unusedFor(file, USE_MARK)) {
        Files.setLastModifiedTime(file, FileTime.from(Instant.now()));
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.DEBUG, () -> "cannot mark " + file + " used: " + e);
    }
  }

  private static boolean unusedFor(Path file, Duration age) throws IOException {
    return Files.getLastModifiedTime(file, LinkOption.NOFOLLOW_LINKS).toInstant()
        .isBefore(Instant.now().minus(age));
  }

  private Path copyOf(Entry e) {
    String name = e.name.substring(e.name.lastIndexOf('/') + 1).replaceAll("[^A-Za-z0-9._-]", "_");
    return root.resolve(String.format(java.util.Locale.ROOT, "%08x-%d", e.crc, e.size)).resolve(name.isEmpty() ? "entry" : name);
  }

  /** Whether {@code file} has the given size and CRC (streamed: graphs and libraries are large). */
  private static boolean sound(Path file, long size, long expectedCrc) {
    try {
      // checked before it is opened: a link, a pipe or another user's file is never read
      if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || Files.size(file) != size || !trusted(file)) {
        return false;
      }
      CRC32 crc = new CRC32();
      byte[] buffer = new byte[BUFFER];
      try (InputStream in = new FileInputStream(file.toFile())) {
        for (int n; (n = in.read(buffer)) >= 0; ) {
          crc.update(buffer, 0, n);
        }
      }
      return crc.getValue() == expectedCrc;
    } catch (IOException | RuntimeException absent) {
      return false;
    }
  }

  /**
   * Whether the cache directory is {@linkplain #ours ours}, and no one else can move it: each
   * existing parent belongs to this user or to root and is not writable by others unless sticky
   * (like {@code /tmp}). Logged once when not. True where POSIX attributes do not exist.
   */
  boolean secureRoot() {
    try {
      Optional<Path> existing = nearestExisting(root);
      if (existing.isEmpty() || !existing.get().getFileSystem().supportedFileAttributeViews().contains("unix")) {
        return true;
      }
      Path dir = existing.get().toRealPath();
      if (existing.get().equals(root.toAbsolutePath())) {
        if (!ours(dir)) {
          unusable(dir + " belongs to another user or others may write it");
          return false;
        }
        dir = dir.getParent();
      }
      for (; dir != null; dir = dir.getParent()) {
        int mode = (Integer) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        boolean othersWrite = (mode & 0022) != 0;
        boolean sticky = (mode & 01000) != 0;
        boolean byRoot = Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS).equals(0);
        if (!(byRoot || ownedByMe(dir)) || (othersWrite && !sticky)) {
          unusable(dir + " belongs to another user or others may write it");
          return false;
        }
      }
      return true;
    } catch (IOException | RuntimeException e) {
      unusable("cannot check who owns " + root + " (" + e + ")");
      return false;
    }
  }

  /** Returns {@code path} (absolute) or its nearest parent that exists; empty where none does. */
  public static Optional<Path> nearestExisting(Path path) {
    Path p = path.toAbsolutePath();
    while (p != null && !Files.exists(p)) {
      p = p.getParent();
    }
    return Optional.ofNullable(p);
  }

  /** Whether the file and its directory are {@linkplain #ours ours}. */
  private static boolean trusted(Path file) {
    try {
      return ours(file) && ours(file.getParent());
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * Whether {@code path} belongs to this process's user and no one else may write it (POSIX; true
   * elsewhere). A CRC-32 tells damage, not forgery: a file someone else could have written is
   * not loaded, whatever its CRC.
   */
  private static boolean ours(Path path) throws IOException {
    if (!path.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      return true;
    }
    Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
    return !permissions.contains(PosixFilePermission.GROUP_WRITE)
        && !permissions.contains(PosixFilePermission.OTHERS_WRITE) && ownedByMe(path);
  }

  /** Whether this process's user owns {@code path} (its uid on Linux, else its user name). */
  private static boolean ownedByMe(Path path) throws IOException {
    Optional<Object> me = Uid.OF_THIS_PROCESS;
    return me.isPresent() && path.getFileSystem().supportedFileAttributeViews().contains("unix")
        ? Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS).equals(me.get())
        : Files.getOwner(path, LinkOption.NOFOLLOW_LINKS).getName().equals(System.getProperty("user.name"));
  }

  /** This process's user id: the owner of {@code /proc/self} (Linux); empty elsewhere. */
  private static final class Uid {
    static final Optional<Object> OF_THIS_PROCESS = read();

    private static Optional<Object> read() {
      try {
        Path self = Path.of("/proc/self");
        return Files.isDirectory(self) ? Optional.of(Files.getAttribute(self, "unix:uid")) : Optional.empty();
      } catch (IOException | RuntimeException e) {
        return Optional.empty();
      }
    }
  }

  private interface Writer {
    void writeTo(OutputStream out) throws IOException;
  }

  /** Writes a copy beside its final name and moves it into place; false (logged once) on failure. */
  private boolean store(Path copy, Writer writer) {
    try {
      createPrivateDirectories(copy.getParent());
      AtomicFiles.write(copy, writer::writeTo, true);
      return true;
    } catch (IOException | RuntimeException e) {
      unusable("cannot write " + copy + " (" + e + ")");
      return false;
    }
  }

  private void createPrivateDirectories(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    Path parent = dir.getParent();
    if (parent != null) {
      createPrivateDirectories(parent);
    }
    try {
      if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } else {
        Files.createDirectory(dir);
      }
    } catch (FileAlreadyExistsException raced) {
      // another JVM made it first
    }
  }

  private static long crc(byte[] bytes) {
    CRC32 crc = new CRC32();
    crc.update(bytes, 0, bytes.length);
    return crc.getValue();
  }

  private static void unusable(String why) {
    if (UNUSABLE_LOGGED.compareAndSet(false, true)) {
      LOG.log(System.Logger.Level.INFO, "resource cache not used: " + why + "; models and native libraries "
          + "load from their jars (slower to open). Set -D" + DIR_PROPERTY + "=<dir>, or -D" + ENABLED_PROPERTY
          + "=false to stop trying.");
    }
  }

  /**
   * Returns {@code "crc32:<crc>-<size>"} for a compressed jar entry, as its jar's central directory
   * records them (nothing is read), or empty where {@code url} is not such an entry.
   */
  public static Optional<String> jarEntryIdentity(URL url) {
    return Entry.of(url).map(e -> crc32Identity(e.crc, e.size));
  }

  /**
   * Returns {@code "crc32:<crc>-<size>"} for any class-path resource: as {@link #jarEntryIdentity}
   * where its jar records them (nothing is read), else computed from its bytes (a stored entry, an
   * exploded class path, another jar handler's nested jars), so one content has one identity
   * however it is packaged.
   *
   * @throws IOException if the resource cannot be read
   */
  public static String resourceIdentity(URL url) throws IOException {
    Optional<String> recorded = jarEntryIdentity(url);
    if (recorded.isPresent()) {
      return recorded.get();
    }
    CRC32 crc = new CRC32();
    long size = 0;
    byte[] buffer = new byte[BUFFER];
    java.net.URLConnection connection = url.openConnection();
    connection.setUseCaches(false); // a jar opened for this read is closed with the stream
    try (InputStream in = connection.getInputStream()) {
      for (int n; (n = in.read(buffer)) >= 0; size += n) {
        crc.update(buffer, 0, n);
      }
    }
    return crc32Identity(crc.getValue(), size);
  }

  private static String crc32Identity(long crc, long size) {
    return String.format(java.util.Locale.ROOT, "crc32:%08x-%d", crc, size);
  }

  /** A compressed jar entry as the jar's central directory describes it. */
  private static final class Entry {
    final URL url;
    final String name;
    final long size;
    final long crc;

    private Entry(URL url, String name, long size, long crc) {
      this.url = url;
      this.name = name;
      this.size = size;
      this.crc = crc;
    }

    static Optional<Entry> of(URL url) {
      if (url == null || !"jar".equals(url.getProtocol())) {
        return Optional.empty();
      }
      try {
        URLConnection connection = url.openConnection();
        if (!(connection instanceof JarURLConnection)) {
          return Optional.empty();
        }
        if (!connection.getClass().getName().startsWith("sun.net.www.protocol.jar.")) {
          return Optional.empty(); // another jar handler (Spring Boot's) may share the JarFile it returns
        }
        JarURLConnection jar = (JarURLConnection) connection;
        jar.setUseCaches(false); // this JarFile is ours to close
        try (JarFile file = jar.getJarFile()) {
          JarEntry e = file.getJarEntry(jar.getEntryName());
          if (e == null || e.getMethod() != ZipEntry.DEFLATED || e.getSize() < 0 || e.getCrc() < 0) {
            return Optional.empty(); // stored entries read at disk speed already
          }
          return Optional.of(new Entry(url, e.getName(), e.getSize(), e.getCrc()));
        }
      } catch (IOException | RuntimeException e) {
        return Optional.empty();
      }
    }

    InputStream open() throws IOException {
      URLConnection connection = url.openConnection();
      connection.setUseCaches(false); // the jar opened for this read is closed with the stream
      return connection.getInputStream();
    }
  }
}
