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
import java.util.concurrent.TimeUnit;

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
  /** The {@link #secrets} that look like credentials ({@link #credentialLike}): those scrubbed from a 2xx body before it is read. */
  private final java.util.List<String> answerSecrets;
  /** The fewest characters of a secret header's value or a base URL's secret that are scrubbed from an error body. */
  private static final int MIN_SECRET = 8;
  /** For each of {@link #secrets}, a pattern that also finds it written with JSON escapes ({@code \/}, {@code \}{@code u002d}). */
  private final java.util.List<java.util.regex.Pattern> escapedSecrets;
  /** The patterns of {@link #escapedSecrets} for the {@link #answerSecrets} only. */
  private final java.util.List<java.util.regex.Pattern> escapedAnswerSecrets;
  /** An API key shorter than {@value #MIN_SECRET} characters, found where it stands as a word (escaped or not). */
  private final java.util.List<java.util.regex.Pattern> wordSecrets;
  private static final String WORD_EDGE_BEFORE = "(?<![\\p{L}\\p{N}_\\-])";
  private static final String WORD_EDGE_AFTER = "(?![\\p{L}\\p{N}_\\-])";
  private final Clock clock;

  HttpTransport(Duration connectTimeout, Duration requestTimeout, Map<String, String> headers, String secret, Clock clock) {
    this(connectTimeout, requestTimeout, headers, secret, java.util.Set.of(), clock);
  }

  /**
   * As above, with the secrets of the base URL too ({@code urlSecrets}: its user info and query
   * values), which a server or gateway may quote in an error page; those of {@value #MIN_SECRET}
   * characters or more are scrubbed as a secret header's value is.
   */
  HttpTransport(Duration connectTimeout, Duration requestTimeout, Map<String, String> headers, String secret,
      java.util.Set<String> urlSecrets, Clock clock) {
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
    found.addAll(urlSecrets);
    found.removeIf(v -> v.length() < MIN_SECRET); // too short to be a credential, and too common to replace safely
    java.util.List<java.util.regex.Pattern> words = new java.util.ArrayList<>();
    if (secret != null && secret.length() >= MIN_SECRET) {
      found.add(secret); // the API key itself
    } else if (secret != null && !secret.isEmpty()) {
      // a short key ("x", "none": a local server's placeholder) is scrubbed too, but only where it
      // stands as a word of its own: replaced inside words, "x" would garble "max_tokens"
      words.add(java.util.regex.Pattern.compile(WORD_EDGE_BEFORE + "(?:" + escapedForm(secret).pattern() + ")" + WORD_EDGE_AFTER));
    }
    this.wordSecrets = java.util.List.copyOf(words);
    java.util.List<String> list = new java.util.ArrayList<>(found);
    list.sort(java.util.Comparator.comparingInt(String::length).reversed());
    this.secrets = java.util.List.copyOf(list);
    // a 2xx body is the model's answer: a local server's placeholder key ("ollama", "EMPTY",
    // "anything", "sk-no-key-required", "12345678") is ordinary text there, and replacing it would
    // change the answer or break its JSON; only what looks like a real credential is scrubbed
    this.answerSecrets = list.stream().filter(HttpTransport::credentialLike).toList();
    this.escapedSecrets = list.stream().map(HttpTransport::escapedForm).toList();
    this.escapedAnswerSecrets = answerSecrets.stream().map(HttpTransport::escapedForm).toList();
    this.clock = clock;
  }

  /**
   * A token count from a response's usage field: 0 where it is missing or not a number, bounded as
   * {@link Usage#reported} bounds it.
   */
  static long tokens(JsonNode field) {
    long n = field.isNumber() || field.isTextual() ? field.asLong(0) : 0;
    return Usage.bounded(n);
  }

  /** The fewest characters of a secret scrubbed from a 2xx body. */
  private static final int MIN_ANSWER_SECRET = 16;

  /**
   * Whether {@code secret} looks like a real credential rather than a placeholder: at least
   * {@value #MIN_ANSWER_SECRET} characters, letters and digits among them (a provider's key, a
   * random token). A word, a phrase or a number is not one, and may be ordinary text in an answer.
   */
  static boolean credentialLike(String secret) {
    return secret.length() >= MIN_ANSWER_SECRET && secret.chars().anyMatch(Character::isLetter)
        && secret.chars().anyMatch(Character::isDigit);
  }

  /**
   * A pattern that finds {@code secret} with any of its characters written as a JSON string
   * escape: {@code \}{@code uXXXX} (hex digits in either case), and {@code \/}, {@code \"},
   * {@code \\} for those three. Each character is one of a few fixed-length alternatives, so a
   * search is linear in the text.
   */
  private static java.util.regex.Pattern escapedForm(String secret) {
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < secret.length(); i++) {
      char c = secret.charAt(i);
      re.append("(?:").append(java.util.regex.Pattern.quote(String.valueOf(c)));
      re.append("|\\\\u(?i:").append(String.format(Locale.ROOT, "%04x", (int) c)).append(')');
      if (c == '/' || c == '"' || c == '\\') {
        re.append("|\\\\").append(java.util.regex.Pattern.quote(String.valueOf(c)));
      }
      re.append(')');
    }
    return java.util.regex.Pattern.compile(re.toString());
  }

  /** Whether {@code name} is an HTTP token (RFC 9110 section 5.6.2), as a header name must be. */
  static boolean isToken(String name) {
    if (name.isEmpty()) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /**
   * The index of the first character of {@code value} that an HTTP header value cannot carry,
   * or -1: the JDK's HTTP client accepts space, tab, visible ASCII and U+0080-U+00FF only (no
   * line breaks or other controls, nothing past U+00FF such as a typographic quote), and throws
   * an exception quoting the whole value for anything else.
   */
  static int invalidValueChar(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      boolean ok = c == ' ' || c == '\t' || (c >= 0x21 && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
      if (!ok) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Says what is wrong with the character at {@code index} of a header value, never showing the
   * value: {@code contains a character not allowed in an HTTP header (position 1 of 24: U+201C)}.
   */
  static String describeInvalid(String value, int index) {
    return "contains a character not allowed in an HTTP header (position " + (index + 1) + " of " + value.length() + ": "
        + String.format(Locale.ROOT, "U+%04X", (int) value.charAt(index)) + ")";
  }

  /** {@code s} with every character outside visible ASCII shown as {@code U+XXXX}, for a message. */
  static String printable(String s) {
    StringBuilder b = new StringBuilder();
    s.chars().forEach(c -> b.append(c >= 0x21 && c <= 0x7e ? String.valueOf((char) c) : String.format(Locale.ROOT, "U+%04X", c)));
    return b.toString();
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

  /**
   * An echoed prompt token's log-probability as {@link PromptLogprobs} holds it: NaN for none (the
   * first token's null, a non-number, or a value {@link #num} reads as no probability), else the
   * value (at most 0). The same for a live answer and one replayed from a cache.
   */
  static double echoValue(JsonNode n) {
    double v = n != null && n.isNumber() ? num(n) : Double.NaN;
    return v == Double.NEGATIVE_INFINITY ? Double.NaN : v;
  }

  /**
   * Returns a log-probability node's value (at most 0: a rounding just above 0 is 0), or negative
   * infinity, no probability, for null, missing, a non-number, NaN or a value far above 0.
   */
  static double num(JsonNode n) {
    if (n == null || !n.isNumber()) {
      return Double.NEGATIVE_INFINITY;
    }
    double v = n.asDouble();
    // a log probability is at most 0: a float's rounding above it is 0; what is not finite, or far
    // above 0, is no probability at all (1e999 reads as infinity, and sums with -1e999 to NaN)
    return Double.isNaN(v) || v > 1e-3 ? Double.NEGATIVE_INFINITY : Math.min(v, 0.0);
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
    HttpRequest request;
    try {
      request = rb.build();
    } catch (IllegalArgumentException | IllegalStateException e) {
      // the JDK's message quotes the offending header's value: never passed on
      throw new LlmException("cannot make the request to " + shown + ": a header name or value is not valid HTTP", null);
    }
    HttpResponse<String> resp = exchange(shown, request);
    String requestId = resp.headers().firstValue("x-request-id").orElse("");
    String raw = resp.body() == null ? "" : resp.body();
    int status = resp.statusCode();
    LOG.log(System.Logger.Level.DEBUG, "POST {0} -> {1} request-id={2}", shown, status, requestId);
    if (status >= 200 && status < 300) {
      // as it stands, and with JSON escapes ("\/", a Unicode escape), which decoding would undo
      String text = scrubEscaped(scrubLiteral(raw, answerSecrets), escapedAnswerSecrets);
      JsonNode json;
      try {
        json = JSON.readTree(text);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        // the parser's own text only, without its location (which quotes the body); no cause, for the same reason
        throw new MalformedResponseException("response from " + shown + " is not valid JSON (truncated?): "
            + LlmException.oneLine(scrub(e.getOriginalMessage() == null ? "" : e.getOriginalMessage().lines().findFirst().orElse(""))),
            status, scrub(text), requestId, null, null);
      }
      if (json == null || !json.isObject()) {
        throw new MalformedResponseException("response from " + shown + " is not a JSON object", status, scrub(text), requestId, null, null);
      }
      return new Reply(json, requestId);
    }
    throw error(shown, status, scrub(raw), requestId, resp.headers().map());
  }

  /**
   * Sends the request and reads the whole response within the request timeout. {@link
   * HttpRequest#timeout} alone bounds only the wait for the response headers (a server that sends
   * them and then stalls the body would hang the call), so the body's reader fails and cancels the
   * exchange (its connection aborted) when the time left after the headers runs out.
   *
   * <p>The synchronous {@link HttpClient#send}, not {@code sendAsync(...).get(timeout)}: on JDK 25
   * the future {@code sendAsync} returns is completed through the common {@code ForkJoinPool}, so
   * with that pool's workers all blocked elsewhere in the application (one worker on a 2-core
   * machine) no response ever arrived and every call ran into its timeout; {@code send} needs no
   * pool thread ({@code LlmClientsTest}, on JDK 25).
   */
  private HttpResponse<String> exchange(String shown, HttpRequest request) {
    long deadline = System.nanoTime() + requestTimeout.toNanos();
    CappedText[] body = new CappedText[1];
    try {
      return http.send(request, info -> {
        CappedText text = new CappedText(MAX_BODY_BYTES, deadline - System.nanoTime());
        body[0] = text;
        return text;
      });
    } catch (InterruptedException e) {
      if (body[0] != null) {
        body[0].abort(new IOException("interrupted"));
      }
      Thread.currentThread().interrupt();
      throw new LlmException("interrupted while calling " + shown, e);
    } catch (IOException e) {
      if (causedBy(e, BodyTooLargeException.class)) { // the same server would send it again: not retried
        throw new LlmException("response from " + shown + " is larger than " + (MAX_BODY_BYTES >> 20)
            + " MiB; refused", e);
      }
      if (causedBy(e, HttpConnectTimeoutException.class)) {
        throw new LlmTimeoutException("connect timeout to " + shown, 0, null, null, null, e);
      }
      if (causedBy(e, HttpTimeoutException.class)) {
        throw new LlmTimeoutException("no complete response from " + shown + " within " + requestTimeout, 0, null, null, null, e);
      }
      throw new ConnectionException("I/O error talking to " + shown + ": " + e, 0, null, null, null, e);
    }
  }

  /** Whether {@code e} or one of its causes is a {@code type} ({@code send} wraps the failures it rethrows). */
  private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  /** Fails the bodies that run past their request's deadline; one daemon thread for the JVM. */
  private static final java.util.concurrent.ScheduledThreadPoolExecutor DEADLINES = deadlines();

  private static java.util.concurrent.ScheduledThreadPoolExecutor deadlines() {
    java.util.concurrent.ScheduledThreadPoolExecutor e = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "gecko-llm-deadlines");
      t.setDaemon(true);
      return t;
    });
    e.setRemoveOnCancelPolicy(true); // a body read in time leaves nothing queued
    return e;
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
   * up to {@code max} bytes and until a deadline; past either the exchange is cancelled and fails
   * with {@link BodyTooLargeException} or {@link HttpTimeoutException}, so that a server streaming
   * without end cannot fill the heap and one that stalls cannot hold the call.
   */
  static final class CappedText implements HttpResponse.BodySubscriber<String> {
    private final long max;
    private final CompletableFuture<String> result = new CompletableFuture<>();
    private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    private final java.util.concurrent.ScheduledFuture<?> expiry;
    private volatile java.util.concurrent.Flow.Subscription subscription;

    /** Reads at most {@code max} bytes within {@code nanos} from now. */
    CappedText(long max, long nanos) {
      this.max = max;
      this.expiry = DEADLINES.schedule(
          () -> abort(new HttpTimeoutException("the response body did not end in time")), Math.max(0, nanos), TimeUnit.NANOSECONDS);
    }

    /** Fails the body with {@code cause} and cancels the exchange, unless it has ended. */
    void abort(IOException cause) {
      if (result.completeExceptionally(cause)) {
        java.util.concurrent.Flow.Subscription s = subscription;
        if (s != null) {
          s.cancel();
        }
      }
    }

    @Override
    public java.util.concurrent.CompletionStage<String> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(java.util.concurrent.Flow.Subscription s) {
      subscription = s;
      if (result.isDone()) {
        s.cancel(); // ran out before the body began
        return;
      }
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(java.util.List<java.nio.ByteBuffer> items) {
      if (result.isDone()) {
        return;
      }
      for (java.nio.ByteBuffer b : items) {
        if (bytes.size() + (long) b.remaining() > max) {
          expiry.cancel(false);
          abort(new BodyTooLargeException(max));
          return;
        }
        byte[] chunk = new byte[b.remaining()];
        b.get(chunk);
        bytes.write(chunk, 0, chunk.length);
      }
    }

    @Override
    public void onError(Throwable t) {
      expiry.cancel(false);
      result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      expiry.cancel(false);
      result.complete(bytes.toString(StandardCharsets.UTF_8));
    }
  }

  /** {@code text} with each of {@code secrets}, as it stands, replaced by {@code [REDACTED]} (fast: for 2xx bodies that are read on). */
  private static String scrubLiteral(String text, java.util.List<String> secrets) {
    String out = text;
    for (String s : secrets) {
      if (out.contains(s)) {
        out = out.replace(s, "[REDACTED]");
      }
    }
    return out;
  }

  /**
   * Returns {@code text} with every secret replaced by {@code [REDACTED]}, whether it stands as
   * it is or with characters written as JSON escapes (a server that echoes the key in its error
   * body may write {@code /} as {@code \/}, or any character as a Unicode escape). Every text
   * that goes into an exception's message or body passes through here, decoded text too.
   */
  String scrub(String text) {
    if (text == null) {
      return "";
    }
    String out = scrubEscaped(scrubLiteral(text, secrets), escapedSecrets);
    for (java.util.regex.Pattern p : wordSecrets) {
      out = p.matcher(out).replaceAll("[REDACTED]");
    }
    return out;
  }

  /** {@code text} with each match of {@code escaped} (see {@link #escapedForm}) replaced by {@code [REDACTED]}. */
  private static String scrubEscaped(String text, java.util.List<java.util.regex.Pattern> escaped) {
    String out = text;
    if (!escaped.isEmpty() && out.indexOf('\\') >= 0) { // no escape, no escaped secret
      for (java.util.regex.Pattern p : escaped) {
        out = p.matcher(out).replaceAll("[REDACTED]");
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

  /** The server's message in an error body (decoded from JSON, then scrubbed again), or the body itself on one line. */
  private String errorMessage(String body) {
    try {
      JsonNode n = JSON.readTree(body);
      JsonNode m = n.path("error").path("message");
      if (m.isTextual()) {
        return LlmException.oneLine(LlmException.truncate(scrub(m.asText())));
      }
      if (n.path("message").isTextual()) {
        return LlmException.oneLine(LlmException.truncate(scrub(n.path("message").asText())));
      }
    } catch (IOException | RuntimeException e) {
      // not JSON: fall through
    }
    return body == null ? "" : LlmException.oneLine(LlmException.truncate(body.strip()));
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
      Optional<Duration> d = hint(ms, 1_000);
      if (d.isPresent()) {
        return d;
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
          Optional<Duration> d = hint(delay.substring(0, delay.length() - 1), 1);
          if (d.isPresent()) {
            return d;
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // no hint
    }
    return Optional.empty();
  }

  /**
   * The longest hint a server's answer is read as: a wait of 10^9 seconds (over 31 years) or more
   * reads as this, which is longer than any sensible {@link RetryPolicy#maxRetryAfter()}, so that
   * a retrying client gives up at once rather than retry on its own backoff.
   */
  static final Duration MAX_HINT = Duration.ofSeconds(1_000_000_000L);
  private static final java.util.regex.Pattern DECIMAL = java.util.regex.Pattern.compile("(\\d+)(?:\\.(\\d*))?");

  /**
   * A non-negative decimal number ({@code 30}, {@code 1.5}) of seconds ({@code perSecond} = 1)
   * or milliseconds ({@code perSecond} = 1000) as a wait, {@link #MAX_HINT} at most; empty for
   * anything else (a sign, an exponent, NaN, text).
   */
  private static Optional<Duration> hint(String value, int perSecond) {
    java.util.regex.Matcher m = DECIMAL.matcher(value.strip());
    if (!m.matches()) {
      return Optional.empty();
    }
    String whole = m.group(1).replaceFirst("^0+(?=\\d)", "");
    if (whole.length() > 15) { // past what a double holds exactly; far past MAX_HINT anyway
      return Optional.of(MAX_HINT);
    }
    String frac = m.group(2) == null || m.group(2).isEmpty() ? "0" : m.group(2).substring(0, Math.min(m.group(2).length(), 9));
    double seconds = Double.parseDouble(whole + "." + frac) / perSecond;
    if (seconds >= MAX_HINT.getSeconds()) {
      return Optional.of(MAX_HINT);
    }
    return Optional.of(Duration.ofMillis((long) (seconds * 1000)));
  }

  /**
   * Parses a Retry-After value: delta-seconds (a fraction, which some servers send, is read too)
   * or an HTTP date in any of the three forms RFC 9110 (section 5.6.7) has recipients accept:
   * IMF-fixdate ({@code Sun, 06 Nov 1994 08:49:37 GMT}), the obsolete RFC 850 form ({@code
   * Sunday, 06-Nov-94 08:49:37 GMT}, its two-digit year read as the year with those digits
   * nearest to now, never more than 50 years ahead) and the asctime form ({@code Sun Nov  6
   * 08:49:37 1994}). A date in the past is a wait of zero; a wait of 10^9 seconds or more is
   * {@link #MAX_HINT}, so that the retries end at once. Empty for anything else.
   */
  static Optional<Duration> parseRetryAfter(String value, Clock clock) {
    String v = value.strip();
    if (v.isEmpty()) {
      return Optional.empty();
    }
    if (v.charAt(0) >= '0' && v.charAt(0) <= '9') {
      return hint(v, 1);
    }
    Instant at = httpDate(v, clock);
    if (at == null) {
      return Optional.empty();
    }
    Duration d = Duration.between(clock.instant(), at);
    return Optional.of(d.isNegative() ? Duration.ZERO : d.compareTo(MAX_HINT) > 0 ? MAX_HINT : d);
  }

  /** IMF-fixdate read without its day name, which the JDK's RFC 1123 parser checks against the date. */
  private static final java.util.regex.Pattern IMF_FIXDATE = java.util.regex.Pattern.compile(
      "[A-Za-z]{3}, (\\d{2}) ([A-Za-z]{3}) (\\d{4}) (\\d{2}):(\\d{2}):(\\d{2}) GMT");
  private static final java.util.regex.Pattern RFC_850 = java.util.regex.Pattern.compile(
      "[A-Za-z]+, (\\d{2})-([A-Za-z]{3})-(\\d{2}) (\\d{2}):(\\d{2}):(\\d{2}) GMT");
  private static final java.util.regex.Pattern ASCTIME = java.util.regex.Pattern.compile(
      "[A-Za-z]{3} ([A-Za-z]{3}) ([ \\d]\\d) (\\d{2}):(\\d{2}):(\\d{2}) (\\d{4})");
  private static final java.util.List<String> MONTHS = java.util.List.of("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
      "sep", "oct", "nov", "dec");

  /** An HTTP date in one of its three forms, or null. The day name is not checked against the date. */
  private static Instant httpDate(String v, Clock clock) {
    try {
      return ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
    } catch (DateTimeParseException e) {
      // an obsolete form?
    }
    try {
      java.util.regex.Matcher m = IMF_FIXDATE.matcher(v);
      if (m.matches()) { // a day name that does not match the date (a server's bug): the date decides
        return utc(Integer.parseInt(m.group(3)), m.group(2), m.group(1), m.group(4), m.group(5), m.group(6));
      }
      m = RFC_850.matcher(v);
      if (m.matches()) {
        int now = clock.instant().atZone(java.time.ZoneOffset.UTC).getYear();
        int year = now - Math.floorMod(now, 100) + Integer.parseInt(m.group(3));
        if (year > now + 50) {
          year -= 100;
        } else if (year <= now - 50) {
          year += 100;
        }
        return utc(year, m.group(2), m.group(1), m.group(4), m.group(5), m.group(6));
      }
      m = ASCTIME.matcher(v);
      if (m.matches()) {
        return utc(Integer.parseInt(m.group(6)), m.group(1), m.group(2).strip(), m.group(3), m.group(4), m.group(5));
      }
    } catch (java.time.DateTimeException | NumberFormatException e) {
      // a 31st of February, say
    }
    return null;
  }

  private static Instant utc(int year, String month, String day, String hour, String minute, String second) {
    int mon = MONTHS.indexOf(month.toLowerCase(Locale.ROOT)) + 1;
    if (mon == 0) {
      throw new java.time.DateTimeException("no month " + month);
    }
    return java.time.LocalDateTime.of(year, mon, Integer.parseInt(day), Integer.parseInt(hour), Integer.parseInt(minute),
        Integer.parseInt(second)).toInstant(java.time.ZoneOffset.UTC);
  }
}
