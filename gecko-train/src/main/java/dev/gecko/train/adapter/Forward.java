package dev.gecko.train.adapter;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * The adapter's forward pass over a set of texts, kept for the backward pass: local index {@code
 * i} holds the text with vector id {@code global[i]}, its input {@code xs[i]}, output {@code
 * ys[i]} and activations {@code hs[i]}. Not thread-safe.
 */
final class Forward {
  final int[] global;
  final double[][] xs;
  final double[][] ys;
  final double[][] hs;
  private final Map<Integer, Integer> local = new HashMap<>();
  private final int d;

  /**
   * Runs the model over the distinct ids in first-seen order (ids below zero, absent texts, are
   * skipped).
   */
  Forward(int[] ids, Model model, double[][] x) {
    LinkedHashSet<Integer> uniq = new LinkedHashSet<>();
    for (int id : ids) {
      if (id >= 0) {
        uniq.add(id);
      }
    }
    d = model.d;
    global = uniq.stream().mapToInt(Integer::intValue).toArray();
    xs = new double[global.length][];
    ys = new double[global.length][model.d];
    hs = new double[global.length][model.cacheSize()];
    for (int i = 0; i < global.length; i++) {
      local.put(global[i], i);
      xs[i] = x[global[i]];
      model.forward(xs[i], ys[i], hs[i]);
    }
  }

  /** Whether every output is finite: a validation of outputs that are not (diverged weights) scores NaN. */
  boolean finite() {
    for (double[] y : ys) {
      for (double v : y) {
        if (!Double.isFinite(v)) {
          return false;
        }
      }
    }
    return true;
  }

  /** The local index of vector id {@code g} ({@code -1} for an absent text, {@code g < 0}). */
  int of(int g) {
    return g < 0 ? -1 : local.get(g);
  }

  /** Zeroed gradients with respect to the outputs, one row per local index. */
  double[][] outputGradients() {
    return new double[global.length][d];
  }

  /** Adds the parameter gradient of the outputs' gradients {@code g} into {@code grad}, in local order. */
  void backward(Model model, double[][] g, double[] grad) {
    for (int i = 0; i < global.length; i++) {
      model.backward(xs[i], hs[i], g[i], grad);
    }
  }
}
