package dev.gecko.train.llm;

import java.time.Duration;

/**
 * HTTP 400, 413 or 422: the request is invalid for this server or model. Not retryable.
 *
 * <p>Thread-safety and ownership as for every {@link LlmException}: fields set once, no resources.
 */
public class BadRequestException extends LlmException {
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
  public BadRequestException(String message, int statusCode, String body, String requestId, Duration retryAfter, Throwable cause) {
    super(message, statusCode, body, requestId, retryAfter, cause);
  }

  /** Returns {@code false}. */
  @Override
  public boolean retryable() {
    return false;
  }
}
