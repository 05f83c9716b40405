package dev.gecko.train.llm;

/** What an {@link LlmClient} can do beyond plain text generation. Constants: thread-safe. */
public enum Capability {
  /** {@link GenerationOptions#jsonOutput()} is enforced by the server (JSON mode). */
  JSON_OUTPUT,
  /**
   * Log-probabilities of generated tokens, with the top alternatives per position ({@link
   * GenerationOptions#topLogprobs()}): OpenAI chat {@code logprobs/top_logprobs}, Gemini {@code
   * responseLogprobs/logprobs} on models that enable it.
   */
  TOP_LOGPROBS,
  /**
   * Log-probabilities of the prompt's own tokens ({@link LlmClient#promptLogprobs(String)}): the
   * legacy completions endpoint with {@code echo=true, logprobs=1}. vLLM supports it; OpenAI itself,
   * llama.cpp server and Gemini do not.
   */
  PROMPT_LOGPROBS
}
