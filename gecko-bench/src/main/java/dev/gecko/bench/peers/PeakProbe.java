package dev.gecko.bench.peers;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;

/**
 * Measures the machine's attainable peak for the embedder's dominant work: a large GEMM run by
 * ONNX Runtime's own CPU kernels (MLAS), on a one-node {@code MatMul} (fp32) or {@code
 * MatMulInteger} (u8 x s8, the int8 models' kernel) graph written in code. The peak is the best
 * single run over several shapes, in FLOP/s (2 per multiply-add) with intra-op threads set to all
 * processors, and separately with one thread (per core).
 *
 * <p>Not thread-safe; a tool, not library API.
 */
public final class PeakProbe {
  static final int FLOAT = 1;
  private static final int UINT8 = 2;
  private static final int INT8 = 3;
  private static final int INT32 = 6;

  /** One measured rate. */
  public record Rate(String kernel, int threads, long m, long k, long n, double bestGflops, double medianGflops) {
    @Override
    public String toString() {
      return String.format("%-13s threads=%d %5dx%4dx%4d  best %7.1f G/s  median %7.1f G/s",
          kernel, threads, m, k, n, bestGflops, medianGflops);
    }
  }

  private PeakProbe() {}

  /** Returns the best fp32 GEMM rate in FLOP/s over the probe shapes with {@code threads} threads. */
  public static Rate peakFp32(int threads, double secondsPerShape) throws OrtException {
    Rate best = null;
    for (long[] s : new long[][] {{1024, 1024, 1024}, {4096, 384, 1536}, {2048, 1536, 384}}) {
      Rate r = measure(false, threads, s[0], s[1], s[2], secondsPerShape);
      best = best == null || r.bestGflops() > best.bestGflops() ? r : best;
    }
    return best;
  }

  /** Returns the best u8 x s8 GEMM rate in OP/s over the probe shapes with {@code threads} threads. */
  public static Rate peakInt8(int threads, double secondsPerShape) throws OrtException {
    Rate best = null;
    for (long[] s : new long[][] {{1024, 1024, 1024}, {4096, 384, 1536}}) {
      Rate r = measure(true, threads, s[0], s[1], s[2], secondsPerShape);
      best = best == null || r.bestGflops() > best.bestGflops() ? r : best;
    }
    return best;
  }

