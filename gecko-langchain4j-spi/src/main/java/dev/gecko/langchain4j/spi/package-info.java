/**
 * The service registration that makes Gecko LangChain4j's default embedding model: {@link
 * dev.gecko.langchain4j.spi.GeckoEmbeddingModelFactory}, in its own artifact so that it is opt-in.
 */
package dev.gecko.langchain4j.spi;
