package dev.gecko.core.internal.onnx;

import java.util.ArrayList;
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
 * must be scalars. The embedding layer's normalisation is fused too: there {@code x = Add(t, p)}
 * where {@code t} is a table lookup at the token ids (a graph input), or the sum of one and
 * another lookup, and {@code p} a table lookup (the positions, which may broadcast over the
 * batch: it becomes the skip input, the one SkipLayerNormalization broadcasts), with no bias.
 * Graphs with external weight files or subgraphs (If, Loop) are not touched. The
 * arithmetic is the same; only the rounding differs (ONNX Runtime's kernel accumulates the mean
 * and variance in another order), so vectors agree to about 1e-6.
 *
 * <p>Thread-safe: stateless (but see {@link #apply}: it rewrites its argument).
 */
public final class SkipLayerNormFusion {
  private static final String MS_DOMAIN = GraphRewrite.MS_DOMAIN;

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
   * filled with one unknown field ({@value GraphRewrite#FILLER_FIELD}) that protobuf readers skip. Loading
   * a second copy of a 130 MB model would raise the process's peak memory by as much. If the
   * layout does not allow it (never seen), a new array is returned and the argument is
   * untouched. With no match the argument is returned untouched.
   *
   * @throws IllegalArgumentException if the bytes are not a well-formed ONNX model (the argument
   *     is then untouched)
   */
  public static Result apply(byte[] model) {
    ModelRewriter.Result r = ModelRewriter.rewrite(model, true, false);
    return new Result(r.model(), r.fusedBlocks());
  }

  /**
   * Plans the fusion into {@code rewrite} (whose graph has neither external data nor subgraphs)
   * and returns the number of blocks fused.
   */
  static int plan(GraphRewrite rewrite) {
    Graph g = rewrite.graph;
    int fused = 0;
    for (Graph.Node div : g.nodes) {
      if (!div.is("Div") || div.inputs.size() != 2) {
        continue;
      }
      Match m = match(g, div);
      if (m == null || overlaps(m.nodes, rewrite.removed)) {
        continue;
      }
      rewrite.removed.addAll(m.nodes);
      rewrite.replacements.put(m.last, m.node);
      for (int i : m.nodes) {
        if (i != m.last) {
          rewrite.deadValues.addAll(g.nodes.get(i).outputs);
        }
      }
      fused++;
    }
    rewrite.usesMsDomain |= fused > 0;
    return fused;
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
    String hidden;
    String bias;
    List<Integer> nodes;
    if (biasAdd != null) {
      // the residual must be a computed activation: a constant or initialiser would broadcast
      if (g.initializers.containsKey(residual) || g.constant(residual) != null
          || g.producerOf(residual) == null && !g.graphInputs.contains(residual)) {
        return null;
      }
      bias = vectorLength(g, biasAdd.inputs.get(0)) == width ? biasAdd.inputs.get(0) : biasAdd.inputs.get(1);
      hidden = other(biasAdd.inputs, bias);
      nodes = List.of(biasAdd.index, residualAdd.index);
    } else {
      // the embedding layer: x = Add(token lookups, position lookup), no bias. The position
      // lookup may be [1, S, W]; SkipLayerNormalization broadcasts its skip input, not its input.
      hidden = null;
      residual = null;
      bias = null;
      for (int side = 0; side < 2 && hidden == null; side++) {
        String in = residualAdd.inputs.get(side);
        String skip = residualAdd.inputs.get(1 - side);
        if (tokenLookups(g, in) && lookupIndices(g, skip) != null) {
          hidden = in;
          residual = skip;
        }
      }
      if (hidden == null) {
        return null;
      }
      nodes = List.of(residualAdd.index);
    }
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
        .string(Graph.NODE_INPUT, beta);
    if (bias != null) {
      node.string(Graph.NODE_INPUT, bias);
    }
    node.string(Graph.NODE_OUTPUT, betaAdd.outputs.get(0))
        .string(Graph.NODE_NAME, "gecko/SkipLayerNorm/" + betaAdd.outputs.get(0))
        .string(Graph.NODE_OP_TYPE, "SkipLayerNormalization")
        .message(Graph.NODE_ATTRIBUTE, new Protobuf.Writer()
            .string(Graph.ATTR_NAME, "epsilon")
            .fixed32Float(Graph.ATTR_F, epsilon)
            .varint(Graph.ATTR_TYPE, Graph.ATTR_TYPE_FLOAT))
        .string(Graph.NODE_DOMAIN, MS_DOMAIN);
    List<Integer> all = new ArrayList<>(nodes);
    all.addAll(List.of(mean.index, sub.index, pow.index, var.index, epsAdd.index, sqrt.index, div.index, mul.index,
        betaAdd.index));
    return new Match(all, betaAdd.index, node.toByteArray());
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

  /**
   * The indices of the table lookup producing {@code name}, or null if it is not one: a {@code
   * Gather} from a 2-D initialiser, or the {@code DequantizeLinear} of such a lookup in a
   * quantised table (as dynamic quantisation writes it).
   */
  private static String lookupIndices(Graph g, String name) {
    Graph.Node n = g.producerOf(name);
    if (n != null && n.is("DequantizeLinear") && !n.inputs.isEmpty() && n.outputs.size() == 1) {
      n = g.producerOf(n.inputs.get(0));
    }
    if (n == null || !n.is("Gather") || n.inputs.size() != 2 || n.outputs.size() != 1) {
      return null;
    }
    Graph.Tensor table = g.initializers.get(n.inputs.get(0));
    return table != null && table.dims.length == 2 ? n.inputs.get(1) : null;
  }

  /**
   * Whether {@code name} is a per-token lookup over the whole batch: a table lookup at indices
   * that are a graph input (the token ids), or the sum of such a lookup and another.
   */
  private static boolean tokenLookups(Graph g, String name) {
    if (g.graphInputs.contains(lookupIndices(g, name))) {
      return true;
    }
    Graph.Node add = g.producerOf(name);
    if (add == null || !add.is("Add") || add.inputs.size() != 2) {
      return false;
    }
    for (String in : add.inputs) {
      if (g.graphInputs.contains(lookupIndices(g, in))) {
        return true;
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
  static boolean lastAxis(Graph g, Graph.Node reduce) {
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
