package dev.gecko.core.internal.runtime;

/**
 * Keeps {@code close()} from freeing what calls in flight use, without tying a call to one thread
 * (an asynchronous call ends on another thread than it began): calls enter and exit; {@link
 * #close(Runnable)} refuses new calls, then waits until those inside have left and frees what they
 * used, or, when it is called from inside a call (a synchronous call's progress listener), leaves
 * the freeing to the last call out instead of waiting for itself. The embedder's calls and a
 * call's helper threads ({@link BatchScheduler}, {@link Coalescer}) use it. Internal. Thread-safe.
 */
final class CallGate {
  /** Calls of this gate that the current thread is inside ({@link #enterCall()}, not yet left). */
  private final ThreadLocal<Integer> callsOnThisThread = new ThreadLocal<>(); // null: none
  private int inside; // guarded by this
  private boolean closed; // guarded by this
  /** What closing frees, until a thread takes it to run it; guarded by this. */
  private Runnable release;
  /** Whether a thread runs {@link #release}; guarded by this. */
  private boolean releasing;
  /** Threads in {@link #close(Runnable)} waiting for the calls inside; guarded by this. */
  private int waiting;

  /**
   * Enters the gate for a call that leaves it on this thread, by {@link #exitCall()}: a
   * synchronous call, during which its caller may call {@link #close(Runnable)} (from a progress
   * listener, say).
   *
   * @throws IllegalStateException if it is closed
   */
  synchronized void enterCall() {
    enter();
    Integer calls = callsOnThisThread.get();
    callsOnThisThread.set(calls == null ? 1 : calls + 1);
  }

  /** Leaves the gate after {@link #enterCall()}, on the thread that entered. */
  void exitCall() {
    int calls = callsOnThisThread.get() - 1;
    if (calls == 0) {
      callsOnThisThread.remove(); // nothing left behind in a pooled thread
    } else {
      callsOnThisThread.set(calls);
    }
    exit();
  }

  /**
   * Enters the gate.
   *
   * @throws IllegalStateException if it is closed
   */
  synchronized void enter() {
    if (closed) {
      throw new IllegalStateException("embedder is closed");
    }
    inside++;
  }

  /** Enters the gate if it is open; false if it is closed. */
  synchronized boolean tryEnter() {
    if (closed) {
      return false;
    }
    inside++;
    return true;
  }

  /**
   * Enters the gate for work of calls already inside: allowed while the gate is open, and while it
   * closes until the last call has left (their queued work still needs a runner); false after.
   */
  synchronized boolean tryEnterForCallsInside() {
    if (closed && inside == 0) {
      return false;
    }
    inside++;
    return true;
  }

  /**
   * Leaves the gate. The last call to leave a gate closed from inside a call runs what closing
   * frees (no {@link #close(Runnable)} waits for it to do so).
   */
  void exit() {
    Runnable r;
    synchronized (this) {
      if (--inside > 0) {
        return;
      }
      notifyAll();
      if (waiting > 0 || release == null) {
        return;
      }
      r = takeRelease();
    }
    runRelease(r);
  }

  /** Whether the gate is closed. */
  synchronized boolean isClosed() {
    return closed;
  }

  /**
   * Closes the gate and waits, uninterruptibly, until every call inside has left; returns false
   * if it was closed already.
   */
  synchronized boolean closeAndAwait() {
    if (closed) {
      return false;
    }
    closed = true;
    // close(Runnable) sets what closing frees only on an open gate: a gate closed here has none, so
    // no thread runs it and no last call out is kept from doing so while this waits
    awaitLeft();
    return true;
  }

  /**
   * Closes the gate: later calls are refused. Then waits, uninterruptibly, until every call inside
   * has left and runs {@code release} (or, if another close did, until it has run); returns true.
   * On a thread that is itself inside a call ({@link #enterCall()}) it does not wait for itself:
   * it returns false at once, and {@code release} runs when the last call leaves.
   */
  boolean close(Runnable release) {
    Runnable r;
    synchronized (this) {
      if (!closed) {
        closed = true;
        this.release = release;
      }
      if (callsOnThisThread.get() != null) {
        return false;
      }
      awaitLeft();
      if (this.release == null) {
        return true; // another close (or the last call out) has released
      }
      r = takeRelease();
    }
    runRelease(r);
    return true;
  }

  /**
   * Waits, uninterruptibly, until no call is inside and no thread runs what closing frees; an
   * interrupt that arrived meanwhile is restored. Counted in {@link #waiting} meanwhile, so that
   * the last call out leaves the freeing to the waiter. Under the lock.
   */
  private void awaitLeft() {
    boolean interrupted = false;
    waiting++;
    try {
      while (inside > 0 || releasing) {
        try {
          wait();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      waiting--;
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private Runnable takeRelease() {
    Runnable r = release;
    release = null;
    releasing = true;
    return r;
  }

  private void runRelease(Runnable r) {
    try {
      r.run();
    } finally {
      synchronized (this) {
        releasing = false;
        notifyAll();
      }
    }
  }
}
