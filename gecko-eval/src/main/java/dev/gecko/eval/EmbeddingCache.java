package dev.gecko.eval;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.InvalidDataException;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.Progress;
import dev.gecko.core.ProgressListener;
import dev.gecko.core.internal.cache.ResourceCache;
import dev.gecko.core.internal.io.Hashes;
import dev.gecko.core.internal.io.Utf16;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * Full-width embeddings kept on disk, keyed by the model's content and by the exact text the model
 * sees (prompt and title rendered in), so that a second evaluation or training run over the same
 * texts embeds nothing. The one embedding cache of the project: the evaluators and the adapter
 * trainer use it.
 *
 * <h2>Keys</h2>
 * A model's vectors go to one file per model and width, named after the model and a hash of its
 * {@link ModelPackage#fingerprint()} (a SHA-256 over its settings and the content of its graph,
 * tokenizer and adapter): a model retrained in place, even of the same size, never reuses stale
 * vectors. Each record is the SHA-256 of the rendered text (its UTF-8, with a lone surrogate as
 * U+FFFD, as the tokenizer reads it), the raw little-endian vector, and a CRC-32C of those two.
 *
 * <h2>Files</h2>
 * A file ({@code <model>-<16 hex digits>.v3.f32}) starts with a header (the magic {@code
 * "GKEMB003"}, the width, the model's fingerprint) that is checked on open; a file of another model
 * or width is refused, naming it. Records are appended under an exclusive file lock (several JVMs
 * may share a folder); a truncated last record (an interrupted run) is dropped on the next open,
 * and a record whose checksum does not match (a flipped bit, zeros where the data never reached the
 * disk) or whose vector is not of unit length is ignored, with one warning per cache object and
 * file, and its text embedded again. Files of the format before the checksums ({@code GKEMB002},
 * named without {@code .v3}) are not read: an INFO line names such a file when a cache object first
 * uses its model and width, to be deleted when no older version of the library uses the folder. A
 * file that cannot be read or written (a full disk, a file of another user) costs speed only: one
 * warning names it; a read that fails embeds its texts again, and a write that fails keeps that
 * model and width's vectors in memory for the rest of the cache object's life. A header of zeros
 * (a machine that crashed as the file was made) counts as no header, and the next write starts the
 * file again. Where: {@link #open(Path)} a given folder,
 * {@link #openDefault()} {@code embeddings/} in the cache folder the library's other caches use
 * ({@code -Dgecko.cache.dir}, else {@code $XDG_CACHE_HOME/gecko}, else {@code ~/.cache/gecko}),
 * {@link #inMemory()} nowhere (vectors live as long as the cache object).
 *
 * <p>Vectors of int8 models depend slightly on the other texts of their inference batch, so a
 * cached int8 vector can differ in the last digits from a fresh one. The key is the model, not how
 * an embedder runs its graph: vectors written by an embedder built with {@code fuseLayerNorm(false)}
 * or {@code firstTokenOnly(false)} serve one built with the defaults, and back. Those rewrites change
 * fp32 vectors by float rounding only (2e-5) and int8 vectors within the quantisation noise
 * (docs/embedding.md, "The graph ONNX Runtime runs").
 *
 * <p>Memory: a cache object holds the vectors it was asked for or wrote, never a whole file; each
 * call reads its file once, for the texts it does not hold yet, so a file grown over many runs
 * costs a read, not the heap.
 *
 * <p>Thread-safe. Holds no open files between calls. It never closes the embedder given to {@code
 * embed}: the caller owns and closes it.
 */
public final class EmbeddingCache {
  /** One monitor per cache file in this JVM, around its file lock. */
  private static final java.util.concurrent.ConcurrentHashMap<Path, Object> FILE_LOCKS =
      new java.util.concurrent.ConcurrentHashMap<>();
  private static final System.Logger LOG = System.getLogger(EmbeddingCache.class.getName());
  private static final byte[] MAGIC = "GKEMB003".getBytes(StandardCharsets.US_ASCII);
  private static final int KEY_BYTES = 32;
  /** The record's CRC-32C, after its key and vector. */
  private static final int CRC_BYTES = 4;
  private static final int HEADER_BYTES = MAGIC.length + 4 + 32;
  /** Texts per call to the embedder: big enough for length-sorted batches, small for progress. */
  static final int CHUNK = 256;

  private final Path dir;
  private final Map<String, Store> stores = new HashMap<>();

  private EmbeddingCache(Path dir) {
    this.dir = dir;
  }

  /**
   * Opens (creating if needed) a cache folder.
   *
   * @throws IOException if the folder cannot be created
   */
  public static EmbeddingCache open(Path dir) throws IOException {
    Objects.requireNonNull(dir, "dir is null");
    Files.createDirectories(dir);
    return new EmbeddingCache(dir);
  }

  /**
   * Opens {@code embeddings/} in the library's cache folder (see the class comment); in memory
   * where the cache is turned off ({@code -Dgecko.cache=false}) or has no folder.
   *
   * @throws IOException if the folder cannot be created
   */
  public static EmbeddingCache openDefault() throws IOException {
    Optional<ResourceCache> cache = ResourceCache.configured();
    return cache.isPresent() ? open(cache.get().root().resolve("embeddings")) : inMemory();
  }

  /** A cache that keeps vectors in memory only, for one run. */
  public static EmbeddingCache inMemory() {
    return new EmbeddingCache(null);
  }

  /** Returns the cache folder, if the cache has one. */
  public Optional<Path> directory() {
    return Optional.ofNullable(dir);
  }

  /**
   * Returns full-width vectors aligned with {@code requests}, embedding only the rendered texts
   * the cache does not hold yet (each distinct text once, in chunks of similar length, appended to
   * the cache as they come). The arrays are this call's own, never the cache's, but equal rendered
   * texts of the call share one: modify one and its twins change too. Progress
   * goes to {@code progress} under {@code phase}, in units of distinct texts.
   *
   * @throws IOException not for a cache file that cannot be read or written: that costs speed
   *     only (one warning, then memory; see "Files" above)
   * @throws InvalidDataException if the model's cache file is not one of this model and width
   * @throws dev.gecko.core.InputTooLongException if the embedder refuses to truncate a text ({@code
   *     failOnTruncation}); its index is the text's position in {@code requests}
   */
  public List<float[]> embed(GeckoEmbedder embedder, List<EmbedRequest> requests, String phase,
      ProgressListener progress) throws IOException {
    Objects.requireNonNull(embedder, "embedder is null");
    Objects.requireNonNull(requests, "requests is null");
    Objects.requireNonNull(progress, "progress is null");
    Map<String, Integer> slot = new HashMap<>();
    List<String> unique = new ArrayList<>();
    List<EmbedRequest> uniqueRequests = new ArrayList<>();
    int[] index = new int[requests.size()];
    for (int i = 0; i < requests.size(); i++) {
      String rendered = embedder.model().render(requests.get(i));
      Integer s = slot.get(rendered);
      if (s == null) {
        s = unique.size();
        slot.put(rendered, s);
        unique.add(rendered);
        uniqueRequests.add(requests.get(i));
      }
      index[i] = s;
    }
    int width = embedder.dimensions();
    Store store = store(embedder.model(), width);
    float[][] vectors = store.getAll(unique);
    List<Integer> missing = new ArrayList<>();
    for (int u = 0; u < unique.size(); u++) {
      if (vectors[u] == null) {
        missing.add(u);
      }
    }
    long total = unique.size();
    long done = total - missing.size();
    progress.onProgress(Progress.of(phase, "texts", done, total));
    // Similar lengths in one call let the embedder cut tight batches.
    missing.sort(Comparator.comparingInt(u -> unique.get(u).length()));
    for (int from = 0; from < missing.size(); from += CHUNK) {
      List<Integer> chunk = missing.subList(from, Math.min(missing.size(), from + CHUNK));
      List<EmbedRequest> batch = new ArrayList<>(chunk.size());
      List<String> texts = new ArrayList<>(chunk.size());
      for (int u : chunk) {
        batch.add(uniqueRequests.get(u));
        texts.add(unique.get(u));
      }
      List<float[]> out;
      try {
        out = embedder.embedRequests(batch, width);
      } catch (dev.gecko.core.InputTooLongException e) { // its index is in this chunk: name the caller's
        int caller = firstRequestOf(index, chunk.get(e.index()));
        throw e.describedAs(caller, "text at index " + caller);
      }
      for (int j = 0; j < chunk.size(); j++) {
        vectors[chunk.get(j)] = out.get(j);
      }
      store.putAll(texts, out);
      done += chunk.size();
      progress.onProgress(Progress.of(phase, "texts", done, total));
    }
    List<float[]> result = new ArrayList<>(requests.size());
    for (int i : index) {
      result.add(vectors[i]);
    }
    return result;
  }

  /** Returns the store of one model at one width, loading its file on first use. */
  synchronized Store store(ModelPackage model, int width) {
    String fingerprint = model.fingerprint();
    String id = fingerprint + "|" + width;
    Store s = stores.get(id);
    if (s == null) {
      Path file = null;
      if (dir != null) {
        String stem = model.name().replaceAll("[^A-Za-z0-9._-]", "_") + "-" + Hashes.sha256Hex(id).substring(0, 16);
        file = dir.resolve(stem + ".v3.f32");
        Path older = dir.resolve(stem + ".f32"); // GKEMB002: records without checksums
        if (Files.isRegularFile(older)) {
          LOG.log(System.Logger.Level.INFO, "{0} holds this model''s vectors in an older format that this version "
              + "does not read (it writes {1}); delete it when no older version of gecko uses this folder", older,
              file.getFileName());
        }
      }
      s = new Store(file, width, HexFormat.of().parseHex(fingerprint));
      stores.put(id, s);
    }
    return s;
  }

  /**
   * The vectors of one model at one width; file null for memory only. Holds in memory only the
   * vectors this process asked for or wrote, not the whole file: a file that has grown over many
   * runs (every corpus ever evaluated with the model) is scanned for the texts asked for, so one
   * small evaluation never loads it all.
   */
  static final class Store {
    /** The file, or null for memory only: from the start, or after the file failed to read or write. */
    private Path file;
    /**
     * This JVM's monitor for the file, whatever path reached it ({@link #sameFileKey}); null without
     * a file. Reads take it too: closing any channel of a file drops the process's lock on it
     * (POSIX), so a read that closed its channel while another store of the file held the lock
     * would let another process append at the same time.
     */
    private final Object monitor;
    private final int width;
    private final byte[] fingerprint;
    private final Map<Key, float[]> vectors = new HashMap<>();
    private boolean warnedTorn;
    private boolean warnedRead;
    private boolean warnedDamaged;

    Store(Path file, int width, byte[] fingerprint) {
      this.file = file;
      this.monitor = file == null ? null : FILE_LOCKS.computeIfAbsent(sameFileKey(file), f -> new Object());
      this.width = width;
      this.fingerprint = fingerprint;
    }

    Optional<Path> file() {
      return Optional.ofNullable(file);
    }

    /** The vectors held in memory (asked for or written by this process); for tests. */
    synchronized int held() {
      return vectors.size();
    }

    /**
     * Returns the vector of each rendered text, null where neither memory nor the file holds
     * one; the file is read once, for the texts memory lacks.
     */
    synchronized float[][] getAll(List<String> rendered) throws IOException {
      Key[] keys = new Key[rendered.size()];
      Set<Key> wanted = new HashSet<>();
      for (int i = 0; i < keys.length; i++) {
        keys[i] = new Key(key(rendered.get(i)));
        if (!vectors.containsKey(keys[i])) {
          wanted.add(keys[i]);
        }
      }
      if (!wanted.isEmpty() && file != null) {
        synchronized (monitor) {
          read(wanted);
        }
      }
      float[][] out = new float[keys.length][];
      for (int i = 0; i < keys.length; i++) {
        float[] v = vectors.get(keys[i]);
        out[i] = v == null ? null : v.clone(); // the cache's own arrays never reach a caller
      }
      return out;
    }

    /**
     * Appends the records of texts this process does not hold yet. Another process may have
     * appended the same text since this one read the file: a text may then stand twice, and either
     * record serves (the same model's vector of the same text).
     */
    synchronized void putAll(List<String> rendered, List<float[]> vecs) throws IOException {
      int recordBytes = recordBytes();
      ByteBuffer buf = ByteBuffer.allocate(recordBytes * rendered.size()).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < rendered.size(); i++) {
        float[] v = vecs.get(i);
        if (v.length != width) {
          throw new IllegalArgumentException("vector width " + v.length + " != cache width " + width);
        }
        byte[] key = key(rendered.get(i));
        if (vectors.putIfAbsent(new Key(key), v.clone()) != null || file == null) {
          continue;
        }
        int start = buf.position();
        buf.put(key);
        for (float f : v) {
          buf.putFloat(f);
        }
        buf.putInt(crc(buf, start));
      }
      buf.flip();
      if (file == null || !buf.hasRemaining()) {
        return;
      }
      // a file lock is held by the JVM, not the thread: two stores of this file in one JVM (two caches
      // opened on one folder) would get OverlappingFileLockException, so they take turns here first
      try {
        synchronized (monitor) {
          append(buf, recordBytes);
        }
      } catch (IOException e) {
        memoryOnly(e);
      } catch (java.nio.channels.OverlappingFileLockException e) { // a store of another class loader holds it
        memoryOnly(new IOException("locked by another cache in this JVM", e));
      }
    }

    /**
     * One key for every spelling of a file (a link to its folder, {@code ..}): its folder's real path
     * and its name. The file itself may not exist yet, its folder does.
     */
    static Path sameFileKey(Path file) {
      Path abs = file.toAbsolutePath().normalize();
      try {
        return abs.getParent().toRealPath().resolve(abs.getFileName());
      } catch (IOException e) {
        return abs;
      }
    }

    /** A file that cannot be written: warned about once, then this store keeps its vectors in memory only. */
    private void memoryOnly(IOException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot write embedding cache {0} ({1}): this run keeps its vectors of "
          + "this model in memory only", file, e.getMessage());
      file = null;
    }

    /**
     * The record key of a rendered text: the SHA-256 of its UTF-8, a lone surrogate written as
     * U+FFFD (as the tokenizer reads it; {@code getBytes} would write {@code ?}, the key of another text).
     */
    static byte[] key(String rendered) {
      return Hashes.sha256().digest(Utf16.wellFormed(rendered).getBytes(StandardCharsets.UTF_8));
    }

    private void append(ByteBuffer buf, int recordBytes) throws IOException {
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
          StandardOpenOption.WRITE);
          FileLock lock = ch.lock()) {
        long size = ch.size();
        if (size < HEADER_BYTES || allZero(fileHeader(ch))) { // empty, or a header torn by a crash: the file starts again
          ch.truncate(0);
          ch.write(header(), 0);
          size = HEADER_BYTES;
        } else {
          size = HEADER_BYTES + (size - HEADER_BYTES) / recordBytes * recordBytes; // past a torn record
        }
        long at = size;
        while (buf.hasRemaining()) {
          at += ch.write(buf, at);
        }
        ch.truncate(at);
      }
    }

    /** The file's header bytes (the file holds at least {@code HEADER_BYTES}), ready to read. */
    private static ByteBuffer fileHeader(FileChannel ch) throws IOException {
      ByteBuffer head = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, head, 0);
      return head.flip();
    }

    /** Whether a header is all zeros: made, then lost in a crash before its data reached the disk. */
    private static boolean allZero(ByteBuffer head) {
      for (int i = head.position(); i < head.limit(); i++) {
        if (head.get(i) != 0) {
          return false;
        }
      }
      return true;
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
      long at = position;
      while (buf.hasRemaining()) {
        int n = ch.read(buf, at);
        if (n < 0) {
          throw new java.io.EOFException("the file ended at byte " + at);
        }
        at += n;
      }
    }

    private int recordBytes() {
      return KEY_BYTES + 4 * width + CRC_BYTES;
    }

    /** The CRC-32C of the key and vector of the record at {@code start} in {@code records}. */
    private int crc(ByteBuffer records, int start) {
      CRC32C crc = new CRC32C();
      crc.update(records.slice(start, KEY_BYTES + 4 * width)); // absolute: the buffer's position stays
      return (int) crc.getValue();
    }

    private ByteBuffer header() {
      ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      header.put(MAGIC).putInt(width).put(fingerprint).flip();
      return header;
    }

    /** Reads the records of {@code wanted} from the file into memory (removing them from the set). */
    private void read(Set<Key> wanted) throws IOException {
      if (file == null || !Files.exists(file)) {
        return;
      }
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        long size = ch.size();
        if (size < HEADER_BYTES) {
          return; // an empty or torn header: the next write starts the file again
        }
        ByteBuffer head = fileHeader(ch);
        if (allZero(head)) {
          return; // likewise
        }
        byte[] magic = new byte[MAGIC.length];
        head.get(magic);
        int w = head.getInt();
        byte[] print = new byte[32];
        head.get(print);
        if (!Arrays.equals(magic, MAGIC) || w != width || !Arrays.equals(print, fingerprint)) {
          throw new InvalidDataException(file.toString(), 0, "not this model's embedding cache at width " + width
              + " (header: width " + w + ", another model or format); delete the file to rebuild it");
        }
        int recordBytes = recordBytes();
        long records = (size - HEADER_BYTES) / recordBytes;
        // in chunks of whole records: a file may be larger than one array
        int perChunk = (int) Math.max(1, Math.min(records, (8 << 20) / recordBytes));
        ByteBuffer chunk = ByteBuffer.allocate(perChunk * recordBytes).order(ByteOrder.LITTLE_ENDIAN);
        long at = HEADER_BYTES;
        byte[] key = new byte[KEY_BYTES];
        for (long r = 0; r < records && !wanted.isEmpty(); ) {
          int n = (int) Math.min(perChunk, records - r);
          chunk.clear().limit(n * recordBytes);
          readFully(ch, chunk, at);
          chunk.flip();
          for (int i = 0; i < n; i++) {
            int start = i * recordBytes;
            chunk.get(start, key);
            Key k = new Key(key);
            if (wanted.contains(k)) {
              float[] v = new float[width];
              chunk.slice(start + KEY_BYTES, 4 * width).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
              String damage = crc(chunk, start) != chunk.getInt(start + KEY_BYTES + 4 * width)
                  ? "its checksum does not match" : plausible(v) ? null : "not a unit vector";
              if (damage == null) {
                wanted.remove(k);
                vectors.put(new Key(key.clone()), v);
              } else if (!warnedDamaged) { // still wanted: a later record of it, or embedded again and appended
                warnedDamaged = true;
                LOG.log(System.Logger.Level.WARNING, "{0}: ignoring a damaged record at byte {1} ({2}); "
                    + "its text is embedded again", file, Long.toString(at + start), damage);
              }
            }
          }
          at += (long) n * recordBytes;
          r += n;
        }
        long good = HEADER_BYTES + records * recordBytes;
        if (good != size && !warnedTorn) {
          warnedTorn = true;
          LOG.log(System.Logger.Level.WARNING, "{0}: ignoring a truncated last record ({1} bytes)", file, Long.toString(size - good));
        }
      } catch (IOException e) {
        // this call's texts are embedded again; the file stays for writes and later reads (an
        // interrupted read, a file another process was rewriting), where a failed write does not
        if (!warnedRead) {
          warnedRead = true;
          LOG.log(System.Logger.Level.WARNING, "cannot read embedding cache {0} ({1}): its texts are embedded again",
              file, e.getMessage());
        }
      }
    }
  }

  /** The first position in the caller's requests of distinct text {@code u}. */
  private static int firstRequestOf(int[] index, int u) {
    for (int i = 0; i < index.length; i++) {
      if (index[i] == u) {
        return i;
      }
    }
    throw new IllegalStateException("no request for text " + u);
  }

  /**
   * Whether a record's vector can be what the embedder wrote: the embedder's full-width vectors
   * are unit length (or zero), so a record whose data never reached the disk (zeros after a crash
   * of the machine, with the file already longer) or was overwritten is told by its norm.
   */
  static boolean plausible(float[] v) {
    double sq = 0;
    for (float x : v) {
      if (!Float.isFinite(x)) {
        return false;
      }
      sq += (double) x * x;
    }
    return sq == 0 || Math.abs(sq - 1) <= 1e-3;
  }

  private record Key(byte[] bytes) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && Arrays.equals(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
      return HexFormat.of().formatHex(bytes);
    }
  }
}
