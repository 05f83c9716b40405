package dev.gecko.core.internal.runtime;

import ai.onnxruntime.OrtEnvironment;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * ONNX Runtime's environment for this JVM, and the gate every native ONNX Runtime call of this
 * library passes, so that the JVM can exit while other threads embed or open models.
 *
 * <h2>Why</h2>
 * ONNX Runtime's Java binding registers a shutdown hook that releases its native environment.
 * Shutdown hooks run beside the application's threads, so a thread inside {@code createSession}
 * or {@code run} at that moment goes on with a freed environment (its logger, its allocators) and
 * the JVM dies with SIGSEGV instead of exiting: 4 of 6 runs of two embedding threads, two
 * threads opening and closing embedders and {@code System.exit(0)} did.
 *
 * <h2>How</h2>
 * <ul>
 *   <li>The native environment is reference-counted. When it is created here, a second reference
 *       is taken (through the binding's own private {@code createHandle}) and never given back, so
 *       the binding's hook only drops the count: the environment lives until the process ends.
 *   <li>Every native call of this library runs between {@link #enter()} and {@link Call#close()}.
 *       A shutdown hook of this class closes the gate, so that later calls fail with {@link
 *       IllegalStateException} instead of entering native code, and waits (up to {@value
 *       #DRAIN_SECONDS} s) for the calls inside to leave. The process's exit (and the C++
 *       destructors it runs) then finds no thread of this library inside ONNX Runtime.
 * </ul>
 * Where the binding's private method is missing (another ONNX Runtime version), the gate still
 * drains the calls in flight, but the binding's hook may release the environment beside it; a
 * debug line says so.
 *
 * <p>Thread-safe; all state is static (one environment per class loader).
 */
final class OrtRuntime {
  private static final System.Logger LOG = System.getLogger(OrtRuntime.class.getName());
  /** The longest the shutdown hook waits for native calls in flight. */
  static final int DRAIN_SECONDS = 10;

  private static final AtomicInteger IN_FLIGHT = new AtomicInteger();
  private static volatile boolean shuttingDown;
  private static OrtEnvironment environment; // guarded by OrtRuntime.class
  private static final Call CALL = new Call();

  private OrtRuntime() {}

  /**
   * Returns ONNX Runtime's environment, loading ONNX Runtime on the first call (from the cached
   * native libraries where they apply, {@link OrtLibraries}) and pinning it for the JVM's life.
   *
   * @throws IllegalStateException if the JVM is shutting down
   */
  static synchronized OrtEnvironment environment() {
    if (environment == null) {
      try (Call ignored = enter()) {
        OrtEnvironment env = OrtLibraries.load();
        pin(env);
        Thread hook = new Thread(OrtRuntime::drain, "gecko-ort-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        environment = env;
      }
    }
    return environment;
  }

  /**
   * Enters the gate before a native call; close the returned call when it returns.
   *
   * @throws IllegalStateException if the JVM is shutting down
   */
  static Call enter() {
    if (!shuttingDown) {
      IN_FLIGHT.incrementAndGet();
      if (!shuttingDown) { // checked again: the hook may have looked at the count in between
        return CALL;
      }
      IN_FLIGHT.decrementAndGet();
    }
    throw new IllegalStateException("the JVM is shutting down: ONNX Runtime is no longer available");
  }

  /** Whether the JVM has begun to shut down (native resources are then left to the process's end). */
  static boolean shuttingDown() {
    return shuttingDown;
  }

  /** A native call in flight; {@link #close()} leaves the gate. */
  static final class Call implements AutoCloseable {
    private Call() {}

    @Override
    public void close() {
      IN_FLIGHT.decrementAndGet();
    }
  }

  /** The shutdown hook: closes the gate and waits for the calls inside to leave. */
  static void drain() {
    shuttingDown = true;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DRAIN_SECONDS);
    while (IN_FLIGHT.get() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    int left = IN_FLIGHT.get();
    if (left > 0) {
      LOG.log(System.Logger.Level.WARNING, () -> left + " ONNX Runtime call(s) still running after " + DRAIN_SECONDS
          + " s of shutdown; exiting anyway");
    }
  }

  /**
   * Takes a second reference to the native environment, so that the binding's shutdown hook does
   * not free it while a call is inside ONNX Runtime. The count is never given back.
   */
  private static void pin(OrtEnvironment env) {
    try {
      Class<?> runtime = Class.forName("ai.onnxruntime.OnnxRuntime", true, OrtEnvironment.class.getClassLoader());
      Field api = runtime.getDeclaredField("ortApiHandle");
      api.setAccessible(true);
      Method create = OrtEnvironment.class.getDeclaredMethod("createHandle", long.class, int.class, String.class);
      create.setAccessible(true);
      // the environment exists, so its logging level and name are not changed by this call
      long handle = (long) create.invoke(null, api.getLong(null),
          ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING.getValue(), OrtEnvironment.DEFAULT_NAME);
      Field own = OrtEnvironment.class.getDeclaredField("nativeHandle");
      own.setAccessible(true);
      if (handle != own.getLong(env)) {
        LOG.log(System.Logger.Level.DEBUG, "ONNX Runtime returned a second environment; shutdown is not guarded");
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(System.Logger.Level.DEBUG, () -> "cannot pin ONNX Runtime's environment (" + e
          + "); its shutdown hook may free it while a call runs");
    }
  }
}
