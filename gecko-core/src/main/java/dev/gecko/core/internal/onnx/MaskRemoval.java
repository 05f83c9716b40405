package dev.gecko.core.internal.onnx;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Plans the rewrite that drops the attention mask from a BERT-family encoder, for batches that
 * hold no padding (every row as long as the batch), where the mask adds zero to every score.
 *
 * <p>What is matched: each {@code Softmax} whose input an {@code Add} produces, one of whose two
 * operands reads the graph input {@code attention_mask} and no other graph input (initializers
 * and constants aside), while the other reads some other graph input. That {@code Add} is removed
 * and its readers read the scores instead; the mask's arithmetic that nothing else reads goes
 * too. Every {@code Softmax} must match, else nothing is planned. The match does not prove that
 * the removed operand is zero for an unpadded batch: the caller compares the graph's output
 * with the masked graph's before using it (SessionLoader does).
 */
final class MaskRemoval {
  static final String MASK_INPUT = "attention_mask";

  private MaskRemoval() {}

  /** Plans the rewrite into {@code rewrite}; returns the number of mask additions removed (0: none planned). */
  static int plan(GraphRewrite rewrite) {
    Graph g = rewrite.graph;
    if (!g.graphInputs.contains(MASK_INPUT)) {
      return 0;
    }
    List<Graph.Node> adds = new ArrayList<>();
    List<String> scores = new ArrayList<>();
    for (Graph.Node n : g.nodes) {
      if (!n.is("Softmax")) {
        continue;
      }
      Graph.Node add = n.inputs.size() == 1 ? g.producerOf(n.inputs.get(0)) : null;
      if (add == null || !add.is("Add") || add.inputs.size() != 2 || add.outputs.size() != 1) {
        return 0;
      }
      boolean first = fromMaskOnly(g, add.inputs.get(0));
      boolean second = fromMaskOnly(g, add.inputs.get(1));
      if (first == second) {
        return 0;
      }
      adds.add(add);
      scores.add(add.inputs.get(first ? 1 : 0));
    }
    for (int i = 0; i < adds.size(); i++) {
      Graph.Node add = adds.get(i);
      if (rewrite.removed.contains(add.index) || rewrite.replacements.containsKey(add.index)
          || g.graphOutputs.contains(add.outputs.get(0))) {
        return 0;
      }
    }
    Set<Integer> maskNodes = new HashSet<>();
    for (int i = 0; i < adds.size(); i++) {
      Graph.Node add = adds.get(i);
      rewrite.removed.add(add.index);
      rewrite.renames.put(add.outputs.get(0), scores.get(i));
      rewrite.deadValues.add(add.outputs.get(0));
      String mask = add.inputs.get(add.inputs.get(0).equals(scores.get(i)) ? 1 : 0);
      collectProducers(g, mask, maskNodes);
    }
    // the mask's own arithmetic, once nothing else reads it
    boolean changed = true;
    while (changed) {
      changed = false;
      for (int index : maskNodes) {
        Graph.Node n = g.nodes.get(index);
        if (rewrite.removed.contains(index) || rewrite.replacements.containsKey(index) || !unread(g, rewrite, n)) {
          continue;
        }
        rewrite.removed.add(index);
        rewrite.deadValues.addAll(n.outputs);
        changed = true;
      }
    }
    return adds.size();
  }

  private static void collectProducers(Graph g, String value, Set<Integer> into) {
    Deque<String> todo = new ArrayDeque<>();
    todo.add(value);
    while (!todo.isEmpty()) {
      Graph.Node p = g.producerOf(todo.pop());
      if (p != null && into.add(p.index)) {
        todo.addAll(p.inputs);
      }
    }
  }

  /** Whether every reader of every output of {@code n} is removed (and none is a graph output). */
  private static boolean unread(Graph g, GraphRewrite rewrite, Graph.Node n) {
    for (String o : n.outputs) {
      if (g.graphOutputs.contains(o)) {
        return false;
      }
      for (int reader : g.consumers.getOrDefault(o, List.of())) {
        if (!rewrite.removed.contains(reader)) {
          return false;
        }
      }
    }
    return true;
  }

  /** Whether {@code value} is computed from the attention mask and from no other graph input. */
  private static boolean fromMaskOnly(Graph g, String value) {
    Set<String> seen = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>();
    todo.add(value);
    boolean mask = false;
    while (!todo.isEmpty()) {
      String v = todo.pop();
      if (!seen.add(v)) {
        continue;
      }
      if (g.graphInputs.contains(v)) {
        if (!v.equals(MASK_INPUT)) {
          return false;
        }
        mask = true;
        continue;
      }
      Graph.Node p = g.producerOf(v);
      if (p != null) {
        todo.addAll(p.inputs);
      }
    }
    return mask;
  }
}
