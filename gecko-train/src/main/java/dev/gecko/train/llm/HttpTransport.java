package dev.gecko.train.llm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** POSTs JSON and maps failures onto the {@link LlmException} hierarchy. Thread-safe. */
final class HttpTransport {
  private static final System.Logger LOG = System.getLogger(HttpTransport.class.getName());
  static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> SECRET_HEADERS = Set.of("authorization", "x-goog-api-key", "api-key", "x-api-key",
      "proxy-authorization", "cookie");

  private final HttpClient http;
  private final Duration requestTimeout;
  private final Map<String, String> headers;
  private final String secret;
  private final Clock clock;

  HttpTransport(Duration connectTimeout, Duration requestTimeout, Map<String, String> headers, String secret, Clock clock) {
    this.http = HttpClient.newBuilder().connectTimeout(connectTimeout).version(HttpClient.Version.HTTP_1_1).build();
    this.requestTimeout = requestTimeout;
    this.headers = Map.copyOf(headers);
    this.secret = secret == null || secret.isEmpty() ? null : secret;
    this.clock = clock;
  }

  /** Returns the headers with secret values replaced by {@code [REDACTED]}, for logs. */
  static Map<String, String> redact(Map<String, String> headers) {
    Map<String, String> out = new LinkedHashMap<>();
    headers.forEach((k, v) -> out.put(k, SECRET_HEADERS.contains(k.toLowerCase(Locale.ROOT)) ? "[REDACTED]" : v));
    return out;
  }

  /** Returns a number node's value, or negative infinity for null/missing/non-numbers. */
  static double num(JsonNode n) {
    return n != null && n.isNumber() ? n.asDouble() : Double.NEGATIVE_INFINITY;
  }

  /** A parsed 2xx response: its JSON object, and the {@code x-request-id} header or empty. */
  record Reply(JsonNode json, String requestId) {
    /** Returns the {@code x-request-id} header, or where there is none the body's field {@code field}, or empty. */
    String requestIdOr(String field) {
      return requestId.isEmpty() ? json.path(field).asText("") : requestId;
    }
  }

