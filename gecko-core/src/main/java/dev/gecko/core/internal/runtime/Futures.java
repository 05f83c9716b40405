package dev.gecko.core.internal.runtime;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/** Waiting for helper-thread work of a call. Internal. Stateless and thread-safe. */
final class Futures {
  private Futures() {}

  /**
   * Waits for a task without giving up on interrupts (work of a call must not outlive it); an
   * interrupt that arrived meanwhile is restored for the caller.
   */
  static <T> T getUninterruptibly(Future<T> future) throws ExecutionException {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return future.get();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The task's own unchecked exception or error, else the checked cause wrapped. */
  static RuntimeException unchecked(ExecutionException e, String what) {
    Throwable cause = e.getCause();
    if (cause instanceof Error) {
      throw (Error) cause;
    }
    if (cause instanceof RuntimeException) {
      return (RuntimeException) cause;
    }
    return new IllegalStateException(what + " failed: " + cause, cause);
  }
}
