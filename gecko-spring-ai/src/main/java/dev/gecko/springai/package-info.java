/**
 * Gecko in Spring AI: {@link dev.gecko.springai.GeckoEmbeddingModel}, an {@code EmbeddingModel}
 * over a {@link dev.gecko.core.GeckoEmbedder}, and {@link dev.gecko.springai.GeckoEmbeddingOptions}
 * for per-request widths and task types. Spring Boot applications get it configured from {@code
 * gecko.embedding.*} properties by {@code gecko-spring-boot-starter}.
 */
package dev.gecko.springai;
