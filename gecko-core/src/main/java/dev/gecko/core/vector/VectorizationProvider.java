package dev.gecko.core.vector;

/** Picks the {@link VectorSupport} implementation once per JVM. */
final class VectorizationProvider {
  private VectorizationProvider() {}

  static VectorSupport support() {
    return Holder.SUPPORT;
  }

  static String name() {
    return Holder.SUPPORT == ScalarVectorSupport.INSTANCE ? "scalar" : "panama";
  }

  private static final class Holder {
    static final VectorSupport SUPPORT = ScalarVectorSupport.INSTANCE;
  }
}
