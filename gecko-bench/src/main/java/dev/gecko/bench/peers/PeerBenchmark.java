package dev.gecko.bench.peers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15.BgeSmallEnV15EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15q.BgeSmallEnV15QuantizedEmbeddingModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Gecko against LangChain4j's in-process bge-small-en-v1.5 models (int8 and fp32), on the same
 * ONNX files (both read them from the same Maven jars) and the same texts, in the same JVM, with
 * the peers' runs interleaved so that load from other processes hits both alike. Prints a
 * markdown table: medians over repeats of the whole-set wall time, texts/s, tokens/s (real
 * tokens with special tokens; no padding), Gecko's padding overhead, executed GFLOP/s (the
 * FLOP each peer's graph performs: LangChain4j the whole model, Gecko the model less what its
 * first-token-only last layer skips) and its share of the GEMM peak measured by {@link PeakProbe}
 * in the same run.
 *
 * <p>System properties: {@code gecko.shared.dir} (default {@code ../shared}), {@code repeats}
 * (default 5), {@code models} ({@code int8,fp32}), {@code sets} ({@code short,passages,mixed}),
 * {@code peakSeconds} (per probe shape, default 1), {@code maxBatchTokens}, {@code maxBatchSize}
 * (Gecko's batching; defaults are the library's), {@code firstTokenOnly} (default true), {@code tjs} (a transformers.js result file
 * from {@code gecko-bench/transformers-js/run.mjs} to add as a column), {@code out} (a JSON result
 * file to write). Not thread-safe; a tool, not library API.
 */
public final class PeerBenchmark {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** bge-small-en-v1.5 linear layers: 12 x (4 x 384^2 + 2 x 384 x 1536) multiply-adds per token. */
  static final double FLOP_PER_TOKEN = 2.0 * 12 * (4 * 384 * 384 + 2 * 384 * 1536);
  /** Attention scores and weighted sum: 12 layers x 2 x 2 x 384 FLOP per token per key. */
  static final double ATTENTION_FLOP_PER_TOKEN_PAIR = 12 * 4 * 384;

  /** The model's FLOP for one text of {@code n} tokens (what LangChain4j executes). */
  static double modelFlop(int n) {
    return FLOP_PER_TOKEN * n + ATTENTION_FLOP_PER_TOKEN_PAIR * n * (double) n;
  }

  /**
   * The FLOP Gecko executes for one text of {@code n} tokens when the last layer computes the
   * [CLS] token only: 11 whole layers, then keys and values for every token, and the query,
   * attention row, output projection and feed-forward block for one.
   */
  static double firstTokenOnlyFlop(int n) {
    double layer = FLOP_PER_TOKEN / 12;
    double attention = ATTENTION_FLOP_PER_TOKEN_PAIR / 12;
    double keysValues = 2.0 * 2 * 384 * 384 * n;
    double oneToken = layer - 2.0 * 2 * 384 * 384 + attention * n;
    return 11 * (layer * n + attention * n * (double) n) + keysValues + oneToken;
  }

  private PeerBenchmark() {}

  /** One measured cell. */
  record Cell(String model, String set, String peer, double medianSeconds, double minSeconds,
      int texts, long tokens, double executedFlop, double paddingOverhead, String load) {
    double textsPerSecond() {
      return texts / medianSeconds;
    }

    double tokensPerSecond() {
      return tokens / medianSeconds;
    }

    double gflops() {
      return executedFlop / medianSeconds / 1e9;
    }
  }

