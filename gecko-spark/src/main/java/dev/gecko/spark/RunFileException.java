package dev.gecko.spark;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedByInterruptException;

/**
 * A file of {@link FretSparkJob}'s own that a task or the driver could not read or write (the run
 * folder, the response cache): the one failure {@link FretSparkJob#run} reports as an {@link
 * IOException}. Other I/O failures in a task's cause chain (Spark's shuffle or local disk, a class
 * that does not serialize, a jar mismatch) are not the job's files and are not marked. Its message
 * is the file failure's {@code toString()} (class, path and reason), its cause that failure.
 */
final class RunFileException extends IOException {
  private static final long serialVersionUID = 1L;

  private RunFileException(IOException cause) {
    super(cause.toString(), cause);
  }

  /**
   * {@code e} marked as a failure of the job's files; an interrupt ({@link
   * ClosedByInterruptException}, {@link InterruptedIOException}) is returned as is, unmarked, so that
   * it stays an interrupt.
   */
  static IOException of(IOException e) {
    if (e instanceof RunFileException || e instanceof ClosedByInterruptException || e instanceof InterruptedIOException) {
      return e;
    }
    return new RunFileException(e);
  }

  /** {@code e}'s I/O failure, marked as {@link #of} does. */
  static IOException of(UncheckedIOException e) {
    return of(e.getCause());
  }
}
