/**
 * Gecko in LangChain4j: {@link dev.gecko.langchain4j.GeckoEmbeddingModel}, an {@code
 * EmbeddingModel} and {@code TokenCountEstimator} over a {@link dev.gecko.core.GeckoEmbedder}.
 * Depends on {@code langchain4j-core} only. LangChain4j's Easy RAG and model-less ingestors find
 * it through the separate {@code gecko-langchain4j-spi} artifact (LangChain4j refuses two
 * embedding model factories on one classpath, so registering one is the user's choice).
 */
package dev.gecko.langchain4j;
