package dev.gecko.core.internal.onnx;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Plans the rewrite that makes a BERT-family encoder compute its <b>last layer for the first
 * token only</b>, for models whose vectors are the first ([CLS]) token's hidden state.
 *
 * <p>Why: with [CLS] pooling only row 0 of the last layer's output is read, and in the last layer
 * every other row's query, attention, output projection and feed-forward block is work thrown
 * away. The keys and values still need every token. So the rewrite slices the layer's input to
 * its first token ({@code Slice} on axis 1) where it feeds the query projection and the residual
 * connection, and leaves the key and value projections on the whole input: the scores become
 * {@code [batch, heads, 1, tokens]} and everything after them {@code [batch, 1, width]}. On a
 * 12-layer model that removes about 90 % of a twelfth of the work. The graph's output becomes
 * {@code [batch, 1, width]}; its row equals the full graph's row 0 up to rounding (and, in
 * dynamically quantised graphs, to the activation scales, which are then taken over the first
 * tokens only instead of the whole batch).
 *
 * <p>What is matched: the last {@code Softmax} of the graph; the {@code MatMul} its scores come
 * from (through {@code Add}, {@code Div}, {@code Mul}); the one projection (a {@code MatMul} or
 * {@code MatMulInteger} with constant weights) its first operand comes from (through {@code
 * Transpose}, {@code Reshape}, {@code Add}, {@code Mul}, {@code Div}, {@code Cast}); the value
 * {@code x} that projection reads (or its {@code DynamicQuantizeLinear} input). Every node that
 * reads {@code x} other than the projections and the quantisation of {@code x} must be exactly one
 * (the residual connection). Everything computed from the sliced values must be ordinary
 * per-token arithmetic, attention, layer norms over the last axis, and reshapes whose shapes are
 * read from the sliced values themselves; the graph's only output must be among it. Otherwise
 * nothing is planned. The caller must check the rewritten graph's output shape on a small input
 * before relying on it (OnnxEmbedder does).
 */
final class ClsTokenPruning {
  private static final Set<String> TO_SCORES = Set.of("Add", "Div", "Mul");
  private static final Set<String> TO_QUERY = Set.of("Transpose", "Reshape", "Add", "Mul", "Div", "Cast");
  private static final Set<String> PROJECTIONS = Set.of("MatMul", "MatMulInteger");
  /** Operators allowed downstream of the slice (default domain unless noted). */
  private static final Set<String> PER_TOKEN = Set.of("MatMul", "MatMulInteger", "Cast", "Mul", "Add", "Sub",
      "Div", "Pow", "Sqrt", "Erf", "Tanh", "Reshape", "Transpose", "Softmax", "Shape", "Gather", "Unsqueeze",
      "Concat", "Constant", "DynamicQuantizeLinear", "ReduceMean", "Identity");
  private static final Set<String> SHAPE_ARITHMETIC = Set.of("Concat", "Unsqueeze", "Squeeze", "Gather", "Cast",
      "Slice", "Mul", "Div", "Add", "Sub");
  private static final String PREFIX = "gecko/ClsTokenPruning/";

  private ClsTokenPruning() {}

