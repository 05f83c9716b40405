package dev.gecko.train.fret;

import dev.gecko.core.GeckoException;

/**
 * The output folder holds a run made with another model, prompts, parameters or corpus, and that
 * run wrote examples or rejects; resuming it would mix datasets. Ask for a new run ({@link FretPipeline.Builder#newRun(boolean)}, {@code
 * gecko generate --new-run}) to archive it and start over, or pick another folder.
 *
 * <p>Immutable once thrown; safe to hand to another thread.
 */
public final class ResumeConflictException extends GeckoException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message naming what differs. */
  public ResumeConflictException(String message) {
    super(message);
  }
}
