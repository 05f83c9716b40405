package dev.gecko.spark;

import dev.gecko.train.llm.Capability;
import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmClients;
import dev.gecko.train.llm.PriceTable;
import dev.gecko.train.llm.RetryPolicy;
import java.io.Serializable;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What an executor needs to build its LLM client, as a serializable value: the provider, base URL
 * and model, the capabilities declared, the timeouts and retries, a Gemini model's thinking
 * budget, and the prices. {@link
 * FretSparkJob} ships it to the executors, each of which builds one client stack from it (gecko-train's
 * {@link LlmClients}: the HTTP client under a concurrency limit and retries, shared by the
 * executor's tasks; each task meters and caches over it).
 *
 * <p>API keys never travel with it: each JVM reads {@code OPENAI_API_KEY} or {@code GEMINI_API_KEY}
 * (and the base URL variables, where no base URL is set) from its own environment, as {@code gecko
 * generate} does; set them on the executors with {@code spark.executorEnv.OPENAI_API_KEY} (and add
 * the name to {@code spark.redaction.regex}: docs/spark.md). A base URL with user info or a query is
 * refused, since the spec is serialised to every executor.
 *
 * <p>Immutable and thread-safe. Holds no resources.
 */
public final class LlmSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The LLM's protocol. Immutable and thread-safe. */
  public enum Provider {
    /** Any OpenAI-compatible server (OpenAI, vLLM, llama.cpp, Ollama, ...). */
    OPENAI,
    /** Gemini {@code generateContent}. */
    GEMINI
  }

  private final Provider provider;
  private final String baseUrl;
  private final String model;
  private final EnumSet<Capability> capabilities;
  private final Duration requestTimeout;
  private final int maxRetries;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final double priceInput;
  private final double priceOutput;
  /** A Gemini model's thinking budget, or null for none sent. */
  private final Integer thinkingBudget;

  private LlmSpec(Builder b) {
    this.provider = b.provider;
    this.baseUrl = b.baseUrl;
    this.model = b.model;
    this.capabilities = b.capabilities.isEmpty() ? EnumSet.noneOf(Capability.class) : EnumSet.copyOf(b.capabilities);
    this.requestTimeout = b.requestTimeout;
    this.maxRetries = b.maxRetries;
    this.initialBackoff = b.initialBackoff;
    this.maxBackoff = b.maxBackoff;
    this.priceInput = b.priceInput;
    this.priceOutput = b.priceOutput;
    this.thinkingBudget = b.thinkingBudget;
  }

  /** Returns a builder for a client of {@code provider} and {@code model}. */
  public static Builder builder(Provider provider, String model) {
    return new Builder(provider, model);
  }

  /** Returns the model name sent to the server. */
  public String model() {
    return model;
  }

  /** Returns the prices. */
  public PriceTable prices() {
    return new PriceTable(priceInput, priceOutput);
  }

  /** Returns the retry policy. */
  RetryPolicy retryPolicy() {
    return RetryPolicy.builder().maxRetries(maxRetries).initialBackoff(initialBackoff).maxBackoff(maxBackoff).build();
  }

  /**
   * Builds the HTTP client (no call is made), reading keys and base URL defaults from {@code env}.
   *
   * @throws IllegalArgumentException if a setting is refused by the client's builder
   */
  LlmClient http(Map<String, String> env) {
    if (provider == Provider.OPENAI) {
      LlmClients.OpenAiBuilder b = LlmClients.openAiCompatible().fromEnvironment(env).model(model).capabilities(capabilities)
          .requestTimeout(requestTimeout);
      if (baseUrl != null) {
        b.baseUrl(baseUrl);
      }
      return b.build();
    }
    LlmClients.GeminiBuilder b = LlmClients.gemini().fromEnvironment(env).model(model).capabilities(capabilities)
        .requestTimeout(requestTimeout);
    if (thinkingBudget != null) {
      b.thinkingBudget(thinkingBudget);
    }
    if (baseUrl != null) {
      b.baseUrl(baseUrl);
    }
    return b.build();
  }

  /** What identifies the client stack an executor builds (equal specs share one). */
  String key() {
    return provider + "|" + baseUrl + "|" + model + "|" + capabilities + "|" + requestTimeout + "|" + maxRetries + "|"
        + initialBackoff + "|" + maxBackoff + "|" + thinkingBudget;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LlmSpec s && s.key().equals(key()) && s.priceInput == priceInput && s.priceOutput == priceOutput;
  }

  @Override
  public int hashCode() {
    return key().hashCode();
  }

  @Override
  public String toString() {
    return "LlmSpec[" + provider + ", " + model + (baseUrl != null ? ", " + LlmClients.shownUrl(baseUrl) : "") + ", "
        + capabilities + "]";
  }

  /** Builds an {@link LlmSpec}. Setters validate at once. Reusable; not thread-safe. */
  public static final class Builder {
    private final Provider provider;
    private final String model;
    private String baseUrl;
    private Set<Capability> capabilities = EnumSet.of(Capability.JSON_OUTPUT, Capability.TOP_LOGPROBS);
    private Duration requestTimeout = LlmClients.DEFAULT_REQUEST_TIMEOUT;
    private int maxRetries = 5;
    private Duration initialBackoff = Duration.ofSeconds(1);
    private Duration maxBackoff = Duration.ofSeconds(60);
    private double priceInput;
    private double priceOutput;
    private Integer thinkingBudget;

    private Builder(Provider provider, String model) {
      this.provider = Objects.requireNonNull(provider, "provider is null");
      if (model == null || model.isBlank()) {
        throw new IllegalArgumentException("model name must not be blank");
      }
      this.model = model;
    }

    /**
     * Sets the base URL (default: the environment's {@code OPENAI_BASE_URL} / {@code
     * GEMINI_BASE_URL} on each JVM, else the provider's).
     *
     * @throws IllegalArgumentException if it is not an http(s) URL with a host name (the message
     *     never shows its user info or query)
     */
    public Builder baseUrl(String url) {
      if (url == null) {
        throw new IllegalArgumentException("baseUrl must start with http:// or https://, was 'null'");
      }
      String checked = LlmClients.checkBaseUrl(url); // the clients' own check, on the driver
      java.net.URI u = java.net.URI.create(checked.strip());
      if (u.getRawUserInfo() != null || u.getRawQuery() != null || u.getRawFragment() != null) {
        // it is serialised to every executor and may show in Spark's UI: no place for a credential
        throw new IllegalArgumentException("baseUrl must not hold user info, a query or a fragment (it travels to every"
            + " executor; give keys through the environment): " + LlmClients.shownUrl(checked));
      }
      this.baseUrl = checked;
      return this;
    }

    /**
     * Declares what the server supports (default JSON output and top log-probabilities, as the
     * clients' builders).
     *
     * @throws IllegalArgumentException for Gemini with {@link Capability#PROMPT_LOGPROBS}
     */
    public Builder capabilities(Set<Capability> caps) {
      Objects.requireNonNull(caps, "capabilities is null");
      if (provider == Provider.GEMINI && caps.contains(Capability.PROMPT_LOGPROBS)) {
        throw new IllegalArgumentException("Gemini returns log-probabilities of generated tokens only; PROMPT_LOGPROBS is not available");
      }
      this.capabilities = caps.isEmpty() ? EnumSet.noneOf(Capability.class) : EnumSet.copyOf(caps);
      return this;
    }

    /**
     * Sets the timeout of one request (default 120 s).
     *
     * @throws IllegalArgumentException if not positive
     */
    public Builder requestTimeout(Duration d) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("requestTimeout must be > 0, was " + d);
      }
      this.requestTimeout = d;
      return this;
    }

    /**
     * Sets the retries of a failed call (429, 5xx, timeouts, I/O, truncated bodies; default 5)
     * and the backoff: {@code initial} doubling up to {@code max}, with jitter, or the server's
     * Retry-After.
     *
     * @throws IllegalArgumentException if {@code maxRetries < 0} or a backoff is not positive
     */
    public Builder retries(int maxRetries, Duration initial, Duration max) {
      if (maxRetries < 0) {
        throw new IllegalArgumentException("maxRetries must be >= 0, was " + maxRetries);
      }
      RetryPolicy.builder().maxRetries(maxRetries).initialBackoff(initial).maxBackoff(max).build(); // validates
      this.maxRetries = maxRetries;
      this.initialBackoff = initial;
      this.maxBackoff = max;
      return this;
    }

    /**
     * Sets the prices per million prompt and completion tokens, for the cost reported (default 0).
     *
     * @throws IllegalArgumentException if negative
     */
    public Builder prices(double inputPerMillion, double outputPerMillion) {
      new PriceTable(inputPerMillion, outputPerMillion); // validates
      this.priceInput = inputPerMillion;
      this.priceOutput = outputPerMillion;
      return this;
    }

    /**
     * Sets a Gemini model's thinking budget ({@link LlmClients.GeminiBuilder#thinkingBudget}; default:
     * none sent, the model's own).
     *
     * @throws IllegalArgumentException if negative, or the provider is not {@link Provider#GEMINI}
     */
    public Builder thinkingBudget(int tokens) {
      if (provider != Provider.GEMINI) {
        throw new IllegalArgumentException("thinkingBudget is a Gemini setting; the provider is " + provider);
      }
      LlmClients.gemini().thinkingBudget(tokens); // validates
      this.thinkingBudget = tokens;
      return this;
    }

    /** Builds the spec. */
    public LlmSpec build() {
      return new LlmSpec(this);
    }
  }
}
