package dev.gecko.train.llm;

import dev.gecko.core.GeckoException;
import java.time.Duration;
import java.util.Optional;

/**
 * The root of all LLM client failures, under the library's unchecked root {@link GeckoException}
 * (so a caller that handles every Gecko failure in one place handles these too). Subclasses say
 * whether a retry can help: {@link
 * RateLimitException}, {@link ServerException}, {@link LlmTimeoutException}, {@link
 * ConnectionException} and {@link MalformedResponseException} are retryable; {@link
 * AuthenticationException}, {@link BadRequestException}, {@link ModelNotFoundException} and
 * {@link UnsupportedCapabilityException} are not. Immutable once thrown; safe to hand to another
 * thread.
 *
 * <p>Messages and bodies never contain API keys (request headers are never included). Its fields
 * are set once, in the constructor, and it holds no resources, so it may be handed to another
 * thread (as a pipeline does with a worker's failure); like any {@link Throwable}, it is not meant
 * to be changed (suppressed exceptions added) by two threads at once.
 */
public class LlmException extends GeckoException {
  private static final long serialVersionUID = 1L;
  /** Bodies kept on exceptions are cut to this many characters. */
  public static final int MAX_BODY_CHARS = 2000;

  private final int statusCode;
  private final String body;
  private final String requestId;
  private final transient Duration retryAfter;

  /**
   * Creates an exception.
   *
   * @param message what failed
   * @param statusCode the HTTP status, or 0 if none
   * @param body the response body (truncated to {@link #MAX_BODY_CHARS}), or null
   * @param requestId the server's request id, or null
   * @param retryAfter the server's retry hint, or null
   * @param cause the cause, or null
   */
  public LlmException(String message, int statusCode, String body, String requestId, Duration retryAfter, Throwable cause) {
    super(message, cause);
    this.statusCode = statusCode;
    this.body = truncate(body);
    this.requestId = requestId == null ? "" : requestId;
    this.retryAfter = retryAfter;
  }

  /** Creates an exception with only a message and cause. */
  public LlmException(String message, Throwable cause) {
    this(message, 0, null, null, null, cause);
  }

  /**
   * The exception type for an HTTP status, the one place that decides it: 429 {@link
   * RateLimitException}; 408, 409 and 5xx {@link ServerException}; 401 and 403 {@link
   * AuthenticationException}; 404 {@link ModelNotFoundException}; 400, 413 and 422 {@link
   * BadRequestException}; any other a plain (not retryable) {@code LlmException}. The 401/403 and
   * 404 messages get a hint (check the API key; the model name and base URL).
   *
   * @param message what failed, naming the endpoint and the status
   * @param statusCode the HTTP status
   * @param body the response body, or null
   * @param requestId the server's request id, or null
   * @param retryAfter the server's retry hint, or null (kept for the retryable types only)
   * @param cause the cause, or null
   */
  public static LlmException forStatus(String message, int statusCode, String body, String requestId,
      Duration retryAfter, Throwable cause) {
    if (statusCode == 429) {
      return new RateLimitException(message, statusCode, body, requestId, retryAfter, cause);
    }
    if (statusCode == 408 || statusCode == 409 || statusCode >= 500) {
      return new ServerException(message, statusCode, body, requestId, retryAfter, cause);
    }
    if (statusCode == 401 || statusCode == 403) {
      return new AuthenticationException(message + " (check the API key)", statusCode, body, requestId, null, cause);
    }
    if (statusCode == 404) {
      return new ModelNotFoundException(message + " (check the model name and base URL)", statusCode, body, requestId,
          null, cause);
    }
    if (statusCode == 400 && body != null && ACCOUNT_REFUSALS.matcher(body).find()) {
      // Gemini answers a bad or expired key (and an account the model is not open to) with 400: not
      // this request's fault, and every later request would get the same
      return new AuthenticationException(message + " (check the API key and the account's access to the model)",
          statusCode, body, requestId, null, cause);
    }
    if (statusCode == 400 || statusCode == 413 || statusCode == 422) {
      return new BadRequestException(message, statusCode, body, requestId, null, cause);
    }
    return new LlmException(message, statusCode, body, requestId, null, cause);
  }

  /** Error reasons of a 400 that concern the key or account, not the request (Gemini's). */
  private static final java.util.regex.Pattern ACCOUNT_REFUSALS = java.util.regex.Pattern.compile(
      "API_KEY_INVALID|API_KEY_EXPIRED|API key not valid|API key expired|FAILED_PRECONDITION");

  static String truncate(String body) {
    if (body == null) {
      return "";
    }
    return body.length() <= MAX_BODY_CHARS ? body : body.substring(0, MAX_BODY_CHARS) + "...[truncated]";
  }

  /** Returns true if trying the same request again may succeed. */
  public boolean retryable() {
    return false;
  }

  /** Returns the HTTP status code, or 0 when the failure happened before a response. */
  public int statusCode() {
    return statusCode;
  }

  /** Returns the response body, truncated to {@link #MAX_BODY_CHARS}; empty if none. */
  public String body() {
    return body;
  }

  /** Returns the server's request id ({@code x-request-id}), or empty. */
  public String requestId() {
    return requestId;
  }

  /** Returns the server's retry hint ({@code retry-after-ms}, {@code Retry-After}), if any. */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }
}
