package dev.gecko.train.llm;

/**
 * The result of one call to an {@link LlmClient}, with the tokens the call used: what {@link
 * MeteredClient} counts, whatever the kind of call ({@link LlmResponse}, {@link PromptLogprobs}).
 */
interface CallResult {

  /** Returns the tokens the call used. */
  Usage usage();
}
