package dev.gecko.core.internal.runtime;

import dev.gecko.core.InferenceException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;

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

  /**
   * A new exception for one caller of a failure that several callers share (a batch of several
   * calls that failed as a whole): a thrown exception is mutable (suppressed exceptions, stack
   * trace), so each caller gets its own, of the same kind where the kind is part of the contract
   * ({@link InferenceException}, {@link RejectedExecutionException}, {@link IllegalArgumentException};
   * any other as {@link IllegalStateException}), with the shared one as its cause.
   */
  static RuntimeException forCaller(Throwable shared) {
    String message = shared.getMessage() != null ? shared.getMessage() : shared.toString();
    if (shared instanceof InferenceException) {
      return new InferenceException(message, shared);
    }
    if (shared instanceof RejectedExecutionException) {
      return new RejectedExecutionException(message, shared);
    }
    if (shared.getClass() == IllegalArgumentException.class) { // not its subclasses, whose fields would be lost
      return new IllegalArgumentException(message, shared);
    }
    return new IllegalStateException(message, shared);
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
