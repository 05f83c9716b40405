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
  /** Header names that carry credentials by their look (a gateway's {@code Helicone-Auth}, {@code Ocp-Apim-Subscription-Key}). */
  private static final java.util.regex.Pattern SECRET_NAME = java.util.regex.Pattern.compile(
      "(?i).*(key|token|auth|secret|cookie|signature|password|credential|session).*");

  private final HttpClient http;
  private final Duration requestTimeout;
  private final Map<String, String> headers;
  /** The API key and the values of secret headers, as they may come back in an error body; longest first. */
  private final java.util.List<String> secrets;
  private final Clock clock;

  HttpTransport(Duration connectTimeout, Duration requestTimeout, Map<String, String> headers, String secret, Clock clock) {
    this.http = HttpClient.newBuilder().connectTimeout(connectTimeout).version(HttpClient.Version.HTTP_1_1).build();
    this.requestTimeout = requestTimeout;
    this.headers = Map.copyOf(headers);
    java.util.Set<String> found = new java.util.HashSet<>();
    this.headers.forEach((k, v) -> {
      if (isSecret(k)) {
        found.add(v);
        int space = v.lastIndexOf(' '); // "Bearer <token>": the token alone, as a server may quote it
        if (space >= 0) {
          found.add(v.substring(space + 1));
        }
      }
    });
    found.removeIf(v -> v.length() < 8); // too short to be a credential, and too common to replace safely
    if (secret != null && !secret.isEmpty()) {
      found.add(secret); // the API key itself, whatever its length
    }
    java.util.List<String> list = new java.util.ArrayList<>(found);
    list.sort(java.util.Comparator.comparingInt(String::length).reversed());
    this.secrets = java.util.List.copyOf(list);
    this.clock = clock;
  }

  /** Returns the headers with secret values replaced by {@code [REDACTED]}, for logs. */
  static Map<String, String> redact(Map<String, String> headers) {
    Map<String, String> out = new LinkedHashMap<>();
    headers.forEach((k, v) -> out.put(k, isSecret(k) ? "[REDACTED]" : v));
    return out;
  }

  /** Whether a header's value is a credential: a known name, or a name that says so. */
  static boolean isSecret(String headerName) {
    return SECRET_HEADERS.contains(headerName.toLowerCase(Locale.ROOT)) || SECRET_NAME.matcher(headerName).matches();
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
    CompletableFuture<HttpResponse<String>> future = http.sendAsync(request, info -> new CappedText(MAX_BODY_BYTES));
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
      if (cause instanceof BodyTooLargeException) { // the same server would send it again: not retried
        throw new LlmException("response from " + shown + " is larger than " + (MAX_BODY_BYTES >> 20)
            + " MiB; refused", cause);
      }
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

  /** The largest response body read: an LLM's answer, even with every prompt token's log-probabilities, is far smaller. */
  static final int MAX_BODY_BYTES = 16 << 20;

  /** A body longer than {@link #MAX_BODY_BYTES}. */
  static final class BodyTooLargeException extends IOException {
    private static final long serialVersionUID = 1L;

    BodyTooLargeException(long max) {
      super("response body longer than " + max + " bytes");
    }
  }

  /**
   * Reads a body as UTF-8 text (malformed bytes replaced, as {@code BodyHandlers.ofString} does),
   * up to {@code max} bytes; past it the exchange is cancelled and fails with {@link
   * BodyTooLargeException}, so that a server streaming without end cannot fill the heap.
   */
  static final class CappedText implements HttpResponse.BodySubscriber<String> {
    private final long max;
    private final CompletableFuture<String> result = new CompletableFuture<>();
    private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    private java.util.concurrent.Flow.Subscription subscription;

    CappedText(long max) {
      this.max = max;
    }

    @Override
    public java.util.concurrent.CompletionStage<String> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(java.util.concurrent.Flow.Subscription s) {
      subscription = s;
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(java.util.List<java.nio.ByteBuffer> items) {
      if (result.isDone()) {
        return;
      }
      for (java.nio.ByteBuffer b : items) {
        if (bytes.size() + (long) b.remaining() > max) {
          subscription.cancel();
          result.completeExceptionally(new BodyTooLargeException(max));
          return;
        }
        byte[] chunk = new byte[b.remaining()];
        b.get(chunk);
        bytes.write(chunk, 0, chunk.length);
      }
    }

    @Override
    public void onError(Throwable t) {
      result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      result.complete(bytes.toString(StandardCharsets.UTF_8));
    }
  }

  private String scrub(String body) {
    if (body == null) {
      return "";
    }
    String out = body;
    for (String s : secrets) {
      if (out.contains(s)) {
        out = out.replace(s, "[REDACTED]");
      }
    }
    return out;
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
