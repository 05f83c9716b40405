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