  public static void main(String[] args) throws Exception {
    int repeats = Integer.getInteger("repeats", 5);
    List<String> models = List.of(System.getProperty("models", "int8,fp32").split(","));
    List<String> setNames = List.of(System.getProperty("sets", "short,passages,mixed").split(","));
    double peakSeconds = Double.parseDouble(System.getProperty("peakSeconds", "1"));
    int maxBatchTokens = Integer.getInteger("maxBatchTokens", BatchPlan.DEFAULT_MAX_BATCH_TOKENS);
    int maxBatchSize = Integer.getInteger("maxBatchSize", BatchPlan.DEFAULT_MAX_BATCH_SIZE);
    int cores = Runtime.getRuntime().availableProcessors();
    Map<String, List<String>> all = TextSets.load(TextSets.sharedDir());
    Map<String, Double> tjs = readTjs(System.getProperty("tjs"));

    System.out.println("# PeerBenchmark: " + cores + " processors, repeats " + repeats + ", Java "
        + Runtime.version() + ", " + Uptime.loadAverage());
    PeakProbe.Rate fp32Peak = PeakProbe.peakFp32(cores, peakSeconds);
    PeakProbe.Rate int8Peak = PeakProbe.peakInt8(cores, peakSeconds);
    System.out.println("# peak fp32: " + fp32Peak);
    System.out.println("# peak int8: " + int8Peak);

    List<Cell> cells = new ArrayList<>();
    for (String model : models) {
      boolean int8 = model.equals("int8");
      String geckoName = int8 ? "bge-small-en-v1.5-int8" : "bge-small-en-v1.5";
      boolean firstTokenOnly = Boolean.parseBoolean(System.getProperty("firstTokenOnly", "true"));
      try (GeckoEmbedder gecko = GeckoEmbedder.builder().model(geckoName).firstTokenOnly(firstTokenOnly)
          .maxBatchTokens(maxBatchTokens).maxBatchSize(maxBatchSize).build()) {
        EmbeddingModel lc4j = int8 ? new BgeSmallEnV15QuantizedEmbeddingModel() : new BgeSmallEnV15EmbeddingModel();
        for (String setName : setNames) {
          List<String> texts = all.get(setName);
          if (texts == null) {
            throw new IllegalArgumentException("unknown set '" + setName + "'; known: " + all.keySet());
          }
          int[] lengths = new int[texts.size()];
          long tokens = 0;
          double flop = 0;
          double geckoFlop = 0;
          for (int i = 0; i < lengths.length; i++) {
            lengths[i] = gecko.countTokens(EmbedRequest.of(texts.get(i)));
            tokens += lengths[i];
            flop += modelFlop(lengths[i]);
            geckoFlop += firstTokenOnly ? firstTokenOnlyFlop(lengths[i]) : modelFlop(lengths[i]);
          }
          double padding = BatchPlan.paddingOverhead(lengths, maxBatchTokens, maxBatchSize);
          List<TextSegment> segments = texts.stream().map(TextSegment::from).toList();
          // Warm-up, and a check that both peers compute the same vectors.
          List<float[]> g = gecko.embedAll(texts, gecko.dimensions());
          List<Embedding> l = lc4j.embedAll(segments).content();
          double minCos = 1;
          for (int i = 0; i < g.size(); i++) {
            minCos = Math.min(minCos, cosine(g.get(i), l.get(i).vector()));
          }
          String load = Uptime.loadAverage();
          double[] tg = new double[repeats];
          double[] tl = new double[repeats];
          for (int r = 0; r < repeats; r++) {
            if (r % 2 == 0) {
              tg[r] = time(() -> gecko.embedAll(texts, gecko.dimensions()));
              tl[r] = time(() -> lc4j.embedAll(segments));
            } else {
              tl[r] = time(() -> lc4j.embedAll(segments));
              tg[r] = time(() -> gecko.embedAll(texts, gecko.dimensions()));
            }
          }
          load = load + " -> " + Uptime.loadAverage().replace("load average: ", "");
          Cell cg = new Cell(model, setName, "gecko", median(tg), min(tg), texts.size(), tokens, geckoFlop, padding, load);
          Cell cl = new Cell(model, setName, "langchain4j", median(tl), min(tl), texts.size(), tokens, flop, 0, load);
          cells.add(cg);
          cells.add(cl);
          System.out.printf("# %s %s: %d texts, %d tokens, min cosine gecko vs langchain4j %.6f, gecko %s s, lc4j %s s, %s%n",
              model, setName, texts.size(), tokens, minCos, Arrays.toString(round(tg)), Arrays.toString(round(tl)), load);
        }
      }
    }

    System.out.println();
    System.out.println("| model | set | peer | texts/s | tokens/s | padding | executed GFLOP/s | % of peak | Gecko / peer | load (1m 5m 15m, before -> after) |");
    System.out.println("|---|---|---|---:|---:|---:|---:|---:|---:|---|");
    for (int i = 0; i < cells.size(); i += 2) {
      Cell g = cells.get(i);
      Cell l = cells.get(i + 1);
      double peak = g.model().equals("int8") ? int8Peak.bestGflops() : fp32Peak.bestGflops();
      row(g, peak, "", g.load());
      row(l, peak, String.format("%.2fx", g.tokensPerSecond() / l.tokensPerSecond()), "");
      Double t = tjs.get(g.model() + "/" + g.set());
      if (t != null) {
        System.out.printf("| %s | %s | transformers.js | %.1f | %.0f | | %.1f | %.0f%% | %.2fx | (separate process) |%n",
            g.model(), g.set(), t / g.tokens() * g.texts(), t, l.executedFlop() / g.tokens() * t / 1e9,
            100 * l.executedFlop() / g.tokens() * t / 1e9 / peak, g.tokensPerSecond() / t);
      }
    }
    System.out.printf("%npeak (best GEMM run, %d threads): fp32 %.1f GFLOP/s (%dx%dx%d), int8 %.1f GOP/s (%dx%dx%d); %% of peak"
            + " uses the fp32 peak for fp32 rows and the int8 peak for int8 rows; executed GFLOP/s counts the"
            + " work each peer does (Gecko with firstTokenOnly=%s: the last layer for the [CLS] token only)%n",
        cores, fp32Peak.bestGflops(), fp32Peak.m(), fp32Peak.k(), fp32Peak.n(),
        int8Peak.bestGflops(), int8Peak.m(), int8Peak.k(), int8Peak.n(),
        System.getProperty("firstTokenOnly", "true"));
    String out = System.getProperty("out");
    if (out != null) {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("peakFp32", fp32Peak);
      json.put("peakInt8", int8Peak);
      json.put("cells", cells);
      Files.writeString(Path.of(out), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json));
    }
  }

  private static void row(Cell c, double peak, String ratio, String load) {
    System.out.printf("| %s | %s | %s | %.1f | %.0f | %s | %.1f | %.0f%% | %s | %s |%n",
        c.model(), c.set(), c.peer(), c.textsPerSecond(), c.tokensPerSecond(),
        c.peer().equals("gecko") ? String.format("%.1f%%", 100 * c.paddingOverhead()) : "0 (batch 1)",
        c.gflops(), 100 * c.gflops() / peak, ratio, load);
  }

  private static Map<String, Double> readTjs(String file) throws IOException {
    Map<String, Double> out = new LinkedHashMap<>();
    if (file == null || file.isBlank() || !Files.exists(Path.of(file))) {
      return out;
    }
    JsonNode root = JSON.readTree(Files.readString(Path.of(file)));
    for (JsonNode r : root.path("results")) {
      out.put(r.path("model").asText() + "/" + r.path("set").asText(), r.path("tokensPerSecond").asDouble());
    }
    return out;
  }

  static double time(Runnable r) {
    long t0 = System.nanoTime();
    r.run();
    return (System.nanoTime() - t0) / 1e9;
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  static double min(double[] v) {
    return Arrays.stream(v).min().orElse(Double.NaN);
  }

  private static double[] round(double[] v) {
    return Arrays.stream(v).map(x -> Math.round(x * 1000) / 1000.0).toArray();
  }

  static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }

}
