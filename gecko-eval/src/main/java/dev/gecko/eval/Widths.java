package dev.gecko.eval;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/** Validation of the Matryoshka widths an evaluator reports. */
final class Widths {
  private Widths() {}

  static List<Integer> check(List<Integer> dims) {
    if (dims.isEmpty()) {
      throw new IllegalArgumentException("dims must not be empty");
    }
    for (Integer d : dims) {
      if (d == null || d < 1) {
        throw new IllegalArgumentException("every width must be >= 1, got " + dims);
      }
    }
    return List.copyOf(new LinkedHashSet<>(dims));
  }

  /** Returns {@code dims}, or the full width if empty, after checking each fits the model. */
  static List<Integer> resolve(List<Integer> dims, int full, String model) {
    List<Integer> out = dims.isEmpty() ? List.of(full) : new ArrayList<>(dims);
    for (int d : out) {
      if (d > full) {
        throw new IllegalArgumentException("width " + d + " exceeds " + model + "'s " + full + " dimensions");
      }
    }
    return List.copyOf(out);
  }
}
