package dev.gecko.finetune.internal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Small ONNX models written in code (opset 13), for graph-level tests: a hand-written protobuf
 * encoder of the few ModelProto fields they need. Build one with {@link #input}, {@link #floats},
 * {@link #node} and {@link #output}, then {@link #bytes()}.
 */
final class TinyOnnx {
  private final ByteArrayOutputStream graph = new ByteArrayOutputStream();

  /** A float (or int64 with {@code int64}) graph input of a fixed shape. */
  TinyOnnx input(String name, boolean int64, long... dims) {
    len(graph, 11, valueInfo(name, int64 ? 7 : 1, dims));
    return this;
  }

  /** A float graph output of unknown shape. */
  TinyOnnx output(String name) {
    len(graph, 12, valueInfo(name, 1, null));
    return this;
  }

  /** A float initializer, row-major. */
  TinyOnnx floats(String name, long[] dims, float... values) {
    ByteArrayOutputStream t = new ByteArrayOutputStream();
    for (long d : dims) {
      varint(t, 1, d);
    }
    varint(t, 2, 1);
    len(t, 8, name.getBytes(StandardCharsets.UTF_8));
    ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    len(t, 9, b.array());
    len(graph, 5, t.toByteArray());
    return this;
  }

  /** A float initializer whose data lies in an external file ({@code location}), as large exports keep it. */
  TinyOnnx externalFloats(String name, long[] dims, String location) {
    ByteArrayOutputStream t = new ByteArrayOutputStream();
    for (long d : dims) {
      varint(t, 1, d);
    }
    varint(t, 2, 1);
    len(t, 8, name.getBytes(StandardCharsets.UTF_8));
    ByteArrayOutputStream entry = new ByteArrayOutputStream();
    len(entry, 1, "location".getBytes(StandardCharsets.UTF_8));
    len(entry, 2, location.getBytes(StandardCharsets.UTF_8));
    len(t, 13, entry.toByteArray()); // external_data
    varint(t, 14, 1); // data_location: EXTERNAL
    len(graph, 5, t.toByteArray());
    return this;
  }

  /** A node of the default domain. */
  TinyOnnx node(String name, String op, List<String> inputs, List<String> outputs) {
    ByteArrayOutputStream n = new ByteArrayOutputStream();
    for (String i : inputs) {
      len(n, 1, i.getBytes(StandardCharsets.UTF_8));
    }
    for (String o : outputs) {
      len(n, 2, o.getBytes(StandardCharsets.UTF_8));
    }
    len(n, 3, name.getBytes(StandardCharsets.UTF_8));
    len(n, 4, op.getBytes(StandardCharsets.UTF_8));
    len(graph, 1, n.toByteArray());
    return this;
  }

  byte[] bytes() {
    ByteArrayOutputStream m = new ByteArrayOutputStream();
    varint(m, 1, 7); // ir_version
    ByteArrayOutputStream g = new ByteArrayOutputStream();
    g.writeBytes(graph.toByteArray());
    len(g, 2, "tiny".getBytes(StandardCharsets.UTF_8));
    len(m, 7, g.toByteArray());
    ByteArrayOutputStream opset = new ByteArrayOutputStream();
    len(opset, 1, new byte[0]);
    varint(opset, 2, 13);
    len(m, 8, opset.toByteArray());
    return m.toByteArray();
  }

  /** Random values in [-1, 1), seeded. */
  static float[] random(int n, long seed) {
    java.util.Random r = new java.util.Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextFloat() * 2 - 1;
    }
    return v;
  }

  /** The names of a model's initializers as the file lists them (duplicates included). */
  static List<String> initializerNames(byte[] model) {
    List<String> names = new java.util.ArrayList<>();
    for (int[] g : fields(model, 0, model.length)) {
      if (g[0] == 7) {
        for (int[] i : fields(model, g[1], g[2])) {
          if (i[0] == 5) {
            for (int[] t : fields(model, i[1], i[2])) {
              if (t[0] == 8) {
                names.add(new String(model, t[1], t[2], StandardCharsets.UTF_8));
              }
            }
          }
        }
      }
    }
    return names;
  }

  /** The length-delimited fields of a message: {number, offset, length}; other wire types skipped. */
  private static List<int[]> fields(byte[] b, int offset, int length) {
    List<int[]> out = new java.util.ArrayList<>();
    int[] pos = {offset};
    int end = offset + length;
    while (pos[0] < end) {
      long tag = read(b, pos);
      int wire = (int) (tag & 7);
      if (wire == 0) {
        read(b, pos);
      } else if (wire == 1) {
        pos[0] += 8;
      } else if (wire == 5) {
        pos[0] += 4;
      } else if (wire == 2) {
        int n = (int) read(b, pos);
        out.add(new int[] {(int) (tag >>> 3), pos[0], n});
        pos[0] += n;
      } else {
        throw new IllegalArgumentException("wire type " + wire);
      }
    }
    return out;
  }

  private static long read(byte[] b, int[] pos) {
    long v = 0;
    for (int shift = 0; ; shift += 7) {
      int x = b[pos[0]++] & 0xFF;
      v |= (long) (x & 0x7F) << shift;
      if (x < 0x80) {
        return v;
      }
    }
  }

  private static byte[] valueInfo(String name, int elemType, long[] dims) {
    ByteArrayOutputStream tensor = new ByteArrayOutputStream();
    varint(tensor, 1, elemType);
    if (dims != null) {
      ByteArrayOutputStream shape = new ByteArrayOutputStream();
      for (long d : dims) {
        ByteArrayOutputStream dim = new ByteArrayOutputStream();
        varint(dim, 1, d);
        len(shape, 1, dim.toByteArray());
      }
      len(tensor, 2, shape.toByteArray());
    }
    ByteArrayOutputStream type = new ByteArrayOutputStream();
    len(type, 1, tensor.toByteArray());
    ByteArrayOutputStream v = new ByteArrayOutputStream();
    len(v, 1, name.getBytes(StandardCharsets.UTF_8));
    len(v, 2, type.toByteArray());
    return v.toByteArray();
  }

  private static void varint(ByteArrayOutputStream out, int field, long value) {
    raw(out, (long) field << 3);
    raw(out, value);
  }

  private static void len(ByteArrayOutputStream out, int field, byte[] bytes) {
    raw(out, ((long) field << 3) | 2);
    raw(out, bytes.length);
    out.writeBytes(bytes);
  }

  private static void raw(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7FL) != 0) {
      out.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }
}
