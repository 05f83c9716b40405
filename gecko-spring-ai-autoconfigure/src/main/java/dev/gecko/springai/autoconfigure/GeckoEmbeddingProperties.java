package dev.gecko.springai.autoconfigure;

import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.TaskType;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;

/**
 * The {@code gecko.embedding.*} properties of {@link GeckoEmbeddingAutoConfiguration}, which checks
 * them ({@link #check}) before it opens the model, so that a value out of range stops the
 * application context with a message that names the property, its value and the rule (Spring
 * Boot's report of an {@link InvalidConfigurationPropertyValueException}). Not a Spring {@code
 * Validator}: the properties bean would then be a second {@code Validator} bean of the application,
 * and one injected by type would be ambiguous. A value of the wrong type fails binding, named the same way,
 * and so does a key under {@code gecko.embedding} that is none of these (a misspelling such as
 * {@code gecko.embedding.dimensions} would otherwise be ignored, and the vectors stay full width).
 *
 * <p>A mutable bean, bound once by Spring Boot at start-up and read by the auto-configuration; not
 * meant to be shared or changed afterwards (not thread-safe).
 */
@ConfigurationProperties(prefix = GeckoEmbeddingProperties.PREFIX, ignoreUnknownFields = false)
public class GeckoEmbeddingProperties {
  /** The properties' prefix. */
  public static final String PREFIX = "gecko.embedding";

  /**
   * The model: a built-in name (bge-small-en-v1.5-int8, bge-small-en-v1.5, all-MiniLM-L6-v2,
   * all-MiniLM-L6-v2-int8, e5-small-v2, e5-small-v2-int8; each needs its dev.gecko:gecko-model-*
   * jar) or the path of a model folder.
   */
  private String model = GeckoEmbedder.Builder.DEFAULT_MODEL;

  /** The vector width: 1 to the model's width (a request's dimensions option overrides it). Default: the model's width. */
  private Integer dims;

  /** The task type of documents (what vector stores add). */
  private TaskType documentTaskType = TaskType.RETRIEVAL_DOCUMENT;

  /** The task type of plain texts (what vector stores search with). */
  private TaskType queryTaskType = TaskType.RETRIEVAL_QUERY;

  /**
   * The document metadata key whose value is the document's title; empty for none. Titles are
   * embedded where documents embed as retrieval-document (Gecko's prompts have a title only there).
   */
  private String titleMetadataKey = "title";

  /** CPU threads one call may use. Default: the available processors. */
  private Integer threads;

  /** The most padded tokens in one inference batch. Default: the embedder's (512). */
  private Integer maxBatchTokens;

  public String getModel() {
    return model;
  }

  /** Sets the model. */
  public void setModel(String model) {
    this.model = model == null ? null : model.strip();
  }

  public Integer getDims() {
    return dims;
  }

  /** Sets the vector width. */
  public void setDims(Integer dims) {
    this.dims = dims;
  }

  public TaskType getDocumentTaskType() {
    return documentTaskType;
  }

  /** Sets the document task type. */
  public void setDocumentTaskType(TaskType documentTaskType) {
    this.documentTaskType = documentTaskType;
  }

  public TaskType getQueryTaskType() {
    return queryTaskType;
  }

  /** Sets the query task type. */
  public void setQueryTaskType(TaskType queryTaskType) {
    this.queryTaskType = queryTaskType;
  }

  public String getTitleMetadataKey() {
    return titleMetadataKey;
  }

  /** Sets the title metadata key (empty or null for none). */
  public void setTitleMetadataKey(String titleMetadataKey) {
    // stripped: a .properties file keeps trailing blanks, and "title " would match no metadata key
    this.titleMetadataKey = titleMetadataKey == null || titleMetadataKey.isBlank() ? null : titleMetadataKey.strip();
  }

  public Integer getThreads() {
    return threads;
  }

  /** Sets the threads. */
  public void setThreads(Integer threads) {
    this.threads = threads;
  }

  public Integer getMaxBatchTokens() {
    return maxBatchTokens;
  }

  /** Sets the token budget of a batch. */
  public void setMaxBatchTokens(Integer maxBatchTokens) {
    this.maxBatchTokens = maxBatchTokens;
  }

  /**
   * Checks the bound values: a model named, widths, threads and budgets at least 1, task types set.
   *
   * @throws InvalidConfigurationPropertyValueException naming the first property whose value breaks
   *     its rule, the value and the rule
   */
  public void check() {
    if (model == null || model.isBlank()) {
      throw invalid("model", model, "must name a built-in model or a model folder");
    }
    atLeastOne("dims", dims);
    atLeastOne("threads", threads);
    atLeastOne("max-batch-tokens", maxBatchTokens);
    if (documentTaskType == null) {
      throw invalid("document-task-type", null, "must be a task type");
    }
    if (queryTaskType == null) {
      throw invalid("query-task-type", null, "must be a task type");
    }
  }

  private static void atLeastOne(String property, Integer value) {
    if (value != null && value < 1) {
      throw invalid(property, value, "must be at least 1, was " + value);
    }
  }

  private static InvalidConfigurationPropertyValueException invalid(String property, Object value, String rule) {
    return new InvalidConfigurationPropertyValueException(PREFIX + "." + property, value, rule);
  }
}
