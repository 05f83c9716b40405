package dev.gecko.bench.peers;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One-node ONNX graphs written in code, timed on ONNX Runtime's CPU kernels with one intra-op
 * thread: {@code LayerNormalization} (what ONNX Runtime makes of a BERT export's decomposed layer
 * norm), {@code Add} (the residual), and {@code com.microsoft.SkipLayerNormalization} (residual,
 * bias and layer norm in one), on {@code [1, tokens, width]}. Why gecko-core fuses residual blocks
 * (docs/performance.md). A tool, not library API.
 *
 * <pre>java -cp ... dev.gecko.bench.peers.LayerNormProbe [TOKENS [WIDTH]]</pre>
 */
public final class LayerNormProbe {
  private LayerNormProbe() {}

  private static PeakProbe.Proto valueInfo(String name, long... dims) {
    return PeakProbe.valueInfo(name, PeakProbe.FLOAT, dims);
  }

  private static byte[] model(PeakProbe.Proto node, List<PeakProbe.Proto> inputs, PeakProbe.Proto output) {
    PeakProbe.Proto graph = new PeakProbe.Proto().message(1, node).string(2, "layer_norm_probe");
    for (PeakProbe.Proto in : inputs) {
      graph.message(11, in);
    }
    graph.message(12, output);
    return new PeakProbe.Proto().varint(1, 8).string(2, "gecko-layer-norm-probe").message(7, graph)
        .message(8, new PeakProbe.Proto().string(1, "").varint(2, 17))
        .message(8, new PeakProbe.Proto().string(1, "com.microsoft").varint(2, 1)).bytes();
  }

  private static OnnxTensor random(OrtEnvironment env, long... shape) throws OrtException {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    FloatBuffer b = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
    SplittableRandom r = new SplittableRandom(n);
    while (b.hasRemaining()) {
      b.put((float) r.nextDouble(-1, 1));
    }
    return OnnxTensor.createTensor(env, b.flip(), shape);
  }

  /** Median milliseconds of {@code runs} runs of {@code s} after {@code warmups} (also used by AttentionProbe). */
  static double medianMillis(OrtSession s, Map<String, OnnxTensor> in, int warmups, int runs) throws OrtException {
    for (int i = 0; i < warmups; i++) {
      s.run(in).close();
    }
    double[] t = new double[runs];
    for (int i = 0; i < t.length; i++) {
      long t0 = System.nanoTime();
      s.run(in).close();
      t[i] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(t);
    return t[t.length / 2];
  }


  /** Prints the median time of each node, three rounds. */
  public static void main(String[] args) throws OrtException {
    long tokens = args.length > 0 ? Long.parseLong(args[0]) : 1024;
    long width = args.length > 1 ? Long.parseLong(args[1]) : 384;
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    byte[] layerNorm = model(new PeakProbe.Proto().string(1, "X").string(1, "S").string(1, "B").string(2, "Y")
            .string(3, "n").string(4, "LayerNormalization"),
        List.of(valueInfo("X", 1, tokens, width), valueInfo("S", width), valueInfo("B", width)),
        valueInfo("Y", 1, tokens, width));
    byte[] add = model(new PeakProbe.Proto().string(1, "X").string(1, "K").string(2, "Y").string(3, "n").string(4, "Add"),
        List.of(valueInfo("X", 1, tokens, width), valueInfo("K", 1, tokens, width)), valueInfo("Y", 1, tokens, width));
    byte[] skip = model(new PeakProbe.Proto().string(1, "X").string(1, "K").string(1, "S").string(1, "B").string(1, "C")
            .string(2, "Y").string(3, "n").string(4, "SkipLayerNormalization").string(7, "com.microsoft"),
        List.of(valueInfo("X", 1, tokens, width), valueInfo("K", 1, tokens, width), valueInfo("S", width),
            valueInfo("B", width), valueInfo("C", width)),
        valueInfo("Y", 1, tokens, width));
    // the embedding layer's norm: word + type embeddings [1, tokens, width], position embeddings
    // broadcast from [1, tokens, width] to a batch of 4, no bias
    byte[] skipBroadcast = model(new PeakProbe.Proto().string(1, "X").string(1, "K").string(1, "S").string(1, "B")
            .string(2, "Y").string(3, "n").string(4, "SkipLayerNormalization").string(7, "com.microsoft"),
        List.of(valueInfo("X", 4, tokens / 4, width), valueInfo("K", 1, tokens / 4, width), valueInfo("S", width),
            valueInfo("B", width)),
        valueInfo("Y", 4, tokens / 4, width));
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(1);
      o.setInterOpNumThreads(1);
      o.addConfigEntry("session.intra_op.allow_spinning", "0");
      try (OrtSession ln = env.createSession(layerNorm, o);
          OrtSession ad = env.createSession(add, o);
          OrtSession sk = env.createSession(skip, o);
          OrtSession skb = env.createSession(skipBroadcast, o);
          OnnxTensor x4 = random(env, 4, tokens / 4, width);
          OnnxTensor k1 = random(env, 1, tokens / 4, width);
          OnnxTensor x = random(env, 1, tokens, width);
          OnnxTensor k = random(env, 1, tokens, width);
          OnnxTensor gamma = random(env, width);
          OnnxTensor beta = random(env, width);
          OnnxTensor bias = random(env, width)) {
        for (int round = 0; round < 3; round++) {
          System.out.printf(Locale.ROOT, "[1, %d, %d], 1 thread: LayerNormalization %.3f ms | Add %.3f ms"
                  + " | SkipLayerNormalization (residual + bias + norm) %.3f ms%n", tokens, width,
              medianMillis(ln, Map.of("X", x, "S", gamma, "B", beta), 20, 200), medianMillis(ad, Map.of("X", x, "K", k), 20, 200),
              medianMillis(sk, Map.of("X", x, "K", k, "S", gamma, "B", beta, "C", bias), 20, 200));
          System.out.printf(Locale.ROOT, "[4, %d, %d] + [1, %d, %d], 1 thread: SkipLayerNormalization, broadcast skip, no bias %.3f ms%n",
              tokens / 4, width, tokens / 4, width, medianMillis(skb, Map.of("X", x4, "K", k1, "S", gamma, "B", beta), 20, 200));
        }
      }
    }
  }
}
