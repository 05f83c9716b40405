package dev.gecko.train.llm;

import java.util.Set;

/**
 * A large language model endpoint, reduced to what FRet distillation needs.
 *
 * <p>Implementations are thread-safe; one instance is shared by all threads of a run. Every
 * method throws an unchecked {@link LlmException} on failure; {@link LlmException#retryable()}
 * says whether trying again can help. Clients hold no resources that need closing, so whoever
 * builds one simply drops it when done; a decorator shares its inner client, it does not own it.
 */
public interface LlmClient {

  /** Returns the model name sent with each request (part of cache keys and run manifests). */
  String model();

  /** Returns what this client can do beyond plain generation. */
  Set<Capability> capabilities();

  /**
   * Returns a stable identity of where this client's answers come from: the provider kind and,
   * where the client knows it, the server's base URL, as in {@code openai-compatible
   * http://localhost:8000/v1} or {@code gemini https://generativelanguage.googleapis.com}. It is
   * part of the cache key of {@link LlmClients#caching} beside {@link #model()}, so that two
   * servers that serve a model under one name (an Ollama and a vLLM, OpenAI and a compatible
   * gateway) never answer each other's requests from a shared cache folder.
   *
   * <p>It must hold no secret: no API key or header, and no user info, query or fragment of a
   * URL ({@link LlmClients#endpointUrl} reduces a URL to what may be shown). It must be the same
   * from run to run for the same server, or cached answers are never found again. Decorators
   * return their inner client's. The default is the implementing class's name, which tells
   * providers apart but not two servers of one provider: a client that talks to a configurable
   * server overrides it.
   */
  default String endpoint() {
    return getClass().getName();
  }

  /**
   * Generates a reply.
   *
   * @throws LlmException on any failure (HTTP error, timeout, unreadable response)
   * @throws UnsupportedCapabilityException if the options ask for top log-probabilities and this
   *     client lacks {@link Capability#TOP_LOGPROBS}
   */
  LlmResponse generate(LlmRequest request);

  /**
   * Scores a prompt's own tokens (teacher forcing), as vLLM's {@code /v1/completions} with {@code
   * echo=true, logprobs=1, max_tokens=1}.
   *
   * @throws UnsupportedCapabilityException if this client lacks {@link Capability#PROMPT_LOGPROBS}
   * @throws LlmException on any other failure
   */
  default PromptLogprobs promptLogprobs(String prompt) {
    throw new UnsupportedCapabilityException(Capability.PROMPT_LOGPROBS, model());
  }

  /**
   * Tells the client that the caller refused {@code request}'s answer (it did not parse, or did not
   * fit what was asked), so that a client that keeps answers ({@link LlmClients#caching}) forgets
   * it: a later run asks the LLM again instead of replaying a refused answer. Decorators pass it
   * on; the default does nothing.
   */
  default void refused(LlmRequest request) {}
}
