package dev.gecko.core.vector;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.Optional;

/**
 * Picks the {@link VectorSupport} implementation once per JVM, Lucene-style: a ladder of guards,
 * each of which logs one WARNING saying what to do and falls back to the scalar twin; success
 * logs one INFO line with the vector size.
 *
 * <p>Guards, in order: the kill switch {@value #PROPERTY}{@code =scalar}; the Java feature
 * version ({@value #MIN_JAVA}..{@value #MAX_JAVA}, the releases whose incubator API we build
 * against and tested); a HotSpot VM with the C2 compiler on; module {@code jdk.incubator.vector}
 * in the module layer (the JVM was started with {@code --add-modules jdk.incubator.vector});
 * loading {@code PanamaVectorSupport} by name and a preferred vector size of 128 to 512 bits.
 * Library code never sets system properties.
 */
final class VectorizationProvider {
  /** System property: {@code scalar} turns the SIMD path off; {@code auto} (default) probes. */
  static final String PROPERTY = "gecko.vectorization";
  static final int MIN_JAVA = 17;
  static final int MAX_JAVA = 25;
  private static final String INCUBATOR = "jdk.incubator.vector";
  private static final String PANAMA_CLASS = "dev.gecko.core.vector.PanamaVectorSupport";
  private static final System.Logger LOG = System.getLogger(VectorizationProvider.class.getName());

  private VectorizationProvider() {}

  static VectorSupport support() {
    return Holder.SUPPORT;
  }

  static String name() {
    return Holder.SUPPORT.name();
  }

  private static final class Holder {
    static final VectorSupport SUPPORT = lookup();
  }

  private static VectorSupport lookup() {
    String mode = System.getProperty(PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
    if (mode.equals("scalar")) {
      LOG.log(System.Logger.Level.WARNING, "SIMD vector path disabled by -D" + PROPERTY
          + "=scalar; remove that property to use jdk.incubator.vector");
      return ScalarVectorSupport.INSTANCE;
    }
    if (!mode.equals("auto")) {
      LOG.log(System.Logger.Level.WARNING, "unknown -D" + PROPERTY + "=" + mode
          + " (expected auto or scalar); using the scalar vector path. Fix or remove the property");
      return ScalarVectorSupport.INSTANCE;
    }
    int feature = Runtime.version().feature();
    if (feature < MIN_JAVA || feature > MAX_JAVA) {
      LOG.log(System.Logger.Level.WARNING, "Java " + feature + " is outside the range whose jdk.incubator.vector"
          + " API this build was tested on (" + MIN_JAVA + ".." + MAX_JAVA
          + "); using the scalar vector path. Run on Java " + MIN_JAVA + ".." + MAX_JAVA + " for SIMD");
      return ScalarVectorSupport.INSTANCE;
    }
    String compilerProblem = compilerProblem();
    if (compilerProblem != null) {
      LOG.log(System.Logger.Level.WARNING, compilerProblem
          + "; the Vector API would be slower than plain loops, so using the scalar vector path."
          + " Run on HotSpot with the C2 compiler enabled for SIMD");
      return ScalarVectorSupport.INSTANCE;
    }
    Optional<Module> incubator = incubatorModule();
    if (incubator.isEmpty()) {
      LOG.log(System.Logger.Level.WARNING, "Java vector incubator module is not readable; using the scalar vector"
          + " path. For SIMD pooling and search, pass --add-modules jdk.incubator.vector to the JVM");
      return ScalarVectorSupport.INSTANCE;
    }
    try {
      VectorSupport panama = loadPanama();
      LOG.log(System.Logger.Level.INFO, "SIMD vector path on jdk.incubator.vector, "
          + panama.vectorBitSize() + "-bit vectors" + (panama.prefersHammingGroups(1)
          ? ", SIMD bit counts for binary search" : panama.vectorBitCount()
          ? ", SIMD bit counts for binary search at 384 dimensions and up" : ""));
      return panama;
    } catch (UnsupportedOperationException e) {
      LOG.log(System.Logger.Level.WARNING, e.getMessage() + "; using the scalar vector path (nothing to configure)");
    } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "could not load the SIMD vector path (" + e
          + "); using the scalar vector path. Check that --add-modules jdk.incubator.vector is passed and the"
          + " JDK is " + MIN_JAVA + ".." + MAX_JAVA);
    }
    return ScalarVectorSupport.INSTANCE;
  }

  /**
   * Loads the Panama implementation by name, so only this call links the incubator module.
   * Package-private for tests, which compare it with the scalar twin in the same JVM.
   *
   * @throws ReflectiveOperationException if the class or its constructor is missing
   * @throws UnsupportedOperationException if the CPU's preferred vector is under 128 or over 512 bits
   */
  static VectorSupport loadPanama() throws ReflectiveOperationException {
    MethodHandles.Lookup lookup = MethodHandles.lookup();
    Class<?> cls = lookup.findClass(PANAMA_CLASS);
    MethodHandle ctor = lookup.findConstructor(cls, MethodType.methodType(void.class));
    try {
      return (VectorSupport) ctor.invoke();
    } catch (RuntimeException | Error | ReflectiveOperationException e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /** The incubator module, if the JVM resolved it; our module is made to read it. */
  static Optional<Module> incubatorModule() {
    Module self = VectorizationProvider.class.getModule();
    ModuleLayer layer = self.getLayer() != null ? self.getLayer() : ModuleLayer.boot();
    Optional<Module> found = layer.findModule(INCUBATOR);
    found.ifPresent(self::addReads);
    return found;
  }

  /** Why the JIT cannot compile Vector API code into SIMD instructions, or null if it can. */
  private static String compilerProblem() {
    String vm = System.getProperty("java.vm.name", "");
    if (!(vm.contains("HotSpot") || vm.contains("OpenJDK"))) {
      return "JVM '" + vm + "' is not HotSpot";
    }
    String info = System.getProperty("java.vm.info", "");
    if (info.contains("interpreted mode")) {
      return "the JIT compiler is off (-Xint)";
    }
    try {
      com.sun.management.HotSpotDiagnosticMXBean bean =
          ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
      if (bean != null) {
        if (!Boolean.parseBoolean(bean.getVMOption("UseCompiler").getValue())) {
          return "the JIT compiler is off (-XX:-UseCompiler)";
        }
        int level = Integer.parseInt(bean.getVMOption("TieredStopAtLevel").getValue());
        if (level < 4) {
          return "C2 is off (-XX:TieredStopAtLevel=" + level + ")";
        }
      }
    } catch (RuntimeException | LinkageError e) {
      // no jdk.management module or option: assume C2 is present, the default on HotSpot
    }
    return null;
  }
}
