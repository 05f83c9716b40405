package dev.gecko.core.index;

import dev.gecko.core.InvalidDataException;
import dev.gecko.core.internal.index.BinaryStorage;
import dev.gecko.core.internal.index.FlatIndexFile;
import dev.gecko.core.internal.index.Float32Storage;
import dev.gecko.core.internal.index.Int8Storage;
import dev.gecko.core.internal.index.TopK;
import dev.gecko.core.internal.index.VectorStorage;
import dev.gecko.core.vector.VectorOps;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

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
 * infinity, and {@link #load} refuses a file that holds one. So that every {@link Metric#DOT} score
 * is finite too, a dot-product index also refuses a vector (added, searched or loaded) whose
 * squared L2 norm exceeds {@link #MAX_DOT_SQUARED_NORM} ({@code Float.MAX_VALUE / 16}, a norm of
 * about 4.6e18): by Cauchy-Schwarz no dot product of two such vectors, nor any partial sum of one,
 * passes {@code Float.MAX_VALUE / 16}, which leaves room for float rounding and int8
 * quantisation ({@link #load} checks an int8 index's dequantised vectors, which rounding may
 * lengthen up to twice, against 4.5 times that squared norm). Cosine indexes normalise instead;
 * binary ones hold signs. Code that checks vectors before they reach an index, under names of its
 * own (a row's id), applies these very checks with {@link #checkVector} and {@link #checkFinite}.
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
 *
 * <p>Construction: {@link #builder(int)} for a new index, {@link #load(Path)} for a saved one.
 */
public final class FlatIndex {
  /** How vectors are stored. Immutable and thread-safe. */
  public enum Precision {
    /** 4 bytes per component, exact. */
    FLOAT32,
    /**
     * 1 byte per component plus one float scale per vector (symmetric, per vector); where the SIMD
     * scan holds codes in groups (x86-64, {@code VectorOps.prefersInt8Groups()}), each vector is
     * padded to a multiple of 32 bytes in memory (not in files), unless the padded vectors would
     * not fit one Java array and the unpadded ones would.
     */
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

  /** How a query is scored against a stored vector; higher is better for all. Immutable and thread-safe. */
  public enum Metric {
    /** Dot product. */
    DOT,
    /** Cosine similarity (vectors normalised on the way in). */
    COSINE,
    /** {@code 1 - 2 * hamming / dimensions} over sign bits; binary precision only. */
    HAMMING
  }

  /**
   * The largest squared L2 norm of a vector in a {@link Metric#DOT} index or of a query of one:
   * {@code Float.MAX_VALUE / 16}.
   */
  public static final double MAX_DOT_SQUARED_NORM = Float.MAX_VALUE / 16.0;

  private final int dimensions;
  private final Precision precision;
  private final Metric metric;
  private final VectorStorage storage;

  private FlatIndex(int dimensions, Precision precision, Metric metric) {
    this(dimensions, precision, metric, storage(precision, dimensions));
  }

  private FlatIndex(int dimensions, Precision precision, Metric metric, VectorStorage storage) {
    this.dimensions = dimensions;
    this.precision = precision;
    this.metric = metric;
    this.storage = storage;
  }

  private static VectorStorage storage(Precision precision, int dimensions) {
    switch (precision) {
      case FLOAT32:
        return new Float32Storage(dimensions);
      case INT8:
        return new Int8Storage(dimensions);
      case BINARY:
        return new BinaryStorage(dimensions);
      default:
        throw new AssertionError(precision);
    }
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
    return storage.size();
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
   * @throws IllegalArgumentException if its width differs from {@link #dimensions()}, if it holds
   *     NaN or an infinity (the message names the vector's would-be ordinal and the component), or,
   *     for {@link Metric#DOT}, if its squared norm exceeds {@link #MAX_DOT_SQUARED_NORM}
   * @throws IllegalStateException if the index is full (its array would pass 2^31 elements)
   */
  public int add(float[] vector) {
    checkVector(vector, dimensions, metric, "vector " + storage.size());
    storage.add(metric == Metric.COSINE ? VectorOps.normalize(vector.clone()) : vector);
    return storage.size() - 1;
  }

  /**
   * Returns the stored vector at {@code ordinal} as floats: a copy for float32, the dequantised
   * vector for int8, and {@code +1 / -1} per sign bit for binary.
   *
   * @throws IndexOutOfBoundsException if {@code ordinal} is not in {@code [0, size())}
   */
  public float[] vector(int ordinal) {
    Objects.checkIndex(ordinal, storage.size());
    return storage.vector(ordinal);
  }

  /**
   * Returns the {@code k} best-scoring vectors for {@code query}, best first (fewer if the index
   * holds fewer). The query is a float vector for every precision; it is quantised like the
   * stored vectors.
   *
   * @throws IllegalArgumentException if {@code k < 1}, the query's width differs, it holds NaN or
   *     an infinity, or, for {@link Metric#DOT}, its squared norm exceeds {@link
   *     #MAX_DOT_SQUARED_NORM}
   */
  public List<SearchHit> search(float[] query, int k) {
    checkVector(query, dimensions, metric, "query");
    if (k < 1) {
      throw new IllegalArgumentException("k must be >= 1, was " + k);
    }
    TopK top = new TopK(Math.min(k, Math.max(storage.size(), 1)));
    storage.search(metric == Metric.COSINE ? VectorOps.normalize(query.clone()) : query, top);
    return top.sorted();
  }

  /**
   * Returns the {@code k} best-scoring vectors for each of {@code queries}, in the order of the
   * queries: the same hits, with the same scores, as {@link #search} query by query, found in one
   * scan. A float32 index reads each stretch of its vectors from memory once for a tile of 32
   * queries instead of once per query, which makes many queries faster (docs/search.md has the
   * measured gain); int8 and binary indexes score query by query, as fast as {@link #search}.
   * Every query is checked before the scan starts.
   *
   * <p>Thread-safe as {@link #search} is. The query arrays are read during the call, not kept (and
   * must not change during it). Every query's hits are held until the call returns, so split a
   * very long list of queries into chunks (a few hundred to a few thousand, ideally multiples of
   * 32).
   *
   * @throws NullPointerException if {@code queries} or one of them is null (the message names it:
   *     {@code "query 3 is null"})
   * @throws IllegalArgumentException if a query is refused as {@link #search} refuses one, the
   *     message naming it ({@code "query 3 component 1 is NaN; ..."}, {@code "query 3: vector
   *     dimensions differ: 2!=3"}), or if {@code k < 1}
   */
  public List<List<SearchHit>> searchAll(List<float[]> queries, int k) {
    Objects.requireNonNull(queries, "queries is null");
    float[][] prepared = new float[queries.size()][];
    int q = 0;
    for (float[] query : queries) {
      String name = "query " + q;
      Objects.requireNonNull(query, name + " is null");
      if (query.length != dimensions) {
        throw new IllegalArgumentException(name + ": vector dimensions differ: " + query.length + "!=" + dimensions);
      }
      checkVector(query, dimensions, metric, name);
      prepared[q++] = metric == Metric.COSINE ? VectorOps.normalize(query.clone()) : query;
    }
    if (k < 1) { // after the queries, as search checks its query first
      throw new IllegalArgumentException("k must be >= 1, was " + k);
    }
    TopK[] tops = new TopK[prepared.length];
    for (int i = 0; i < tops.length; i++) {
      tops[i] = new TopK(Math.min(k, Math.max(storage.size(), 1)));
    }
    storage.searchAll(prepared, tops);
    List<List<SearchHit>> hits = new ArrayList<>(tops.length);
    for (TopK top : tops) {
      hits.add(top.sorted());
    }
    return hits;
  }

  /**
   * Writes the index to {@code file} in the format described in the class comment, replacing it
   * atomically where the file system allows (written to a sibling temporary file, then moved).
   *
   * @throws IOException if writing fails
   */
  public void save(Path file) throws IOException {
    Objects.requireNonNull(file, "file is null");
    FlatIndexFile.write(file, precision.ordinal(), metric.ordinal(), storage);
  }

  /**
   * Reads an index written by {@link #save}.
   *
   * @throws java.nio.file.NoSuchFileException if the file does not exist
   * @throws InvalidDataException naming the file and the problem if it is not a flat index of this
   *     version (version 1 files, which have no checksums, are refused with a message to re-create
   *     the index), its length does not match its header, a checksum does not match (the file is
   *     damaged), it holds NaN or an infinity, or, for {@link Metric#DOT}, a vector whose squared
   *     norm exceeds {@link #MAX_DOT_SQUARED_NORM}
   * @throws IOException if reading fails
   */
  public static FlatIndex load(Path file) throws IOException {
    Objects.requireNonNull(file, "file is null");
    Precision[] precision = new Precision[1];
    Metric[] metric = new Metric[1];
    VectorStorage storage = FlatIndexFile.read(file, h -> {
      if (h.precision() < 0 || h.precision() >= Precision.values().length || h.metric() < 0
          || h.metric() >= Metric.values().length) {
        throw new IllegalArgumentException("precision " + h.precision() + ", metric " + h.metric());
      }
      precision[0] = Precision.values()[h.precision()];
      metric[0] = Metric.values()[h.metric()];
      checkFit(precision[0], metric[0]);
      return storage(precision[0], h.dimensions());
    });
    if (metric[0] == Metric.COSINE && precision[0] == Precision.FLOAT32) {
      // a cosine index stores unit vectors and scores by dot product: any other norm would be scored as it is
      for (int i = 0; i < storage.size(); i++) {
        float norm = VectorOps.norm(storage.vector(i));
        if (norm != 0f && Math.abs(norm - 1f) > 1e-3f) {
          throw new InvalidDataException(file.toString(), 0, "vector " + i + " has norm " + norm
              + "; a cosine index holds unit vectors");
        }
      }
    }
    if (metric[0] == Metric.DOT) {
      // int8 holds the quantised vectors, which rounding may lengthen up to twice the vector added
      double limit = precision[0] == Precision.INT8 ? 4.5 * MAX_DOT_SQUARED_NORM : MAX_DOT_SQUARED_NORM;
      for (int i = 0; i < storage.size(); i++) {
        String tooLarge = normTooLarge(storage.vector(i), "vector " + i, limit);
        if (tooLarge != null) {
          throw new InvalidDataException(file.toString(), 0, tooLarge);
        }
      }
    }
    return new FlatIndex(storage.dimensions(), precision[0], metric[0], storage);
  }

  /**
   * Checks {@code vector} as {@link #add} and {@link #search} check theirs in an index of width
   * {@code dimensions} and metric {@code metric}, naming it {@code name} in the message ({@code
   * "vector 3"}, {@code "query"} there; a caller that knows the vector by another name, such as a
   * row id, passes that name). It is refused, checked in this order, if it is null, its width is
   * not {@code dimensions}, it holds NaN or an infinity ({@link #checkFinite}), or, for {@link
   * Metric#DOT}, its squared norm exceeds {@link #MAX_DOT_SQUARED_NORM}. Thread-safe (reads {@code
   * vector} only).
   *
   * @throws NullPointerException if {@code vector} is null (the message is {@code name + " is null"}),
   *     or {@code metric} or {@code name} is
   * @throws IllegalArgumentException if {@code dimensions < 1}, or the vector is refused: the
   *     message names it (apart from a width that differs: {@code "vector dimensions differ: 2!=3"},
   *     as {@link #add} has always said), and for a non-finite value the component and its value
   */
  public static void checkVector(float[] vector, int dimensions, Metric metric, String name) {
    Objects.requireNonNull(metric, "metric is null");
    if (dimensions < 1) {
      throw new IllegalArgumentException("dimensions must be >= 1, was " + dimensions);
    }
    Objects.requireNonNull(name, "name is null");
    Objects.requireNonNull(vector, name + " is null");
    if (vector.length != dimensions) { // the width first, then the values, as add and search always checked
      throw new IllegalArgumentException("vector dimensions differ: " + vector.length + "!=" + dimensions);
    }
    checkFinite(vector, name);
    String tooLarge = metric == Metric.DOT ? normTooLarge(vector, name, MAX_DOT_SQUARED_NORM) : null;
    if (tooLarge != null) {
      throw new IllegalArgumentException(tooLarge);
    }
  }

  /**
   * Checks that {@code vector} holds only finite values, as {@link #add} and {@link #search} do (NaN
   * and infinities score as nonsense), naming it {@code name} in the message: for a caller that
   * checks values before it knows the width or metric of the index they go to (its width and norm
   * are then {@link #checkVector}'s). Thread-safe (reads {@code vector} only).
   *
   * @throws NullPointerException if {@code vector} is null (the message is {@code name + " is null"}),
   *     or {@code name} is
   * @throws IllegalArgumentException naming the vector, the component and its value, if a
   *     component is NaN or an infinity: {@code "<name> component 1 is NaN; a flat index holds and
   *     searches finite values only"}
   */
  public static void checkFinite(float[] vector, String name) {
    Objects.requireNonNull(name, "name is null");
    Objects.requireNonNull(vector, name + " is null");
    for (int i = 0; i < vector.length; i++) {
      if (!Float.isFinite(vector[i])) {
        throw new IllegalArgumentException(name + " component " + i + " is " + vector[i]
            + "; a flat index holds and searches finite values only");
      }
    }
  }

  /** Why a finite vector's squared norm is above {@code limit}, or null if it is not. */
  private static String normTooLarge(float[] vector, String name, double limit) {
    double squared = 0;
    for (float x : vector) {
      squared += (double) x * x; // in double: cannot overflow for finite floats
    }
    if (squared <= limit) {
      return null;
    }
    return String.format(Locale.ROOT, "%s has squared norm %.3g, above the %.3g a dot-product index allows, so its"
        + " scores could overflow float; scale it down or use the cosine metric", name, squared, limit);
  }

  /** Refuses a metric that does not fit the precision. */
  private static void checkFit(Precision precision, Metric m) {
    if ((precision == Precision.BINARY) != (m == Metric.HAMMING)) {
      throw new IllegalArgumentException("metric " + m.name().toLowerCase(Locale.ROOT) + " does not fit precision "
          + precision.name().toLowerCase(Locale.ROOT) + ": binary uses hamming, float32 and int8 use dot or cosine");
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
      checkFit(precision, m);
      return new FlatIndex(dimensions, precision, m);
    }
  }

}
