package dev.gecko.bench;

import dev.gecko.core.vector.VectorOps;

/**
 * The vector implementation a benchmark fork runs. Gecko chooses its implementation once per JVM,
 * so each JMH fork (one per parameter combination) picks it before its first vector operation:
 * forks start with {@code --add-modules jdk.incubator.vector}, and {@link #SCALAR} sets the kill
 * switch {@code -Dgecko.vectorization=scalar} in that fork's own JVM first. The harness sets the
 * property, never the library.
 */
public enum Impl {
  /** Plain Java loops ({@code ScalarVectorSupport}). */
  SCALAR,
  /** jdk.incubator.vector kernels ({@code PanamaVectorSupport}). */
  PANAMA;

  /**
   * Makes this fork use this implementation and prints which provider really ran to stderr.
   *
   * @throws IllegalStateException if another one runs (for PANAMA: the fork lacks the module)
   */
  public void select() {
    if (this == SCALAR) {
      System.setProperty("gecko.vectorization", "scalar");
    }
    String ran = VectorOps.implementationName();
    System.err.println("gecko-bench: requested " + name() + ", provider that ran: " + ran + " ("
        + VectorOps.vectorBitSize() + "-bit vectors, Java " + Runtime.version() + ")");
    if (!ran.equalsIgnoreCase(name())) {
      throw new IllegalStateException("requested " + name() + " but the " + ran + " provider ran; was VectorOps used"
          + " before Impl.select(), or is --add-modules jdk.incubator.vector missing?");
    }
  }
}
