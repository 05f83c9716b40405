package dev.gecko.core.internal.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A read and edit view of a serialised ONNX model for the project's other modules (the encoder
 * fine-tuner reads a graph's weights, writes trained ones back and derives an int8 graph): its
 * nodes with their attributes, its initializers with their data, and an {@link Editor} that
 * writes a model with some initializers and nodes replaced while every other byte is copied.
 * Internal: not API.
 *
 * <p>Immutable after parsing and safe to share between threads; it keeps the model's bytes (the
 * caller must not change the array).
 */
public final class OnnxModel {
  /** ONNX TensorProto data types used here. */
  public static final int FLOAT = 1;
  public static final int UINT8 = 2;
  public static final int INT8 = 3;
  public static final int INT64 = 7;

  private final Graph graph;
  private final List<Node> nodes;
  private final Map<String, Initializer> initializers;
  private final Map<String, Protobuf.Field> initializerFields = new LinkedHashMap<>();
  private final List<Protobuf.Field> nodeFields = new ArrayList<>();

  private OnnxModel(Graph graph) {
    this.graph = graph;
    List<Node> n = new ArrayList<>();
    for (Graph.Node gn : graph.nodes) {
      n.add(new Node(gn));
    }
    this.nodes = Collections.unmodifiableList(n);
    Map<String, Initializer> inits = new LinkedHashMap<>();
    for (Protobuf.Field f : graph.graphFields) {
      if (f.number == Graph.GRAPH_NODE && f.wireType == Protobuf.LEN) {
        nodeFields.add(f);
      }
      if (f.number == Graph.GRAPH_INITIALIZER && f.wireType == Protobuf.LEN) {
        Initializer i = new Initializer(f);
        if (i.name != null) {
          inits.put(i.name, i);
          initializerFields.put(i.name, f);
        }
      }
    }
    this.initializers = Collections.unmodifiableMap(inits);
  }

  /**
   * Parses a model.
   *
   * @throws UnsupportedGraphException if it is a well-formed model that keeps weights in external
   *     files or has subgraphs (not read here)
   * @throws IllegalArgumentException if the bytes are not a well-formed ONNX model
   */
  public static OnnxModel parse(byte[] model) {
    Objects.requireNonNull(model, "model is null");
    Graph g;
    try {
      g = new Graph(model);
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("malformed ONNX graph: " + e, e);
    }
    if (g.hasExternalData) {
      throw new UnsupportedGraphException("the graph keeps weights in external data files (not supported)");
    }
    if (g.hasSubgraphs) {
      throw new UnsupportedGraphException("the graph has subgraphs (If/Loop/Scan; not supported)");
    }
    return new OnnxModel(g);
  }

