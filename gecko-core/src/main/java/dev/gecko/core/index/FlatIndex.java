package dev.gecko.core.index;

import dev.gecko.core.vector.VectorOps;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * An exact top-k index over vectors of one width, stored as float32, int8 or binary (sign bits)
 * in one flat in-memory array and scored with the {@link VectorOps} kernels.
 *
 * <p><b>Exact brute force, not approximate nearest neighbours:</b> every query is compared with
 * every stored vector, so a query costs {@code size() * dimensions()} multiply-adds (float32,
 * int8) or {@code size() * ceil(dimensions() / 64)} popcounts (binary). "Exact" is about the
 * search: int8 and binary scores are those of the quantised vectors. See docs/benchmarks.md for
 * measured query times.
 *
 * <p>Scores, higher is better: {@link Metric#DOT} the dot product (the cosine for unit vectors,
 * which is what {@link dev.gecko.core.GeckoEmbedder} returns); {@link Metric#COSINE} the cosine
 * (vectors and queries are L2-normalised when they come in, so {@link #vector} returns the
 * normalised vector); {@link Metric#HAMMING} {@code 1 - 2 * hamming / dimensions}, the share of
 * agreeing sign bits minus the share of differing ones, in [-1, 1]. Int8 scores are
 * {@code int8Dot(q, x) * scaleQ * scaleX}, an estimate of the float dot product. Ties are broken by
 * the lower ordinal.
 *
 * <p>Thread-safety: not thread-safe while vectors are added; concurrent searches are safe once
 * adding is done (and the index was safely published).
 *
 * <p>Only finite values are held: {@link #add} and {@link #search} refuse a vector with NaN or an
 * infinity, and {@link #load} refuses a file that holds one.
 *
 * <p>File format ({@link #save}, {@link #load}), all little-endian: a 32-byte header of the magic
 * {@code "GKFX"} (4 ASCII bytes), then int32 fields version (2), precision (0 float32, 1 int8,
 * 2 binary), metric (0 dot, 1 cosine, 2 hamming), dimensions, count, the CRC-32C of the payload
 * and the CRC-32C of the header's first 28 bytes; then the payload: float32: {@code count *
 * dimensions} float32; int8: {@code count} float32 scales, then {@code count * dimensions} int8;
 * binary: {@code count * ceil(dimensions / 64)} int64 words as {@link
 * VectorOps#quantizeBinary(float[])} packs them. {@link #load} verifies both checksums once, while
 * it reads the file, so a damaged file (a flipped bit anywhere) is refused instead of searched.
 * Version 1 files (a 24-byte header, no checksums) are refused with a message to re-create the
 * index: nothing in them tells a damaged vector from a good one. Ids and metadata of the vectors
 * are the caller's to store (the CLI keeps them in a JSONL file beside the index).
 */
public final class FlatIndex {
  /** How vectors are stored. */
  public enum Precision {
    /** 4 bytes per component, exact. */
    FLOAT32,
    /** 1 byte per component plus one float scale per vector (symmetric, per vector). */
    INT8,
    /** 1 bit per component: its sign. */
    BINARY;

    /**
     * Parses {@code float32}, {@code int8} or {@code binary}, ignoring case.
     *
     * @throws IllegalArgumentException naming the accepted values if {@code name} is none of them
     */
    public static Precision parse(String name) {
      for (Precision p : values()) {
        if (p.name().equalsIgnoreCase(name)) {
          return p;
        }
      }
      throw new IllegalArgumentException("unknown precision '" + name + "': expected float32, int8 or binary");
    }
  }

  /** How a query is scored against a stored vector; higher is better for all. */
  public enum Metric {
    /** Dot product. */
    DOT,
    /** Cosine similarity (vectors normalised on the way in). */
    COSINE,
    /** {@code 1 - 2 * hamming / dimensions} over sign bits; binary precision only. */
    HAMMING
  }

  static final byte[] MAGIC = "GKFX".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 2;
  static final int HEADER_BYTES = 32;
  /** The header bytes its own checksum covers: everything before that checksum. */
  private static final int HEADER_CHECKED_BYTES = HEADER_BYTES - 4;
  private static final int MAX_ARRAY = Integer.MAX_VALUE - 16;
  /** Binary codes scored per kernel call (a 4 KiB distance buffer, in L1). */
  private static final int BINARY_BLOCK = 1024;

  private final int dimensions;
  private final Precision precision;
  private final Metric metric;
  private final int words;
  private float[] floats = new float[0];
  private byte[] bytes = new byte[0];
  private float[] scales = new float[0];
  private long[] bits = new long[0];
  private int size;

  /**
   * Creates an empty float32 index scored by dot product.
   *
   * @throws IllegalArgumentException if {@code dimensions < 1}
   */
  public FlatIndex(int dimensions) {
    this(dimensions, Precision.FLOAT32, Metric.DOT);
  }

  private FlatIndex(int dimensions, Precision precision, Metric metric) {
    if (dimensions < 1) {
      throw new IllegalArgumentException("dimensions must be >= 1, was " + dimensions);
    }
    this.dimensions = dimensions;
    this.precision = precision;
    this.metric = metric;
    this.words = VectorOps.binaryWords(dimensions);
  }

  /**
   * Returns a builder for an index of vectors of width {@code dimensions}.
   *
   * @throws IllegalArgumentException if {@code dimensions < 1}
   */
  public static Builder builder(int dimensions) {
    return new Builder(dimensions);
  }

  /** Returns the vector width. */
  public int dimensions() {
    return dimensions;
  }

  /** Returns the number of vectors. */
  public int size() {
    return size;
  }

  /** Returns how vectors are stored. */
  public Precision precision() {
    return precision;
  }

  /** Returns how queries are scored. */
  public Metric metric() {
    return metric;
  }

  /**
   * Adds a vector (quantised as {@link #precision()} says; normalised first for cosine) and returns
   * its ordinal.
   *
   * @throws IllegalArgumentException if its width differs from {@link #dimensions()}, or if it holds
   *     NaN or an infinity (the message names the component)
   * @throws IllegalStateException if the index is full (its array would pass 2^31 elements)
   */
  public int add(float[] vector) {
    checkVector(vector);
    float[] v = metric == Metric.COSINE ? VectorOps.normalize(vector.clone()) : vector;
    switch (precision) {
      case FLOAT32:
        floats = grow(floats, (long) (size + 1) * dimensions);
        System.arraycopy(v, 0, floats, size * dimensions, dimensions);
        break;
      case INT8:
        if (bytes.length < (long) (size + 1) * dimensions) {
          bytes = Arrays.copyOf(bytes, capacity(bytes.length, (long) (size + 1) * dimensions));
        }
        scales = grow(scales, size + 1L);
        scales[size] = VectorOps.quantizeInt8(v, 0, bytes, size * dimensions, dimensions);
        break;
      case BINARY:
        if (bits.length < (long) (size + 1) * words) {
          bits = Arrays.copyOf(bits, capacity(bits.length, (long) (size + 1) * words));
        }
        VectorOps.quantizeBinary(v, 0, dimensions, bits, size * words);
        break;
      default:
        throw new AssertionError(precision);
    }
    return size++;
  }

  /**
   * Returns the stored vector at {@code ordinal} as floats: a copy for float32, the dequantised
   * vector for int8, and {@code +1 / -1} per sign bit for binary.
   *
   * @throws IndexOutOfBoundsException if {@code ordinal} is not in {@code [0, size())}
   */
  public float[] vector(int ordinal) {
    Objects.checkIndex(ordinal, size);
    switch (precision) {
      case FLOAT32:
        return Arrays.copyOfRange(floats, ordinal * dimensions, (ordinal + 1) * dimensions);
      case INT8:
        return VectorOps.dequantizeInt8(Arrays.copyOfRange(bytes, ordinal * dimensions, (ordinal + 1) * dimensions),
            scales[ordinal]);
      case BINARY:
        float[] out = new float[dimensions];
        for (int i = 0; i < dimensions; i++) {
          out[i] = (bits[ordinal * words + (i >>> 6)] >>> (i & 63) & 1L) != 0 ? 1f : -1f;
        }
        return out;
      default:
        throw new AssertionError(precision);
    }
  }

  /**
   * Returns the {@code k} best-scoring vectors for {@code query}, best first (fewer if the index
   * holds fewer). The query is a float vector for every precision; it is quantised like the
   * stored vectors.
   *
   * @throws IllegalArgumentException if {@code k < 1}, the query's width differs, or it holds NaN or
   *     an infinity
   */
  public List<SearchHit> search(float[] query, int k) {
    checkVector(query);
    if (k < 1) {
      throw new IllegalArgumentException("k must be >= 1, was " + k);
    }
    TopK top = new TopK(Math.min(k, Math.max(size, 1)));
    float[] q = metric == Metric.COSINE ? VectorOps.normalize(query.clone()) : query;
    switch (precision) {
      case FLOAT32:
        for (int i = 0, off = 0; i < size; i++, off += dimensions) {
          top.offer(i, VectorOps.dot(q, 0, floats, off, dimensions));
        }
        break;
      case INT8:
        byte[] qb = new byte[dimensions];
        float qs = VectorOps.quantizeInt8(q, qb);
        for (int i = 0, off = 0; i < size; i++, off += dimensions) {
          top.offer(i, VectorOps.int8Dot(qb, 0, bytes, off, dimensions) * scales[i] * qs);
        }
        break;
      case BINARY:
        long[] qw = VectorOps.quantizeBinary(q);
        float perBit = 2f / dimensions;
        int[] distances = new int[Math.min(BINARY_BLOCK, Math.max(size, 1))];
        int worst = Integer.MAX_VALUE; // a candidate must beat this distance once the heap is full
        for (int from = 0; from < size; from += BINARY_BLOCK) {
          int count = Math.min(BINARY_BLOCK, size - from);
          VectorOps.hammingMany(qw, bits, from * words, count, distances);
          for (int j = 0; j < count; j++) {
            if (distances[j] < worst) {
              top.offer(from + j, 1f - distances[j] * perBit);
              if (top.full()) {
                // the root's distance, plus one so that float rounding can never skip a candidate
                // (a tie with the root is then offered and refused by the heap)
                worst = Math.round((1f - top.worstScore()) / perBit) + 1;
              }
            }
          }
        }
        break;
      default:
        throw new AssertionError(precision);
    }
    return top.sorted();
  }

  /**
   * Writes the index to {@code file} in the format described in the class comment, replacing it
   * atomically where the file system allows (written to a sibling temporary file, then moved).
   *
   * @throws IOException if writing fails
   */
  public void save(Path file) throws IOException {
    Objects.requireNonNull(file, "file is null");
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        ch.position(HEADER_BYTES); // the header, with the payload's checksum, is written last
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        switch (precision) {
          case FLOAT32:
            writeFloats(ch, buf, floats, (long) size * dimensions, crc);
            break;
          case INT8:
            writeFloats(ch, buf, scales, size, crc);
            crc.update(bytes, 0, size * dimensions);
            writeFully(ch, ByteBuffer.wrap(bytes, 0, size * dimensions));
            break;
          case BINARY:
            for (long i = 0, n = (long) size * words; i < n; ) {
              buf.clear();
              while (buf.remaining() >= 8 && i < n) {
                buf.putLong(bits[(int) i++]);
              }
              buf.flip();
              crc.update(buf.duplicate());
              writeFully(ch, buf);
            }
            break;
          default:
            throw new AssertionError(precision);
        }
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        header.put(MAGIC).putInt(VERSION).putInt(precision.ordinal()).putInt(metric.ordinal()).putInt(dimensions)
            .putInt(size).putInt((int) crc.getValue());
        header.putInt(headerCrc(header.array())).flip();
        ch.position(0);
        writeFully(ch, header);
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Reads an index written by {@link #save}.
   *
   * @throws IOException if reading fails, or naming the file and the problem if it is not a flat
   *     index of this version (version 1 files, which have no checksums, are refused with a message
   *     to re-create the index), its length does not match its header, a checksum does not match
   *     (the file is damaged), or it holds NaN or an infinity
   */
  public static FlatIndex load(Path file) throws IOException {
    Objects.requireNonNull(file, "file is null");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long length = ch.size();
      if (length < HEADER_BYTES) {
        throw new IOException(file + ": not a Gecko flat index (only " + length + " bytes)");
      }
      ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, header, file);
      header.flip();
      byte[] magic = new byte[4];
      header.get(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new IOException(file + ": not a Gecko flat index (magic is not GKFX)");
      }
      int version = header.getInt();
      if (version == 1) {
        throw new IOException(file + ": flat index format version 1 has no checksums, so damage in it cannot be told"
            + " from data, and this build no longer reads it; re-create the index (gecko index, or add the vectors"
            + " to a new FlatIndex and save it)");
      }
      if (version != VERSION) {
        throw new IOException(file + ": flat index format version " + version + ", this build reads " + VERSION);
      }
      int p = header.getInt();
      int m = header.getInt();
      int dims = header.getInt();
      int count = header.getInt();
      int payloadCrc = header.getInt();
      int storedHeaderCrc = header.getInt();
      if (storedHeaderCrc != headerCrc(header.array())) {
        throw new IOException(file + ": header checksum mismatch (CRC-32C stored " + hex(storedHeaderCrc) + ", computed "
            + hex(headerCrc(header.array())) + "): the file is damaged; re-create the index");
      }
      if (p < 0 || p >= Precision.values().length || m < 0 || m >= Metric.values().length || dims < 1 || count < 0) {
        throw new IOException(file + ": corrupt header (precision " + p + ", metric " + m + ", dimensions " + dims
            + ", count " + count + ")");
      }
      FlatIndex index;
      try {
        index = builder(dims).precision(Precision.values()[p]).metric(Metric.values()[m]).build();
      } catch (IllegalArgumentException e) {
        throw new IOException(file + ": corrupt header: " + e.getMessage(), e);
      }
      long payload = index.payloadBytes(count);
      if (length != HEADER_BYTES + payload) {
        throw new IOException(file + ": " + length + " bytes, but the header (" + index.precision + ", " + dims
            + " dimensions, " + count + " vectors) needs " + (HEADER_BYTES + payload));
      }
      long elements = (long) count * (index.precision == Precision.BINARY ? index.words : dims);
      if (elements > MAX_ARRAY) {
        throw new IOException(file + ": " + count + " vectors of " + dims + " dimensions do not fit one Java array");
      }
      CRC32C crc = new CRC32C();
      ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
      switch (index.precision) {
        case FLOAT32:
          index.floats = readFloats(ch, buf, elements, file, crc);
          break;
        case INT8:
          index.scales = readFloats(ch, buf, count, file, crc);
          index.bytes = new byte[(int) elements];
          readFully(ch, ByteBuffer.wrap(index.bytes), file);
          crc.update(index.bytes, 0, index.bytes.length);
          break;
        case BINARY:
          index.bits = new long[(int) elements];
          for (int i = 0; i < index.bits.length; ) {
            buf.clear();
            buf.limit(Math.min(buf.capacity(), (index.bits.length - i) * 8));
            readFully(ch, buf, file);
            buf.flip();
            crc.update(buf.duplicate());
            while (buf.remaining() >= 8) {
              index.bits[i++] = buf.getLong();
            }
          }
          break;
        default:
          throw new AssertionError(index.precision);
      }
      if ((int) crc.getValue() != payloadCrc) {
        throw new IOException(file + ": payload checksum mismatch (CRC-32C stored " + hex(payloadCrc) + ", computed "
            + hex((int) crc.getValue()) + "): the vectors are damaged; re-create the index");
      }
      index.checkLoadedValues(count, file);
      index.size = count;
      return index;
    }
  }

  /**
   * Refuses NaN and infinities in a loaded payload whose checksum matched (written by something
   * other than {@link #save}): float32 components, and int8 scales (which {@link
   * VectorOps#quantizeInt8} never makes negative either).
   */
  private void checkLoadedValues(int count, Path file) throws IOException {
    if (precision == Precision.FLOAT32) {
      for (int i = 0; i < count; i++) {
        for (int d = 0, off = i * dimensions; d < dimensions; d++) {
          float x = floats[off + d];
          if (!Float.isFinite(x)) {
            throw new IOException(file + ": vector " + i + " component " + d + " is " + x
                + "; a flat index holds finite values only");
          }
        }
      }
    } else if (precision == Precision.INT8) {
      for (int i = 0; i < count; i++) {
        if (!Float.isFinite(scales[i]) || scales[i] < 0f) {
          throw new IOException(file + ": vector " + i + " has int8 scale " + scales[i]
              + "; scales are finite and not negative");
        }
      }
    }
  }

  private static int headerCrc(byte[] header) {
    CRC32C crc = new CRC32C();
    crc.update(header, 0, HEADER_CHECKED_BYTES);
    return (int) crc.getValue();
  }

  private static String hex(int crc) {
    return String.format(Locale.ROOT, "%08x", crc);
  }

  private long payloadBytes(long count) {
    switch (precision) {
      case FLOAT32:
        return count * dimensions * 4;
      case INT8:
        return count * 4 + count * dimensions;
      case BINARY:
        return count * words * 8;
      default:
        throw new AssertionError(precision);
    }
  }

  /** Checks the width and that every component is finite (NaN and infinities score as nonsense). */
  private void checkVector(float[] vector) {
    Objects.requireNonNull(vector, "vector is null");
    if (vector.length != dimensions) {
      throw new IllegalArgumentException("vector dimensions differ: " + vector.length + "!=" + dimensions);
    }
    for (int i = 0; i < vector.length; i++) {
      if (!Float.isFinite(vector[i])) {
        throw new IllegalArgumentException("vector component " + i + " is " + vector[i]
            + "; a flat index holds and searches finite values only");
      }
    }
  }

  private static float[] grow(float[] a, long needed) {
    return a.length >= needed ? a : Arrays.copyOf(a, capacity(a.length, needed));
  }

  private static int capacity(int current, long needed) {
    if (needed > MAX_ARRAY) {
      throw new IllegalStateException("flat index is full: " + needed + " elements do not fit one Java array");
    }
    return (int) Math.min(MAX_ARRAY, Math.max(needed, Math.max(64, (long) current * 2)));
  }

  private static void writeFloats(FileChannel ch, ByteBuffer buf, float[] a, long n, CRC32C crc) throws IOException {
    for (int i = 0; i < n; ) {
      buf.clear();
      while (buf.remaining() >= 4 && i < n) {
        buf.putFloat(a[i++]);
      }
      buf.flip();
      crc.update(buf.duplicate());
      writeFully(ch, buf);
    }
  }

  private static float[] readFloats(FileChannel ch, ByteBuffer buf, long n, Path file, CRC32C crc) throws IOException {
    float[] out = new float[(int) n];
    for (int i = 0; i < n; ) {
      buf.clear();
      buf.limit((int) Math.min(buf.capacity(), (n - i) * 4));
      readFully(ch, buf, file);
      buf.flip();
      crc.update(buf.duplicate());
      int got = buf.remaining() / 4;
      buf.asFloatBuffer().get(out, i, got);
      i += got;
    }
    return out;
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, Path file) throws IOException {
    while (buf.hasRemaining()) {
      if (ch.read(buf) < 0) {
        throw new IOException(file + ": unexpected end of file");
      }
    }
  }

  /**
   * Builds a {@link FlatIndex}. Defaults: {@link Precision#FLOAT32}; metric {@link Metric#DOT}
   * for float32 and int8, {@link Metric#HAMMING} for binary. Reusable; not thread-safe.
   */
  public static final class Builder {
    private final int dimensions;
    private Precision precision = Precision.FLOAT32;
    private Metric metric;

    private Builder(int dimensions) {
      if (dimensions < 1) {
        throw new IllegalArgumentException("dimensions must be >= 1, was " + dimensions);
      }
      this.dimensions = dimensions;
    }

    /** Sets how vectors are stored. */
    public Builder precision(Precision precision) {
      this.precision = Objects.requireNonNull(precision, "precision is null");
      return this;
    }

    /** Sets how queries are scored; unset means the precision's default. */
    public Builder metric(Metric metric) {
      this.metric = Objects.requireNonNull(metric, "metric is null");
      return this;
    }

    /**
     * Returns a new empty index.
     *
     * @throws IllegalArgumentException if the metric does not fit the precision (Hamming is for
     *     binary only, and binary supports only Hamming)
     */
    public FlatIndex build() {
      Metric m = metric != null ? metric : precision == Precision.BINARY ? Metric.HAMMING : Metric.DOT;
      if ((precision == Precision.BINARY) != (m == Metric.HAMMING)) {
        throw new IllegalArgumentException("metric " + m.name().toLowerCase(Locale.ROOT) + " does not fit precision "
            + precision.name().toLowerCase(Locale.ROOT) + ": binary uses hamming, float32 and int8 use dot or cosine");
      }
      return new FlatIndex(dimensions, precision, m);
    }
  }

  /** A bounded heap of the best hits so far, worst at the root; no allocation per candidate. */
  private static final class TopK {
    private final float[] scores;
    private final int[] ordinals;
    private int n;

    TopK(int k) {
      scores = new float[k];
      ordinals = new int[k];
    }

    boolean full() {
      return n == scores.length;
    }

    float worstScore() {
      return scores[0];
    }

    /** Ordinals arrive in increasing order, so on equal scores the newcomer is the worse one. */
    void offer(int ordinal, float score) {
      if (n < scores.length) {
        int i = n++;
        scores[i] = score;
        ordinals[i] = ordinal;
        siftUp(i);
      } else if (score > scores[0]) {
        scores[0] = score;
        ordinals[0] = ordinal;
        siftDown(0);
      }
    }

    List<SearchHit> sorted() {
      List<SearchHit> hits = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        hits.add(new SearchHit(ordinals[i], scores[i]));
      }
      // best first: higher score, then lower ordinal
      hits.sort((a, b) -> {
        int c = Float.compare(b.score(), a.score());
        return c != 0 ? c : Integer.compare(a.ordinal(), b.ordinal());
      });
      return hits;
    }

    private static boolean worse(float s1, int o1, float s2, int o2) {
      int c = Float.compare(s1, s2);
      return c != 0 ? c < 0 : o1 > o2;
    }

    private void siftUp(int i) {
      while (i > 0) {
        int parent = (i - 1) >>> 1;
        if (!worse(scores[i], ordinals[i], scores[parent], ordinals[parent])) {
          return;
        }
        swap(i, parent);
        i = parent;
      }
    }

    private void siftDown(int i) {
      while (true) {
        int l = 2 * i + 1;
        if (l >= n) {
          return;
        }
        int r = l + 1;
        int w = r < n && worse(scores[r], ordinals[r], scores[l], ordinals[l]) ? r : l;
        if (!worse(scores[w], ordinals[w], scores[i], ordinals[i])) {
          return;
        }
        swap(i, w);
        i = w;
      }
    }

    private void swap(int i, int j) {
      float s = scores[i];
      scores[i] = scores[j];
      scores[j] = s;
      int o = ordinals[i];
      ordinals[i] = ordinals[j];
      ordinals[j] = o;
    }
  }
}
