package dev.gecko.core.onnx;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The parts of an ONNX ModelProto / GraphProto that a graph rewrite reads, over the raw bytes. */
final class Graph {
  // ModelProto
  static final int MODEL_OPSET_IMPORT = 8;
  static final int MODEL_GRAPH = 7;
  // GraphProto
  static final int GRAPH_NODE = 1;
  static final int GRAPH_INITIALIZER = 5;
  static final int GRAPH_INPUT = 11;
  static final int GRAPH_OUTPUT = 12;
  static final int GRAPH_VALUE_INFO = 13;
  // NodeProto
  static final int NODE_INPUT = 1;
  static final int NODE_OUTPUT = 2;
  static final int NODE_NAME = 3;
  static final int NODE_OP_TYPE = 4;
  static final int NODE_ATTRIBUTE = 5;
  static final int NODE_DOMAIN = 7;
  // TensorProto
  static final int TENSOR_DIMS = 1;
  static final int TENSOR_DATA_TYPE = 2;
  static final int TENSOR_FLOAT_DATA = 4;
  static final int TENSOR_NAME = 8;
  static final int TENSOR_RAW_DATA = 9;
  static final int TENSOR_DATA_LOCATION = 14;
  static final int TENSOR_LOCATION_EXTERNAL = 1;
  static final int TENSOR_FLOAT = 1;
  // AttributeProto
  static final int ATTR_NAME = 1;
  static final int ATTR_F = 2;
  static final int ATTR_I = 3;
  static final int ATTR_T = 5;
  static final int ATTR_INTS = 8;
  static final int ATTR_G = 6;
  static final int ATTR_GRAPHS = 11;
  static final int ATTR_TYPE = 20;
  static final int ATTR_TYPE_FLOAT = 1;

  final byte[] buf;
  final List<Protobuf.Field> modelFields;
  final Protobuf.Field graphField;
  final List<Protobuf.Field> graphFields;
  final List<Node> nodes = new ArrayList<>();
  final Map<String, Tensor> initializers = new HashMap<>();
  final Map<String, Integer> producer = new HashMap<>();
  final Map<String, List<Integer>> consumers = new HashMap<>();
  final Set<String> graphOutputs = new HashSet<>();
  final Set<String> graphInputs = new HashSet<>();
  /** Whether an initialiser keeps its data in another file (then the model must load from its path). */
  boolean hasExternalData;
  /** Whether a node carries a subgraph (If, Loop, Scan): values it uses implicitly are not tracked. */
  boolean hasSubgraphs;

  /** A node: its position among the graph's node fields and what it connects. */
  static final class Node {
    final int index;
    final Protobuf.Field field;
    final List<String> inputs = new ArrayList<>();
    final List<String> outputs = new ArrayList<>();
    final List<Protobuf.Field> attributes = new ArrayList<>();
    String opType = "";
    String domain = "";

    Node(int index, Protobuf.Field field) {
      this.index = index;
      this.field = field;
    }

    boolean is(String op) {
      return domain.isEmpty() && opType.equals(op);
    }
  }

  /** An initializer or Constant value: shape, element type and, for float scalars, the value. */
  static final class Tensor {
    final long[] dims;
    final int dataType;
    final float[] smallFloats;

    Tensor(long[] dims, int dataType, float[] smallFloats) {
      this.dims = dims;
      this.dataType = dataType;
      this.smallFloats = smallFloats;
    }

    long elements() {
      long n = 1;
      for (long d : dims) {
        n *= d;
      }
      return n;
    }
  }

