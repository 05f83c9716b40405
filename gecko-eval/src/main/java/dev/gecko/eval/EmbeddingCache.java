package dev.gecko.eval;

import dev.gecko.core.ModelSource;
import dev.gecko.core.ModelPackage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Full-width embeddings on disk, keyed by model and by the exact text the model sees (prompt and
 * title rendered in), so a second run of an evaluation, or of another evaluation over the same
 * texts, embeds nothing.
 *
 * <p>One file per model in the folder, named after the model and a hash of its identity (name,
 * where its weights come from, their size and modification time for files, pooling, maximum
 * tokens, adapter). Each record is the SHA-256 of the rendered text followed by the raw vector.
 * Records are appended; a truncated last record (an interrupted run) is dropped on the next open.
 * Vectors of int8 models depend slightly on the other texts of their inference batch, so a cached
 * int8 vector can differ in the last digits from a fresh one.
 *
 * <p>Thread-safe. Holds no open files between calls.
 */
public final class EmbeddingCache {
  private static final System.Logger LOG = System.getLogger(EmbeddingCache.class.getName());
  private static final byte[] MAGIC = "GKEMB001".getBytes(StandardCharsets.US_ASCII);
  private static final int KEY_BYTES = 32;

  private final Path dir;
  private final Map<String, Store> stores = new HashMap<>();

  private EmbeddingCache(Path dir) {
    this.dir = dir;
  }

  /**
   * Opens (creating if needed) a cache folder.
   *
   * @throws UncheckedIOException if the folder cannot be created
   */
  public static EmbeddingCache open(Path dir) {
    Objects.requireNonNull(dir, "dir is null");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create cache folder " + dir + ": " + e.getMessage(), e);
    }
    return new EmbeddingCache(dir);
  }

  /** Returns the cache folder. */
  public Path directory() {
    return dir;
  }

  /** Returns the store of one model at one width, loading its file on first use. */
  synchronized Store store(ModelPackage model, int width) {
    String id = fingerprint(model) + "|" + width;
    Store s = stores.get(id);
    if (s == null) {
      String safe = model.name().replaceAll("[^A-Za-z0-9._-]", "_");
      Path file = dir.resolve(safe + "-" + HexFormat.of().formatHex(sha256(id)).substring(0, 12) + ".f32");
      s = new Store(file, width);
      stores.put(id, s);
    }
    return s;
  }

  private static String fingerprint(ModelPackage m) {
    StringBuilder sb = new StringBuilder();
    sb.append(m.name()).append('\n').append(source(m.model())).append('\n').append(m.pooling()).append('\n')
        .append(m.maxTokens()).append('\n').append(m.adapter().map(EmbeddingCache::source).orElse("-"));
    return sb.toString();
  }

  private static String source(ModelSource s) {
    return s.path().map(p -> {
      try {
        return p.toAbsolutePath() + ":" + Files.size(p) + ":" + Files.getLastModifiedTime(p).toMillis();
      } catch (IOException e) {
        return p.toAbsolutePath().toString();
      }
    }).orElse(s.toString());
  }

  static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }

  /** The vectors of one model at one width. */
  static final class Store {
    private final Path file;
    private final int width;
    private Map<Key, float[]> vectors;

    Store(Path file, int width) {
      this.file = file;
      this.width = width;
    }

    Path file() {
      return file;
    }

    synchronized float[] get(String rendered) {
      load();
      return vectors.get(new Key(sha256(rendered)));
    }

    synchronized void putAll(List<String> rendered, List<float[]> vecs) {
      load();
      int recordBytes = KEY_BYTES + 4 * width;
      ByteBuffer buf = ByteBuffer.allocate(recordBytes * rendered.size()).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < rendered.size(); i++) {
        float[] v = vecs.get(i);
        if (v.length != width) {
          throw new IllegalArgumentException("vector width " + v.length + " != cache width " + width);
        }
        byte[] key = sha256(rendered.get(i));
        if (vectors.putIfAbsent(new Key(key), v.clone()) != null) {
          continue;
        }
        buf.put(key);
        for (float f : v) {
          buf.putFloat(f);
        }
      }
      buf.flip();
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.APPEND)) {
        if (ch.size() == 0) {
          ByteBuffer header = ByteBuffer.allocate(MAGIC.length + 4).order(ByteOrder.LITTLE_ENDIAN);
          header.put(MAGIC).putInt(width).flip();
          while (header.hasRemaining()) {
            ch.write(header);
          }
        }
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write embedding cache " + file + ": " + e.getMessage(), e);
      }
    }

    private void load() {
      if (vectors != null) {
        return;
      }
      vectors = new HashMap<>();
      if (!Files.exists(file)) {
        return;
      }
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        long size = ch.size();
        int headerBytes = MAGIC.length + 4;
        if (size < headerBytes) {
          ch.truncate(0);
          return;
        }
        ByteBuffer all = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        while (all.hasRemaining() && ch.read(all) >= 0) {
          // read fully
        }
        all.flip();
        byte[] magic = new byte[MAGIC.length];
        all.get(magic);
        int w = all.getInt();
        if (!Arrays.equals(magic, MAGIC) || w != width) {
          throw new IllegalStateException(file + ": not an embedding cache of width " + width
              + " (delete the file to rebuild it)");
        }
        int recordBytes = KEY_BYTES + 4 * width;
        long records = (size - headerBytes) / recordBytes;
        for (long r = 0; r < records; r++) {
          byte[] key = new byte[KEY_BYTES];
          all.get(key);
          float[] v = new float[width];
          for (int i = 0; i < width; i++) {
            v[i] = all.getFloat();
          }
          vectors.put(new Key(key), v);
        }
        long good = headerBytes + records * recordBytes;
        if (good != size) {
          LOG.log(System.Logger.Level.WARNING, "{0}: dropping a truncated last record ({1} bytes)", file, size - good);
          ch.truncate(good);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read embedding cache " + file + ": " + e.getMessage(), e);
      }
    }
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