  /**
   * A well-formed model that holds what {@link #parse} does not read (weights in external data
   * files, subgraphs), as against bytes that are not a model at all.
   */
  public static final class UnsupportedGraphException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    UnsupportedGraphException(String message) {
      super(message);
    }
  }

  /** Returns the nodes in graph order. */
  public List<Node> nodes() {
    return nodes;
  }

  /** Returns the initializers by name, in file order. */
  public Map<String, Initializer> initializers() {
    return initializers;
  }

  /** Returns the names of the graph's inputs (initializers listed as inputs included). */
  public Set<String> graphInputs() {
    return Collections.unmodifiableSet(graph.graphInputs);
  }

  /** Returns the names of the graph's outputs. */
  public Set<String> graphOutputs() {
    return Collections.unmodifiableSet(graph.graphOutputs);
  }

  /** Returns the node producing {@code value}, or null (a graph input or an initializer). */
  public Node producer(String value) {
    Integer p = graph.producer.get(value);
    return p == null ? null : nodes.get(p);
  }

  /** Returns the nodes reading {@code value}, in graph order. */
  public List<Node> consumers(String value) {
    List<Integer> c = graph.consumers.get(value);
    if (c == null) {
      return List.of();
    }
    List<Node> out = new ArrayList<>(c.size());
    for (int i : c) {
      out.add(nodes.get(i));
    }
    return out;
  }

  /** Returns the value a Constant node (or an initializer) holds under {@code name}, or null. */
  public Initializer constant(String name) {
    Initializer i = initializers.get(name);
    if (i != null) {
      return i;
    }
    Integer p = graph.producer.get(name);
    if (p == null || !graph.nodes.get(p).is("Constant")) {
      return null;
    }
    for (Protobuf.Field a : graph.nodes.get(p).attributes) {
      String attrName = null;
      Protobuf.Field value = null;
      for (Protobuf.Field af : Protobuf.parse(graph.buf, a.offset, a.length)) {
        if (af.number == Graph.ATTR_NAME) {
          attrName = af.string(graph.buf);
        } else if (af.number == Graph.ATTR_T) {
          value = af;
        }
      }
      if ("value".equals(attrName) && value != null) {
        return new Initializer(value);
      }
    }
    return null;
  }

  /** Returns an editor of this model. */
  public Editor edit() {
    return new Editor();
  }

  /** One node: op type, domain ("" for the default ONNX domain), inputs, outputs, attributes. Immutable. */
  public final class Node {
    private final Graph.Node node;
    private volatile String name;

    private Node(Graph.Node node) {
      this.node = node;
    }

    /** Returns the node's position in the graph. */
    public int index() {
      return node.index;
    }

    public String opType() {
      return node.opType;
    }

    public String domain() {
      return node.domain;
    }

    /** Returns the node's name ("" when it has none). */
    public String name() {
      String n = name;
      if (n == null) {
        n = "";
        for (Protobuf.Field f : Protobuf.parse(graph.buf, fieldOffset(), fieldLength())) {
          if (f.number == Graph.NODE_NAME && f.wireType == Protobuf.LEN) {
            n = f.string(graph.buf);
          }
        }
        name = n;
      }
      return n;
    }

    private int fieldOffset() {
      return nodeFields.get(node.index).offset;
    }

    private int fieldLength() {
      return nodeFields.get(node.index).length;
    }

    /** Returns whether this is {@code op} of the default domain. */
    public boolean is(String op) {
      return node.is(op);
    }

    public List<String> inputs() {
      return Collections.unmodifiableList(node.inputs);
    }

    public List<String> outputs() {
      return Collections.unmodifiableList(node.outputs);
    }

    /** Returns a float attribute, or {@code fallback} when absent. */
    public float floatAttribute(String name, float fallback) {
      Protobuf.Field f = attribute(name, Graph.ATTR_F);
      return f == null ? fallback : f.fixed32Float(graph.buf);
    }

    /** Returns an integer attribute, or {@code fallback} when absent. */
    public long intAttribute(String name, long fallback) {
      Protobuf.Field f = attribute(name, Graph.ATTR_I);
      return f == null ? fallback : f.varint;
    }

    /** Returns an integer-list attribute, or null when absent. */
    public long[] intsAttribute(String name) {
      List<Long> values = new ArrayList<>();
      boolean found = false;
      for (Protobuf.Field a : node.attributes) {
        List<Protobuf.Field> fields = Protobuf.parse(graph.buf, a.offset, a.length);
        if (!name.equals(attrName(fields))) {
          continue;
        }
        found = true;
        for (Protobuf.Field af : fields) {
          if (af.number == Graph.ATTR_INTS) {
            if (af.wireType == Protobuf.VARINT) {
              values.add(af.varint);
            } else {
              values.addAll(Protobuf.packedVarints(graph.buf, af));
            }
          }
        }
      }
      return found ? values.stream().mapToLong(Long::longValue).toArray() : null;
    }

    private Protobuf.Field attribute(String name, int field) {
      for (Protobuf.Field a : node.attributes) {
        List<Protobuf.Field> fields = Protobuf.parse(graph.buf, a.offset, a.length);
        if (name.equals(attrName(fields))) {
          for (Protobuf.Field af : fields) {
            if (af.number == field) {
              return af;
            }
          }
        }
      }
      return null;
    }

    private String attrName(List<Protobuf.Field> fields) {
      for (Protobuf.Field af : fields) {
        if (af.number == Graph.ATTR_NAME) {
          return af.string(graph.buf);
        }
      }
      return null;
    }

    @Override
    public String toString() {
      return (node.domain.isEmpty() ? "" : node.domain + ".") + node.opType + node.inputs + "->" + node.outputs;
    }
  }

  /** An initializer (or Constant) tensor: name, shape, element type and data. Immutable. */
  public final class Initializer {
    private final String name;
    private final long[] dims;
    private final int dataType;
    private final Protobuf.Field raw;
    private final List<Protobuf.Field> typed = new ArrayList<>();
    private final int typedField;

    private Initializer(Protobuf.Field f) {
      String n = null;
      List<Long> d = new ArrayList<>();
      int type = 0;
      Protobuf.Field r = null;
      List<Protobuf.Field> floats = new ArrayList<>();
      List<Protobuf.Field> int32s = new ArrayList<>();
      List<Protobuf.Field> int64s = new ArrayList<>();
      for (Protobuf.Field t : Protobuf.parse(graph.buf, f.offset, f.length)) {
        if (t.number == Graph.TENSOR_DIMS) {
          if (t.wireType == Protobuf.VARINT) {
            d.add(t.varint);
          } else {
            d.addAll(Protobuf.packedVarints(graph.buf, t));
          }
        } else if (t.number == Graph.TENSOR_DATA_TYPE) {
          type = (int) t.varint;
        } else if (t.number == Graph.TENSOR_NAME && t.wireType == Protobuf.LEN) {
          n = t.string(graph.buf);
        } else if (t.number == Graph.TENSOR_RAW_DATA) {
          r = t;
        } else if (t.number == Graph.TENSOR_FLOAT_DATA) {
          floats.add(t);
        } else if (t.number == 5) { // int32_data: also int8/uint8
          int32s.add(t);
        } else if (t.number == 7) { // int64_data
          int64s.add(t);
        }
      }
      this.name = n;
      this.dims = d.stream().mapToLong(Long::longValue).toArray();
      this.dataType = type;
      this.raw = r;
      if (!floats.isEmpty()) {
        typed.addAll(floats);
        typedField = Graph.TENSOR_FLOAT_DATA;
      } else if (!int64s.isEmpty()) {
        typed.addAll(int64s);
        typedField = 7;
      } else {
        typed.addAll(int32s);
        typedField = 5;
      }
    }

    /** Returns the name (null for a Constant's value). */
    public String name() {
      return name;
    }

    /** Returns the shape (empty for a scalar). */
    public long[] dims() {
      return dims.clone();
    }

    /** Returns the element type ({@link #FLOAT}, {@link #INT64}...). */
    public int dataType() {
      return dataType;
    }

    /** Returns the number of elements. */
    public long size() {
      long s = 1;
      for (long x : dims) {
        s *= x;
      }
      return s;
    }

    /** Returns whether the data is stored as {@code raw_data} (then {@link Editor#replace} can overwrite it). */
    public boolean isRaw() {
      return raw != null;
    }

    /**
     * Returns the data of a float tensor.
     *
     * @throws IllegalStateException if it is not a float tensor or its data does not match its shape
     */
    public float[] floats() {
      if (dataType != FLOAT) {
        throw new IllegalStateException(name + ": not a float tensor (type " + dataType + ")");
      }
      int n = Math.toIntExact(size());
      float[] out = new float[n];
      if (raw != null) {
        check(raw.length == 4L * n);
        ByteBuffer.wrap(graph.buf, raw.offset, raw.length).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
      }
      int k = 0;
      for (Protobuf.Field f : typed) {
        if (f.wireType == Protobuf.FIXED32) {
          check(k < n);
          out[k++] = f.fixed32Float(graph.buf);
        } else {
          for (int o = f.offset; o + 4 <= f.offset + f.length; o += 4) {
            check(k < n);
            out[k++] = Protobuf.float32(graph.buf, o);
          }
        }
      }
      check(k == n);
      return out;
    }

    /**
     * Returns the data of an integer tensor (int64, int32, int8 or uint8) widened to long.
     *
     * @throws IllegalStateException if it is not an integer tensor or its data does not match its shape
     */
    public long[] longs() {
      int n = Math.toIntExact(size());
      long[] out = new long[n];
      if (raw != null) {
        ByteBuffer b = ByteBuffer.wrap(graph.buf, raw.offset, raw.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
          switch (dataType) {
            case INT64:
              out[i] = b.getLong();
              break;
            case 6: // int32
              out[i] = b.getInt();
              break;
            case INT8:
              out[i] = b.get();
              break;
            case UINT8:
              out[i] = b.get() & 0xFF;
              break;
            default:
              throw new IllegalStateException(name + ": not an integer tensor (type " + dataType + ")");
          }
        }
        return out;
      }
      List<Long> values = new ArrayList<>();
      for (Protobuf.Field f : typed) {
        if (f.wireType == Protobuf.VARINT) {
          values.add(f.varint);
        } else if (f.wireType == Protobuf.LEN) {
          values.addAll(Protobuf.packedVarints(graph.buf, f));
        }
      }
      check(values.size() == n);
      for (int i = 0; i < n; i++) {
        long v = values.get(i);
        out[i] = dataType == INT8 ? (byte) v : v;
      }
      return out;
    }

    /** Returns the raw data bytes (a copy), or null where the data is not stored as raw_data. */
    public byte[] rawBytes() {
      return raw == null ? null : java.util.Arrays.copyOfRange(graph.buf, raw.offset, raw.offset + raw.length);
    }

    private void check(boolean ok) {
      if (!ok) {
        throw new IllegalStateException(name + ": data does not match the shape " + java.util.Arrays.toString(dims));
      }
    }

    @Override
    public String toString() {
      return name + java.util.Arrays.toString(dims) + " type " + dataType;
    }
  }

  /** A node to write: op type, domain, inputs, outputs and attributes. */
  public static final class NewNode {
    private final List<byte[]> attributes = new ArrayList<>();
    private final String opType;
    private final String domain;
    private final String name;
    private final List<String> inputs;
    private final List<String> outputs;

    /** A node of the default domain ({@code domain} "") or another. */
    public NewNode(String name, String opType, String domain, List<String> inputs, List<String> outputs) {
      this.name = name;
      this.opType = opType;
      this.domain = domain;
      this.inputs = List.copyOf(inputs);
      this.outputs = List.copyOf(outputs);
    }

    /** Adds an integer attribute. */
    public NewNode attribute(String attr, long value) {
      attributes.add(new Protobuf.Writer().string(Graph.ATTR_NAME, attr).varint(Graph.ATTR_I, value)
          .varint(Graph.ATTR_TYPE, 2).toByteArray());
      return this;
    }

    /** Adds a float attribute. */
    public NewNode attribute(String attr, float value) {
      attributes.add(new Protobuf.Writer().string(Graph.ATTR_NAME, attr).fixed32Float(Graph.ATTR_F, value)
          .varint(Graph.ATTR_TYPE, Graph.ATTR_TYPE_FLOAT).toByteArray());
      return this;
    }

    byte[] bytes() {
      Protobuf.Writer w = new Protobuf.Writer();
      for (String i : inputs) {
        w.string(Graph.NODE_INPUT, i);
      }
      for (String o : outputs) {
        w.string(Graph.NODE_OUTPUT, o);
      }
      if (name != null) {
        w.string(Graph.NODE_NAME, name);
      }
      w.string(Graph.NODE_OP_TYPE, opType);
      for (byte[] a : attributes) {
        w.bytes(Graph.NODE_ATTRIBUTE, a);
      }
      if (!domain.isEmpty()) {
        w.string(Graph.NODE_DOMAIN, domain);
      }
      return w.toByteArray();
    }
  }

  /**
   * Edits of one model, written together by {@link #write()}: initializer data replaced (same
   * shape and type), initializers removed or added, nodes replaced by zero or more nodes, opset
   * imports added. Every field not edited is copied byte for byte; value_info entries of values
   * no node produces any more are dropped. Not thread-safe.
   */
  public final class Editor {
    private final Map<String, byte[]> replacedData = new HashMap<>();
    private final Set<String> removedInitializers = new HashSet<>();
    private final List<byte[]> addedInitializers = new ArrayList<>();
    private final Map<Integer, List<NewNode>> replacedNodes = new HashMap<>();
    private final Map<String, Long> opsets = new LinkedHashMap<>();

    private Editor() {}

    /**
     * Replaces a float initializer's data.
     *
     * @throws IllegalArgumentException if there is no such float initializer, its data is not
     *     raw, or the length differs
     */
    public Editor replace(String name, float[] data) {
      Initializer i = initializers.get(name);
      if (i == null || i.dataType != FLOAT) {
        throw new IllegalArgumentException("no float initializer '" + name + "'");
      }
      if (data.length != i.size()) {
        throw new IllegalArgumentException(name + ": " + data.length + " values for shape " + java.util.Arrays.toString(i.dims));
      }
      ByteBuffer b = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
      b.asFloatBuffer().put(data);
      replacedData.put(name, b.array());
      return this;
    }

    /** Removes an initializer. */
    public Editor remove(String name) {
      if (!initializers.containsKey(name)) {
        throw new IllegalArgumentException("no initializer '" + name + "'");
      }
      removedInitializers.add(name);
      return this;
    }

    /** Adds an initializer with raw little-endian data. */
    public Editor add(String name, int dataType, long[] dims, byte[] raw) {
      Protobuf.Writer w = new Protobuf.Writer(raw.length + 64);
      for (long d : dims) {
        w.varint(Graph.TENSOR_DIMS, d);
      }
      w.varint(Graph.TENSOR_DATA_TYPE, dataType).string(Graph.TENSOR_NAME, name).bytes(Graph.TENSOR_RAW_DATA, raw);
      addedInitializers.add(w.toByteArray());
      return this;
    }

    /** Replaces the node at {@code index} by {@code replacement} (empty: removes it). */
    public Editor replaceNode(int index, List<NewNode> replacement) {
      replacedNodes.put(index, List.copyOf(replacement));
      return this;
    }

    /** Adds an opset import unless the model already imports {@code domain}. */
    public Editor opset(String domain, long version) {
      opsets.put(domain, version);
      return this;
    }

    /** Writes the edited model. */
    public byte[] write() {
      byte[] buf = graph.buf;
      Set<String> produced = new HashSet<>();
      for (Graph.Node n : graph.nodes) {
        if (!replacedNodes.containsKey(n.index)) {
          produced.addAll(n.outputs);
        }
      }
      for (List<NewNode> l : replacedNodes.values()) {
        for (NewNode n : l) {
          produced.addAll(n.outputs);
        }
      }
      Protobuf.Writer g = new Protobuf.Writer(buf.length + 1024);
      int nodeIndex = 0;
      for (Protobuf.Field f : graph.graphFields) {
        if (f.number == Graph.GRAPH_NODE && f.wireType == Protobuf.LEN) {
          List<NewNode> r = replacedNodes.get(nodeIndex++);
          if (r == null) {
            g.raw(buf, f.start, f.end - f.start);
          } else {
            for (NewNode n : r) {
              g.bytes(Graph.GRAPH_NODE, n.bytes());
            }
          }
        } else if (f.number == Graph.GRAPH_INITIALIZER && f.wireType == Protobuf.LEN) {
          String name = initializerName(f);
          if (name != null && removedInitializers.contains(name)) {
            continue;
          }
          byte[] data = name == null ? null : replacedData.get(name);
          if (data == null) {
            g.raw(buf, f.start, f.end - f.start);
          } else {
            g.bytes(Graph.GRAPH_INITIALIZER, withRawData(f, data));
          }
        } else if (f.number == Graph.GRAPH_VALUE_INFO && f.wireType == Protobuf.LEN) {
          String name = Graph.valueName(buf, f);
          if (name == null || produced.contains(name)) {
            g.raw(buf, f.start, f.end - f.start);
          }
        } else if (f.number == GraphRewrite.FILLER_FIELD) {
          continue;
        } else {
          g.raw(buf, f.start, f.end - f.start);
        }
      }
      for (byte[] init : addedInitializers) {
        g.bytes(Graph.GRAPH_INITIALIZER, init);
      }
      Set<String> imported = new HashSet<>();
      for (Protobuf.Field f : graph.modelFields) {
        if (f.number == Graph.MODEL_OPSET_IMPORT && f.wireType == Protobuf.LEN) {
          String domain = "";
          for (Protobuf.Field of : Protobuf.parse(buf, f.offset, f.length)) {
            if (of.number == 1 && of.wireType == Protobuf.LEN) {
              domain = of.string(buf);
            }
          }
          imported.add(domain);
        }
      }
      Protobuf.Writer m = new Protobuf.Writer(buf.length + 2048);
      for (Protobuf.Field f : graph.modelFields) {
        if (f == graph.graphField) {
          m.bytes(Graph.MODEL_GRAPH, g.toByteArray());
        } else if (f.number != GraphRewrite.FILLER_FIELD) {
          m.raw(buf, f.start, f.end - f.start);
        }
      }
      opsets.forEach((domain, version) -> {
        if (!imported.contains(domain)) {
          m.message(Graph.MODEL_OPSET_IMPORT, new Protobuf.Writer().string(1, domain).varint(2, version));
        }
      });
      return m.toByteArray();
    }

    private String initializerName(Protobuf.Field f) {
      for (Protobuf.Field t : Protobuf.parse(buf(), f.offset, f.length)) {
        if (t.number == Graph.TENSOR_NAME && t.wireType == Protobuf.LEN) {
          return t.string(buf());
        }
      }
      return null;
    }

    private byte[] withRawData(Protobuf.Field f, byte[] data) {
      Protobuf.Writer w = new Protobuf.Writer(data.length + 64);
      boolean written = false;
      for (Protobuf.Field t : Protobuf.parse(buf(), f.offset, f.length)) {
        if (t.number == Graph.TENSOR_RAW_DATA || t.number == Graph.TENSOR_FLOAT_DATA) {
          if (!written) {
            w.bytes(Graph.TENSOR_RAW_DATA, data);
            written = true;
          }
        } else {
          w.raw(buf(), t.start, t.end - t.start);
        }
      }
      if (!written) {
        w.bytes(Graph.TENSOR_RAW_DATA, data);
      }
      return w.toByteArray();
    }

    private byte[] buf() {
      return graph.buf;
    }
  }
}
