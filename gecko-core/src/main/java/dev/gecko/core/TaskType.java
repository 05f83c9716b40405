package dev.gecko.core;

/**
 * What an embedding is for. Each model maps task types to its own published prompt format (see
 * {@link ModelPackage#promptTemplate(TaskType)}); a model without a prompt for a task type embeds
 * the text as it is. Names follow Vertex AI's text-embedding task types. Immutable and thread-safe.
 */
public enum TaskType {
  /** A search query, to be matched against {@link #RETRIEVAL_DOCUMENT} embeddings. */
  RETRIEVAL_QUERY,
  /** A document (passage) in a search corpus; may carry a title. */
  RETRIEVAL_DOCUMENT,
  /** Symmetric semantic textual similarity: both sides embedded the same way. */
  SEMANTIC_SIMILARITY,
  /** Input to a classifier. */
  CLASSIFICATION,
  /** Input to clustering. */
  CLUSTERING,
  /** A question, to be matched against documents that answer it. */
  QUESTION_ANSWERING,
  /** A claim, to be matched against documents that support or refute it. */
  FACT_VERIFICATION,
  /** A natural-language query for code retrieval. */
  CODE_RETRIEVAL_QUERY
}
