package dev.gecko.finetune.internal;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.core.InvalidDataException;
import dev.gecko.finetune.StepStats;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A resumable checkpoint: the weights, AdamW's moments and step count, the best weights so far
 * and the loop's state (step, scores, curve), in one file written to a sibling temporary file
 * and moved into place, so that a kill at any moment leaves the previous checkpoint or the new
 * one, never half of one. Format: magic {@code GFTCKPT1}, a JSON header (length-prefixed), then
 * float32 arrays in the header's order. Stateless.
 */
final class Checkpoint {
  private static final byte[] MAGIC = "GFTCKPT1".getBytes(StandardCharsets.US_ASCII);
  private static final ObjectMapper JSON = new ObjectMapper();

  private Checkpoint() {}

  static void write(Path file, BertEncoder encoder, Optimizer opt, Loop.State s) throws IOException {
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("step", s.step);
    h.put("adamStep", opt.t);
    h.put("bestStep", s.bestStep);
    h.put("baseScore", s.baseScore);
    h.put("bestScore", s.bestScore);
    h.put("sinceBest", s.sinceBest);
    h.put("lossSum", s.lossSum);
    h.put("lossCount", s.lossCount);
    h.put("skippedSteps", s.skippedSteps);
    List<double[]> curve = new ArrayList<>();
    for (StepStats st : s.curve) {
      curve.add(new double[] {st.step(), st.trainLoss(), st.validationScore()});
    }
    h.put("curve", curve);
    List<String> arrays = new ArrayList<>();
    for (String name : encoder.parameters().keySet()) {
      arrays.add("param:" + name);
    }
    for (String name : opt.m.keySet()) {
      arrays.add("m:" + name);
      arrays.add("v:" + name);
    }
    if (s.bestWeights != null) {
      for (String name : s.bestWeights.keySet()) {
        arrays.add("best:" + name);
      }
    }
    h.put("arrays", arrays);
    byte[] header = JSON.writeValueAsBytes(sanitize(h));
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20))) {
      out.write(MAGIC);
      out.writeInt(header.length);
      out.write(header);
      for (String a : arrays) {
        int colon = a.indexOf(':');
        String kind = a.substring(0, colon);
        String name = a.substring(colon + 1);
        float[] values;
        switch (kind) {
          case "param":
            values = encoder.values(name);
            break;
          case "m":
            values = floats(opt.m.get(name));
            break;
          case "v":
            values = floats(opt.v.get(name));
            break;
          default:
            values = s.bestWeights.get(name);
        }
        writeFloats(out, values);
      }
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** NaN is not JSON: written as null, read back as NaN. */
  private static Object sanitize(Object o) {
    if (o instanceof Double && ((Double) o).isNaN()) {
      return null;
    }
    if (o instanceof double[]) {
      List<Double> l = new ArrayList<>();
      for (double d : (double[]) o) {
        l.add(Double.isNaN(d) ? null : d);
      }
      return l;
    }
    if (o instanceof List) {
      List<Object> l = new ArrayList<>();
      for (Object x : (List<?>) o) {
        l.add(sanitize(x));
      }
      return l;
    }
    if (o instanceof Map) {
      Map<Object, Object> m = new LinkedHashMap<>();
      ((Map<?, ?>) o).forEach((k, v) -> m.put(k, sanitize(v)));
      return m;
    }
    return o;
  }

  private static float[] floats(NDArray a) {
    return a.toFloatArray();
  }

  private static void writeFloats(DataOutputStream out, float[] v) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    out.writeInt(v.length);
    out.write(b.array());
  }

  static void read(Path file, BertEncoder encoder, Optimizer opt, Loop.State s) throws IOException {
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 20))) {
      byte[] magic = new byte[MAGIC.length];
      in.readFully(magic);
      if (!java.util.Arrays.equals(magic, MAGIC)) {
        throw new InvalidDataException(file.toString(), 0, "not a gecko-finetune checkpoint");
      }
      byte[] header = new byte[in.readInt()];
      in.readFully(header);
      @SuppressWarnings("unchecked")
      Map<String, Object> h = JSON.readValue(header, Map.class);
      s.step = ((Number) h.get("step")).longValue();
      opt.t = ((Number) h.get("adamStep")).longValue();
      s.bestStep = ((Number) h.get("bestStep")).longValue();
      s.baseScore = number(h.get("baseScore"));
      s.bestScore = number(h.get("bestScore"));
      s.sinceBest = ((Number) h.get("sinceBest")).intValue();
      s.lossSum = number(h.get("lossSum"));
      s.lossCount = ((Number) h.get("lossCount")).intValue();
      s.skippedSteps = h.get("skippedSteps") instanceof Number n ? n.longValue() : 0;
      for (Object o : (List<?>) h.get("curve")) {
        List<?> c = (List<?>) o;
        s.curve.add(new StepStats((long) number(c.get(0)), number(c.get(1)), number(c.get(2))));
      }
      for (Object o : (List<?>) h.get("arrays")) {
        String a = (String) o;
        int colon = a.indexOf(':');
        String kind = a.substring(0, colon);
        String name = a.substring(colon + 1);
        float[] values = new float[in.readInt()];
        byte[] bytes = new byte[4 * values.length];
        in.readFully(bytes);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        switch (kind) {
          case "param":
            encoder.set(name, values);
            break;
          case "m":
            opt.m.get(name).set(values);
            break;
          case "v":
            opt.v.get(name).set(values);
            break;
          default:
            if (s.bestWeights == null) {
              s.bestWeights = new LinkedHashMap<>();
            }
            s.bestWeights.put(name, values);
        }
      }
    } catch (EOFException e) {
      throw new InvalidDataException(file.toString(), 0, "the checkpoint is truncated", e);
    }
  }

  private static double number(Object o) {
    return o == null ? Double.NaN : ((Number) o).doubleValue();
  }
}
