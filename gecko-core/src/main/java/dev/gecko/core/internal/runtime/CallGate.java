package dev.gecko.core.internal.runtime;

/**
 * Keeps {@code close()} from freeing what calls in flight use, without tying a call to one thread
 * (an asynchronous call ends on another thread than it began): calls enter and exit; {@link
 * #closeAndAwait()} refuses new calls, then waits until those inside have left. The embedder's
 * calls and a call's helper threads ({@link BatchScheduler}) use it. Internal. Thread-safe.
 */
final class CallGate {
  private int inside; // guarded by this
  private boolean closed; // guarded by this

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

  /** Leaves the gate. */
  synchronized void exit() {
    if (--inside == 0) {
      notifyAll();
    }
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
    boolean interrupted = false;
    while (inside > 0) {
      try {
        wait();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return true;
  }
}
