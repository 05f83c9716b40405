package dev.gecko.finetune.internal;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.core.InvalidDataException;
import dev.gecko.core.internal.io.AtomicFiles;
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
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * A resumable checkpoint: the weights, AdamW's moments and step count, the best weights so far
 * and the loop's state (step, scores, curve, skipped steps in all and in a row), in one file written through {@link AtomicFiles}, so
 * that a kill at any moment leaves the previous checkpoint or the new one, never half of one.
 * Format: magic {@code GFTCKPT2}, a JSON header (length-prefixed; it records the run's identity,
 * {@link Loop#checkResumable}), float32 arrays in the header's order, then the CRC-32 of all the
 * bytes before it (a damaged file is refused, not trained on). Stateless.
 */
final class Checkpoint {
  private static final byte[] MAGIC = "GFTCKPT2".getBytes(StandardCharsets.US_ASCII);
  private static final ObjectMapper JSON = new ObjectMapper();

  private Checkpoint() {}

  static void write(Path file, BertEncoder encoder, Optimizer opt, Loop.State s, Map<String, Object> run)
      throws IOException {
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("run", run);
    h.put("step", s.step);
    h.put("adamStep", opt.t);
    h.put("bestStep", s.bestStep);
    h.put("baseScore", s.baseScore);
    h.put("bestScore", s.bestScore);
    h.put("sinceBest", s.sinceBest);
    h.put("lossSum", s.lossSum);
    h.put("lossCount", s.lossCount);
    h.put("skippedSteps", s.skippedSteps);
    h.put("skippedInARow", s.skippedInARow);
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
    AtomicFiles.write(file, stream -> {
      CRC32 crc = new CRC32();
      DataOutputStream out = new DataOutputStream(new CheckedOutputStream(new BufferedOutputStream(stream, 1 << 20), crc));
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
      out.flush();
      new DataOutputStream(stream).writeLong(crc.getValue()); // the CRC-32 of all the bytes before it
      stream.flush();
    });
  }

  /**
   * Compares the run identity a checkpoint was written with to {@code run}, after checking the
   * whole file against its CRC-32: a damaged checkpoint is refused when the run is built, before
   * the setup (tokenising, teacher passes) that could take hours, not when it is read.
   *
   * @throws IllegalArgumentException naming each setting that differs
   * @throws InvalidDataException if the file is not a checkpoint of this version, or is damaged
   */
  static void checkRun(Path file, Map<String, Object> run) throws IOException {
    Map<String, Object> h;
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
      h = header(file, in); // first: an older or foreign file is told as that, not as damaged
    } catch (EOFException e) {
      throw new InvalidDataException(file.toString(), 0, "the checkpoint is truncated", e);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      // a header that is not JSON: a damaged byte, which the checksum then confirms
      try {
        verify(file);
      } catch (InvalidDataException damaged) {
        damaged.addSuppressed(e);
        throw damaged;
      }
      throw new InvalidDataException(file.toString(), 0, "the checkpoint's header cannot be read: start over without resume", e);
    }
    verify(file);
    if (!(h.get("run") instanceof Map<?, ?> saved)) {
      throw new InvalidDataException(file.toString(), 0, "the checkpoint does not record its run's settings (written "
          + "by an older version): start over without resume");
    }
    // both sides as the file holds them: this run's settings written and read back as JSON
    JsonNode then = JSON.valueToTree(saved);
    JsonNode now = JSON.readTree(JSON.writeValueAsBytes(sanitize(run)));
    List<String> differences = new ArrayList<>();
    for (Iterator<String> keys = now.fieldNames(); keys.hasNext(); ) {
      String key = keys.next();
      if (!now.get(key).equals(then.get(key))) {
        differences.add(key + " " + describe(key, then.get(key)) + " there, " + describe(key, now.get(key)) + " here");
      }
    }
    if (!differences.isEmpty()) {
      throw new IllegalArgumentException("cannot resume from " + file + ": it was written by a run with other "
          + "settings (" + String.join("; ", differences) + "); resume with the same settings, or start over "
          + "without resume (the checkpoint is then replaced)");
    }
  }

  /** Checks the file's CRC-32 (its last 8 bytes) against the bytes before it. */
  private static void verify(Path file) throws IOException {
    long size = Files.size(file);
    if (size < Long.BYTES) {
      throw new InvalidDataException(file.toString(), 0, "the checkpoint is truncated: start over without resume");
    }
    CRC32 crc = new CRC32();
    try (java.io.InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[1 << 20];
      long left = size - Long.BYTES;
      while (left > 0) {
        int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
        if (n < 0) {
          throw new InvalidDataException(file.toString(), 0, "the checkpoint is truncated: start over without resume");
        }
        crc.update(buffer, 0, n);
        left -= n;
      }
      if (new DataInputStream(in).readLong() != crc.getValue()) {
        throw new InvalidDataException(file.toString(), 0, "the checkpoint is damaged (its checksum does not match):"
            + " start over without resume (the checkpoint is then replaced)");
      }
    }
  }

  /** A setting's value for a message: digests shortened, a missing one named. */
  private static String describe(String key, JsonNode value) {
    if (value == null) {
      return "(not recorded)";
    }
    String v = value.isTextual() ? value.asText() : value.toString();
    return ("data".equals(key) || "validation".equals(key) || "baseFingerprint".equals(key)) && v.length() > 12
        ? v.substring(0, 12) + "..." : v;
  }

  private static Map<String, Object> header(Path file, DataInputStream in) throws IOException {
    byte[] magic = new byte[MAGIC.length];
    in.readFully(magic);
    if (!java.util.Arrays.equals(magic, MAGIC)) {
      throw new InvalidDataException(file.toString(), 0, "not a gecko-finetune checkpoint of this version");
    }
    int length = in.readInt();
    if (length < 2 || length > 1 << 26) {
      throw new InvalidDataException(file.toString(), 0, "the checkpoint's header length " + length + " is out of range");
    }
    byte[] header = new byte[length];
    in.readFully(header);
    @SuppressWarnings("unchecked")
    Map<String, Object> h = JSON.readValue(header, Map.class);
    return h;
  }

  /**
   * Deletes the temporary files that a kill during {@link #write} left beside {@code file} (and the
   * one name earlier versions used).
   */
  static void deleteLeftovers(Path file) throws IOException {
    String name = file.getFileName().toString();
    Files.deleteIfExists(file.resolveSibling(name + ".tmp"));
    try (java.nio.file.DirectoryStream<Path> tmps = Files.newDirectoryStream(file.toAbsolutePath().getParent(),
        "." + name + ".*.tmp")) {
      for (Path tmp : tmps) {
        Files.deleteIfExists(tmp);
      }
    }
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
    CRC32 crc = new CRC32();
    try (DataInputStream raw = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 20));
        DataInputStream in = new DataInputStream(new CheckedInputStream(raw, crc))) {
      Map<String, Object> h = header(file, in);
      s.step = ((Number) h.get("step")).longValue();
      opt.t = ((Number) h.get("adamStep")).longValue();
      s.bestStep = ((Number) h.get("bestStep")).longValue();
      s.baseScore = number(h.get("baseScore"));
      s.bestScore = number(h.get("bestScore"));
      s.sinceBest = ((Number) h.get("sinceBest")).intValue();
      s.lossSum = number(h.get("lossSum"));
      s.lossCount = ((Number) h.get("lossCount")).intValue();
      s.skippedSteps = h.get("skippedSteps") instanceof Number n ? n.longValue() : 0;
      // absent from checkpoints written before it was kept: read as none in a row
      s.skippedInARow = h.get("skippedInARow") instanceof Number n ? n.intValue() : 0;
      for (Object o : (List<?>) h.get("curve")) {
        List<?> c = (List<?>) o;
        s.curve.add(new StepStats((long) number(c.get(0)), number(c.get(1)), number(c.get(2))));
      }
      for (Object o : (List<?>) h.get("arrays")) {
        String a = (String) o;
        int colon = a.indexOf(':');
        String kind = a.substring(0, colon);
        String name = a.substring(colon + 1);
        int n = in.readInt();
        if (n < 0 || n > 1 << 28) {
          throw new InvalidDataException(file.toString(), 0, "the checkpoint is damaged (array " + a + " of " + n
              + " values)");
        }
        float[] values = new float[n];
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
      long expected = raw.readLong();
      if (expected != crc.getValue() || raw.read() != -1) {
        throw new InvalidDataException(file.toString(), 0, "the checkpoint is damaged (its checksum does not match)");
      }
    } catch (EOFException e) {
      throw new InvalidDataException(file.toString(), 0, "the checkpoint is truncated", e);
    }
  }

  private static double number(Object o) {
    return o == null ? Double.NaN : ((Number) o).doubleValue();
  }
}
