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
 * <p>A failure may still have been billed: a server that answers 2xx bills the call even when its
 * body is then rejected ({@link MalformedResponseException}); {@link #billedUsage()} holds the
 * tokens its usage fields reported, which {@link LlmClients#metered} counts.
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
  private final long billedPromptTokens;
  private final long billedCompletionTokens;

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
    this(message, statusCode, body, requestId, retryAfter, cause, null);
  }

  /** As the public constructor, with the tokens billed for the failed attempt ({@code null}: none). */
  LlmException(String message, int statusCode, String body, String requestId, Duration retryAfter, Throwable cause,
      Usage billedUsage) {
    super(message, cause);
    this.statusCode = statusCode;
    this.body = truncate(body);
    this.requestId = requestId == null ? "" : requestId;
    this.retryAfter = retryAfter;
    this.billedPromptTokens = billedUsage == null ? 0 : billedUsage.promptTokens();
    this.billedCompletionTokens = billedUsage == null ? 0 : billedUsage.completionTokens();
  }

  /** Creates an exception with only a message and cause. */
  public LlmException(String message, Throwable cause) {
    this(message, 0, null, null, null, cause);
  }

  /**
   * The exception type for an HTTP status, the one place that decides it: 429 {@link
   * RateLimitException} (but OpenAI's {@code insufficient_quota}, which no wait cures, a plain one); 408, 409 and 5xx {@link ServerException}; 401 and 403 {@link
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
    if (statusCode == 429 && body != null && body.contains("\"insufficient_quota\"")) {
      // OpenAI's 429 for an account out of credit: no wait makes it succeed (not retryable)
      return new LlmException(message + " (the account's quota or credit is used up: retrying cannot help)", statusCode,
          body, requestId, null, cause);
    }
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

  /**
   * Returns text from a server (an error message, a framework's exception message) made safe for
   * one log or terminal line, as every client puts such text into an exception's message: runs of
   * white space become one space, and other control characters (an escape sequence that would
   * repaint a terminal), line and paragraph separators and bidirectional controls are shown as
   * {@code U+XXXX}. Null gives the empty string. Thread-safe.
   */
  public static String oneLine(String serverText) {
    if (serverText == null) {
      return "";
    }
    StringBuilder b = new StringBuilder();
    serverText.strip().replaceAll("\\s+", " ").chars().forEach(c -> b.append(terminalControl(c)
        ? String.format(java.util.Locale.ROOT, "U+%04X", c) : String.valueOf((char) c)));
    return b.toString();
  }

  /**
   * Whether a terminal acts on {@code c} or it reorders the text shown: a C0 or C1 control, DEL,
   * a line or paragraph separator, a bidirectional control. {@link #oneLine} shows these as {@code
   * U+XXXX}. Thread-safe.
   */
  public static boolean terminalControl(int c) {
    return Character.isISOControl(c) || c == 0x2028 || c == 0x2029 || (c >= 0x202A && c <= 0x202E)
        || (c >= 0x2066 && c <= 0x2069);
  }

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

  /**
   * Returns the tokens the provider billed for the attempt that failed with this exception: the
   * usage fields of a 2xx answer that was then rejected ({@link MalformedResponseException}), or
   * {@link Usage#ZERO} when nothing is known to be billed (an HTTP error, a timeout, a body that is
   * not JSON). Only that one attempt's: a retrying client's earlier attempts are not added here
   * (the metering decorator counts those as they are retried, see {@link LlmClients#metered}).
   */
  public Usage billedUsage() {
    return billedPromptTokens == 0 && billedCompletionTokens == 0 ? Usage.ZERO
        : new Usage(billedPromptTokens, billedCompletionTokens);
  }

  /** Returns the server's retry hint ({@code retry-after-ms}, {@code Retry-After}), if any. */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }
}
