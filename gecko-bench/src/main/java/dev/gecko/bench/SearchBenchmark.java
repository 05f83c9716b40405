package dev.gecko.bench;

import dev.gecko.core.index.FlatIndex;
import dev.gecko.core.index.SearchHit;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Exact top-10 over {@code n} random unit vectors of width 384 in one thread, per precision, one
 * query per call ({@code topK}) and {@value #BATCH} per {@code searchAll} call ({@code topKAll}, timed
 * per query). The queries cycle through 64 random unit vectors so no single query's branch pattern
 * is learnt.
 *
 * <p>Forks ask for transparent huge pages, as docs/search.md recommends for large indexes: the
 * binary scan's time otherwise depends on whether the kernel happens to back its 4.8 MB array
 * with huge pages (0.50 vs 0.71 ms/query here, docs/benchmarks.md). {@code -jvmArgsAppend}
 * on the command line replaces these flags.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g", "-XX:+UseTransparentHugePages"})
@State(Scope.Benchmark)
public class SearchBenchmark {
  @Param({"SCALAR", "PANAMA"})
  public Impl impl;

  @Param({"FLOAT32", "INT8", "BINARY"})
  public FlatIndex.Precision precision;

  @Param({"100000"})
  public int n;

  @Param({"384"})
  public int dims;

  @Param({"10"})
  public int k;

  private FlatIndex index;
  private float[][] queries;
  private int next;

  @Setup(Level.Trial)
  public void setup() {
    impl.select();
    Random r = new Random(1);
    index = FlatIndex.builder(dims).precision(precision).build();
    for (int i = 0; i < n; i++) {
      index.add(BenchData.randomUnit(r, dims));
    }
    queries = new float[64][];
    for (int i = 0; i < queries.length; i++) {
      queries[i] = BenchData.randomUnit(r, dims);
    }
  }

  @Benchmark
  public List<SearchHit> topK() {
    float[] q = queries[next];
    next = (next + 1) & 63;
    return index.search(q, k);
  }

  /** Queries per call of {@link #topKAll}, half of the 64. */
  static final int BATCH = 32;

  /**
   * The top-k of {@value #BATCH} queries in one {@code searchAll} call (alternately the first and
   * second half of the 64); the score is per query, as {@link #topK}'s.
   */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public List<List<SearchHit>> topKAll() {
    int from = next;
    next = (next + BATCH) & 63;
    return index.searchAll(Arrays.asList(queries).subList(from, from + BATCH), k);
  }
}