  /**
   * Plans the rewrite into {@code rewrite} (whose graph has neither external data nor subgraphs).
   * Returns whether it was planned; if not, {@code rewrite} is unchanged.
   */
  static boolean plan(GraphRewrite rewrite) {
    Graph g = rewrite.graph;
    if (g.graphOutputs.size() != 1) {
      return false;
    }
    String output = g.graphOutputs.iterator().next();
    Graph.Node softmax = null;
    for (Graph.Node n : g.nodes) {
      if (n.is("Softmax")) {
        softmax = n; // ONNX keeps nodes in topological order: the last one is the last layer's
      }
    }
    if (softmax == null || softmax.inputs.size() != 1 || !lastAxisSoftmax(g, softmax)) {
      return false;
    }
    Graph.Node scores = single(reach(g, softmax.inputs.get(0), TO_SCORES, Set.of("MatMul")));
    if (scores == null || scores.inputs.size() != 2) {
      return false;
    }
    Graph.Node query = single(reach(g, scores.inputs.get(0), TO_QUERY, PROJECTIONS));
    if (query == null || !projection(g, query)) {
      return false;
    }
    String queryInput = query.inputs.get(0);
    Graph.Node quantize = g.producerOf(queryInput);
    boolean quantized = quantize != null && quantize.is("DynamicQuantizeLinear")
        && quantize.outputs.get(0).equals(queryInput) && quantize.inputs.size() == 1;
    String x = quantized ? quantize.inputs.get(0) : queryInput;
    if (g.graphOutputs.contains(x) || g.graphInputs.contains(x) || g.initializers.containsKey(x)) {
      return false;
    }
    // Readers of x: projections (queries, keys, values), its quantisation, and one residual.
    List<Graph.Node> residuals = new ArrayList<>();
    Set<Integer> exempt = new HashSet<>();
    for (int i : g.consumers.getOrDefault(x, List.of())) {
      Graph.Node n = g.nodes.get(i);
      if (quantized ? n == quantize : projection(g, n) && n.inputs.get(0).equals(x)) {
        if (n != query) {
          exempt.add(i);
        }
      } else {
        residuals.add(n);
      }
    }
    if (residuals.size() != 1 || residuals.get(0).inputs.indexOf(x) != residuals.get(0).inputs.lastIndexOf(x)) {
      return false;
    }
    if (quantized) {
      for (int i : g.consumers.getOrDefault(queryInput, List.of())) {
        if (i != query.index) {
          Graph.Node n = g.nodes.get(i);
          if (!projection(g, n) || !n.inputs.get(0).equals(queryInput)) {
            return false;
          }
          exempt.add(i);
        }
      }
    }
    // Everything computed from the sliced values: per-token work whose reshapes follow it.
    Set<Integer> pruned = new HashSet<>();
    Deque<Graph.Node> todo = new ArrayDeque<>(List.of(query, residuals.get(0)));
    while (!todo.isEmpty()) {
      Graph.Node n = todo.pop();
      if (!pruned.add(n.index)) {
        continue;
      }
      if (!n.domain.isEmpty() || !PER_TOKEN.contains(n.opType) || exempt.contains(n.index)) {
        return false;
      }
      for (String out : n.outputs) {
        for (int c : g.consumers.getOrDefault(out, List.of())) {
          todo.push(g.nodes.get(c));
        }
      }
    }
    boolean producesOutput = false;
    for (int i : pruned) {
      Graph.Node n = g.nodes.get(i);
      producesOutput |= n.outputs.contains(output);
      if (n.is("ReduceMean") && !SkipLayerNormFusion.lastAxis(g, n)
          || n.is("Gather") && !isShapeOf(g, n.inputs.get(0))
          || n.is("Reshape") && (n.inputs.size() != 2 || !shapeFollows(g, n.inputs.get(1), pruned, new HashSet<>()))) {
        return false;
      }
    }
    if (!producesOutput) {
      return false;
    }
    String starts = PREFIX + "starts";
    String ends = PREFIX + "ends";
    String axes = PREFIX + "axes";
    String xFirst = PREFIX + x;
    String queryInputFirst = PREFIX + queryInput;
    for (String name : List.of(starts, ends, axes, xFirst, queryInputFirst)) {
      if (g.producer.containsKey(name) || g.initializers.containsKey(name) || g.graphInputs.contains(name)) {
        return false;
      }
    }
    int residualAt = residuals.get(0).index;
    int queryAt = query.index;
    int first = Math.min(residualAt, queryAt);
    List<byte[]> head = new ArrayList<>(List.of(constant(starts, 0), constant(ends, 1), constant(axes, 1)));
    if (quantized) {
      rewrite.insertedBefore.computeIfAbsent(first, k -> new ArrayList<>()).addAll(head);
      add(rewrite, residualAt, slice(x, xFirst, starts, ends, axes));
      add(rewrite, queryAt, slice(queryInput, queryInputFirst, starts, ends, axes));
      rewrite.renames.put(queryInput, queryInputFirst);
    } else {
      head.add(slice(x, xFirst, starts, ends, axes));
      rewrite.insertedBefore.computeIfAbsent(first, k -> new ArrayList<>()).addAll(head);
    }
    rewrite.renames.put(x, xFirst);
    rewrite.renameExempt.addAll(exempt);
    return true;
  }

  private static void add(GraphRewrite rewrite, int before, byte[] node) {
    rewrite.insertedBefore.computeIfAbsent(before, k -> new ArrayList<>()).add(node);
  }

  /** Nodes of the types {@code targets} reached from {@code value}'s producer through {@code through}. */
  private static List<Graph.Node> reach(Graph g, String value, Set<String> through, Set<String> targets) {
    List<Graph.Node> found = new ArrayList<>();
    Set<Integer> seen = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>(List.of(value));
    while (!todo.isEmpty()) {
      Graph.Node n = g.producerOf(todo.pop());
      if (n == null || !n.domain.isEmpty() || !seen.add(n.index)) {
        continue;
      }
      if (targets.contains(n.opType)) {
        found.add(n);
      } else if (through.contains(n.opType)) {
        todo.addAll(n.inputs);
      }
    }
    return found;
  }

