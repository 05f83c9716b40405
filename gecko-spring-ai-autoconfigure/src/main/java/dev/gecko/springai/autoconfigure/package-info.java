/**
 * Spring Boot auto-configuration of Gecko's Spring AI embedding model: {@link
 * dev.gecko.springai.autoconfigure.GeckoEmbeddingAutoConfiguration} and its {@code
 * gecko.embedding.*} {@link dev.gecko.springai.autoconfigure.GeckoEmbeddingProperties}.
 */
package dev.gecko.springai.autoconfigure;
