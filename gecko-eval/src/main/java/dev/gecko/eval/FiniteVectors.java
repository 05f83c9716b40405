package dev.gecko.eval;

import java.util.List;

/** The evaluators' check for vectors a model gave with NaN or an infinity. Stateless and thread-safe. */
final class FiniteVectors {
  private FiniteVectors() {}

  /** The index of the first of {@code vectors} with a component that is NaN or infinite, or -1. */
  static int firstNotFinite(List<float[]> vectors) {
    for (int i = 0; i < vectors.size(); i++) {
      for (float x : vectors.get(i)) {
        if (!Float.isFinite(x)) {
          return i;
        }
      }
    }
    return -1;
  }
}
