package dev.gecko.spark;

import dev.gecko.core.index.FlatIndex;
import dev.gecko.core.index.SearchHit;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/** The pieces {@link DistributedTopK} moves between tasks. Serializable values; not thread-safe. */
final class TopKParts {
  private TopKParts() {}

  /**
   * One shard of the corpus: vectors in increasing corpus ordinal, packed in one array, and the id
   * of the packing it belongs to (drawn once per {@link DistributedTopK#pack} call: what keeps
   * {@link ExecutorIndexes} from confusing it with another corpus's shard of the same number).
   */
  static final class Shard implements Serializable {
    private static final long serialVersionUID = 2L;
    final String packId;
    final int index;
    final int dims;
    final long[] ordinals;
    final String[] ids;
    final float[] vectors;

    Shard(String packId, int index, int dims, long[] ordinals, String[] ids, float[] vectors) {
      this.packId = packId;
      this.index = index;
      this.dims = dims;
      this.ordinals = ordinals;
      this.ids = ids;
      this.vectors = vectors;
    }

    int size() {
      return ids.length;
    }

    /**
     * Packs (ordinal, id, vector) entries, sorting them by ordinal. Ordinals must be unique: they
     * are the corpus order that breaks ties, and two entries of one ordinal would tie in the order
     * the shuffle delivered them, which can change from run to run. Entries are dealt to shards by
     * ordinal, so all entries of one ordinal meet in one shard and are caught here, at no extra cost.
     *
     * @throws IllegalArgumentException naming the entry's id and ordinal if it is empty, its width
     *     differs from the shard's first, or it holds NaN or an infinity; naming the ordinal and (up
     *     to three of) its ids, sorted, if entries share an ordinal
     */
    static Shard pack(String packId, int index, Iterator<Entry> entries) {
      List<Entry> all = new ArrayList<>();
      entries.forEachRemaining(all::add);
      all.sort((a, b) -> Long.compare(a.ordinal, b.ordinal));
      int dims = all.isEmpty() ? 0 : all.get(0).vector.length;
      long[] ordinals = new long[all.size()];
      String[] ids = new String[all.size()];
      if ((long) all.size() * dims > Integer.MAX_VALUE - 8) { // the most one Java array holds
        throw new IllegalArgumentException("corpus shard " + index + " has " + all.size() + " vectors of " + dims
            + " dimensions, more than one Java array holds: use more shards (rows are dealt to shards by ordinal modulo"
            + " the shard count, so ordinals that share a factor with it, such as multiples of 10 in 10 shards, fill"
            + " some shards and leave others empty)");
      }
      float[] vectors = new float[all.size() * dims];
      for (int i = 0; i < all.size(); i++) {
        Entry e = all.get(i);
        if (i > 0 && all.get(i - 1).ordinal == e.ordinal) {
          throw duplicateOrdinal(all, i - 1);
        }
        if (e.vector.length == 0) {
          throw new IllegalArgumentException(e.name() + " is empty: a vector has at least one component");
        }
        if (e.vector.length != dims) {
          throw new IllegalArgumentException("corpus vectors differ in width: " + e.vector.length + "!=" + dims + " (id '"
              + e.id + "', ordinal " + e.ordinal + ")");
        }
        FlatIndex.checkFinite(e.vector, e.name()); // width and norm: when a shard index is built
        ordinals[i] = e.ordinal;
        ids[i] = e.id;
        System.arraycopy(e.vector, 0, vectors, i * dims, dims);
      }
      return new Shard(packId, index, dims, ordinals, ids, vectors);
    }

    /** The refusal of the ordinal of {@code sorted[first]}, which the entries after it share: its ids, sorted. */
    private static IllegalArgumentException duplicateOrdinal(List<Entry> sorted, int first) {
      long ordinal = sorted.get(first).ordinal;
      List<String> ids = new ArrayList<>();
      for (int j = first; j < sorted.size() && sorted.get(j).ordinal == ordinal; j++) {
        ids.add(sorted.get(j).id);
      }
      ids.sort(null); // the message does not depend on the order the shuffle delivered them in
      List<String> named = ids.size() > 3 ? ids.subList(0, 3) : ids;
      return new IllegalArgumentException("duplicate corpus ordinal " + ordinal + ": " + ids.size() + " rows have it (ids '"
          + String.join("', '", named) + "'" + (ids.size() > named.size() ? ", ..." : "") + "); each corpus row needs an "
          + "ordinal of its own (ordinals order the corpus and break ties between equal scores)");
    }
  }

  /**
   * A shard's flat index (local ordinal i is the shard's entry i) with the shard's ordinals and ids,
   * so that hits are named from the very shard the index was built from. Immutable once built;
   * concurrent searches are safe ({@link FlatIndex}'s rule).
   */
  static final class ShardIndex {
    final FlatIndex index;
    final long[] ordinals;
    final String[] ids;

    private ShardIndex(FlatIndex index, long[] ordinals, String[] ids) {
      this.index = index;
      this.ordinals = ordinals;
      this.ids = ids;
    }

    /**
     * Builds the flat index of {@code shard}'s vectors, in ordinal order.
     *
     * @throws IllegalArgumentException naming a vector's id and ordinal if the index refuses it (a
     *     dot-product index: a squared norm above {@link FlatIndex#MAX_DOT_SQUARED_NORM})
     */
    static ShardIndex build(Shard shard, FlatIndex.Precision precision, FlatIndex.Metric metric) {
      FlatIndex index = FlatIndex.builder(Math.max(shard.dims, 1)).precision(precision).metric(metric).build();
      int dims = shard.dims;
      for (int i = 0; i < shard.ids.length; i++) {
        float[] v = Arrays.copyOfRange(shard.vectors, i * dims, (i + 1) * dims);
        // the index would name the vector by its place in this shard ("vector 3 ..."): checked first, named by id
        FlatIndex.checkVector(v, index.dimensions(), metric, Entry.name(shard.ids[i], shard.ordinals[i]));
        index.add(v);
      }
      return new ShardIndex(index, shard.ordinals, shard.ids);
    }

