package dev.gecko.train.fret;

import dev.gecko.core.GeckoException;

/**
 * The LLM kept answering outside the expected schema (or pointed outside the candidate set) after
 * the bounded repair attempts, or the server refused the seed's request as invalid (stage {@code
 * request}). The pipeline records the seed in {@code rejects.jsonl} and goes on.
 *
 * <p>Immutable once thrown; safe to hand to another thread.
 */
public final class RejectedAnswerException extends GeckoException {
  private static final long serialVersionUID = 1L;
  private final String stage;
  private final String reason;
  private final String detail;
  private final String lastAnswer;

  /**
   * Creates an exception.
   *
   * @param stage {@code generate}, {@code ql} or {@code rc}
   * @param reason why the last answer was refused
   * @param lastAnswer the last answer, cut to 500 chars
   */
  public RejectedAnswerException(String stage, String reason, String lastAnswer) {
    this(stage, reason, "", lastAnswer);
  }

  /**
   * Creates an exception whose message adds a detail particular to this seed (such as counts) to
   * the reason; {@link #reason()} stays without it, so that seeds rejected for one cause share it.
   *
   * @param stage {@code generate}, {@code ql}, {@code rc}, {@code retrieve}, {@code select} or
   *     {@code request}
   * @param reason why the last answer was refused
   * @param detail what is particular to this seed, or empty
   * @param lastAnswer the last answer, cut to 500 chars
   */
  public RejectedAnswerException(String stage, String reason, String detail, String lastAnswer) {
    super(stage + ": " + reason + (detail == null || detail.isEmpty() ? "" : " " + detail));
    this.stage = stage;
    this.reason = reason;
    this.detail = detail == null ? "" : detail;
    this.lastAnswer = lastAnswer == null ? "" : lastAnswer.length() > 500 ? lastAnswer.substring(0, 500) : lastAnswer;
  }

  /** Returns the stage that failed. */
  public String stage() {
    return stage;
  }

  /** Returns why the answer was refused, without the seed's detail (see the message for that). */
  public String reason() {
    return reason;
  }

  /** Returns what is particular to this seed (counts, the refused answer's token), or empty. */
  public String detail() {
    return detail;
  }

  /** Returns the last refused answer (cut to 500 chars). */
  public String lastAnswer() {
    return lastAnswer;
  }
}
