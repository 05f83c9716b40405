package dev.gecko.bench.peers;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.sun.management.OperatingSystemMXBean;
import dev.gecko.tokenizer.Encoding;
import dev.gecko.tokenizer.GeckoTokenizer;
import dev.gecko.tokenizer.TokenizedBatch;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Chooses ONNX Runtime session options by measurement, on bge-small-en-v1.5 itself (straight
 * ORT, no Gecko code in the loop), with batches cut as Gecko cuts them.
 *
 * <ul>
 *   <li>{@code throughput MODEL SET CFG...}: one session per configuration in one JVM, runs
 *       interleaved, median wall and CPU seconds per pass over the set.
 *   <li>{@code rss MODEL CFG [CALLS]}: one configuration (run each in a fresh JVM): many calls on
 *       random mixed-length batches (1-64 rows of the mixed set, so every call has a new shape);
 *       prints the resident set size as the calls go on. Flat means bounded.
 *   <li>{@code rss-gecko MODEL_NAME [CALLS]}: the same calls through {@code GeckoEmbedder}
 *       itself (built-in model name, library defaults).
 * </ul>
 *
 * MODEL is {@code int8} or {@code fp32}. A configuration is comma-separated {@code key=value}:
 * {@code arena} (CPU memory arena, 1/0), {@code pattern} (memory pattern, 1/0), {@code opt}
 * ({@code basic|extended|all}), {@code threads}, {@code spin} ({@code
 * session.intra_op.allow_spinning}), {@code dbb} ({@code session.dynamic_block_base}), {@code
 * tokens} (token budget per batch), {@code rows} (rows per batch), {@code prof} (ONNX Runtime
 * profile file prefix; empty: no profile), {@code fuse} (1: the graph after gecko-core's
 * {@code SkipLayerNormFusion}, as {@code GeckoEmbedder} loads it; default 0, the graph as shipped). Unset keys take Gecko's
 * choices ({@code default}: arena=1, pattern=0, opt=all, threads=processors, spin=0, 2048 tokens,
 * 64 rows). A tool, not library API.
 */
public final class OrtOptionsProbe {
  private OrtOptionsProbe() {}

  static Map<String, String> parse(String cfg) {
    Map<String, String> m = new LinkedHashMap<>(Map.of(
        "arena", "1", "pattern", "0", "opt", "all", "threads", String.valueOf(Runtime.getRuntime().availableProcessors()),
        "spin", "0", "dbb", "0", "tokens", "2048", "rows", "64", "prof", "", "fuse", "0"));
    if (!cfg.equals("default")) {
      for (String kv : cfg.split(",")) {
        String[] p = kv.split("=", 2);
        if (p.length != 2 || !m.containsKey(p[0])) {
          throw new IllegalArgumentException("bad option '" + kv + "' in '" + cfg + "'; keys: " + m.keySet());
        }
        m.put(p[0], p[1]);
      }
    }
    return m;
  }

  static OrtSession open(byte[] model, Map<String, String> c) throws OrtException {
    if (c.get("fuse").equals("1")) {
      model = dev.gecko.core.internal.onnx.SkipLayerNormFusion.apply(model.clone()).model();
    }
    OrtSession.SessionOptions o = new OrtSession.SessionOptions();
    o.setIntraOpNumThreads(Integer.parseInt(c.get("threads")));
    o.setInterOpNumThreads(1);
    o.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
    o.setOptimizationLevel(switch (c.get("opt")) {
      case "basic" -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
      case "extended" -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
      default -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
    });
    o.setMemoryPatternOptimization(c.get("pattern").equals("1"));
    o.setCPUArenaAllocator(c.get("arena").equals("1"));
    o.addConfigEntry("session.intra_op.allow_spinning", c.get("spin"));
    if (!c.get("prof").isEmpty()) {
      o.enableProfiling(c.get("prof"));
    }
    if (!c.get("dbb").equals("0")) {
      o.addConfigEntry("session.dynamic_block_base", c.get("dbb"));
    }
    // The options must outlive the session; this tool leaks them until exit on purpose.
    return OrtEnvironment.getEnvironment().createSession(model, o);
  }

