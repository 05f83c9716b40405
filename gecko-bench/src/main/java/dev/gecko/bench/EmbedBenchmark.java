package dev.gecko.bench;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * End-to-end {@code embedAll} of the default model ({@value GeckoEmbedder.Builder#DEFAULT_MODEL})
 * at full width, ONNX Runtime on all cores: per operation the first 64 golden short sentences or
 * the first 8 passages; {@code texts} and {@code tokens} counters are per second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-DOPT_OUT_TRACKING=true",
    "-Dai.djl.offline=true"})
@State(Scope.Benchmark)
public class EmbedBenchmark {
  @Param({"SCALAR", "PANAMA"})
  public Impl impl;

  @Param({"short", "passages"})
  public String corpus;

  private GeckoEmbedder embedder;
  private List<String> texts;
  private int tokensPerOp;

  /** Per-second rates of texts and tokens, reported next to ops/s. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Rates {
    public long texts;
    public long tokens;
  }

  @Setup(Level.Trial)
  public void setup() {
    impl.select();
    embedder = GeckoEmbedder.createDefault();
    List<String> all = BenchData.goldenTexts(corpus + ".jsonl");
    texts = all.subList(0, corpus.equals("short") ? 64 : 8);
    for (String t : texts) {
      tokensPerOp += embedder.countTokens(EmbedRequest.of(t));
    }
  }

  @TearDown(Level.Trial)
  public void close() {
    embedder.close();
  }

  @Benchmark
  public List<float[]> embedAll(Rates rates) {
    List<float[]> out = embedder.embedAll(texts, embedder.dimensions());
    rates.texts += texts.size();
    rates.tokens += tokensPerOp;
    return out;
  }
}
