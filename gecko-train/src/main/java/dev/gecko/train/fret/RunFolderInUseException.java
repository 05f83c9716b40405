package dev.gecko.train.fret;

import dev.gecko.core.GeckoException;

/**
 * Another run writes to the output folder: a run folder has one writer at a time, or the two would
 * redo each other's seeds and write them twice. {@link FretPipeline#run()} holds an exclusive lock
 * on {@code run.lock} in the folder for the whole run and refuses a second writer at once, in this
 * process or another. The lock belongs to the running process: it goes when the run ends, fails,
 * or the process dies, so a leftover {@code run.lock} file never blocks a later run.
 *
 * <p>Immutable once thrown; safe to hand to another thread.
 */
public final class RunFolderInUseException extends GeckoException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message naming the folder. */
  public RunFolderInUseException(String message) {
    super(message);
  }
}