  static byte[] modelBytes(String model) throws IOException {
    String name = model.equals("int8") ? "gecko-models/bge-small-en-v1.5-q.onnx" : "gecko-models/bge-small-en-v1.5.onnx";
    try (InputStream in = OrtOptionsProbe.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException(name + " is not on the classpath");
      }
      return in.readAllBytes();
    }
  }

  static GeckoTokenizer tokenizer() throws IOException {
    try (InputStream in = OrtOptionsProbe.class.getClassLoader().getResourceAsStream("gecko-models/bge-small-en-v1.5-tokenizer.json")) {
      return GeckoTokenizer.builder().tokenizerJson(in, "bge-small-en-v1.5-tokenizer.json").maxLength(512).build();
    }
  }

  static List<TokenizedBatch> plan(List<Encoding> encodings, int budget, int maxRows, long padId) {
    List<Encoding> sorted = new ArrayList<>(encodings);
    sorted.sort(Comparator.comparingInt(Encoding::length));
    List<TokenizedBatch> out = new ArrayList<>();
    int start = 0;
    while (start < sorted.size()) {
      int end = start;
      int longest = 0;
      while (end < sorted.size() && end - start < maxRows) {
        int nl = Math.max(longest, sorted.get(end).length());
        if (end > start && (long) (end - start + 1) * nl > budget) {
          break;
        }
        longest = nl;
        end++;
      }
      out.add(GeckoTokenizer.pad(sorted.subList(start, end), padId));
      start = end;
    }
    return out;
  }

  static void run(OrtSession session, TokenizedBatch b) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    long[] shape = b.shape();
    try (OnnxTensor ids = OnnxTensor.createTensor(env, b.inputIds(), shape);
        OnnxTensor mask = OnnxTensor.createTensor(env, b.attentionMask(), shape);
        OnnxTensor types = OnnxTensor.createTensor(env, b.tokenTypeIds(), shape);
        OrtSession.Result r = session.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types))) {
      r.get(0).getValue().getClass();
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: OrtOptionsProbe throughput int8|fp32 SET CFG... | rss int8|fp32 CFG [CALLS]");
      System.exit(2);
    }
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    if (args[0].equals("rss-gecko")) {
      rssGecko(args[1], args.length > 2 ? Integer.parseInt(args[2]) : 300);
      return;
    }
    byte[] model = modelBytes(args[1]);
    Map<String, List<String>> sets = TextSets.load(TextSets.sharedDir());
    try (GeckoTokenizer tok = tokenizer()) {
      if (args[0].equals("rss")) {
        Map<String, String> c = parse(args[2]);
        int calls = args.length > 3 ? Integer.parseInt(args[3]) : 300;
        List<Encoding> mixed = tok.encodeAll(sets.get("mixed"));
        OrtSession s = open(model, c);
        System.out.printf("# rss %s %s, %s, RSS after load %.0f MiB%n", args[1], c, Uptime.loadAverage(), Uptime.statusMiB("VmRSS"));
        SplittableRandom random = new SplittableRandom(3);
        long t0 = System.nanoTime();
        StringBuilder line = new StringBuilder();
        for (int i = 1; i <= calls; i++) {
          int rows = 1 + random.nextInt(Integer.getInteger("maxRows", 64));
          List<Encoding> pick = new ArrayList<>(rows);
          for (int r = 0; r < rows; r++) {
            pick.add(mixed.get(random.nextInt(mixed.size())));
          }
          for (TokenizedBatch b : plan(pick, Integer.parseInt(c.get("tokens")), Integer.parseInt(c.get("rows")), tok.padId())) {
            run(s, b);
          }
          if (i % Math.max(1, calls / 10) == 0) {
            line.append(String.format(" %d:%.0f", i, Uptime.statusMiB("VmRSS")));
            System.err.printf("  after %d calls: RSS %.0f MiB%n", i, Uptime.statusMiB("VmRSS"));
          }
        }
        System.out.printf("calls:RSS MiB%s | peak %.0f MiB | %.1f s | %s%n", line, Uptime.statusMiB("VmHWM"),
            (System.nanoTime() - t0) / 1e9, Uptime.loadAverage());
        return;
      }
      List<String> texts = sets.get(args[2]);
      List<Encoding> enc = tok.encodeAll(texts.subList(0, Math.min(texts.size(), Integer.getInteger("limit", texts.size()))));
      int repeats = Integer.getInteger("repeats", 5);
      List<String> cfgs = Arrays.asList(args).subList(3, args.length);
      List<OrtSession> sessions = new ArrayList<>();
      List<List<TokenizedBatch>> plans = new ArrayList<>();
      for (String cfg : cfgs) {
        Map<String, String> c = parse(cfg);
        long t = System.nanoTime();
        long cpu = os.getProcessCpuTime();
        sessions.add(open(model, c));
        System.out.printf("# %s: session created in %.2f s wall, %.2f s CPU%n", cfg, (System.nanoTime() - t) / 1e9,
            (os.getProcessCpuTime() - cpu) / 1e9);
        plans.add(plan(enc, Integer.parseInt(c.get("tokens")), Integer.parseInt(c.get("rows")), tok.padId()));
      }
      double[][] wall = new double[cfgs.size()][repeats];
      double[][] cpu = new double[cfgs.size()][repeats];
      String load = Uptime.loadAverage();
      for (int r = -1; r < repeats; r++) {
        for (int k = 0; k < cfgs.size(); k++) {
          int j = r % 2 == 0 ? k : cfgs.size() - 1 - k;
          long t = System.nanoTime();
          long c0 = os.getProcessCpuTime();
          for (TokenizedBatch b : plans.get(j)) {
            run(sessions.get(j), b);
          }
          if (r >= 0) {
            wall[j][r] = (System.nanoTime() - t) / 1e9;
            cpu[j][r] = (os.getProcessCpuTime() - c0) / 1e9;
          }
        }
      }
      for (int k = 0; k < cfgs.size(); k++) {
        if (!parse(cfgs.get(k)).get("prof").isEmpty()) {
          System.out.printf("# profile: %s%n", sessions.get(k).endProfiling());
        }
      }
      long tokens = enc.stream().mapToLong(Encoding::length).sum();
      System.out.printf("# %s %s, %d tokens, repeats %d, %s -> %s%n", args[1], args[2], tokens, repeats, load, Uptime.loadAverage());
      for (int k = 0; k < cfgs.size(); k++) {
        System.out.printf("%-40s median wall %.3f s (%.0f tokens/s), median CPU %.3f s (%.0f tokens/CPU-s)%n", cfgs.get(k),
            PeerBenchmark.median(wall[k]), tokens / PeerBenchmark.median(wall[k]), PeerBenchmark.median(cpu[k]),
            tokens / PeerBenchmark.median(cpu[k]));
      }
    }
  }

  private static void rssGecko(String modelName, int calls) {
    List<String> mixed = TextSets.load(TextSets.sharedDir()).get("mixed");
    try (dev.gecko.core.GeckoEmbedder embedder = dev.gecko.core.GeckoEmbedder.builder().model(modelName).build()) {
      System.out.printf("# rss-gecko %s, %s, RSS after load %.0f MiB%n", modelName, Uptime.loadAverage(), Uptime.statusMiB("VmRSS"));
      SplittableRandom random = new SplittableRandom(3);
      long t0 = System.nanoTime();
      StringBuilder line = new StringBuilder();
      for (int i = 1; i <= calls; i++) {
        int rows = 1 + random.nextInt(Integer.getInteger("maxRows", 64));
        List<String> pick = new ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
          pick.add(mixed.get(random.nextInt(mixed.size())));
        }
        embedder.embedAll(pick, embedder.dimensions());
        if (i % Math.max(1, calls / 10) == 0) {
          line.append(String.format(" %d:%.0f", i, Uptime.statusMiB("VmRSS")));
          System.err.printf("  after %d calls: RSS %.0f MiB%n", i, Uptime.statusMiB("VmRSS"));
        }
      }
      System.out.printf("calls:RSS MiB%s | peak %.0f MiB | %.1f s | %s%n", line, Uptime.statusMiB("VmHWM"),
          (System.nanoTime() - t0) / 1e9, Uptime.loadAverage());
    }
  }
}