  private static Graph.Node single(List<Graph.Node> nodes) {
    return nodes.size() == 1 ? nodes.get(0) : null;
  }

  /** A MatMul or MatMulInteger with constant weights (its second input an initialiser). */
  private static boolean projection(Graph g, Graph.Node n) {
    return n.domain.isEmpty() && PROJECTIONS.contains(n.opType) && n.inputs.size() >= 2
        && g.initializers.containsKey(n.inputs.get(1));
  }

  private static boolean isShapeOf(Graph g, String value) {
    Graph.Node n = g.producerOf(value);
    return n != null && n.is("Shape");
  }

  /**
   * Whether a reshape's target shape is computed only from constants and the {@code Shape} of
   * values the pruned nodes produce (then it follows the sliced sequence length), with at least
   * one such {@code Shape}.
   */
  private static boolean shapeFollows(Graph g, String value, Set<Integer> pruned, Set<String> seen) {
    if (!seen.add(value)) {
      return true;
    }
    if (g.initializers.containsKey(value)) {
      return false; // a fixed shape: it cannot follow the sliced length
    }
    Graph.Node n = g.producerOf(value);
    if (n == null) {
      return false;
    }
    if (n.is("Shape")) {
      Graph.Node of = n.inputs.size() == 1 ? g.producerOf(n.inputs.get(0)) : null;
      return of != null && pruned.contains(of.index);
    }
    if (n.is("Constant")) {
      return false;
    }
    if (!n.domain.isEmpty() || !SHAPE_ARITHMETIC.contains(n.opType)) {
      return false;
    }
    boolean followsOne = false;
    for (String in : n.inputs) {
      if (in.isEmpty()) {
        continue;
      }
      Graph.Node p = g.producerOf(in);
      boolean constant = g.initializers.containsKey(in) || p != null && p.is("Constant");
      if (!constant) {
        if (!shapeFollows(g, in, pruned, seen)) {
          return false;
        }
        followsOne = true;
      }
    }
    return followsOne;
  }

  private static boolean lastAxisSoftmax(Graph g, Graph.Node softmax) {
    for (Protobuf.Field a : softmax.attributes) {
      String name = null;
      Long i = null;
      for (Protobuf.Field f : Protobuf.parse(g.buf, a.offset, a.length)) {
        if (f.number == Graph.ATTR_NAME) {
          name = f.string(g.buf);
        } else if (f.number == Graph.ATTR_I) {
          i = f.varint;
        }
      }
      if ("axis".equals(name) && (i == null || i != -1L && i != 3L)) {
        return false;
      }
    }
    return true;
  }

  /** A Constant node holding a one-element int64 tensor. */
  private static byte[] constant(String name, long value) {
    byte[] raw = new byte[8];
    for (int i = 0; i < 8; i++) {
      raw[i] = (byte) (value >>> (8 * i));
    }
    Protobuf.Writer tensor = new Protobuf.Writer()
        .varint(Graph.TENSOR_DIMS, 1)
        .varint(Graph.TENSOR_DATA_TYPE, Graph.TENSOR_INT64)
        .bytes(Graph.TENSOR_RAW_DATA, raw);
    return new Protobuf.Writer()
        .string(Graph.NODE_OUTPUT, name)
        .string(Graph.NODE_NAME, name)
        .string(Graph.NODE_OP_TYPE, "Constant")
        .message(Graph.NODE_ATTRIBUTE, new Protobuf.Writer()
            .string(Graph.ATTR_NAME, "value")
            .message(Graph.ATTR_T, tensor)
            .varint(Graph.ATTR_TYPE, Graph.ATTR_TYPE_TENSOR))
        .toByteArray();
  }

  /** {@code out = Slice(in, starts, ends, axes)}: the first token of axis 1. */
  private static byte[] slice(String in, String out, String starts, String ends, String axes) {
    return new Protobuf.Writer()
        .string(Graph.NODE_INPUT, in)
        .string(Graph.NODE_INPUT, starts)
        .string(Graph.NODE_INPUT, ends)
        .string(Graph.NODE_INPUT, axes)
        .string(Graph.NODE_OUTPUT, out)
        .string(Graph.NODE_NAME, out)
        .string(Graph.NODE_OP_TYPE, "Slice")
        .toByteArray();
  }
}
