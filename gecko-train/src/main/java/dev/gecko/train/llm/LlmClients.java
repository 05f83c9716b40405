package dev.gecko.train.llm;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Builds LLM clients and decorates them. A typical stack, outermost first:
 *
 * <pre>{@code
 * UsageMeter meter = new UsageMeter(new PriceTable(0.15, 0.60));
 * LlmClient http = LlmClients.openAiCompatible().fromEnvironment(System.getenv())
 *     .baseUrl("http://localhost:8000/v1").model("Qwen/Qwen2.5-7B-Instruct")
 *     .capabilities(EnumSet.allOf(Capability.class)).build();
 * LlmClient llm = LlmClients.caching(
 *     LlmClients.metered(LlmClients.concurrencyLimited(LlmClients.retrying(http, RetryPolicy.builder().build()), 8), meter),
 *     Path.of("run/cache"), meter);
 * }</pre>
 *
 * <p>The cache sits outside the meter so cached answers cost nothing; the meter sits outside the
 * retries so it counts each call once, as a call or a failure, while the tokens of every attempt
 * the provider billed are counted, those of retried attempts too (see {@link #metered}). The
 * concurrency limit sits outside the retries, so that a call waiting for a permit meets a
 * rate-limit pause before its first request (see {@link #standard}). {@link #standard} builds
 * exactly this stack.
 *
 * <h2>Environment</h2>
 * <table>
 *   <caption>Variables read by {@code fromEnvironment}</caption>
 *   <tr><th>Variable</th><th>Client</th><th>Meaning</th></tr>
 *   <tr><td>{@code OPENAI_API_KEY}</td><td>OpenAI-compatible</td><td>Bearer token (optional for local servers)</td></tr>
 *   <tr><td>{@code OPENAI_BASE_URL}</td><td>OpenAI-compatible</td><td>base URL, default {@value #OPENAI_DEFAULT_BASE_URL}</td></tr>
 *   <tr><td>{@code GEMINI_API_KEY}</td><td>Gemini</td><td>{@code x-goog-api-key} (falls back to {@code GOOGLE_API_KEY})</td></tr>
 *   <tr><td>{@code GEMINI_BASE_URL}</td><td>Gemini</td><td>base URL, default {@value #GEMINI_DEFAULT_BASE_URL}</td></tr>
 * </table>
 *
 * <p>All clients and decorators are thread-safe; build one stack per run and share it among its
 * threads. Nothing here needs closing: a decorator shares (never owns) its inner client and the
 * meter, policy and cache folder it is given, and each HTTP client has its own connection pool,
 * released when the client is no longer reachable. This class has no state.
 */
public final class LlmClients {
  /** OpenAI's base URL (the API version is part of it, as in the official SDKs). */
  public static final String OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1";
  /** Google AI Studio's Gemini base URL (the {@code /v1beta} path is added per request). */
  public static final String GEMINI_DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com";
  /** Default connect timeout. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  /** Default timeout for a whole request (response fully read). */
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(120);

  private LlmClients() {}

  /** Returns a builder for an OpenAI-compatible client (OpenAI, vLLM, llama.cpp server, Ollama, ...). */
  public static OpenAiBuilder openAiCompatible() {
    return new OpenAiBuilder();
  }

  /** Returns a builder for a Gemini {@code generateContent} client. */
  public static GeminiBuilder gemini() {
    return new GeminiBuilder();
  }

  /** Retries retryable failures according to {@code policy}. */
  public static LlmClient retrying(LlmClient client, RetryPolicy policy) {
    return new RetryingClient(Objects.requireNonNull(client, "client is null"), Objects.requireNonNull(policy, "policy is null"));
  }

  /**
   * Allows at most {@code maxInFlight} concurrent calls; others block until a call finishes.
   *
   * @throws IllegalArgumentException if {@code maxInFlight < 1}
   */
  public static LlmClient concurrencyLimited(LlmClient client, int maxInFlight) {
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be >= 1, was " + maxInFlight);
    }
    return new ConcurrencyLimitedClient(Objects.requireNonNull(client, "client is null"), maxInFlight);
  }

  /**
   * Adds every successful call's token usage to {@code meter}, and counts every failed call with
   * the tokens billed for it ({@link LlmException#billedUsage()}: a 2xx answer rejected as
   * unusable is billed all the same). Attempts that a {@link #retrying} client inside it retries
   * are not calls or failures here, but their billed tokens are added as they are retried; so
   * every billed attempt is counted once, and a metering client inside the retries instead counts
   * each attempt as a call or a failure. This needs the retries to run on the calling thread, as
   * {@link #retrying}'s do.
   */
  public static LlmClient metered(LlmClient client, UsageMeter meter) {
    return new MeteredClient(Objects.requireNonNull(client, "client is null"), Objects.requireNonNull(meter, "meter is null"));
  }

  /**
   * Answers repeated requests from files under {@code dir}, keyed by the SHA-256 of the canonical
   * request: where the answers come from ({@link LlmClient#endpoint()}: provider kind and base URL,
   * never a secret), the model, the client's capabilities, and the messages and options (or the
   * scored prompt). Clients of different servers may share {@code dir}: they never answer each
   * other's requests. Entries are written atomically; unreadable entries are ignored. Cache hits
   * are counted on {@code meter}.
   *
   * @throws java.io.UncheckedIOException if {@code dir} cannot be created
   */
  public static LlmClient caching(LlmClient client, Path dir, UsageMeter meter) {
    return new CachingClient(Objects.requireNonNull(client, "client is null"), Objects.requireNonNull(dir, "dir is null"),
        Objects.requireNonNull(meter, "meter is null"));
  }

  /**
   * Returns {@code url} reduced to what identifies a server, for {@link LlmClient#endpoint()}: the
   * scheme and host in lower case, the port unless it is the scheme's default, and the path
   * without trailing slashes; never the user info, query or fragment, where secrets may sit
   * ({@code https://user:pw@API.example.com:443/v1/?key=k} becomes {@code
   * https://api.example.com/v1}). Parsed by {@link URI}.
   *
   * @throws IllegalArgumentException if it is not a URL with a scheme and a host name (the message
   *     shows it as {@link #shownUrl} does)
   */
  public static String endpointUrl(String url) {
    Objects.requireNonNull(url, "url is null");
    URI u;
    try {
      u = new URI(url.strip());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("not a URL: " + shownUrl(url));
    }
    if (u.getScheme() == null || u.getHost() == null) {
      throw new IllegalArgumentException("not a URL with a scheme and a host name: " + shownUrl(url));
    }
    return server(u);
  }

  /** Scheme, host, port unless the default, and path without trailing slashes of a URI with a host. */
  private static String server(URI u) {
    String scheme = u.getScheme().toLowerCase(Locale.ROOT);
    int port = u.getPort();
    boolean defaultPort = port < 0 || (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
    String path = u.getRawPath() == null ? "" : u.getRawPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    return scheme + "://" + u.getHost().toLowerCase(Locale.ROOT) + (defaultPort ? "" : ":" + port) + path;
  }

  /**
   * Returns {@code url} as messages and logs may show it: {@link #endpointUrl} where it parses;
   * otherwise the string cut at its first {@code ?} or {@code #}, with everything between {@code
   * ://} and the last {@code @} before the cut replaced by {@code ***}, so that neither a query
   * nor user info is shown even in a malformed URL.
   */
  public static String shownUrl(String url) {
    if (url == null) {
      return "null";
    }
    String s = url.strip();
    try {
      URI u = new URI(s);
      if (u.getScheme() != null && u.getHost() != null) {
        return server(u);
      }
    } catch (URISyntaxException e) {
      // shown redacted below
    }
    int at = s.lastIndexOf('@');
    if (at >= 0) {
      int sep = s.indexOf("://");
      s = (sep >= 0 && sep < at ? s.substring(0, sep + 3) : "") + "***" + s.substring(at);
    }
    for (char c : new char[] {'?', '#'}) {
      int cut = s.indexOf(c);
      if (cut >= 0) {
        s = s.substring(0, cut);
      }
    }
    return s;
  }

  /** An environment variable's value, null when it is missing or blank. */
  static String set(Map<String, String> env, String name) {
    String v = env.get(name);
    return v == null || v.isBlank() ? null : v;
  }

  /**
   * Returns {@code url} without leading and trailing white space (a line end copied from a CRLF
   * {@code .env} file, say) if it can be a client's base URL: an http(s) URL with a host name. The
   * check of {@link HttpBuilder#baseUrl}, for those that keep a base URL to build clients from
   * later. The URL returned is the one requests are sent to; it may hold user info or a query,
   * which no message, log or {@link LlmClient#endpoint()} ever shows ({@link #shownUrl}).
   *
   * @throws IllegalArgumentException if it is not (the message never shows its user info or
   *     query)
   */
  public static String checkBaseUrl(String url) {
    Objects.requireNonNull(url, "baseUrl is null");
    String u = url.strip();
    if (!u.regionMatches(true, 0, "http://", 0, 7) && !u.regionMatches(true, 0, "https://", 0, 8)) {
      throw new IllegalArgumentException("baseUrl must start with http:// or https://, was '" + shownUrl(u) + "'");
    }
    try {
      endpointUrl(u);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("baseUrl: " + e.getMessage());
    }
    return u;
  }

  /**
   * The parts of a base URL that may hold a secret: its user info (whole, and the part after
   * {@code :}), and the query values whose parameter name says so ({@code key}, {@code token},
   * {@code sig}, as a secret header's name does) or that look like a credential (letters and digits,
   * 16 characters or more), as written and decoded. Not a value such as {@code api-version}'s
   * {@code 2024-10-21}, which an error message should show. Empty where there is none or the URL
   * does not parse.
   */
  static Set<String> urlSecrets(String url) {
    Set<String> out = new java.util.HashSet<>();
    if (url == null) {
      return out;
    }
    URI u;
    try {
      u = new URI(url.strip());
    } catch (URISyntaxException e) {
      return out;
    }
    String user = u.getRawUserInfo();
    if (user != null) {
      out.add(user);
      out.add(user.substring(user.indexOf(':') + 1));
      out.add(java.net.URLDecoder.decode(user.substring(user.indexOf(':') + 1), java.nio.charset.StandardCharsets.UTF_8));
    }
    String query = u.getRawQuery();
    if (query != null) {
      for (String pair : query.split("&")) {
        int eq = pair.indexOf('=');
        String name = eq < 0 ? "" : pair.substring(0, eq);
        String value = pair.substring(eq + 1);
        String decoded = value;
        try {
          decoded = java.net.URLDecoder.decode(value, java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
          // a malformed escape: the raw value stands for it
        }
        if ((!name.isEmpty() && (HttpTransport.isSecret(name) || name.equalsIgnoreCase("sig")))
            || HttpTransport.credentialLike(decoded)) {
          out.add(value);
          out.add(decoded);
        }
      }
    }
    out.removeIf(String::isEmpty);
    return out;
  }

  /**
   * The usual stack: cache (if {@code cacheDir} is not null) over meter over a concurrency limit
   * over retries over {@code http}. The limit counts a call from its first attempt to its last, its
   * waits between them included; so a call queued on the limit enters the retries only once a
   * permit is free, and then waits out a rate-limit pause that another call met meanwhile
   * ({@link #retrying}) before its first request.
   */
  public static LlmClient standard(LlmClient http, int maxInFlight, RetryPolicy policy, UsageMeter meter, Path cacheDir) {
    LlmClient c = metered(concurrencyLimited(retrying(http, policy), maxInFlight), meter);
    return cacheDir == null ? c : caching(c, cacheDir, meter);
  }

  /**
   * Settings shared by the HTTP clients' builders. Not thread-safe: use a builder from one thread.
   * Reusable: each {@code build()} returns a new, independent client from the current settings,
   * and the builder keeps no reference to it.
   */
  public abstract static class HttpBuilder<B extends HttpBuilder<B>> {
    String baseUrl;
    String apiKey;
    String model;
    Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
    Set<Capability> capabilities;
    Clock clock = Clock.systemUTC();
    /** Headers the JDK's HTTP client refuses to let a caller set. */
    private static final Set<String> RESTRICTED_HEADERS = Set.of("connection", "content-length", "expect", "host", "upgrade");
    final Map<String, String> extraHeaders = new LinkedHashMap<>();

    HttpBuilder(String baseUrl) {
      this.baseUrl = baseUrl;
    }

    abstract B self();

    /**
     * Sets the base URL, leading and trailing white space removed ({@link #checkBaseUrl}).
     *
     * @throws IllegalArgumentException if it is not an http(s) URL with a host name (the message
     *     never shows its user info or query)
     */
    public B baseUrl(String url) {
      this.baseUrl = checkBaseUrl(url);
      return self();
    }

    /** The base URL the client will use: the one set, else the environment's, else the provider's. */
    public String baseUrl() {
      return baseUrl;
    }

    /** Whether an API key is set (here or from the environment); the key itself is never handed out. */
    public boolean hasApiKey() {
      return apiKey != null;
    }

    /**
     * Sets the API key (null or empty for none), leading and trailing white space removed. Never
     * logged. A key with a character that an HTTP header cannot carry is refused by {@code
     * build()}.
     */
    public B apiKey(String key) {
      this.apiKey = key == null || key.isBlank() ? null : key.strip();
      return self();
    }

    /**
     * Sets the model name.
     *
     * @throws IllegalArgumentException if blank
     */
    public B model(String name) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("model name must not be blank");
      }
      this.model = name;
      return self();
    }

    /** Sets the connect timeout (default 10 s). */
    public B connectTimeout(Duration d) {
      this.connectTimeout = positive(d, "connectTimeout");
      return self();
    }

    /** Sets the timeout for a whole request, response included (default 120 s). */
    public B requestTimeout(Duration d) {
      this.requestTimeout = positive(d, "requestTimeout");
      return self();
    }

    /**
     * Declares what the server and model support (default: {@link Capability#JSON_OUTPUT} and
     * {@link Capability#TOP_LOGPROBS}).
     */
    public B capabilities(Set<Capability> caps) {
      Objects.requireNonNull(caps, "capabilities is null");
      this.capabilities = caps.isEmpty() ? EnumSet.noneOf(Capability.class) : EnumSet.copyOf(caps);
      return self();
    }

    /** Sets the clock used to read HTTP-date Retry-After values. */
    public B clock(Clock c) {
      this.clock = Objects.requireNonNull(c, "clock is null");
      return self();
    }

    /**
     * Adds a header sent with every request (e.g. {@code OpenAI-Organization}).
     *
     * @throws IllegalArgumentException for headers the client sets itself, for those the JDK's
     *     HTTP client refuses to send ({@code Connection}, {@code Content-Length}, {@code Expect},
     *     {@code Host}, {@code Upgrade}), for a name that is not an HTTP token, and for a value with
     *     a character an HTTP header cannot carry (a line break, a character past U+00FF such as a
     *     typographic quote); the message gives its position, never the value
     */
    public B header(String name, String value) {
      String n = Objects.requireNonNull(name, "name is null").toLowerCase(java.util.Locale.ROOT);
      Objects.requireNonNull(value, "value is null");
      if (n.equals("content-type") || n.equals("authorization") || n.equals("x-goog-api-key")) {
        throw new IllegalArgumentException("header " + name + " is set by the client");
      }
      if (RESTRICTED_HEADERS.contains(n)) {
        throw new IllegalArgumentException("header " + name + " is set by the HTTP client and cannot be set");
      }
      if (!HttpTransport.isToken(name)) {
        throw new IllegalArgumentException("'" + HttpTransport.printable(name) + "' is not a valid HTTP header name");
      }
      int bad = HttpTransport.invalidValueChar(value);
      if (bad >= 0) {
        throw new IllegalArgumentException("the value of header " + name + " " + HttpTransport.describeInvalid(value, bad));
      }
      extraHeaders.put(name, value);
      return self();
    }

    void checkModel() {
      if (model == null) {
        throw new IllegalStateException("no model set: call model(name)");
      }
    }

    /** Returns the declared capabilities, or both clients' default: JSON output and top log-probabilities. */
    Set<Capability> capabilitiesOrDefault() {
      return capabilities != null ? capabilities : EnumSet.of(Capability.JSON_OUTPUT, Capability.TOP_LOGPROBS);
    }

    /**
     * Returns a transport that sends the extra headers, and the API key (if any) as {@code
     * keyHeader: keyPrefix + key}.
     *
     * @throws IllegalArgumentException if the API key has a character an HTTP header cannot carry
     *     (the message gives its position, never the key)
     */
    HttpTransport transport(String keyHeader, String keyPrefix) {
      Map<String, String> h = new LinkedHashMap<>(extraHeaders);
      if (apiKey != null) {
        int bad = HttpTransport.invalidValueChar(apiKey);
        if (bad >= 0) {
          throw new IllegalArgumentException("the API key " + HttpTransport.describeInvalid(apiKey, bad)
              + "; check for quotes or a line break copied with it");
        }
        h.put(keyHeader, keyPrefix + apiKey);
      }
      return new HttpTransport(connectTimeout, requestTimeout, h, apiKey, urlSecrets(baseUrl), clock);
    }

    private static Duration positive(Duration d, String name) {
      Objects.requireNonNull(d, name + " is null");
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be > 0, was " + d);
      }
      return d;
    }
  }

  /**
   * Builds an OpenAI-compatible client. Default capabilities: {@link Capability#JSON_OUTPUT} and
   * {@link Capability#TOP_LOGPROBS}; add {@link Capability#PROMPT_LOGPROBS} for vLLM (echo with
   * logprobs on {@code /v1/completions}). Not thread-safe; reusable (see {@link HttpBuilder}).
   */
  public static final class OpenAiBuilder extends HttpBuilder<OpenAiBuilder> {
    OpenAiBuilder() {
      super(OPENAI_DEFAULT_BASE_URL);
    }

    @Override
    OpenAiBuilder self() {
      return this;
    }

    /** Reads {@code OPENAI_API_KEY} and {@code OPENAI_BASE_URL} from {@code env} where set. */
    public OpenAiBuilder fromEnvironment(Map<String, String> env) {
      String key = set(env, "OPENAI_API_KEY");
      if (key != null) {
        apiKey(key);
      }
      if (env.get("OPENAI_BASE_URL") != null && !env.get("OPENAI_BASE_URL").isBlank()) {
        baseUrl(env.get("OPENAI_BASE_URL"));
      }
      return this;
    }

    /**
     * Builds the client.
     *
     * @throws IllegalStateException if no model is set
     * @throws IllegalArgumentException if the API key has a character an HTTP header cannot carry
     *     (a typographic quote, a line break); the message gives its position, never the key
     */
    public LlmClient build() {
      checkModel();
      return new OpenAiClient(baseUrl, model, capabilitiesOrDefault(), transport("Authorization", "Bearer "));
    }
  }

  /**
   * Builds a Gemini client. Default capabilities: {@link Capability#JSON_OUTPUT} and {@link
   * Capability#TOP_LOGPROBS} (remove the latter for models that answer "Logprobs is not enabled").
   * Gemini never offers {@link Capability#PROMPT_LOGPROBS}. Not thread-safe; reusable (see {@link
   * HttpBuilder}).
   */
  public static final class GeminiBuilder extends HttpBuilder<GeminiBuilder> {
    private int thinkingBudget = -1;

    GeminiBuilder() {
      super(GEMINI_DEFAULT_BASE_URL);
    }

    @Override
    GeminiBuilder self() {
      return this;
    }

    /**
     * Sets how many tokens the model may think before it answers, sent as {@code
     * generationConfig.thinkingConfig.thinkingBudget} and added to each request's {@code
     * maxOutputTokens} (which counts thoughts too, so a grade's few tokens still fit). Gemini 2.5
     * and later models think by default; given a grade's 1-4 tokens they spend them all on thoughts
     * and answer nothing, which stops a run with an {@link LlmException} that says to set this.
     * {@code 0} turns thinking off where the model allows it (Gemini 2.5 Flash and Flash-Lite);
     * models that cannot stop thinking (Gemini 2.5 Pro) take a budget from 128. This is the
     * Gemini 2.5 API's setting; models that are set by a thinking level instead may refuse it,
     * and this client sends no level. Default: none sent, the model's own default.
     *
     * @throws IllegalArgumentException if negative
     */
    public GeminiBuilder thinkingBudget(int tokens) {
      if (tokens < 0) {
        throw new IllegalArgumentException("thinkingBudget must be >= 0, was " + tokens);
      }
      this.thinkingBudget = tokens;
      return this;
    }

    /** Reads {@code GEMINI_API_KEY} (or {@code GOOGLE_API_KEY}) and {@code GEMINI_BASE_URL} from {@code env}. */
    public GeminiBuilder fromEnvironment(Map<String, String> env) {
      // a blank variable is unset: GEMINI_API_KEY="" beside GOOGLE_API_KEY sends the Google key
      String key = set(env, "GEMINI_API_KEY") != null ? set(env, "GEMINI_API_KEY") : set(env, "GOOGLE_API_KEY");
      if (key != null) {
        apiKey(key);
      }
      if (env.get("GEMINI_BASE_URL") != null && !env.get("GEMINI_BASE_URL").isBlank()) {
        baseUrl(env.get("GEMINI_BASE_URL"));
      }
      return this;
    }

    /**
     * Builds the client.
     *
     * @throws IllegalStateException if no model is set
     * @throws IllegalArgumentException if the capabilities include {@link Capability#PROMPT_LOGPROBS},
     *     or the API key has a character an HTTP header cannot carry (a typographic quote, a line
     *     break; the message gives its position, never the key)
     */
    public LlmClient build() {
      checkModel();
      Set<Capability> caps = capabilitiesOrDefault();
      if (caps.contains(Capability.PROMPT_LOGPROBS)) {
        throw new IllegalArgumentException("Gemini returns log-probabilities of generated tokens only; PROMPT_LOGPROBS is not available");
      }
      return new GeminiClient(baseUrl, model, caps, transport("x-goog-api-key", ""), thinkingBudget);
    }
  }
}