  Graph(byte[] model) {
    this.buf = model;
    modelFields = Protobuf.parse(model, 0, model.length);
    Protobuf.Field g = null;
    for (Protobuf.Field f : modelFields) {
      if (f.number == MODEL_GRAPH && f.wireType == Protobuf.LEN) {
        if (g != null) {
          throw new IllegalArgumentException("the model holds its graph field twice (protobuf would merge them)");
        }
        g = f;
      }
    }
    if (g == null) {
      throw new IllegalArgumentException("not an ONNX model: no graph");
    }
    graphField = g;
    graphFields = Protobuf.parse(model, g.offset, g.length);
    for (Protobuf.Field f : graphFields) {
      if (f.number == GRAPH_NODE && f.wireType == Protobuf.LEN) {
        Node n = parseNode(nodes.size(), f);
        nodes.add(n);
      } else if (f.number == GRAPH_INITIALIZER && f.wireType == Protobuf.LEN) {
        String name = null;
        for (Protobuf.Field t : Protobuf.parse(model, f.offset, f.length)) {
          if (t.number == TENSOR_NAME) {
            name = t.string(model);
          }
        }
        if (name != null) {
          initializers.put(name, tensor(f));
        }
        for (Protobuf.Field t : Protobuf.parse(model, f.offset, f.length)) {
          if (t.number == TENSOR_DATA_LOCATION && t.varint == TENSOR_LOCATION_EXTERNAL) {
            hasExternalData = true;
          }
        }
      } else if ((f.number == GRAPH_OUTPUT || f.number == GRAPH_INPUT) && f.wireType == Protobuf.LEN) {
        for (Protobuf.Field v : Protobuf.parse(model, f.offset, f.length)) {
          if (v.number == 1 && v.wireType == Protobuf.LEN) {
            (f.number == GRAPH_OUTPUT ? graphOutputs : graphInputs).add(v.string(model));
          }
        }
      }
    }
    for (Node n : nodes) {
      for (String o : n.outputs) {
        producer.put(o, n.index);
      }
      for (String i : n.inputs) {
        consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n.index);
      }
    }
  }

  private Node parseNode(int index, Protobuf.Field f) {
    Node n = new Node(index, f);
    for (Protobuf.Field p : Protobuf.parse(buf, f.offset, f.length)) {
      switch (p.number) {
        case NODE_INPUT:
          n.inputs.add(p.string(buf));
          break;
        case NODE_OUTPUT:
          n.outputs.add(p.string(buf));
          break;
        case NODE_OP_TYPE:
          n.opType = p.string(buf);
          break;
        case NODE_DOMAIN:
          n.domain = p.string(buf);
          break;
        case NODE_ATTRIBUTE:
          n.attributes.add(p);
          for (Protobuf.Field af : Protobuf.parse(buf, p.offset, p.length)) {
            if (af.number == ATTR_G || af.number == ATTR_GRAPHS) {
              hasSubgraphs = true;
            }
          }
          break;
        default:
          break;
      }
    }
    if (n.domain.equals("ai.onnx")) {
      n.domain = "";
    }
    return n;
  }

  /** Reads a TensorProto's shape and type, and its values when it is a float tensor of <= 16. */
  Tensor tensor(Protobuf.Field f) {
    List<Long> dims = new ArrayList<>();
    int type = 0;
    Protobuf.Field raw = null;
    List<Protobuf.Field> floats = new ArrayList<>();
    for (Protobuf.Field t : Protobuf.parse(buf, f.offset, f.length)) {
      if (t.number == TENSOR_DIMS) {
        if (t.wireType == Protobuf.VARINT) {
          dims.add(t.varint);
        } else if (t.wireType == Protobuf.LEN) {
          byte[] packed = packedAsVarints(t);
          for (Protobuf.Field d : Protobuf.parse(packed, 0, packed.length)) {
            dims.add(d.varint);
          }
        }
      } else if (t.number == TENSOR_DATA_TYPE) {
        type = (int) t.varint;
      } else if (t.number == TENSOR_RAW_DATA) {
        raw = t;
      } else if (t.number == TENSOR_FLOAT_DATA) {
        floats.add(t);
      }
    }
    long[] d = dims.stream().mapToLong(Long::longValue).toArray();
    float[] values = null;
    long n = 1;
    for (long x : d) {
      n *= x;
    }
    if (type == TENSOR_FLOAT && n <= 16) {
      if (raw != null && raw.length == 4 * n) {
        values = new float[(int) n];
        for (int i = 0; i < n; i++) {
          values[i] = new Protobuf.Field(0, Protobuf.FIXED32, 0, raw.offset + 4 * i, 4, 0, 0).fixed32Float(buf);
        }
      } else if (!floats.isEmpty()) {
        List<Float> v = new ArrayList<>();
        for (Protobuf.Field fl : floats) {
          if (fl.wireType == Protobuf.FIXED32) {
            v.add(fl.fixed32Float(buf));
          } else {
            for (int o = fl.offset; o + 4 <= fl.offset + fl.length; o += 4) {
              v.add(new Protobuf.Field(0, Protobuf.FIXED32, 0, o, 4, 0, 0).fixed32Float(buf));
            }
          }
        }
        if (v.size() == n) {
          values = new float[(int) n];
          for (int i = 0; i < n; i++) {
            values[i] = v.get(i);
          }
        }
      }
    }
    return new Tensor(d, type, values);
  }

  /** Re-encodes a packed varint payload as a sequence of field-1 varints, for {@link Protobuf#parse}. */
  private byte[] packedAsVarints(Protobuf.Field packed) {
    Protobuf.Writer w = new Protobuf.Writer();
    int pos = packed.offset;
    int end = packed.offset + packed.length;
    while (pos < end) {
      long v = 0;
      int shift = 0;
      byte b;
      do {
        b = buf[pos++];
        v |= (long) (b & 0x7F) << shift;
        shift += 7;
      } while (b < 0 && pos < end);
      w.varint(1, v);
    }
    return w.toByteArray();
  }

  /** The value feeding {@code name}: an initializer, or a Constant node's {@code value}. */
  Tensor constant(String name) {
    Tensor t = initializers.get(name);
    if (t != null) {
      return t;
    }
    Integer p = producer.get(name);
    if (p == null || !nodes.get(p).is("Constant")) {
      return null;
    }
    for (Protobuf.Field a : nodes.get(p).attributes) {
      String attrName = null;
      Protobuf.Field value = null;
      for (Protobuf.Field af : Protobuf.parse(buf, a.offset, a.length)) {
        if (af.number == ATTR_NAME) {
          attrName = af.string(buf);
        } else if (af.number == ATTR_T) {
          value = af;
        }
      }
      if ("value".equals(attrName) && value != null) {
        return tensor(value);
      }
    }
    return null;
  }

  /** The single node consuming {@code name}, or null if none, several, or it is a graph output. */
  Node soleConsumer(String name) {
    List<Integer> c = consumers.get(name);
    if (c == null || c.size() != 1 || graphOutputs.contains(name)) {
      return null;
    }
    return nodes.get(c.get(0));
  }

  Node producerOf(String name) {
    Integer p = producer.get(name);
    return p == null ? null : nodes.get(p);
  }
}
