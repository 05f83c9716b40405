package dev.gecko.springai;

import dev.gecko.core.TaskType;
import org.springframework.ai.embedding.EmbeddingOptions;

/**
 * Per-request options of {@link GeckoEmbeddingModel}: Spring AI's {@link EmbeddingOptions}
 * (dimensions; a model name, which must be the model's own or null) plus Gecko's task type. Any
 * {@code EmbeddingOptions} works with the model; this one adds the task type.
 *
 * <pre>{@code
 * model.call(new EmbeddingRequest(texts, GeckoEmbeddingOptions.builder().dimensions(128)
 *     .taskType(TaskType.CLUSTERING).build()));
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class GeckoEmbeddingOptions implements EmbeddingOptions {
  private final String model;
  private final Integer dimensions;
  private final TaskType taskType;

  private GeckoEmbeddingOptions(String model, Integer dimensions, TaskType taskType) {
    this.model = model;
    this.dimensions = dimensions;
    this.taskType = taskType;
  }

  /** Returns a new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns the model name, or null for the model's own. */
  @Override
  public String getModel() {
    return model;
  }

  /** Returns the vector width, or null for the model's configured width. */
  @Override
  public Integer getDimensions() {
    return dimensions;
  }

  /** Returns the task type, or null for the model's default for the call (see {@link GeckoEmbeddingModel}). */
  public TaskType getTaskType() {
    return taskType;
  }

  @Override
  public String toString() {
    return "GeckoEmbeddingOptions[model=" + model + ", dimensions=" + dimensions + ", taskType=" + taskType + "]";
  }

  /** Builds {@link GeckoEmbeddingOptions}. Setters validate at once. Not thread-safe; reusable. */
  public static final class Builder {
    private String model;
    private Integer dimensions;
    private TaskType taskType;

    private Builder() {}

    /** Sets the model name (null: the model's own; another name is refused by the model). */
    public Builder model(String model) {
      this.model = model;
      return this;
    }

    /**
     * Sets the vector width (null: the model's configured width).
     *
     * @throws IllegalArgumentException if {@code dimensions < 1}
     */
    public Builder dimensions(Integer dimensions) {
      if (dimensions != null && dimensions < 1) {
        throw new IllegalArgumentException("dimensions must be >= 1, was " + dimensions);
      }
      this.dimensions = dimensions;
      return this;
    }

    /** Sets the task type (null: the model's default for the call). */
    public Builder taskType(TaskType taskType) {
      this.taskType = taskType;
      return this;
    }

    /** Builds the options. */
    public GeckoEmbeddingOptions build() {
      return new GeckoEmbeddingOptions(model, dimensions, taskType);
    }
  }
}
