package dev.gecko.core.internal.onnx;

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
  static final int TENSOR_INT64 = 7;
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
  static final int ATTR_TYPE_TENSOR = 4;

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
    final List<String> inputs = new ArrayList<>();
    final List<String> outputs = new ArrayList<>();
    final List<Protobuf.Field> attributes = new ArrayList<>();
    String opType = "";
    String domain = "";

    Node(int index) {
      this.index = index;
    }

    boolean is(String op) {
      return domain.isEmpty() && opType.equals(op);
    }
  }

  /**
   * An initializer or Constant value: name (null for a Constant's), shape, element type, whether
   * its data lives in another file, and, for float tensors of at most 16 elements, the values.
   */
  static final class Tensor {
    final String name;
    final long[] dims;
    final int dataType;
    final boolean external;
    final float[] smallFloats;

    Tensor(String name, long[] dims, int dataType, boolean external, float[] smallFloats) {
      this.name = name;
      this.dims = dims;
      this.dataType = dataType;
      this.external = external;
      this.smallFloats = smallFloats;
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
        Tensor t = tensor(f);
        if (t.name != null) {
          initializers.put(t.name, t);
        }
        hasExternalData |= t.external;
      } else if ((f.number == GRAPH_OUTPUT || f.number == GRAPH_INPUT) && f.wireType == Protobuf.LEN) {
        String name = valueName(model, f);
        if (name != null) {
          (f.number == GRAPH_OUTPUT ? graphOutputs : graphInputs).add(name);
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
    Node n = new Node(index);
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

  /** Reads a TensorProto (one pass over its fields): see {@link Tensor}. */
  Tensor tensor(Protobuf.Field f) {
    List<Long> dims = new ArrayList<>();
    int type = 0;
    String name = null;
    boolean external = false;
    Protobuf.Field raw = null;
    List<Protobuf.Field> floats = new ArrayList<>();
    for (Protobuf.Field t : Protobuf.parse(buf, f.offset, f.length)) {
      if (t.number == TENSOR_DIMS) {
        if (t.wireType == Protobuf.VARINT) {
          dims.add(t.varint);
        } else if (t.wireType == Protobuf.LEN) {
          dims.addAll(Protobuf.packedVarints(buf, t));
        }
      } else if (t.number == TENSOR_DATA_TYPE) {
        type = (int) t.varint;
      } else if (t.number == TENSOR_NAME && t.wireType == Protobuf.LEN) {
        name = t.string(buf);
      } else if (t.number == TENSOR_DATA_LOCATION) {
        external = t.varint == TENSOR_LOCATION_EXTERNAL;
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
          values[i] = Protobuf.float32(buf, raw.offset + 4 * i);
        }
      } else if (!floats.isEmpty()) {
        List<Float> v = new ArrayList<>();
        for (Protobuf.Field fl : floats) {
          if (fl.wireType == Protobuf.FIXED32) {
            v.add(fl.fixed32Float(buf));
          } else {
            for (int o = fl.offset; o + 4 <= fl.offset + fl.length; o += 4) {
              v.add(Protobuf.float32(buf, o));
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
    return new Tensor(name, d, type, external, values);
  }

  /** The {@code name} of a ValueInfoProto (graph input, output or value_info), or null. */
  static String valueName(byte[] buf, Protobuf.Field valueInfo) {
    for (Protobuf.Field f : Protobuf.parse(buf, valueInfo.offset, valueInfo.length)) {
      if (f.number == 1 && f.wireType == Protobuf.LEN) {
        return f.string(buf);
      }
    }
    return null;
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
