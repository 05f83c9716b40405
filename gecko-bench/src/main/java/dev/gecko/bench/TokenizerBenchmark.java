package dev.gecko.bench;

import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.tokenizer.Encoding;
import dev.gecko.tokenizer.GeckoTokenizer;
import java.io.IOException;
import java.io.InputStream;
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
 * Tokenizer throughput of the default model's tokenizer over the golden short sentences (512) or
 * passages (256) per operation; the {@code texts} and {@code tokens} counters are per second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-DOPT_OUT_TRACKING=true", "-Dai.djl.offline=true"})
@State(Scope.Benchmark)
public class TokenizerBenchmark {
  @Param({"short", "passages"})
  public String corpus;

  private GeckoTokenizer tokenizer;
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
  public void setup() throws IOException {
    ModelPackage pkg = ModelPackage.resolve(GeckoEmbedder.Builder.DEFAULT_MODEL);
    try (InputStream in = pkg.tokenizer().open()) {
      tokenizer = GeckoTokenizer.builder().tokenizerJson(in, pkg.tokenizer().toString()).maxLength(pkg.maxTokens())
          .build();
    }
    texts = BenchData.goldenTexts(corpus + ".jsonl");
    for (Encoding e : tokenizer.encodeAll(texts)) {
      tokensPerOp += e.length();
    }
  }

  @TearDown(Level.Trial)
  public void close() {
    tokenizer.close();
  }

  @Benchmark
  public List<Encoding> encodeAll(Rates rates) {
    List<Encoding> out = tokenizer.encodeAll(texts);
    rates.texts += texts.size();
    rates.tokens += tokensPerOp;
    return out;
  }
}
