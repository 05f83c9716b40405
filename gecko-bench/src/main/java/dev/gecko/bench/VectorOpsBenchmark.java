package dev.gecko.bench;

import dev.gecko.core.vector.VectorOps;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Each {@link VectorOps} kernel at the widths of small embedding models, scalar against Panama. */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@State(Scope.Benchmark)
public class VectorOpsBenchmark {
  @Param({"SCALAR", "PANAMA"})
  public Impl impl;

  @Param({"384", "768", "1024"})
  public int dims;

  private float[] a;
  private float[] b;
  private float[] work;
  private byte[] qa;
  private byte[] qb;
  private long[] ba;
  private long[] bb;

  @Setup(Level.Trial)
  public void setup() {
    impl.select();
    Random r = new Random(42);
    a = BenchData.randomFloats(r, dims);
    b = BenchData.randomFloats(r, dims);
    work = a.clone();
    qa = new byte[dims];
    qb = new byte[dims];
    VectorOps.quantizeInt8(a, qa);
    VectorOps.quantizeInt8(b, qb);
    ba = VectorOps.quantizeBinary(a);
    bb = VectorOps.quantizeBinary(b);
  }

  @Benchmark
  public float dot() {
    return VectorOps.dot(a, b);
  }

  @Benchmark
  public float cosine() {
    return VectorOps.cosine(a, b);
  }

  @Benchmark
  public float norm() {
    return VectorOps.norm(a);
  }

  /** In place on a unit vector after the first call: the same work every time. */
  @Benchmark
  public float[] normalize() {
    return VectorOps.normalize(work);
  }

  @Benchmark
  public float[] truncateAndNormalize() {
    return VectorOps.truncateAndNormalize(a, dims / 2);
  }

  @Benchmark
  public int int8Dot() {
    return VectorOps.int8Dot(qa, qb);
  }

  @Benchmark
  public int hamming() {
    return VectorOps.hamming(ba, bb);
  }

  /** Scalar in both implementations (runs once per vector at index time). */
  @Benchmark
  public float quantizeInt8() {
    return VectorOps.quantizeInt8(a, qb);
  }
}
