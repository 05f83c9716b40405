package dev.gecko.core.onnx;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites an ONNX transformer graph so that each residual block's {@code MatMul -> Add(bias) ->
 * Add(residual) -> LayerNorm} runs as one ONNX Runtime {@code com.microsoft.SkipLayerNormalization}
 * node.
 *
 * <p>Why: BERT-family exports (torch.onnx, opset below 17) spell layer normalisation as nine
 * elementwise nodes. ONNX Runtime's own optimiser fuses them into {@code LayerNormalization} but,
 * on these graphs, not the residual and bias additions in front of it, and its CPU
 * {@code LayerNormalization} kernel is slow: on a {@code [1, 1024, 384]} tensor with one thread it
 * takes 2.0 ms where {@code SkipLayerNormalization}, which also adds the residual and the bias,
 * takes 0.36 ms (docs/performance.md). Layer normalisation was 13 % of bge-small's fp32 time and
 * 21 % of its int8 time.
 *
 * <p>What is matched, exactly: {@code y = Add(Mul(Div(Sub(x, m), Sqrt(Add(ReduceMean(Pow(Sub(x,
 * m), 2)), eps))), gamma), beta)} with {@code m = ReduceMean(x)} over the last axis, {@code gamma}
 * and {@code beta} 1-D initialisers, and {@code x = Add(Add(bias, h), r)} where {@code bias} is a
 * 1-D initialiser of the same width and {@code h} a {@code MatMul} output, or the dequantised
 * output of a dynamically quantised one ({@code Mul(Cast(MatMulInteger(..)), scale)}), in either
 * operand order.
 * Every intermediate value must have no other consumer and must not be a graph output; the
 * residual must be a computed activation (not a constant that would broadcast); the reductions
 * must carry only {@code axes = [-1]} (and {@code keepdims = 1}); {@code eps} and the exponent 2
 * must be scalars. Graphs with external weight files or subgraphs (If, Loop) are not touched. The
 * embedding layer's normalisation (a sum of lookups, no bias) is left to ONNX Runtime. The
 * arithmetic is the same; only the rounding differs (ONNX Runtime's kernel accumulates the mean
 * and variance in another order), so vectors agree to about 1e-6.
 *
 * <p>Thread-safe: stateless (but see {@link #apply}: it rewrites its argument).
 */
public final class SkipLayerNormFusion {
  private static final String MS_DOMAIN = "com.microsoft";
  /** The ModelProto field number of the filler; ONNX defines no field with this number. */
  static final int FILLER_FIELD = 16_000;

  private SkipLayerNormFusion() {}

  /** The rewritten model and how many blocks were fused. */
  public static final class Result {
    private final byte[] model;
    private final int fused;

    Result(byte[] model, int fused) {
      this.model = model;
      this.fused = fused;
    }

    /**
     * Returns the model to load: the argument of {@link #apply} (rewritten in place, or untouched
     * when nothing was fused), or a new array when the rewrite could not be done in place.
     */
    public byte[] model() {
      return model;
    }

    /** Returns the number of residual blocks fused into {@code SkipLayerNormalization}. */
    public int fused() {
      return fused;
    }
  }

  /**
   * Applies the fusion to a serialised ONNX {@code ModelProto}, <b>in place</b>: the rewritten
   * model is shorter, so it is written over the argument, and the bytes left at the end are
   * filled with one unknown field ({@value #FILLER_FIELD}) that protobuf readers skip. Loading
   * a second copy of a 130 MB model would raise the process's peak memory by as much. If the
   * layout does not allow it (never seen), a new array is returned and the argument is
   * untouched. With no match the argument is returned untouched.
   *
   * @throws IllegalArgumentException if the bytes are not a well-formed ONNX model (the argument
   *     is then untouched)
   */
  public static Result apply(byte[] model) {
    try {
      return fuse(model);
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("malformed ONNX graph: " + e, e);
    }
  }

  private static Result fuse(byte[] model) {
    Graph g = new Graph(model);
    if (g.hasExternalData || g.hasSubgraphs) {
      return new Result(model, 0); // weights in other files, or values used inside subgraphs
    }
    Set<Integer> removed = new HashSet<>();
    Map<Integer, byte[]> replacements = new HashMap<>();
    Set<String> deadValues = new HashSet<>();
    for (Graph.Node div : g.nodes) {
      if (!div.is("Div") || div.inputs.size() != 2) {
        continue;
      }
      Match m = match(g, div);
      if (m == null || overlaps(m.nodes, removed)) {
        continue;
      }
      removed.addAll(m.nodes);
      replacements.put(m.last, m.node);
      for (int i : m.nodes) {
        if (i != m.last) {
          deadValues.addAll(g.nodes.get(i).outputs);
        }
      }
    }
    if (replacements.isEmpty()) {
      return new Result(model, 0);
    }
    // Constants that fed only removed nodes (the 2 of Pow, eps) go too.
    for (Graph.Node n : g.nodes) {
      if (n.is("Constant") && !removed.contains(n.index) && n.outputs.size() == 1) {
        List<Integer> users = g.consumers.get(n.outputs.get(0));
        if (users != null && !g.graphOutputs.contains(n.outputs.get(0)) && removed.containsAll(users)) {
          removed.add(n.index);
          deadValues.add(n.outputs.get(0));
        }
      }
    }
    return new Result(write(g, removed, replacements, deadValues), replacements.size());
  }

  private static boolean overlaps(List<Integer> nodes, Set<Integer> removed) {
    for (int n : nodes) {
      if (removed.contains(n)) {
        return true;
      }
    }
    return false;
  }

  private static final class Match {
    final List<Integer> nodes;
    final int last;
    final byte[] node;

    Match(List<Integer> nodes, int last, byte[] node) {
      this.nodes = nodes;
      this.last = last;
      this.node = node;
    }
  }

  private static Match match(Graph g, Graph.Node div) {
    Graph.Node sub = g.producerOf(div.inputs.get(0));
    Graph.Node sqrt = g.producerOf(div.inputs.get(1));
    if (sub == null || sqrt == null || !sub.is("Sub") || !sqrt.is("Sqrt") || sub.inputs.size() != 2) {
      return null;
    }
    String x = sub.inputs.get(0);
    Graph.Node mean = g.producerOf(sub.inputs.get(1));
    if (mean == null || !mean.is("ReduceMean") || !mean.inputs.equals(List.of(x)) || !lastAxis(g, mean)) {
      return null;
    }
    if (sqrt.inputs.size() != 1 || sub.outputs.size() != 1 || div.outputs.size() != 1) {
      return null;
    }
    Graph.Node epsAdd = g.producerOf(sqrt.inputs.get(0));
    if (epsAdd == null || !epsAdd.is("Add") || epsAdd.inputs.size() != 2) {
      return null;
    }
    Graph.Node var = g.producerOf(epsAdd.inputs.get(0));
    Graph.Tensor eps = g.constant(epsAdd.inputs.get(1));
    if (var == null || !var.is("ReduceMean") || !lastAxis(g, var) || !scalar(eps)) {
      return null;
    }
    Graph.Node pow = g.producerOf(var.inputs.get(0));
    if (pow == null || !pow.is("Pow") || pow.inputs.size() != 2 || !pow.inputs.get(0).equals(sub.outputs.get(0))) {
      return null;
    }
    Graph.Tensor two = g.constant(pow.inputs.get(1));
    if (!scalar(two) || two.smallFloats[0] != 2f) {
      return null;
    }
    Graph.Node mul = g.soleConsumer(div.outputs.get(0));
    if (mul == null || !mul.is("Mul") || mul.inputs.size() != 2 || mul.outputs.size() != 1) {
      return null;
    }
    String gamma = other(mul.inputs, div.outputs.get(0));
    Graph.Node betaAdd = g.soleConsumer(mul.outputs.get(0));
    if (gamma == null || betaAdd == null || !betaAdd.is("Add") || betaAdd.inputs.size() != 2
        || betaAdd.outputs.size() != 1) {
      return null;
    }
    String beta = other(betaAdd.inputs, mul.outputs.get(0));
    long width = vectorLength(g, gamma);
    if (beta == null || width <= 0 || vectorLength(g, beta) != width) {
      return null;
    }
    // x = Add(Add(bias, MatMul(..)), residual), in either operand order
    Graph.Node residualAdd = g.producerOf(x);
    if (residualAdd == null || !residualAdd.is("Add") || residualAdd.inputs.size() != 2) {
      return null;
    }
    Graph.Node biasAdd = null;
    String residual = null;
    for (int side = 0; side < 2 && biasAdd == null; side++) {
      Graph.Node candidate = g.producerOf(residualAdd.inputs.get(side));
      if (candidate != null && candidate.is("Add") && candidate.inputs.size() == 2 && candidate.outputs.size() == 1
          && g.soleConsumer(candidate.outputs.get(0)) == residualAdd) {
        for (int b = 0; b < 2; b++) {
          Graph.Node mm = g.producerOf(candidate.inputs.get(1 - b));
          if (vectorLength(g, candidate.inputs.get(b)) == width && projection(g, mm)) {
            biasAdd = candidate;
            residual = residualAdd.inputs.get(1 - side);
          }
        }
      }
    }
    // the residual must be a computed activation: a constant or initialiser would broadcast
    if (biasAdd == null || g.initializers.containsKey(residual) || g.constant(residual) != null
        || g.producerOf(residual) == null && !g.graphInputs.contains(residual)) {
      return null;
    }
    String bias = vectorLength(g, biasAdd.inputs.get(0)) == width ? biasAdd.inputs.get(0) : biasAdd.inputs.get(1);
    String hidden = other(biasAdd.inputs, bias);
    // x feeds exactly the two statistics nodes; every other intermediate exactly one node
    List<Integer> xUsers = g.consumers.get(x);
    if (g.graphOutputs.contains(x) || xUsers == null || xUsers.size() != 2 || !xUsers.contains(mean.index)
        || !xUsers.contains(sub.index)) {
      return null;
    }
    List<Integer> subUsers = g.consumers.get(sub.outputs.get(0));
    if (g.graphOutputs.contains(sub.outputs.get(0)) || subUsers == null || subUsers.size() != 2
        || !subUsers.contains(pow.index) || !subUsers.contains(div.index)) {
      return null;
    }
    for (Graph.Node single : List.of(mean, pow, var, epsAdd, sqrt)) {
      if (single.outputs.size() != 1 || g.soleConsumer(single.outputs.get(0)) == null) {
        return null;
      }
    }
    float epsilon = eps.smallFloats[0];
    Protobuf.Writer node = new Protobuf.Writer()
        .string(Graph.NODE_INPUT, hidden)
        .string(Graph.NODE_INPUT, residual)
        .string(Graph.NODE_INPUT, gamma)
        .string(Graph.NODE_INPUT, beta)
        .string(Graph.NODE_INPUT, bias)
        .string(Graph.NODE_OUTPUT, betaAdd.outputs.get(0))
        .string(Graph.NODE_NAME, "gecko/SkipLayerNorm/" + betaAdd.outputs.get(0))
        .string(Graph.NODE_OP_TYPE, "SkipLayerNormalization")
        .message(Graph.NODE_ATTRIBUTE, new Protobuf.Writer()
            .string(Graph.ATTR_NAME, "epsilon")
            .fixed32Float(Graph.ATTR_F, epsilon)
            .varint(Graph.ATTR_TYPE, Graph.ATTR_TYPE_FLOAT))
        .string(Graph.NODE_DOMAIN, MS_DOMAIN);
    List<Integer> nodes = List.of(biasAdd.index, residualAdd.index, mean.index, sub.index, pow.index, var.index,
        epsAdd.index, sqrt.index, div.index, mul.index, betaAdd.index);
    return new Match(nodes, betaAdd.index, node.toByteArray());
  }

  /**
   * Whether a node is a dense projection's output: a {@code MatMul}, or the dequantising {@code
   * Mul} after {@code Cast(MatMulInteger(..))} that dynamic quantisation writes.
   */
  private static boolean projection(Graph g, Graph.Node n) {
    if (n == null) {
      return false;
    }
    if (n.is("MatMul")) {
      return true;
    }
    if (!n.is("Mul")) {
      return false;
    }
    for (String in : n.inputs) {
      Graph.Node cast = g.producerOf(in);
      if (cast != null && cast.is("Cast") && cast.inputs.size() == 1) {
        Graph.Node mmi = g.producerOf(cast.inputs.get(0));
        if (mmi != null && mmi.is("MatMulInteger")) {
          return true;
        }
      }
    }
    return false;
  }

  /** A float scalar: rank 0, or rank 1 with one element (no broadcast to a higher rank). */
  private static boolean scalar(Graph.Tensor t) {
    return t != null && t.smallFloats != null && t.smallFloats.length == 1 && t.dims.length <= 1;
  }

  private static String other(List<String> pair, String one) {
    if (pair.get(0).equals(one)) {
      return pair.get(1);
    }
    return pair.get(1).equals(one) ? pair.get(0) : null;
  }

  /** The length of a 1-D float initialiser, or -1. */
  private static long vectorLength(Graph g, String name) {
    Graph.Tensor t = g.initializers.get(name);
    return t != null && t.dims.length == 1 && t.dataType == Graph.TENSOR_FLOAT ? t.dims[0] : -1;
  }

  /** Whether a ReduceMean reduces over the last axis only (attribute {@code axes = [-1]}). */
  private static boolean lastAxis(Graph g, Graph.Node reduce) {
    if (reduce.inputs.size() != 1) {
      return false;
    }
    boolean lastAxisOnly = false;
    for (Protobuf.Field a : reduce.attributes) {
      String name = null;
      List<Long> ints = new ArrayList<>();
      Long i = null;
      for (Protobuf.Field f : Protobuf.parse(g.buf, a.offset, a.length)) {
        if (f.number == Graph.ATTR_NAME) {
          name = f.string(g.buf);
        } else if (f.number == Graph.ATTR_INTS && f.wireType == Protobuf.VARINT) {
          ints.add(f.varint);
        } else if (f.number == Graph.ATTR_INTS && f.wireType == Protobuf.LEN) {
          return false; // packed axes: not written by the exporters this targets
        } else if (f.number == Graph.ATTR_I) {
          i = f.varint;
        }
      }
      if ("axes".equals(name)) {
        lastAxisOnly = ints.size() == 1 && ints.get(0) == -1L;
      } else if ("keepdims".equals(name) && (i == null || i != 1)) {
        return false;
      } else if (!"keepdims".equals(name)) {
        return false; // an attribute this match does not know (noop_with_empty_axes, ...)
      }
    }
    return lastAxisOnly;
  }

  /**
   * Writes the model with the graph's node list edited, over the input array when every piece
   * lands at or before the bytes it comes from (pieces are copied in order with memmove
   * semantics), else into a new array.
   */
  private static byte[] write(Graph g, Set<Integer> removed, Map<Integer, byte[]> replacements, Set<String> dead) {
    byte[] buf = g.buf;
    // pieces of the output, in order: Protobuf.Field (a raw range of buf) or byte[] (new bytes)
    List<Object> graphParts = new ArrayList<>();
    long graphLength = 0;
    int nodeIndex = 0;
    for (Protobuf.Field f : g.graphFields) {
      Object part = f;
      if (f.number == Graph.GRAPH_NODE && f.wireType == Protobuf.LEN) {
        int i = nodeIndex++;
        byte[] replacement = replacements.get(i);
        if (replacement != null) {
          part = new Protobuf.Writer().bytes(Graph.GRAPH_NODE, replacement).toByteArray();
        } else if (removed.contains(i)) {
          continue;
        }
      } else if (f.number == Graph.GRAPH_VALUE_INFO && f.wireType == Protobuf.LEN && dead.contains(Graph.valueName(buf, f))) {
        continue;
      }
      graphParts.add(part);
      graphLength += length(part);
    }
    boolean hasMsOpset = false;
    for (Protobuf.Field f : g.modelFields) {
      if (f.number == Graph.MODEL_OPSET_IMPORT && f.wireType == Protobuf.LEN) {
        for (Protobuf.Field o : Protobuf.parse(buf, f.offset, f.length)) {
          if (o.number == 1 && o.wireType == Protobuf.LEN && o.string(buf).equals(MS_DOMAIN)) {
            hasMsOpset = true;
          }
        }
      }
    }
    List<Object> parts = new ArrayList<>();
    for (Protobuf.Field f : g.modelFields) {
      if (f == g.graphField) {
        parts.add(Protobuf.Writer.header(Graph.MODEL_GRAPH, graphLength));
        parts.addAll(graphParts);
      } else {
        parts.add(f);
      }
    }
    if (!hasMsOpset) {
      parts.add(new Protobuf.Writer()
          .message(Graph.MODEL_OPSET_IMPORT, new Protobuf.Writer().string(1, MS_DOMAIN).varint(2, 1)).toByteArray());
    }
    long total = 0;
    for (Object part : parts) {
      total += length(part);
    }
    byte[] filler = total < buf.length ? filler(buf.length - (int) total) : new byte[0];
    if (filler != null && total + filler.length == buf.length && fitsInPlace(parts)) {
      parts.add(filler);
      copy(parts, buf, buf);
      return buf;
    }
    if (total > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("the rewritten model would exceed 2 GB");
    }
    byte[] out = new byte[(int) total];
    copy(parts, buf, out);
    return out;
  }

  private static long length(Object part) {
    return part instanceof byte[] ? ((byte[]) part).length : ((Protobuf.Field) part).end - ((Protobuf.Field) part).start;
  }

  /** Whether writing the pieces in order over their source never overwrites a byte not yet read. */
  private static boolean fitsInPlace(List<Object> parts) {
    long out = 0;
    for (int i = 0; i < parts.size(); i++) {
      Object part = parts.get(i);
      if (part instanceof Protobuf.Field) {
        if (out > ((Protobuf.Field) part).start) {
          return false;
        }
      } else {
        long nextUnread = Long.MAX_VALUE;
        for (int j = i + 1; j < parts.size(); j++) {
          if (parts.get(j) instanceof Protobuf.Field) {
            nextUnread = ((Protobuf.Field) parts.get(j)).start;
            break;
          }
        }
        if (out + length(part) > nextUnread) {
          return false;
        }
      }
      out += length(part);
    }
    return true;
  }

  private static void copy(List<Object> parts, byte[] from, byte[] to) {
    int pos = 0;
    for (Object part : parts) {
      if (part instanceof byte[]) {
        byte[] b = (byte[]) part;
        System.arraycopy(b, 0, to, pos, b.length);
        pos += b.length;
      } else {
        Protobuf.Field f = (Protobuf.Field) part;
        System.arraycopy(from, f.start, to, pos, f.end - f.start); // memmove when from == to
        pos += f.end - f.start;
      }
    }
  }

  /**
   * Fields of the unknown number {@link #FILLER_FIELD} that take exactly {@code size} bytes: one
   * LEN field of zeros, or, where no length prefix fits exactly (at varint boundaries), a 4-byte
   * VARINT field first. Null for sizes below 4.
   */
  static byte[] filler(int size) {
    byte[] one = singleFiller(size);
    if (one != null) {
      return one;
    }
    byte[] rest = size >= 8 ? singleFiller(size - 4) : null;
    if (size == 4 || rest != null) {
      Protobuf.Writer w = new Protobuf.Writer(size).varint(FILLER_FIELD, 0);
      byte[] head = w.toByteArray();
      byte[] out = new byte[size];
      System.arraycopy(head, 0, out, 0, head.length);
      if (rest != null) {
        System.arraycopy(rest, 0, out, head.length, rest.length);
      }
      return head.length + (rest == null ? 0 : rest.length) == size ? out : null;
    }
    return null;
  }

  private static byte[] singleFiller(int size) {
    int tag = Protobuf.Writer.header(FILLER_FIELD, 0).length - 1;
    for (int lenBytes = 1; lenBytes <= 5; lenBytes++) {
      long payload = (long) size - tag - lenBytes;
      if (payload >= 0 && Protobuf.Writer.header(FILLER_FIELD, payload).length == tag + lenBytes) {
        byte[] header = Protobuf.Writer.header(FILLER_FIELD, payload);
        byte[] out = new byte[size];
        System.arraycopy(header, 0, out, 0, header.length);
        return out;
      }
    }
    return null;
  }

  /** Counts the graph's nodes by (domain-qualified) operator type; for tests and diagnostics. */
  static Map<String, Integer> operatorCounts(byte[] model) {
    Graph g = new Graph(model);
    Map<String, Integer> ops = new java.util.TreeMap<>();
    for (Graph.Node n : g.nodes) {
      ops.merge((n.domain.isEmpty() ? "" : n.domain + ".") + n.opType, 1, Integer::sum);
    }
    return ops;
  }
}
