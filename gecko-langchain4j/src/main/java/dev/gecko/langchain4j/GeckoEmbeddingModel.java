package dev.gecko.langchain4j;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.Progress;
import dev.gecko.core.TaskType;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.Content;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.TokenCountEstimator;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.output.TokenUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Gecko as a LangChain4j {@link EmbeddingModel}: in-process, batched, Matryoshka dimensions and
 * task types.
 *
 * <pre>{@code
 * GeckoEmbeddingModel model = GeckoEmbeddingModel.builder().dims(256).build(); // the default model
 * EmbeddingStoreIngestor.builder().embeddingModel(model).embeddingStore(store).build().ingest(documents);
 * ContentRetriever retriever = EmbeddingStoreContentRetriever.builder()
 *     .embeddingModel(model.forQueries()).embeddingStore(store).maxResults(5).build();
 * }</pre>
 *
 * <h2>Task types</h2>
 * LangChain4j has one embedding model for both sides of a search; Gecko's models embed queries and
 * documents differently (bge puts an instruction before queries, e5 writes {@code query: } and
 * {@code passage: }). This model embeds as {@link Builder#documentTaskType(TaskType) documents}
 * (default {@link TaskType#RETRIEVAL_DOCUMENT}); {@link #forQueries()} returns a view of the same
 * embedder that embeds as {@link Builder#queryTaskType(TaskType) queries} (default {@link
 * TaskType#RETRIEVAL_QUERY}): give that one to a retriever. A segment's metadata value under
 * {@link Builder#titleMetadataKey(String)} (default {@value #DEFAULT_TITLE_KEY}) becomes a
 * document's title.
 *
 * <h2>Calls</h2>
 * {@link #embedAll(List)} is one call of {@link GeckoEmbedder#embedRequests}, whatever the number of
 * segments (the embedder sorts them by length and batches them by tokens; never one call per
 * segment); vectors are unit length, {@link #dimension()} wide, in the segments' order. The
 * response's {@link TokenUsage} counts the tokens the model ran (input tokens; special tokens
 * included, after truncation). {@link #dimension()} and {@link #modelName()} run no inference.
 * {@link #estimateTokenCountInText(String)} counts with the model's own tokenizer and prompt.
 *
 * <h2>Threads and ownership</h2>
 * Thread-safe: share one instance (the embedder is). Built from a {@link GeckoEmbedder} ({@link
 * Builder#embedder(GeckoEmbedder)}), it does not own it: the caller closes the embedder, and
 * {@link #close()} does nothing. Built from a model name or folder ({@link Builder#model(String)}),
 * it owns the embedder it opens, and {@link #close()} frees it (LangChain4j never closes a model: an
 * application that drops this one without closing it keeps the native memory until exit). Views
 * ({@link #forQueries()}, {@link #forTask(TaskType)}) share the embedder, never own it, and stop
 * working once it is closed ({@link IllegalStateException}).
 */
public final class GeckoEmbeddingModel implements EmbeddingModel, TokenCountEstimator, AutoCloseable {
  /** The default {@link Builder#titleMetadataKey(String)}. */
  public static final String DEFAULT_TITLE_KEY = "title";

  private final GeckoEmbedder embedder;
  private final boolean owned;
  private final int dims;
  private final TaskType taskType;
  private final TaskType documentTaskType;
  private final TaskType queryTaskType;
  private final String titleKey;

  private GeckoEmbeddingModel(GeckoEmbedder embedder, boolean owned, int dims, TaskType taskType,
      TaskType documentTaskType, TaskType queryTaskType, String titleKey) {
    this.embedder = embedder;
    this.owned = owned;
    this.dims = dims;
    this.taskType = taskType;
    this.documentTaskType = documentTaskType;
    this.queryTaskType = queryTaskType;
    this.titleKey = titleKey;
  }

  /** Returns a new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A model over {@code embedder} at its full width, with the default task types and title key.
   * The caller keeps owning the embedder.
   */
  public static GeckoEmbeddingModel of(GeckoEmbedder embedder) {
    return builder().embedder(embedder).build();
  }

  /**
   * Embeds the segments as this model's task type, in one embedder call.
   *
   * @throws NullPointerException if the list or a segment is null
   * @throws IllegalStateException if the embedder is closed
   */
  @Override
  public Response<List<Embedding>> embedAll(List<TextSegment> segments) {
    Objects.requireNonNull(segments, "segments is null");
    List<EmbedRequest> requests = new ArrayList<>(segments.size());
    for (int i = 0; i < segments.size(); i++) {
      TextSegment s = segments.get(i);
      if (s == null) {
        throw new NullPointerException("segments[" + i + "] is null");
      }
      requests.add(request(s.text(), title(s)));
    }
    AtomicReference<Progress> last = new AtomicReference<>();
    List<float[]> vectors = embedder.embedRequests(requests, dims, last::set);
    List<Embedding> out = new ArrayList<>(vectors.size());
    for (float[] v : vectors) {
      out.add(Embedding.from(v));
    }
    Progress p = last.get();
    int tokens = p == null ? 0 : (int) Math.min(Integer.MAX_VALUE, p.metric("tokens").orElse(0));
    return Response.from(out, new TokenUsage(tokens));
  }

  private String title(TextSegment s) {
    if (titleKey == null || taskType != TaskType.RETRIEVAL_DOCUMENT || s.metadata() == null) {
      return null;
    }
    Object v = s.metadata().toMap().get(titleKey);
    return v == null ? null : v.toString();
  }

  private EmbedRequest request(String text, String title) {
    EmbedRequest r = EmbedRequest.of(taskType, text);
    return title == null || title.isBlank() ? r : r.withTitle(title);
  }

  /** Returns the width of the vectors, without running inference. */
  @Override
  public int dimension() {
    return dims;
  }

  /** Returns the Gecko model's name (a built-in name, or a model folder's manifest name). */
  @Override
  public String modelName() {
    return embedder.model().name();
  }

  /** Returns the task type this model embeds as. */
  public TaskType taskType() {
    return taskType;
  }

  /**
   * Returns a view of the same embedder, width and settings that embeds as the query task type
   * (default {@link TaskType#RETRIEVAL_QUERY}): the model to give an {@code
   * EmbeddingStoreContentRetriever}. The view does not own the embedder.
   */
  public GeckoEmbeddingModel forQueries() {
    return forTask(queryTaskType);
  }

  /**
   * Returns a view of the same embedder, width and settings that embeds as the document task type
   * (default {@link TaskType#RETRIEVAL_DOCUMENT}). The view does not own the embedder.
   */
  public GeckoEmbeddingModel forDocuments() {
    return forTask(documentTaskType);
  }

  /**
   * Returns a view of the same embedder, width and settings that embeds as {@code taskType} (for
   * example {@link TaskType#SEMANTIC_SIMILARITY} or {@link TaskType#CLUSTERING}). Titles apply to
   * {@link TaskType#RETRIEVAL_DOCUMENT} only. The view does not own the embedder.
   */
  public GeckoEmbeddingModel forTask(TaskType taskType) {
    Objects.requireNonNull(taskType, "taskType is null");
    return new GeckoEmbeddingModel(embedder, false, dims, taskType, documentTaskType, queryTaskType, titleKey);
  }

  /** Counts the tokens the model would see for {@code text} as this model's task type (prompt included). */
  @Override
  public int estimateTokenCountInText(String text) {
    return embedder.countTokens(request(Objects.requireNonNull(text, "text is null"), null));
  }

  /** Counts the tokens of a message's text parts (images and other contents count nothing). */
  @Override
  public int estimateTokenCountInMessage(ChatMessage message) {
    String text = textOf(Objects.requireNonNull(message, "message is null"));
    return text.isEmpty() ? 0 : estimateTokenCountInText(text);
  }

  /** Sums {@link #estimateTokenCountInMessage(ChatMessage)} over the messages. */
  @Override
  public int estimateTokenCountInMessages(Iterable<ChatMessage> messages) {
    int n = 0;
    for (ChatMessage m : Objects.requireNonNull(messages, "messages is null")) {
      n += estimateTokenCountInMessage(m);
    }
    return n;
  }

  private static String textOf(ChatMessage m) {
    if (m instanceof SystemMessage s) {
      return s.text();
    }
    if (m instanceof AiMessage a) {
      return a.text() == null ? "" : a.text();
    }
    if (m instanceof ToolExecutionResultMessage t) {
      return t.text();
    }
    if (m instanceof UserMessage u) {
      StringBuilder sb = new StringBuilder();
      for (Content c : u.contents()) {
        if (c instanceof TextContent t) {
          sb.append(sb.length() == 0 ? "" : "\n").append(t.text());
        }
      }
      return sb.toString();
    }
    return "";
  }

  /** Returns the embedder this model runs (owned or not: see the class description). */
  public GeckoEmbedder embedder() {
    return embedder;
  }

  /** Closes the embedder if this model opened it (built with {@link Builder#model(String)}); else nothing. */
  @Override
  public void close() {
    if (owned) {
      embedder.close();
    }
  }

  @Override
  public String toString() {
    return "GeckoEmbeddingModel[" + embedder.model().name() + ", " + dims + " dims, " + taskType + "]";
  }

  /**
   * Builds a {@link GeckoEmbeddingModel}. Each setter validates at once; {@link #build()} checks
   * the rest. Not thread-safe; reusable. An embedder given to {@link #embedder(GeckoEmbedder)}
   * stays the caller's; each {@code build()} with {@link #model(String)} opens a new embedder,
   * which the model built owns (see the class description).
   */
  public static final class Builder {
    private GeckoEmbedder embedder;
    private String model;
    private Integer dims;
    private TaskType documentTaskType = TaskType.RETRIEVAL_DOCUMENT;
    private TaskType queryTaskType = TaskType.RETRIEVAL_QUERY;
    private String titleKey = DEFAULT_TITLE_KEY;

    private Builder() {}

    /**
     * Runs this embedder, which the caller owns and closes (the model never closes it). Replaces
     * {@link #model(String)}.
     */
    public Builder embedder(GeckoEmbedder embedder) {
      this.embedder = Objects.requireNonNull(embedder, "embedder is null");
      this.model = null;
      return this;
    }

    /**
     * Opens this model (a built-in name or a model folder) at {@link #build()}, with the embedder's
     * default settings; the built model owns it ({@link GeckoEmbeddingModel#close()}). Replaces
     * {@link #embedder(GeckoEmbedder)}. Default, when neither is set: the default model ({@value
     * GeckoEmbedder.Builder#DEFAULT_MODEL}).
     *
     * @throws IllegalArgumentException if blank
     */
    public Builder model(String nameOrPath) {
      Objects.requireNonNull(nameOrPath, "model is null");
      if (nameOrPath.isBlank()) {
        throw new IllegalArgumentException("model is blank: give a built-in model name or a model folder");
      }
      this.model = nameOrPath;
      this.embedder = null;
      return this;
    }

    /**
     * Sets the vector width: 1 to the model's width (default: the model's width). The vector is cut
     * to it, then normalised.
     *
     * @throws IllegalArgumentException if {@code dims < 1} (a width above the model's fails at {@link #build()})
     */
    public Builder dims(int dims) {
      if (dims < 1) {
        throw new IllegalArgumentException("dims must be >= 1, was " + dims);
      }
      this.dims = dims;
      return this;
    }

    /** Sets the task type of the model itself (documents). Default {@link TaskType#RETRIEVAL_DOCUMENT}. */
    public Builder documentTaskType(TaskType taskType) {
      this.documentTaskType = Objects.requireNonNull(taskType, "documentTaskType is null");
      return this;
    }

    /** Sets the task type of {@link GeckoEmbeddingModel#forQueries()}. Default {@link TaskType#RETRIEVAL_QUERY}. */
    public Builder queryTaskType(TaskType taskType) {
      this.queryTaskType = Objects.requireNonNull(taskType, "queryTaskType is null");
      return this;
    }

    /**
     * Sets the {@code TextSegment} metadata key whose value becomes a document's title (default
     * {@value GeckoEmbeddingModel#DEFAULT_TITLE_KEY}); null for none.
     *
     * @throws IllegalArgumentException if blank
     */
    public Builder titleMetadataKey(String key) {
      if (key != null && key.isBlank()) {
        throw new IllegalArgumentException("titleMetadataKey is blank: give a key, or null for none");
      }
      this.titleKey = key;
      return this;
    }

    /**
     * Builds the model (opening the embedder, if a model name or none was given).
     *
     * @throws IllegalArgumentException if {@link #dims(int)} exceeds the model's width, or the model
     *     name is neither built-in nor a folder
     * @throws dev.gecko.core.ModelLoadException if the model cannot be opened
     */
    public GeckoEmbeddingModel build() {
      boolean owned = embedder == null;
      GeckoEmbedder e = owned
          ? (model == null ? GeckoEmbedder.createDefault() : GeckoEmbedder.builder().model(model).build())
          : embedder;
      int width = dims == null ? e.dimensions() : dims;
      if (width > e.dimensions()) {
        if (owned) {
          e.close();
        }
        throw new IllegalArgumentException("dims " + width + " exceeds the width of " + e.model().name() + " ("
            + e.dimensions() + ")");
      }
      return new GeckoEmbeddingModel(e, owned, width, documentTaskType, documentTaskType, queryTaskType, titleKey);
    }
  }
}
