package dev.gecko.train.llm;

import java.time.Duration;

/**
 * The server answered 2xx with a body that is not the expected JSON (truncated, garbled), or that
 * lacks what the call needs (no choices, no usable log-probabilities). Retryable. Where the body
 * could be read as far as its usage fields, the call was billed all the same, and {@link
 * #billedUsage()} says how much.
 *
 * <p>Immutable, and thread-safety and ownership as for every {@link LlmException}: fields set once,
 * in the constructor; no resources.
 */
public class MalformedResponseException extends LlmException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message what failed
   * @param statusCode the HTTP status, or 0 if none
   * @param body the response body, or null
   * @param requestId the server's request id, or null
   * @param retryAfter the server's retry hint, or null
   * @param cause the cause, or null
   */
  public MalformedResponseException(String message, int statusCode, String body, String requestId, Duration retryAfter, Throwable cause) {
    super(message, statusCode, body, requestId, retryAfter, cause);
  }

  /**
   * Creates an exception for a 2xx answer that was billed but cannot be used: one whose usage
   * fields were read ({@code billedUsage}) before the rest of it was rejected.
   *
   * @param message what failed
   * @param statusCode the HTTP status
   * @param body the response body, or null
   * @param requestId the server's request id, or null
   * @param billedUsage the tokens the answer's usage fields report, or null for none
   */
  public MalformedResponseException(String message, int statusCode, String body, String requestId, Usage billedUsage) {
    super(message, statusCode, body, requestId, null, null, billedUsage);
  }

  /** Returns {@code true}. */
  @Override
  public boolean retryable() {
    return true;
  }
}