  /**
   * POSTs {@code body} to {@code uri}. Logs and exception messages show the URI without user info
   * or query ({@link LlmClients#shownUrl}), so no secret in the URL reaches them.
   */
  Reply post(URI uri, JsonNode body) {
    String shown = LlmClients.shownUrl(uri.toString());
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(body);
    } catch (IOException e) {
      throw new LlmException("cannot serialise request: " + e.getMessage(), e);
    }
    HttpRequest.Builder rb = HttpRequest.newBuilder(uri).timeout(requestTimeout)
        .header("Content-Type", "application/json").header("Accept", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes));
    headers.forEach(rb::header);
    if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
      LOG.log(System.Logger.Level.DEBUG, "POST {0} headers={1} ({2} bytes)", shown, redact(headers), bytes.length);
    }
    HttpResponse<String> resp = exchange(shown, rb.build());
    String requestId = resp.headers().firstValue("x-request-id").orElse("");
    String text = scrub(resp.body());
    int status = resp.statusCode();
    LOG.log(System.Logger.Level.DEBUG, "POST {0} -> {1} request-id={2}", shown, status, requestId);
    if (status >= 200 && status < 300) {
      try {
        JsonNode json = JSON.readTree(text);
        if (json == null || !json.isObject()) {
          throw new MalformedResponseException("response from " + shown + " is not a JSON object", status, text, requestId, null, null);
        }
        return new Reply(json, requestId);
      } catch (IOException e) {
        throw new MalformedResponseException("response from " + shown + " is not valid JSON (truncated?): " + e.getMessage().lines().findFirst().orElse(""),
            status, text, requestId, null, e);
      }
    }
    throw error(shown, status, text, requestId, resp.headers().map());
  }

  /**
   * Sends the request and reads the whole response within the request timeout. {@link
   * HttpRequest#timeout} alone bounds only the wait for the response headers (a server that sends
   * them and then stalls the body would hang the call), so the exchange is awaited with the
   * timeout and cancelled (its connection aborted) when it runs out.
   */
  private HttpResponse<String> exchange(String shown, HttpRequest request) {
    CompletableFuture<HttpResponse<String>> future = http.sendAsync(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    try {
      return future.get(requestTimeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new LlmTimeoutException("no complete response from " + shown + " within " + requestTimeout, 0, null, null, null, e);
    } catch (InterruptedException e) {
      future.cancel(true);
      Thread.currentThread().interrupt();
      throw new LlmException("interrupted while calling " + shown, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof HttpConnectTimeoutException) {
        throw new LlmTimeoutException("connect timeout to " + shown, 0, null, null, null, cause);
      }
      if (cause instanceof HttpTimeoutException) {
        throw new LlmTimeoutException("no complete response from " + shown + " within " + requestTimeout, 0, null, null, null, cause);
      }
      if (cause instanceof IOException) {
        throw new ConnectionException("I/O error talking to " + shown + ": " + cause, 0, null, null, null, cause);
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new LlmException("request to " + shown + " failed: " + cause, cause);
    }
  }

  private String scrub(String body) {
    if (body == null) {
      return "";
    }
    return secret != null && body.contains(secret) ? body.replace(secret, "[REDACTED]") : body;
  }

  private LlmException error(String shown, int status, String body, String requestId, Map<String, java.util.List<String>> h) {
    String detail = errorMessage(body);
    Duration retryAfter = retryAfter(h, body).orElse(null);
    String msg = "HTTP " + status + " from " + shown + (detail.isEmpty() ? "" : ": " + detail)
        + (requestId.isEmpty() ? "" : " (request id " + requestId + ")");
    return LlmException.forStatus(msg, status, body, requestId, retryAfter, null);
  }

  private static String errorMessage(String body) {
    try {
      JsonNode n = JSON.readTree(body);
      JsonNode m = n.path("error").path("message");
      if (m.isTextual()) {
        return LlmException.truncate(m.asText());
      }
      if (n.path("message").isTextual()) {
        return LlmException.truncate(n.path("message").asText());
      }
    } catch (IOException | RuntimeException e) {
      // not JSON: fall through
    }
    return body == null ? "" : LlmException.truncate(body.strip()).replaceAll("\\s+", " ");
  }

  private Optional<Duration> retryAfter(Map<String, java.util.List<String>> h, String body) {
    Map<String, String> lower = new LinkedHashMap<>();
    h.forEach((k, v) -> {
      if (k != null && !v.isEmpty()) {
        lower.put(k.toLowerCase(Locale.ROOT), v.get(0).trim());
      }
    });
    String ms = lower.get("retry-after-ms");
    if (ms != null) {
      try {
        return Optional.of(Duration.ofMillis((long) Double.parseDouble(ms)));
      } catch (NumberFormatException e) {
        // ignore
      }
    }
    String ra = lower.get("retry-after");
    if (ra != null) {
      Optional<Duration> d = parseRetryAfter(ra, clock);
      if (d.isPresent()) {
        return d;
      }
    }
    // Gemini: google.rpc.RetryInfo {"retryDelay": "34s"}
    try {
      for (JsonNode detail : JSON.readTree(body).path("error").path("details")) {
        String delay = detail.path("retryDelay").asText("");
        if (delay.endsWith("s")) {
          return Optional.of(Duration.ofMillis((long) (Double.parseDouble(delay.substring(0, delay.length() - 1)) * 1000)));
        }
      }
    } catch (IOException | RuntimeException e) {
      // no hint
    }
    return Optional.empty();
  }

  /** Parses a Retry-After value: delta-seconds (possibly fractional) or an HTTP date. */
  static Optional<Duration> parseRetryAfter(String value, Clock clock) {
    try {
      double seconds = Double.parseDouble(value);
      if (seconds >= 0 && seconds < 1e9) {
        return Optional.of(Duration.ofMillis((long) (seconds * 1000)));
      }
      return Optional.empty();
    } catch (NumberFormatException e) {
      // maybe a date
    }
    try {
      Instant at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      Duration d = Duration.between(clock.instant(), at);
      return Optional.of(d.isNegative() ? Duration.ZERO : d);
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }
}
