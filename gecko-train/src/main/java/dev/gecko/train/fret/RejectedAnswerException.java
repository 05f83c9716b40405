package dev.gecko.train.fret;

/**
 * The LLM kept answering outside the expected schema (or pointed outside the candidate set) after
 * the bounded repair attempts. The pipeline records the seed in {@code rejects.jsonl} and goes on.
 */
public final class RejectedAnswerException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final String stage;
  private final String lastAnswer;

  /**
   * Creates an exception.
   *
   * @param stage {@code generate}, {@code ql} or {@code rc}
   * @param reason why the last answer was refused
   * @param lastAnswer the last answer, cut to 500 chars
   */
  public RejectedAnswerException(String stage, String reason, String lastAnswer) {
    super(stage + ": " + reason);
    this.stage = stage;
    this.lastAnswer = lastAnswer == null ? "" : lastAnswer.length() > 500 ? lastAnswer.substring(0, 500) : lastAnswer;
  }

  /** Returns the stage that failed. */
  public String stage() {
    return stage;
  }

  /** Returns the last refused answer (cut to 500 chars). */
  public String lastAnswer() {
    return lastAnswer;
  }
}
