package dev.gecko.train.fret;

import dev.gecko.core.GeckoException;

import java.util.List;

/**
 * The run stopped early: the first seeds it finished were all rejected ({@link
 * FretSettings.Builder#earlyStop(int)}), so the LLM's answers do not fit what the pipeline asks
 * (a model that refuses, a server that ignores the requested format or log-probabilities).
 * Continuing would only pay for more rejects. What was written stays; the rejected seeds are in
 * {@code rejects.jsonl} and count as done, so after fixing the cause start a new run ({@link
 * FretPipeline.Builder#newRun(boolean)}, {@code gecko generate --new-run}) or use another folder.
 * The message names the three most common reasons with their counts and an example answer.
 *
 * <p>Immutable once thrown; safe to hand to another thread.
 */
public final class TooManyRejectsException extends GeckoException {
  private static final long serialVersionUID = 1L;
  /** Not serialized: records are not {@link java.io.Serializable}. */
  private final transient List<RejectReason> reasons;

  /** Creates an exception; {@code reasons} are this run's, most common first. */
  public TooManyRejectsException(String message, List<RejectReason> reasons) {
    super(message);
    this.reasons = List.copyOf(reasons);
  }

  /** Returns this run's reject reasons, most common first (empty after deserialization). */
  public List<RejectReason> reasons() {
    return reasons == null ? List.of() : reasons;
  }
}
