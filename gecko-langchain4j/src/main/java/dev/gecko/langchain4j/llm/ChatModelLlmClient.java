package dev.gecko.langchain4j.llm;

import dev.gecko.train.llm.AuthenticationException;
import dev.gecko.train.llm.BadRequestException;
import dev.gecko.train.llm.Capability;
import dev.gecko.train.llm.ConnectionException;
import dev.gecko.train.llm.GenerationOptions;
import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmClients;
import dev.gecko.train.llm.LlmException;
import dev.gecko.train.llm.LlmRequest;
import dev.gecko.train.llm.LlmResponse;
import dev.gecko.train.llm.LlmTimeoutException;
import dev.gecko.train.llm.Message;
import dev.gecko.train.llm.ModelNotFoundException;
import dev.gecko.train.llm.RateLimitException;
import dev.gecko.train.llm.ServerException;
import dev.gecko.train.llm.UnsupportedCapabilityException;
import dev.gecko.train.llm.Usage;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.InvalidRequestException;
import dev.langchain4j.exception.LangChain4jException;
import dev.langchain4j.exception.NonRetriableException;
import dev.langchain4j.exception.RetriableException;
import dev.langchain4j.exception.TimeoutException;
import dev.langchain4j.exception.UnresolvedModelServerException;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.http.HttpTimeoutException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Any LangChain4j {@link ChatModel} (OpenAI, Anthropic, Ollama, Bedrock, Azure OpenAI, Vertex AI
 * Gemini, ...) as gecko-train's {@link LlmClient}, so that FRet distillation runs on every provider
 * LangChain4j supports.
 *
 * <pre>{@code
 * ChatModel chat = AnthropicChatModel.builder().apiKey(key).modelName("claude-sonnet-4-5").maxRetries(0).build();
 * LlmClient llm = LlmClients.standard(ChatModelLlmClient.of(chat, "claude-sonnet-4-5"), 4,
 *     RetryPolicy.builder().build(), meter, Path.of("run/cache"));
 * FretPipeline.builder().llm(llm).embedder(embedder).corpus(corpus).output(Path.of("run")).build().run();
 * }</pre>
 *
 * <h2>Capabilities</h2>
 * It declares only what the chat model really gives. LangChain4j's {@link ChatResponse} (1.x)
 * carries no log-probabilities for any provider, so neither {@link Capability#TOP_LOGPROBS} nor
 * {@link Capability#PROMPT_LOGPROBS} is ever declared, and FRet's relabeler uses its text scorers
 * ({@code ql-judged-text}, {@code rc-text}: docs/distillation.md); a request for top
 * log-probabilities throws {@link UnsupportedCapabilityException}. For the log-probability
 * scorers, use gecko-train's own OpenAI-compatible client (vLLM). {@link Capability#JSON_OUTPUT}
 * is declared where the chat model lists LangChain4j's {@code RESPONSE_FORMAT_JSON_SCHEMA}
 * capability, or where {@link Builder#jsonMode(boolean)} says so; then a request for JSON output
 * is sent with {@link ResponseFormat#JSON}. The pipeline parses JSON out of plain answers either
 * way.
 *
 * <h2>Usage and errors</h2>
 * A response's {@link TokenUsage} becomes its {@link Usage} (0 where the provider reports none), so
 * {@code LlmClients.metered} counts and prices it; its finish reason and id are kept. LangChain4j's
 * exceptions become gecko-train's, so that {@code LlmClients.retrying} retries what can succeed
 * on retry: rate limits, server errors, timeouts and I/O failures are retryable; authentication,
 * invalid requests (content filters included), unknown models, unresolvable hosts and unsupported
 * features are not (an {@link HttpException}'s status decides through {@link
 * LlmException#forStatus}), nor is any other {@link NonRetriableException}, whatever its cause.
 * An {@link UnsupportedFeatureException} (LangChain4j refused the request before sending it: JSON
 * output, say, on a chat model without it) is a plain, not retryable {@link LlmException}, never a
 * {@link BadRequestException}: it concerns the chat model and the client's settings, not one
 * request, so every request like it would fail alike, and FRet's pipeline stops the run at once and
 * names it (a {@code BadRequestException} would only reject that seed, stage {@code request}, and
 * the run would go on failing seed after seed). Another LangChain4j exception (neither a {@link
 * RetriableException} nor a {@link NonRetriableException}) is a retryable {@link
 * ConnectionException} when its cause is an {@link IOException}, else not retryable. A blank system or user message, which LangChain4j's messages
 * refuse, is a not retryable {@link BadRequestException} naming the message, and nothing is sent.
 * A runtime exception LangChain4j does not map (its {@code
 * JdkHttpClient} wraps a connection reset or refusal in a plain {@link RuntimeException}) is a
 * retryable {@link ConnectionException} when its cause chain holds an {@link IOException} (a
 * timeout: {@link LlmTimeoutException}), else a not retryable {@link ChatModelFailureException}.
 * Messages never carry what looks like an API key ({@code Bearer ...}, {@code key=...}, {@code
 * sk-...}, {@code AIza...} are redacted), nor do causes: the cause is not LangChain4j's exception
 * itself but a stand-in with its class name, redacted message and stack trace (its causes alike),
 * so that a logger printing the stack trace shows no key. LangChain4j's exceptions carry no {@code Retry-After}, so gecko's retry
 * policy backs off on its own schedule. LangChain4j's models retry on their own too ({@code
 * maxRetries}, default 2 or 3 by provider): set it to 0 and let gecko's retry decorator do it (it
 * counts and logs each retry), or keep both knowing that attempts multiply.
 *
 * <h2>Model name</h2>
 * The client's {@link #model()} names the model in cache keys and run manifests, so it must be the
 * model that answers. Where the chat model's {@link ChatModel#defaultRequestParameters() default
 * request parameters} name a model (LangChain4j's provider modules set it from their builder's
 * {@code modelName}), a different name is refused at build time, naming both, and every request
 * names the model ({@code ChatRequest.modelName}), so the name in the cache key is the one sent.
 * Where they name none (a chat model of your own, say), the client cannot check the name and does
 * not send it: a provider that takes no model name per request refuses a request that carries one
 * (LangChain4j's own check throws {@link UnsupportedFeatureException}, "'modelName' parameter is
 * not supported yet by this model provider"), so sending it would fail every request. The name is
 * then your word: give each differently configured chat model its own name, or two of them under
 * one name share cached answers.
 *
 * <h2>Cache key</h2>
 * Its {@link #endpoint()}, part of the cache key of {@code LlmClients.caching}, is {@code
 * langchain4j} and the chat model's {@link ModelProvider} ({@code langchain4j OPEN_AI}), or its
 * class name where the provider is {@link ModelProvider#OTHER}. LangChain4j's chat models do not
 * tell their base URL, so two chat models of one provider that serve a model under one name from
 * different servers (two OpenAI-compatible servers, two Ollamas) look alike: where they share a
 * cache folder, name each one's server with {@link Builder#endpoint(String)}, which adds the URL
 * without user info or query ({@code langchain4j OPEN_AI http://localhost:8000/v1}).
 *
 * <p>Thread-safe as far as the chat model is (LangChain4j's models are). It does not own the chat
 * model: nothing here needs closing.
 */
public final class ChatModelLlmClient implements LlmClient {
  /** What looks like an API key in an exception's message: {@code Bearer ...}, {@code key=...}, {@code sk-...}. */
  private static final Pattern BEARER = Pattern.compile("(?i)(bearer\\s+)[^\\s,;\"']+");
  private static final Pattern KEY_PARAM = Pattern.compile(
      "(?i)(\\b(?:api[-_]?key|x-goog-api-key|access[-_]?token|token|secret|authorization|key)\"?\\s*[=:]\\s*\"?)[^\\s&,;\"']+");
  private static final Pattern SK = Pattern.compile("\\b(?:sk|pk|rk)-[A-Za-z0-9_-]{8,}");
  /** A Google API key: {@code AIza} and 35 more characters (30 or more matched). */
  private static final Pattern GOOGLE_KEY = Pattern.compile("\\bAIza[0-9A-Za-z_-]{30,}");

  private final ChatModel chatModel;
  private final String model;
  private final Set<Capability> capabilities;
  private final String endpoint;
  /** Whether requests name the model: only where the chat model's default parameters name it (see the class description). */
  private final boolean sendModelName;

  private ChatModelLlmClient(ChatModel chatModel, String model, Set<Capability> capabilities, String endpoint,
      boolean sendModelName) {
    this.chatModel = chatModel;
    this.model = model;
    this.capabilities = capabilities;
    this.endpoint = endpoint;
    this.sendModelName = sendModelName;
  }

  /** Returns a new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A client for {@code chatModel}, named {@code modelName} (part of cache keys and run
   * manifests: give the provider's model name), with the capabilities the chat model lists. The
   * name must be the one the chat model is configured with where its default request parameters
   * name one (see "Model name" in the class description).
   *
   * @throws IllegalArgumentException if the name is blank, or differs from the model name of the
   *     chat model's default request parameters
   */
  public static ChatModelLlmClient of(ChatModel chatModel, String modelName) {
    return builder().chatModel(chatModel).modelName(modelName).build();
  }

  @Override
  public String model() {
    return model;
  }

  @Override
  public Set<Capability> capabilities() {
    return capabilities;
  }

  /**
   * Returns {@code langchain4j}, the chat model's provider (its class name where the provider is
   * {@link ModelProvider#OTHER}) and the URL given to {@link Builder#endpoint(String)} if any, as
   * {@code langchain4j OLLAMA http://localhost:11434}. Never holds a secret.
   */
  @Override
  public String endpoint() {
    return endpoint;
  }

  /**
   * Sends the conversation to the chat model: temperature and maximum output tokens from the
   * options, {@link ResponseFormat#JSON} where JSON output is asked for and declared.
   *
   * @throws UnsupportedCapabilityException if the options ask for top log-probabilities
   * @throws BadRequestException if a system or user message is blank (naming it; not sent)
   * @throws LlmException on any failure of the chat model (see the class description); a feature
   *     LangChain4j refuses for this chat model ({@link UnsupportedFeatureException}; not sent) is a
   *     plain, not retryable one, not a {@link BadRequestException}
   */
  @Override
  public LlmResponse generate(LlmRequest request) {
    Objects.requireNonNull(request, "request is null");
    GenerationOptions o = request.options();
    if (o.topLogprobs() > 0) {
      throw new UnsupportedCapabilityException(Capability.TOP_LOGPROBS, model);
    }
    List<ChatMessage> messages = messages(request.messages());
    ChatRequest.Builder b = ChatRequest.builder().messages(messages).temperature(o.temperature())
        .maxOutputTokens(o.maxTokens());
    if (sendModelName) { // the chat model's own name (checked at build time): the model the cache key names
      b.modelName(model);
    }
    if (o.jsonOutput() && capabilities.contains(Capability.JSON_OUTPUT)) {
      b.responseFormat(ResponseFormat.JSON);
    }
    ChatResponse response;
    try {
      response = chatModel.chat(b.build());
    } catch (LangChain4jException e) {
      throw map(e);
    } catch (LlmException e) {
      throw e; // a chat model built on gecko-train's own types
    } catch (RuntimeException e) { // not mapped by LangChain4j: e.g. JdkHttpClient wraps an IOException in a plain one
      throw mapUnexpected(e);
    }
    AiMessage ai = response == null ? null : response.aiMessage();
    if (ai == null) {
      throw new dev.gecko.train.llm.MalformedResponseException(model + ": the chat model returned no message", 0, null,
          null, null, null);
    }
    return new LlmResponse(ai.text() == null ? "" : ai.text(), List.of(), usage(response.tokenUsage()),
        finishReason(response.finishReason()), response.id());
  }

  /**
   * The conversation as LangChain4j's messages. LangChain4j refuses a blank system or user text
   * ({@link IllegalArgumentException}); that is a request no chat model can take, so it becomes a
   * not retryable {@link BadRequestException} naming the message, as does any other message
   * LangChain4j refuses.
   */
  private List<ChatMessage> messages(List<Message> conversation) {
    List<ChatMessage> messages = new ArrayList<>(conversation.size());
    for (int i = 0; i < conversation.size(); i++) {
      Message m = conversation.get(i);
      String which = "messages[" + i + "] (" + m.role().name().toLowerCase(Locale.ROOT) + ")";
      // LangChain4j's test for blank (ValidationUtils.ensureNotBlank): nothing left after trim()
      if (m.role() != Message.Role.ASSISTANT && m.content().trim().isEmpty()) {
        throw new BadRequestException(model + ": " + which + " is blank; LangChain4j's chat models refuse a blank "
            + m.role().name().toLowerCase(Locale.ROOT) + " message (not sent, not retried)", 0, null, null, null, null);
      }
      try {
        messages.add(switch (m.role()) {
          case SYSTEM -> SystemMessage.from(m.content());
          case USER -> UserMessage.from(m.content());
          case ASSISTANT -> AiMessage.from(m.content());
        });
      } catch (IllegalArgumentException e) {
        throw new BadRequestException(model + ": LangChain4j refuses " + which + ": " + redact(e.getMessage())
            + " (not sent, not retried)", 0, null, null, null, RedactedCause.of(e));
      }
    }
    return messages;
  }

  private static Usage usage(TokenUsage u) {
    if (u == null) {
      return Usage.ZERO;
    }
    return Usage.reported(u.inputTokenCount() == null ? 0 : u.inputTokenCount(),
        u.outputTokenCount() == null ? 0 : u.outputTokenCount());
  }

  private static String finishReason(FinishReason r) {
    return r == null ? "" : r.name().toLowerCase(Locale.ROOT);
  }

  /** LangChain4j's exception as gecko-train's: the type says whether a retry can help. */
  LlmException map(LangChain4jException e) {
    // LangChain4j's message may carry the server's raw body: redacted, and on one visible line
    String msg = model + ": " + e.getClass().getSimpleName() + ": " + LlmException.oneLine(redact(e.getMessage()));
    // LangChain4j's provider models wrap the HTTP failure in their own type (400 in an
    // InvalidRequestException, 401 in an AuthenticationException): its status and body decide, as
    // in gecko's own clients (a 409 is retried; Gemini's 400 for a bad key is a key problem)
    HttpException h = inCauses(e, HttpException.class);
    if (h != null) {
      return LlmException.forStatus(msg, h.statusCode(), redact(h.getMessage()), null, null, RedactedCause.of(e));
    }
    if (e instanceof dev.langchain4j.exception.RateLimitException) {
      return new RateLimitException(msg, 429, null, null, null, RedactedCause.of(e));
    }
    if (e instanceof TimeoutException) {
      return new LlmTimeoutException(msg, 0, null, null, null, RedactedCause.of(e));
    }
    if (e instanceof dev.langchain4j.exception.InternalServerException) {
      return new ServerException(msg, 0, null, null, null, RedactedCause.of(e));
    }
    if (e instanceof RetriableException) {
      return new ConnectionException(msg, 0, null, null, null, RedactedCause.of(e));
    }
    if (e instanceof dev.langchain4j.exception.AuthenticationException) {
      return new AuthenticationException(msg + " (check the API key)", 0, null, null, null, RedactedCause.of(e));
    }
    if (e instanceof dev.langchain4j.exception.ModelNotFoundException) {
      return new ModelNotFoundException(msg + " (check the model name)", 0, null, null, null, RedactedCause.of(e));
    }
    if (e instanceof UnsupportedFeatureException) {
      // LangChain4j refused the request before sending it, for a feature the client's settings ask
      // for (JSON output, say): not this request's fault (never a BadRequestException, which rejects
      // one seed and goes on), not retryable, so a FRet run stops at once and names it
      return new LlmException(msg + " (LangChain4j refused the request before sending it: the chat model does not"
          + " support a feature the client asks for, so every such request would fail alike; not retried"
          + (capabilities.contains(Capability.JSON_OUTPUT)
              ? "; if the model refuses JSON output, build the client with jsonMode(false))" : ")"), RedactedCause.of(e));
    }
    if (e instanceof InvalidRequestException) { // content filters included
      return new BadRequestException(msg, 0, null, null, null, RedactedCause.of(e));
    }
    if (e instanceof UnresolvedModelServerException) {
      return new LlmException(msg + " (check the base URL)", RedactedCause.of(e)); // not retryable
    }
    if (e instanceof NonRetriableException) { // LangChain4j says a retry cannot help, whatever its cause
      return new LlmException(msg, RedactedCause.of(e)); // not retryable
    }
    // an I/O failure wrapped by the HTTP client, or another framework error
    return e.getCause() instanceof IOException ? new ConnectionException(msg, 0, null, null, null, RedactedCause.of(e))
        : new LlmException(msg, RedactedCause.of(e));
  }

  /** The first {@code type} in {@code e}'s cause chain ({@code e} itself included, a cycle ended), or null. */
  private static <T extends Throwable> T inCauses(Throwable e, Class<T> type) {
    return type.cast(inCauses(e, type::isInstance));
  }

  /** The first throwable in {@code e}'s cause chain ({@code e} itself included, a cycle ended) that {@code which} picks, or null. */
  private static Throwable inCauses(Throwable e, java.util.function.Predicate<Throwable> which) {
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Throwable t = e; t != null && seen.add(t); t = t.getCause()) {
      if (which.test(t)) {
        return t;
      }
    }
    return null;
  }

  /**
   * A runtime exception that is not LangChain4j's as gecko-train's. LangChain4j's exception mapper
   * passes runtime exceptions through as they are, and its {@code JdkHttpClient} wraps an {@link
   * IOException} (connection refused or reset) or an {@link InterruptedException} in a plain
   * {@link RuntimeException}, as some provider models (Vertex AI Gemini) wrap LangChain4j's own
   * exceptions. In the cause chain, in this order: an interrupt becomes a not retryable {@link
   * LlmException} saying so (the thread's interrupt flag set); a LangChain4j exception is {@linkplain
   * #map mapped} as if thrown itself (a wrapped rate limit is still retried); a JSON codec's failure
   * (a body that does not parse) a retryable {@link dev.gecko.train.llm.MalformedResponseException};
   * an I/O failure a retryable {@link ConnectionException} (or {@link LlmTimeoutException} for a
   * timeout); anything else a not retryable {@link ChatModelFailureException}. Messages are
   * redacted of anything that looks like a key.
   */
  LlmException mapUnexpected(RuntimeException e) {
    Throwable interrupt = inCauses(e, InterruptedException.class);
    if (interrupt == null && Thread.currentThread().isInterrupted()) {
      interrupt = inCauses(e, java.io.InterruptedIOException.class);
      if (interrupt == null) {
        interrupt = inCauses(e, java.nio.channels.ClosedByInterruptException.class);
      }
    }
    if (interrupt != null) {
      Thread.currentThread().interrupt();
      return new LlmException(model + ": interrupted while calling the chat model", RedactedCause.of(e));
    }
    LangChain4jException wrapped = inCauses(e, LangChain4jException.class);
    if (wrapped != null) {
      return map(wrapped);
    }
    Throwable json = inCauses(e, ChatModelLlmClient::isJsonFailure);
    if (json != null) {
      return new dev.gecko.train.llm.MalformedResponseException(model + ": the model server's answer does not parse: "
          + describe(json), 0, null, null, null, RedactedCause.of(e));
    }
    IOException io = inCauses(e, IOException.class);
    if (io instanceof HttpTimeoutException || io instanceof SocketTimeoutException) {
      return new LlmTimeoutException(model + ": timeout talking to the model server: " + describe(io), 0, null, null, null,
          RedactedCause.of(e));
    }
    if (io != null) {
      return new ConnectionException(model + ": I/O error talking to the model server: " + describe(io), 0, null, null, null,
          RedactedCause.of(e));
    }
    return new ChatModelFailureException(model + ": the chat model failed unexpectedly: " + describe(e)
        + " (not an error LangChain4j maps; not retried)", RedactedCause.of(e));
  }

  /** Whether {@code t} is Jackson's failure to read a body (2.x's or 3.x's {@code JacksonException}). */
  private static boolean isJsonFailure(Throwable t) {
    for (Class<?> c = t.getClass(); c != null; c = c.getSuperclass()) {
      if (c.getName().equals("com.fasterxml.jackson.core.JacksonException")
          || c.getName().equals("tools.jackson.core.JacksonException")) {
        return true;
      }
    }
    return false;
  }

  private static String describe(Throwable t) {
    return t.getClass().getName() + (t.getMessage() == null ? "" : ": " + LlmException.oneLine(redact(t.getMessage())));
  }

  /** Replaces what looks like an API key in a message ({@code Bearer ...}, {@code key=...}, {@code sk-...}) by [REDACTED]. */
  static String redact(String message) {
    if (message == null) {
      return null;
    }
    String m = BEARER.matcher(message).replaceAll("$1[REDACTED]");
    m = KEY_PARAM.matcher(m).replaceAll("$1[REDACTED]");
    m = GOOGLE_KEY.matcher(m).replaceAll("[REDACTED]");
    return SK.matcher(m).replaceAll("[REDACTED]");
  }

  /**
   * What stands for a framework's exception as the cause of ours: its class name and message,
   * redacted of anything that looks like a key ({@link #redact}), its stack trace, and its causes
   * alike; never the exception itself, whose message (or a cause's) a logger printing the stack
   * trace would show unredacted. Its {@code toString()} reads as the original's.
   */
  static final class RedactedCause extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /** Causes followed, at most: a chain is short, and a cycle must end. */
    private static final int MAX_DEPTH = 16;

    private RedactedCause(Throwable t, int depth) {
      super(t.getClass().getName() + (t.getMessage() == null ? "" : ": " + redact(t.getMessage())),
          t.getCause() == null || t.getCause() == t || depth >= MAX_DEPTH ? null : new RedactedCause(t.getCause(), depth + 1));
      setStackTrace(t.getStackTrace());
    }

    static RedactedCause of(Throwable t) {
      return new RedactedCause(t, 0);
    }

    @Override
    public String toString() {
      return getMessage();
    }
  }

  @Override
  public String toString() {
    return "ChatModelLlmClient[" + model + ", " + chatModel.getClass().getSimpleName() + ", " + capabilities + "]";
  }

  /** Builds a {@link ChatModelLlmClient}. Setters validate at once. Not thread-safe; reusable. */
  public static final class Builder {
    private ChatModel chatModel;
    private String modelName;
    private Boolean jsonMode;
    private String endpointUrl;

    private Builder() {}

    /** Sets the chat model (required). The client does not own it. */
    public Builder chatModel(ChatModel chatModel) {
      this.chatModel = Objects.requireNonNull(chatModel, "chatModel is null");
      return this;
    }

    /**
     * Sets the model name the client reports (part of LLM cache keys and run manifests). Default:
     * the chat model's default request parameters' model name, where it has one; where it has one,
     * a name given here must be that one ({@link #build()} checks it).
     *
     * @throws IllegalArgumentException if blank
     */
    public Builder modelName(String name) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("modelName must not be blank");
      }
      this.modelName = name;
      return this;
    }

    /**
     * Declares (true) or withholds (false) {@link Capability#JSON_OUTPUT}. Default: declared when
     * the chat model lists LangChain4j's {@code RESPONSE_FORMAT_JSON_SCHEMA} capability.
     */
    public Builder jsonMode(boolean json) {
      this.jsonMode = json;
      return this;
    }

    /**
     * Names the server the chat model talks to, such as the base URL given to its LangChain4j
     * builder, so that cached answers of chat models of one provider at different servers are
     * kept apart (see the class description). Only its scheme, host, port and path are kept: user
     * info, query and fragment are dropped, so a URL that carries a key never reaches the cache
     * or a log. Default: none (the provider alone).
     *
     * @throws IllegalArgumentException if it names neither a host nor a path
     */
    public Builder endpoint(String url) {
      this.endpointUrl = LlmClients.endpointUrl(Objects.requireNonNull(url, "url is null"));
      return this;
    }

    /**
     * Builds the client.
     *
     * @throws IllegalStateException if no chat model is set, or no model name is set and the chat
     *     model's default parameters name none
     * @throws IllegalArgumentException if the model name set differs from the one the chat model's
     *     default parameters name (the message names both)
     */
    public ChatModelLlmClient build() {
      if (chatModel == null) {
        throw new IllegalStateException("no chat model set: call chatModel(model)");
      }
      ChatRequestParameters defaults = chatModel.defaultRequestParameters();
      String own = defaults == null ? null : defaults.modelName();
      if (own != null && own.isBlank()) {
        own = null;
      }
      if (modelName != null && own != null && !modelName.equals(own)) {
        throw new IllegalArgumentException("modelName '" + modelName + "' differs from the model the chat model is"
            + " configured with, '" + own + "' (its default request parameters): the client would name one model in"
            + " cache keys and manifests while the other answers; give '" + own + "' or build the chat model with"
            + " modelName(\"" + modelName + "\")");
      }
      String name = modelName != null ? modelName : own;
      if (name == null || name.isBlank()) {
        throw new IllegalStateException("no model name: call modelName(name) (the chat model's default parameters name none)");
      }
      boolean json = jsonMode != null ? jsonMode
          : chatModel.supportedCapabilities().contains(dev.langchain4j.model.chat.Capability.RESPONSE_FORMAT_JSON_SCHEMA);
      Set<Capability> caps = json ? EnumSet.of(Capability.JSON_OUTPUT) : EnumSet.noneOf(Capability.class);
      ModelProvider provider = chatModel.provider();
      String source = provider == null || provider == ModelProvider.OTHER ? chatModel.getClass().getName() : provider.name();
      String endpoint = "langchain4j " + source + (endpointUrl == null ? "" : " " + endpointUrl);
      return new ChatModelLlmClient(chatModel, name, Collections.unmodifiableSet(caps), endpoint, own != null);
    }
  }
}