  static Rate measure(boolean int8, int threads, long m, long k, long n, double seconds) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    byte[] model = int8
        ? matMulModel("MatMulInteger", UINT8, INT8, INT32, m, k, n)
        : matMulModel("MatMul", FLOAT, FLOAT, FLOAT, m, k, n);
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(threads);
      options.setInterOpNumThreads(1);
      try (OrtSession session = env.createSession(model, options)) {
        ByteBuffer a = ByteBuffer.allocateDirect((int) (m * k * (int8 ? 1 : 4))).order(ByteOrder.nativeOrder());
        ByteBuffer b = ByteBuffer.allocateDirect((int) (k * n * (int8 ? 1 : 4))).order(ByteOrder.nativeOrder());
        java.util.SplittableRandom random = new java.util.SplittableRandom(1);
        if (int8) {
          while (a.hasRemaining()) {
            a.put((byte) random.nextInt(256));
          }
          while (b.hasRemaining()) {
            b.put((byte) (random.nextInt(256) - 128));
          }
        } else {
          while (a.hasRemaining()) {
            a.putFloat((float) random.nextDouble(-1, 1));
          }
          while (b.hasRemaining()) {
            b.putFloat((float) random.nextDouble(-1, 1));
          }
        }
        a.flip();
        b.flip();
        try (OnnxTensor ta = int8 ? OnnxTensor.createTensor(env, a, new long[] {m, k}, OnnxJavaType.UINT8)
                : OnnxTensor.createTensor(env, a.asFloatBuffer(), new long[] {m, k});
            OnnxTensor tb = int8 ? OnnxTensor.createTensor(env, b, new long[] {k, n}, OnnxJavaType.INT8)
                : OnnxTensor.createTensor(env, b.asFloatBuffer(), new long[] {k, n})) {
          Map<String, OnnxTensor> inputs = Map.of("A", ta, "B", tb);
          double flop = 2.0 * m * k * n;
          for (int i = 0; i < 3; i++) {
            session.run(inputs).close();
          }
          double[] times = new double[4096];
          int runs = 0;
          long deadline = System.nanoTime() + (long) (seconds * 1e9);
          while (runs < times.length && (runs < 5 || System.nanoTime() < deadline)) {
            long t0 = System.nanoTime();
            session.run(inputs).close();
            times[runs++] = (System.nanoTime() - t0) / 1e9;
          }
          double[] t = Arrays.copyOf(times, runs);
          Arrays.sort(t);
          return new Rate(int8 ? "MatMulInteger" : "MatMul", threads, m, k, n, flop / t[0] / 1e9, flop / t[runs / 2] / 1e9);
        }
      }
    }
  }

  /** Writes a one-node ONNX model {@code Y = op(A[m,k], B[k,n])}. */
  static byte[] matMulModel(String op, int aType, int bType, int yType, long m, long k, long n) {
    Proto node = new Proto().string(1, "A").string(1, "B").string(2, "Y").string(3, "probe").string(4, op);
    Proto graph = new Proto()
        .message(1, node)
        .string(2, "peak_probe")
        .message(11, valueInfo("A", aType, m, k))
        .message(11, valueInfo("B", bType, k, n))
        .message(12, valueInfo("Y", yType, m, n));
    return new Proto()
        .varint(1, 8)
        .string(2, "gecko-peak-probe")
        .message(7, graph)
        .message(8, new Proto().string(1, "").varint(2, 17))
        .bytes();
  }

  /** A ValueInfoProto: a tensor of element type {@code elemType} and fixed shape {@code dims}. */
  static Proto valueInfo(String name, int elemType, long... dims) {
    Proto shape = new Proto();
    for (long d : dims) {
      shape.message(1, new Proto().varint(1, d));
    }
    Proto tensor = new Proto().varint(1, elemType).message(2, shape);
    return new Proto().string(1, name).message(2, new Proto().message(1, tensor));
  }

  /** The few protobuf wire-format writes an ONNX model needs (also used by {@code LayerNormProbe}). */
  static final class Proto {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Proto varint(int field, long value) {
      raw((field << 3) | 0);
      raw(value);
      return this;
    }

    Proto string(int field, String value) {
      return len(field, value.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    Proto message(int field, Proto value) {
      return len(field, value.bytes());
    }

    Proto bytesField(int field, byte[] value) {
      return len(field, value);
    }

    private Proto len(int field, byte[] value) {
      raw((field << 3) | 2);
      raw(value.length);
      out.writeBytes(value);
      return this;
    }

    private void raw(long v) {
      while ((v & ~0x7FL) != 0) {
        out.write((int) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      out.write((int) v);
    }

    byte[] bytes() {
      return out.toByteArray();
    }
  }

  /** Prints the fp32 and int8 peaks, all threads and one thread. Argument: seconds per shape. */
  public static void main(String[] args) throws OrtException {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2.0;
    int cores = Runtime.getRuntime().availableProcessors();
    System.out.println("# peak probe, " + cores + " processors, " + Uptime.loadAverage());
    for (long[] s : new long[][] {{1024, 1024, 1024}, {4096, 384, 1536}, {2048, 1536, 384}}) {
      System.out.println(measure(false, cores, s[0], s[1], s[2], seconds));
    }
    System.out.println(measure(false, 1, 1024, 1024, 1024, seconds));
    for (long[] s : new long[][] {{1024, 1024, 1024}, {4096, 384, 1536}}) {
      System.out.println(measure(true, cores, s[0], s[1], s[2], seconds));
    }
    System.out.println(measure(true, 1, 1024, 1024, 1024, seconds));
    System.out.println("# " + Uptime.loadAverage());
  }
}
