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

/**
 * Pooling over ONNX Runtime's flat {@code [batch, tokens, hidden]} output: masked mean pooling of
 * [32, 128, 384] with row lengths uniform in [1, 128] (about half the tokens are padding, as in a
 * length-sorted batch of mixed texts), and CLS pooling for comparison.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@State(Scope.Benchmark)
public class PoolingBenchmark {
  @Param({"SCALAR", "PANAMA"})
  public Impl impl;

  @Param({"32"})
  public int batch;

  @Param({"128"})
  public int tokens;

  @Param({"384"})
  public int hidden;

  private float[] states;
  private long[] mask;

  @Setup(Level.Trial)
  public void setup() {
    impl.select();
    Random r = new Random(7);
    states = BenchData.randomFloats(r, batch * tokens * hidden);
    mask = new long[batch * tokens];
    for (int b = 0; b < batch; b++) {
      int length = 1 + r.nextInt(tokens);
      for (int t = 0; t < length; t++) {
        mask[b * tokens + t] = 1;
      }
    }
  }

  @Benchmark
  public float[] meanPool() {
    return VectorOps.meanPool(states, mask, batch, tokens, hidden);
  }

  @Benchmark
  public float[] clsPool() {
    return VectorOps.clsPool(states, batch, tokens, hidden);
  }
}
