package dev.gecko.spark;

import dev.gecko.core.index.FlatIndex;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * Exact top-k over a corpus larger than one JVM: query vectors against a corpus vector table cut
 * into shards, each shard searched with gecko-core's {@link FlatIndex} (its kernels, its ordering),
 * and each query's per-shard top-k merged. The result equals one {@link FlatIndex} holding the
 * whole corpus in corpus order: the same ids in the same order, the same scores (the same kernel
 * on the same floats).
 *
 * <pre>{@code
 * Dataset<Row> hits = DistributedTopK.builder().k(20).shards(16).build()
 *     .search(queries, corpus);   // query_id, rank, id, score, ordinal
 * }</pre>
 *
 * <h2>How</h2>
 * Corpus rows are given an ordinal (an ordinal column, or their position in the dataset) and
 * dealt to {@code shards} shards by ordinal; each shard is packed once into one array and kept
 * (memory, then disk) for the search. Queries are cut into {@code queryBlocks} blocks; each (shard,
 * block) pair is one task, which searches the block's queries for their top {@code k} in the
 * shard's flat index. Each executor builds a shard's index once, on the first task that needs it,
 * and keeps it for the shard's other blocks (and, in {@link FretSparkJob}, for later waves): see
 * {@link ExecutorIndexes} for its key, memory bound ({@code spark.gecko.indexCache.maxBytes},
 * default a quarter of the heap) and eviction. Partial lists are merged per query (score
 * descending, then corpus ordinal ascending: the flat index's tie rule) down to {@code k}. An
 * executor holds the shards it was given, the indexes it keeps (up to the bound; while one is
 * built its shard's vectors are held twice) and the blocks it searches: size {@code shards} so that
 * a shard fits an executor's memory ({@code rows / shards * dims * 4} bytes, twice).
 *
 * <h2>Input and output</h2>
 * Both inputs have an id column (any type, compared as its string) and a vector column ({@code
 * array<float>}, or Spark ML vectors, whose doubles are cast to floats). Rows with a null vector
 * take no part. A vector with another width than the corpus's, NaN or an infinity, a null id, or
 * a null in the ordinal column fails the job (a flat index holds finite values of one width), the
 * message naming the row: a corpus vector by its id and ordinal, a query by its id, a null by its
 * column and row; so does, with the dot-product metric, a vector whose squared norm exceeds {@link
 * FlatIndex#MAX_DOT_SQUARED_NORM} (its scores could overflow). Ordinals from an ordinal column
 * must be unique: two corpus rows with one ordinal (and a vector) fail the job, naming the ordinal
 * and their ids, since they would tie in whatever order the shuffle delivered them (the rows of an
 * ordinal meet in one shard, so this costs no extra pass). Query ids need not be unique. The
 * output has one row per hit: {@code query_id} (string), {@code rank} (int, from 1), {@code id}
 * (string), {@code score} (float), {@code ordinal} (long: the corpus row's ordinal). Scores are those of
 * {@link FlatIndex} with the chosen precision and metric (default float32, dot product: the
 * cosine for the unit vectors {@link GeckoEmbeddings} writes).
 *
 * <p>Immutable and thread-safe; {@link #search} may be called from any thread. It owns no
 * resources: the packed shards a search persists stay cached while its result's lineage is
 * reachable (so that a second action on the result does not pack them again), and Spark's context
 * cleaner drops them once it is not; the executors' shard indexes are {@link ExecutorIndexes}'s,
 * dropped when evicted, or when found idle at the cache's next use.
 */
public final class DistributedTopK {
  /** The output schema. */
  public static final StructType SCHEMA = new StructType().add("query_id", DataTypes.StringType, false)
      .add("rank", DataTypes.IntegerType, false).add("id", DataTypes.StringType, false)
      .add("score", DataTypes.FloatType, false).add("ordinal", DataTypes.LongType, false);

  private final int k;
  private final int shards;
  private final int queryBlocks;
  private final FlatIndex.Precision precision;
  private final FlatIndex.Metric metric;
  private final String idCol;
  private final String vectorCol;
  private final String ordinalCol;

  private DistributedTopK(Builder b) {
    this.k = b.k;
    this.shards = b.shards;
    this.queryBlocks = b.queryBlocks;
    this.precision = b.precision;
    this.metric = b.metric != null ? b.metric : precision == FlatIndex.Precision.BINARY ? FlatIndex.Metric.HAMMING
        : FlatIndex.Metric.DOT;
    this.idCol = b.idCol;
    this.vectorCol = b.vectorCol;
    this.ordinalCol = b.ordinalCol;
    FlatIndex.builder(1).precision(precision).metric(metric).build(); // refuses a metric that does not fit
  }

  /** Returns a builder with the defaults: k 10, 4 shards, 4 query blocks, float32, dot, columns id and embedding. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns each query's top k from the corpus (see the class comment). Lazy apart from giving the
   * corpus rows ordinals where no ordinal column is set (one pass to count the partitions).
   *
   * @throws IllegalArgumentException if a column is missing or is not of a usable type
   */
  public Dataset<Row> search(Dataset<Row> queries, Dataset<Row> corpus) {
    Objects.requireNonNull(queries, "queries is null");
    Objects.requireNonNull(corpus, "corpus is null");
    int qid = column(queries.schema(), idCol, "queries");
    int qvec = vectorColumn(queries.schema(), "queries");
    int cid = column(corpus.schema(), idCol, "corpus");
    int cvec = vectorColumn(corpus.schema(), "corpus");
    int cord = ordinalCol == null ? -1 : column(corpus.schema(), ordinalCol, "corpus");
    if (cord >= 0 && !corpus.schema().fields()[cord].dataType().equals(DataTypes.LongType)) {
      throw new IllegalArgumentException("corpus: ordinal column '" + ordinalCol + "' is "
          + corpus.schema().fields()[cord].dataType().simpleString() + ", not bigint");
    }

    // checked as they are read, naming the row: a null id or ordinal, a null, NaN or infinite component
    String idName = idCol;
    String ordinalName = ordinalCol;
    JavaRDD<TopKParts.Entry> entries;
    if (cord >= 0) {
      entries = corpus.javaRDD().filter(r -> !r.isNullAt(cvec)).map(r -> {
        if (r.isNullAt(cord)) {
          throw new IllegalArgumentException("corpus: ordinal column '" + ordinalName + "' is null in the row of id "
              + (r.isNullAt(cid) ? "null" : "'" + r.get(cid) + "'"));
        }
        return entry(r, cid, cvec, r.getLong(cord), "the row of ordinal " + r.getLong(cord), idName);
      });
    } else {
      entries = corpus.javaRDD().zipWithIndex().filter(t -> !t._1().isNullAt(cvec))
          .map(t -> entry(t._1(), cid, cvec, t._2(), "row " + t._2() + " (from 0)", idName));
    }
    JavaRDD<TopKParts.Shard> packed = pack(entries, shards);
    JavaRDD<Row> queryRows = queries.javaRDD();
    int queryPartitions = queryRows.getNumPartitions();
    JavaRDD<TopKParts.Query> qs = queryRows.zipWithUniqueId().filter(t -> !t._1().isNullAt(qvec)).map(t -> {
      Row r = t._1();
      if (r.isNullAt(qid)) { // zipWithUniqueId numbers row i of partition p i * partitions + p
        throw new IllegalArgumentException("queries: id column '" + idName + "' is null in row " + t._2() / queryPartitions
            + " (from 0) of partition " + t._2() % queryPartitions);
      }
      String id = String.valueOf(r.get(qid));
      float[] v = floats(r.get(qvec), TopKParts.Query.name(id));
      FlatIndex.checkFinite(v, TopKParts.Query.name(id)); // width and norm: where it is searched
      return new TopKParts.Query(t._2(), id, v);
    });
    JavaRDD<Row> rows = search(qs, packed, k, queryBlocks, precision, metric).flatMap(t -> {
      TopKParts.Hits h = t._2();
      List<Row> r = new ArrayList<>(h.size());
      for (int i = 0; i < h.size(); i++) {
        r.add(RowFactory.create(h.queryId, i + 1, h.ids[i], h.scores[i], h.ordinals[i]));
      }
      return r.iterator();
    });
    return queries.sparkSession().createDataFrame(rows, SCHEMA);
  }

  /** A corpus row as an entry, refusing a null id ({@code row} names the row); its vector is checked when packed. */
  private static TopKParts.Entry entry(Row r, int cid, int cvec, long ordinal, String row, String idName) {
    if (r.isNullAt(cid)) {
      throw new IllegalArgumentException("corpus: id column '" + idName + "' is null in " + row);
    }
    String id = String.valueOf(r.get(cid));
    return new TopKParts.Entry(ordinal, id, floats(r.get(cvec), TopKParts.Entry.name(id, ordinal)));
  }

  /** Deals corpus entries to {@code shards} shards by ordinal and packs each (kept: memory, then disk). */
  static JavaRDD<TopKParts.Shard> pack(JavaRDD<TopKParts.Entry> entries, int shards) {
    return pack(entries, shards, UUID.randomUUID().toString());
  }

  /**
   * As {@link #pack(JavaRDD, int)}, the shards marked with {@code packId}: the key of their indexes
   * in {@link ExecutorIndexes}, so it must be new for each packing (a random UUID).
   */
  static JavaRDD<TopKParts.Shard> pack(JavaRDD<TopKParts.Entry> entries, int shards, String packId) {
    Objects.requireNonNull(packId, "packId is null");
    return entries.mapToPair(e -> new Tuple2<>((int) Math.floorMod(e.ordinal(), (long) shards), e))
        .partitionBy(new HashPartitioner(shards))
        .mapPartitionsWithIndex((index, it) -> List.of(TopKParts.Shard.pack(packId, index, values(it))).iterator(), true)
        .persist(StorageLevel.MEMORY_AND_DISK());
  }

  /**
   * Each query's top {@code k} over the packed shards, keyed by the query's key: (shard, query
   * block) tasks, then a merge per query.
   */
  static JavaPairRDD<Long, TopKParts.Hits> search(JavaRDD<TopKParts.Query> queries, JavaRDD<TopKParts.Shard> shards, int k,
      int queryBlocks, FlatIndex.Precision precision, FlatIndex.Metric metric) {
    JavaRDD<List<TopKParts.Query>> blocks = queries.repartition(queryBlocks).mapPartitions(it -> {
      List<TopKParts.Query> block = new ArrayList<>();
      it.forEachRemaining(block::add);
      return List.of(block).iterator();
    });
    JavaPairRDD<Long, TopKParts.Hits> partial = shards.cartesian(blocks).flatMapToPair(pair -> {
      TopKParts.Shard shard = pair._1();
      List<Tuple2<Long, TopKParts.Hits>> out = new ArrayList<>(pair._2().size());
      if (shard.size() == 0) {
        return out.iterator();
      }
      TopKParts.ShardIndex index = ExecutorIndexes.shared().get(shard, precision, metric); // once per executor
      // the block in one scan of the shard: its vectors read from memory once for many queries
      List<TopKParts.Query> block = pair._2();
      List<TopKParts.Hits> hits = index.searchAll(block, k);
      for (int i = 0; i < block.size(); i++) {
        out.add(new Tuple2<>(block.get(i).key(), hits.get(i)));
      }
      return out.iterator();
    });
    return partial.reduceByKey((a, b) -> TopKParts.Hits.merge(a, b, k), Math.max(1, queryBlocks));
  }

  private static Iterator<TopKParts.Entry> values(Iterator<Tuple2<Integer, TopKParts.Entry>> it) {
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public TopKParts.Entry next() {
        return it.next()._2();
      }
    };
  }

  /** As {@link #floats(Object)}, a null component refused naming the vector as {@code name} says. */
  static float[] floats(Object cell, String name) {
    try {
      return floats(cell);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
    }
  }

  /**
   * A vector cell as floats: {@code array<float>} or {@code array<double>} (a Scala sequence, or
   * the Java array a row built in Java still holds), or a Spark ML vector.
   */
  @SuppressWarnings("unchecked")
  static float[] floats(Object cell) {
    if (cell instanceof float[] f) {
      return f;
    }
    if (cell instanceof double[] d) {
      float[] f = new float[d.length];
      for (int i = 0; i < d.length; i++) {
        f[i] = (float) d[i];
      }
      return f;
    }
    if (cell instanceof org.apache.spark.ml.linalg.Vector v) {
      double[] d = v.toArray();
      float[] f = new float[d.length];
      for (int i = 0; i < d.length; i++) {
        f[i] = (float) d[i];
      }
      return f;
    }
    scala.collection.Seq<Object> seq = (scala.collection.Seq<Object>) cell;
    float[] f = new float[seq.length()];
    Iterator<Object> it = scala.jdk.javaapi.CollectionConverters.asJava(seq.iterator());
    for (int i = 0; i < f.length; i++) {
      Object x = it.next();
      if (x == null) {
        throw new IllegalArgumentException("vector component " + i + " is null");
      }
      f[i] = ((Number) x).floatValue();
    }
    return f;
  }

  private static int column(StructType schema, String name, String what) {
    if (!Arrays.asList(schema.fieldNames()).contains(name)) {
      throw new IllegalArgumentException(what + ": no column '" + name + "' in " + schema.simpleString());
    }
    return schema.fieldIndex(name);
  }

  private int vectorColumn(StructType schema, String what) {
    int i = column(schema, vectorCol, what);
    DataType t = schema.fields()[i].dataType();
    boolean ok = t instanceof org.apache.spark.ml.linalg.VectorUDT
        || (t instanceof ArrayType a && (a.elementType().equals(DataTypes.FloatType) || a.elementType().equals(DataTypes.DoubleType)));
    if (!ok) {
      throw new IllegalArgumentException(what + ": column '" + vectorCol + "' is " + t.simpleString()
          + ", not array<float>, array<double> or a Spark ML vector");
    }
    return i;
  }

  /** Builds a {@link DistributedTopK}. Setters validate at once. Reusable; not thread-safe. */
  public static final class Builder {
    private int k = 10;
    private int shards = 4;
    private int queryBlocks = 4;
    private FlatIndex.Precision precision = FlatIndex.Precision.FLOAT32;
    private FlatIndex.Metric metric;
    private String idCol = "id";
    private String vectorCol = "embedding";
    private String ordinalCol;

    private Builder() {}

    /**
     * Sets how many hits per query. Default 10.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder k(int k) {
      this.k = Args.positive(k, "k");
      return this;
    }

    /**
     * Sets how many shards the corpus is cut into (each a task's memory; see the class comment). Default 4.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder shards(int n) {
      this.shards = Args.positive(n, "shards");
      return this;
    }

    /**
     * Sets how many blocks the queries are cut into: tasks = shards x blocks. Default 4.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder queryBlocks(int n) {
      this.queryBlocks = Args.positive(n, "queryBlocks");
      return this;
    }

    /** Sets the flat index's precision. Default float32. */
    public Builder precision(FlatIndex.Precision p) {
      this.precision = Objects.requireNonNull(p, "precision is null");
      return this;
    }

    /** Sets the flat index's metric. Default: dot (float32, int8), Hamming (binary). */
    public Builder metric(FlatIndex.Metric m) {
      this.metric = Objects.requireNonNull(m, "metric is null");
      return this;
    }

    /** Sets the id column of both inputs. Default {@code id}. */
    public Builder idCol(String name) {
      this.idCol = Objects.requireNonNull(name, "idCol is null");
      return this;
    }

    /** Sets the vector column of both inputs. Default {@code embedding}. */
    public Builder vectorCol(String name) {
      this.vectorCol = Objects.requireNonNull(name, "vectorCol is null");
      return this;
    }

    /**
     * Sets the corpus column (long) that orders the corpus, as insertion order orders a {@link
     * FlatIndex}: ties go to the lower ordinal. Its values must be unique and not null: a row
     * without one, or two rows with one ordinal, fail the search's job, naming the row (its id) or
     * the ordinal and its ids. Unset (the default): the rows' position in the corpus dataset.
     */
    public Builder ordinalCol(String name) {
      this.ordinalCol = Objects.requireNonNull(name, "ordinalCol is null");
      return this;
    }

    /**
     * Builds it.
     *
     * @throws IllegalArgumentException if the metric does not fit the precision
     */
    public DistributedTopK build() {
      return new DistributedTopK(this);
    }
  }
}