    int size() {
      return ids.length;
    }

    /**
     * The top {@code k} (at most the shard's size) of one query here, as corpus ordinals and ids.
     *
     * @throws IllegalArgumentException naming the query's id if its width differs from the
     *     corpus's, or the index refuses it (NaN, an infinity, or for a dot-product index a squared
     *     norm above {@link FlatIndex#MAX_DOT_SQUARED_NORM})
     */
    Hits search(String queryId, float[] query, int k) {
      check(queryId, query);
      return Hits.of(queryId, index.search(query, Math.min(k, size())), ordinals, ids);
    }

    /**
     * The top {@code k} here of each of {@code queries}, in their order, in one scan of the shard
     * ({@link FlatIndex#searchAll}: the same hits as {@link #search} one by one).
     *
     * @throws IllegalArgumentException naming the first query that is refused, as {@link #search}
     */
    List<Hits> searchAll(List<Query> queries, int k) {
      List<float[]> vectors = new ArrayList<>(queries.size());
      for (Query q : queries) {
        check(q.id(), q.vector());
        vectors.add(q.vector());
      }
      // in chunks, so that a large block holds only one chunk's heaps (and, for cosine, its
      // normalised copies) besides the hits
      List<Hits> out = new ArrayList<>(queries.size());
      for (int from = 0; from < vectors.size(); from += SEARCH_CHUNK) {
        List<List<SearchHit>> all =
            index.searchAll(vectors.subList(from, Math.min(vectors.size(), from + SEARCH_CHUNK)), Math.min(k, size()));
        for (int i = 0; i < all.size(); i++) {
          out.add(Hits.of(queries.get(from + i).id(), all.get(i), ordinals, ids));
        }
      }
      return out;
    }

    /** Queries per {@link FlatIndex#searchAll} call: a whole number of its tiles of 32. */
    private static final int SEARCH_CHUNK = 1024;

    private void check(String queryId, float[] query) {
      String name = Query.name(queryId);
      if (query.length != index.dimensions()) {
        // shards check their own vectors' widths only: either side may be the odd one, so both are named
        throw new IllegalArgumentException(name + " has " + query.length + " dimensions, the corpus's vectors "
            + index.dimensions() + " (" + Entry.name(ids[0], ordinals[0]) + " among them)");
      }
      FlatIndex.checkVector(query, index.dimensions(), index.metric(), name); // the index would call it "query"
    }
  }

  /** One corpus row on its way into a shard. */
  record Entry(long ordinal, String id, float[] vector) implements Serializable {
    /** How messages name the entry. */
    String name() {
      return name(id, ordinal);
    }

    /** How messages name the corpus vector of {@code id} and {@code ordinal}. */
    static String name(String id, long ordinal) {
      return "corpus vector of id '" + id + "' (ordinal " + ordinal + ")";
    }
  }

  /** One query: a key unique in the search, its id, its vector. */
  record Query(long key, String id, float[] vector) implements Serializable {
    /** How messages name the query of {@code id}. */
    static String name(String id) {
      return "query '" + id + "'";
    }
  }

  /**
   * The best hits of one query so far, best first: score descending, then corpus ordinal
   * ascending, as {@link FlatIndex} orders them (its ties go to the lower ordinal).
   */
  static final class Hits implements Serializable {
    private static final long serialVersionUID = 1L;
    final String queryId;
    final float[] scores;
    final long[] ordinals;
    final String[] ids;

    Hits(String queryId, float[] scores, long[] ordinals, String[] ids) {
      this.queryId = queryId;
      this.scores = scores;
      this.ordinals = ordinals;
      this.ids = ids;
    }

    /** A shard's hits, mapped from local to corpus ordinals (the local order is the corpus order). */
    static Hits of(String queryId, List<SearchHit> hits, long[] shardOrdinals, String[] shardIds) {
      float[] s = new float[hits.size()];
      long[] o = new long[hits.size()];
      String[] ids = new String[hits.size()];
      for (int i = 0; i < hits.size(); i++) {
        SearchHit h = hits.get(i);
        s[i] = h.score();
        o[i] = shardOrdinals[h.ordinal()];
        ids[i] = shardIds[h.ordinal()];
      }
      return new Hits(queryId, s, o, ids);
    }

    int size() {
      return scores.length;
    }

    /** Whether hit i of a ranks before hit j of b. */
    private static boolean before(Hits a, int i, Hits b, int j) {
      int c = Float.compare(a.scores[i], b.scores[j]);
      return c != 0 ? c > 0 : a.ordinals[i] < b.ordinals[j];
    }

    /** The best {@code k} of two lists (each best first), best first. */
    static Hits merge(Hits a, Hits b, int k) {
      int n = Math.min(k, a.size() + b.size());
      float[] s = new float[n];
      long[] o = new long[n];
      String[] ids = new String[n];
      int i = 0;
      int j = 0;
      for (int out = 0; out < n; out++) {
        boolean takeA = j >= b.size() || (i < a.size() && before(a, i, b, j));
        Hits from = takeA ? a : b;
        int at = takeA ? i++ : j++;
        s[out] = from.scores[at];
        o[out] = from.ordinals[at];
        ids[out] = from.ids[at];
      }
      return new Hits(a.queryId, s, o, ids);
    }
  }
}
