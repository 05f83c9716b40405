/**
 * Small client SPI for large language models, as the FRet distillation needs them: chat/text
 * generation with options, and token log-probabilities where a server provides them.
 *
 * <p>{@link dev.gecko.train.llm.LlmClient} is the interface; {@link
 * dev.gecko.train.llm.LlmClients} builds the real clients (OpenAI-compatible, Gemini) over {@code
 * java.net.http} and wraps them in decorators (retry with backoff, bounded concurrency, on-disk
 * response cache, token and cost accounting). All failures are unchecked {@link
 * dev.gecko.train.llm.LlmException}s (a {@link dev.gecko.core.GeckoException}) whose subclasses say
 * whether a retry can help. API keys are
 * never logged, cached or put in exception messages.
 */
package dev.gecko.train.llm;
