package dev.gecko.springai;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.Progress;
import dev.gecko.core.TaskType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.springframework.ai.chat.metadata.DefaultUsage;
import org.springframework.ai.document.Document;
import org.springframework.ai.embedding.AbstractEmbeddingModel;
import org.springframework.ai.embedding.BatchingStrategy;
import org.springframework.ai.embedding.Embedding;
import org.springframework.ai.embedding.EmbeddingOptions;
import org.springframework.ai.embedding.EmbeddingRequest;
import org.springframework.ai.embedding.EmbeddingResponse;
import org.springframework.ai.embedding.EmbeddingResponseMetadata;

/**
 * Gecko as a Spring AI {@link org.springframework.ai.embedding.EmbeddingModel}: in-process,
 * batched, Matryoshka dimensions per request, task types and titles.
 *
 * <pre>{@code
 * GeckoEmbeddingModel model = GeckoEmbeddingModel.builder().dims(256).build(); // the default model
 * VectorStore store = SimpleVectorStore.builder(model).build();
 * store.add(documents);
 * List<Document> hits = store.similaritySearch(SearchRequest.builder().query("...").topK(5).build());
 * }</pre>
 *
 * <h2>Vectors</h2>
 * Every vector is unit length (cut to the width, then normalised), and results are indexed from 0
 * in input order. The width is the request's {@link EmbeddingOptions#getDimensions()} where set (1
 * to the model's width), else the configured {@link Builder#dims(int)}; {@link #dimensions()}
 * returns the configured width without running inference. An options' model name must be null or
 * the model's own.
 *
 * <h2>Task types</h2>
 * Spring AI's vector stores embed documents with {@link #embed(List, EmbeddingOptions,
 * BatchingStrategy)} and queries with {@link #embed(String)}, so documents ({@link
 * #embed(Document)} and that method) are embedded as the document task type (default {@link
 * TaskType#RETRIEVAL_DOCUMENT}, with the metadata value under {@link Builder#titleMetadataKey} as the
 * title) and plain texts ({@link #call}, {@link #embed(String)}, {@link #embed(List)}) as the query
 * task type (default {@link TaskType#RETRIEVAL_QUERY}). {@link GeckoEmbeddingOptions#getTaskType()}
 * overrides either per request. A document's text is {@link Document#getText()}: its metadata is
 * not mixed into the text (Spring AI's formatted content would), except the title.
 *
 * <h2>Calls</h2>
 * Each call is one call of {@link GeckoEmbedder#embedRequests}: the embedder sorts the texts by
 * length and batches them by tokens itself, so {@link #embed(List, EmbeddingOptions,
 * BatchingStrategy)} does not split the documents by the given strategy (a strategy bounds remote
 * APIs' requests; in-process it would only cut batches worse). The response metadata names the
 * model and counts the tokens the model ran as prompt tokens.
 *
 * <h2>Threads and ownership</h2>
 * Thread-safe: share one instance. Built from a {@link GeckoEmbedder}, it does not own it ({@link
 * #close()} does nothing; the caller closes the embedder); built from a model name or folder, it owns
 * the embedder and {@link #close()} frees it (the Spring Boot auto-configuration closes it with the
 * application context). After the embedder is closed, calls throw {@link IllegalStateException}.
 */
public final class GeckoEmbeddingModel extends AbstractEmbeddingModel implements AutoCloseable {
  /** The default {@link Builder#titleMetadataKey(String)}. */
  public static final String DEFAULT_TITLE_KEY = "title";

  private final GeckoEmbedder embedder;
  private final boolean owned;
  private final int dims;
  private final TaskType documentTaskType;
  private final TaskType queryTaskType;
  private final String titleKey;

  private GeckoEmbeddingModel(GeckoEmbedder embedder, boolean owned, int dims, TaskType documentTaskType,
      TaskType queryTaskType, String titleKey) {
    this.embedder = embedder;
    this.owned = owned;
    this.dims = dims;
    this.documentTaskType = documentTaskType;
    this.queryTaskType = queryTaskType;
    this.titleKey = titleKey;
  }

  /** Returns a new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** A model over {@code embedder} at its full width, with the default task types; the caller keeps owning it. */
  public static GeckoEmbeddingModel of(GeckoEmbedder embedder) {
    return builder().embedder(embedder).build();
  }

  /**
   * Embeds the request's texts as the query task type (or the options' task type), at the
   * options' width.
   *
   * @throws NullPointerException if the request, its instructions (a null list, which Spring AI's
   *     {@link EmbeddingRequest} takes; nothing to embed is an empty list) or one of its texts is
   *     null, naming which
   * @throws IllegalArgumentException if the options' width is outside 1 to the model's width, or
   *     they name another model
   * @throws IllegalStateException if the embedder is closed
   */
  @Override
  public EmbeddingResponse call(EmbeddingRequest request) {
    Objects.requireNonNull(request, "request is null");
    List<String> instructions = Objects.requireNonNull(request.getInstructions(), "the request's instructions are null");
    EmbeddingOptions options = request.getOptions();
    TaskType task = taskType(options, queryTaskType);
    List<EmbedRequest> requests = new ArrayList<>(instructions.size());
    int i = 0;
    for (String text : instructions) {
      if (text == null) {
        throw new NullPointerException("instructions[" + i + "] is null");
      }
      requests.add(EmbedRequest.of(task, text));
      i++;
    }
    return run(requests, width(options));
  }

  /** Embeds one document as the document task type, with its title, at the configured width. */
  @Override
  public float[] embed(Document document) {
    Objects.requireNonNull(document, "document is null");
    return run(List.of(documentRequest(document, documentTaskType)), dims).getResults().get(0).getOutput();
  }

  /**
   * Embeds documents as the document task type (or the options' task type), with their titles, at
   * the options' width, in one embedder call; the batching strategy is not used (see the class
   * description).
   *
   * @throws IllegalArgumentException if the options' width is outside 1 to the model's width, or
   *     they name another model
   */
  @Override
  public List<float[]> embed(List<Document> documents, EmbeddingOptions options, BatchingStrategy batchingStrategy) {
    Objects.requireNonNull(documents, "documents is null");
    TaskType task = taskType(options, documentTaskType);
    List<EmbedRequest> requests = new ArrayList<>(documents.size());
    for (int i = 0; i < documents.size(); i++) {
      Document d = documents.get(i);
      if (d == null) {
        throw new NullPointerException("documents[" + i + "] is null");
      }
      requests.add(documentRequest(d, task));
    }
    List<Embedding> results = run(requests, width(options)).getResults();
    List<float[]> out = new ArrayList<>(results.size());
    for (Embedding e : results) {
      out.add(e.getOutput());
    }
    return out;
  }

  private EmbeddingResponse run(List<EmbedRequest> requests, int width) {
    AtomicReference<Progress> last = new AtomicReference<>();
    List<float[]> vectors = embedder.embedRequests(requests, width, last::set);
    List<Embedding> out = new ArrayList<>(vectors.size());
    for (int i = 0; i < vectors.size(); i++) {
      out.add(new Embedding(vectors.get(i), i));
    }
    Progress p = last.get();
    int tokens = p == null ? 0 : (int) Math.min(Integer.MAX_VALUE, p.metric("tokens").orElse(0));
    return new EmbeddingResponse(out, new EmbeddingResponseMetadata(embedder.model().name(),
        new DefaultUsage(tokens, 0, tokens)));
  }

  private EmbedRequest documentRequest(Document d, TaskType task) {
    String text = d.getText();
    if (text == null) {
      throw new IllegalArgumentException("document " + d.getId() + " has no text (media documents cannot be embedded)");
    }
    EmbedRequest r = EmbedRequest.of(task, text);
    if (titleKey != null && task == TaskType.RETRIEVAL_DOCUMENT) {
      Map<String, Object> metadata = d.getMetadata();
      Object title = metadata == null ? null : metadata.get(titleKey);
      if (title != null && !title.toString().isBlank()) {
        r = r.withTitle(title.toString());
      }
    }
    return r;
  }

  private static TaskType taskType(EmbeddingOptions options, TaskType fallback) {
    if (options instanceof GeckoEmbeddingOptions g && g.getTaskType() != null) {
      return g.getTaskType();
    }
    return fallback;
  }

  private int width(EmbeddingOptions options) {
    if (options == null) {
      return dims;
    }
    String model = options.getModel();
    if (model != null && !model.equals(embedder.model().name())) {
      throw new IllegalArgumentException("this embedding model runs " + embedder.model().name()
          + "; the request asks for model '" + model + "'");
    }
    Integer d = options.getDimensions();
    if (d == null) {
      return dims;
    }
    if (d < 1 || d > embedder.dimensions()) {
      throw new IllegalArgumentException("dimensions must be in [1, " + embedder.dimensions() + "] for "
          + embedder.model().name() + ", was " + d);
    }
    return d;
  }

  /** Returns the configured vector width, without running inference. */
  @Override
  public int dimensions() {
    return dims;
  }

  /** Returns the Gecko model's name. */
  public String modelName() {
    return embedder.model().name();
  }

  /** Returns the embedder this model runs (owned or not: see the class description). */
  public GeckoEmbedder embedder() {
    return embedder;
  }

  /** Closes the embedder if this model opened it; else nothing. Idempotent. */
  @Override
  public void close() {
    if (owned) {
      embedder.close();
    }
  }

  @Override
  public String toString() {
    return "GeckoEmbeddingModel[" + embedder.model().name() + ", " + dims + " dims]";
  }

  /**
   * Builds a {@link GeckoEmbeddingModel}. Each setter validates at once; {@link #build()} checks
   * the rest. Not thread-safe; reusable. An embedder given to {@link #embedder(GeckoEmbedder)}
   * stays the caller's; each {@code build()} with a model name or folder opens a new embedder,
   * which the model built owns (see the class description).
   */
  public static final class Builder {
    private GeckoEmbedder embedder;
    private String model;
    private Integer dims;
    private Integer threads;
    private Integer maxBatchTokens;
    private TaskType documentTaskType = TaskType.RETRIEVAL_DOCUMENT;
    private TaskType queryTaskType = TaskType.RETRIEVAL_QUERY;
    private String titleKey = DEFAULT_TITLE_KEY;

    private Builder() {}

    /** Runs this embedder, which the caller owns and closes. Replaces {@link #model(String)}. */
    public Builder embedder(GeckoEmbedder embedder) {
      this.embedder = Objects.requireNonNull(embedder, "embedder is null");
      this.model = null;
      return this;
    }

    /**
     * Opens this model (a built-in name or a model folder) at {@link #build()}; the built model
     * owns it. Replaces {@link #embedder(GeckoEmbedder)}. Default: the default model ({@value
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
     * Sets the default vector width (default: the model's width).
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

    /**
     * Sets the embedder's threads when this builder opens the model ({@link
     * GeckoEmbedder.Builder#threads(int)}; default: the available processors).
     *
     * @throws IllegalArgumentException if {@code threads < 1}
     */
    public Builder threads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("threads must be >= 1, was " + threads);
      }
      this.threads = threads;
      return this;
    }

    /**
     * Sets the embedder's token budget per batch when this builder opens the model ({@link
     * GeckoEmbedder.Builder#maxBatchTokens(int)}).
     *
     * @throws IllegalArgumentException if {@code tokens < 1}
     */
    public Builder maxBatchTokens(int tokens) {
      if (tokens < 1) {
        throw new IllegalArgumentException("maxBatchTokens must be >= 1, was " + tokens);
      }
      this.maxBatchTokens = tokens;
      return this;
    }

    /** Sets the task type of documents. Default {@link TaskType#RETRIEVAL_DOCUMENT}. */
    public Builder documentTaskType(TaskType taskType) {
      this.documentTaskType = Objects.requireNonNull(taskType, "documentTaskType is null");
      return this;
    }

    /** Sets the task type of plain texts (queries). Default {@link TaskType#RETRIEVAL_QUERY}. */
    public Builder queryTaskType(TaskType taskType) {
      this.queryTaskType = Objects.requireNonNull(taskType, "queryTaskType is null");
      return this;
    }

    /**
     * Sets the document metadata key whose value becomes the title (default {@value
     * GeckoEmbeddingModel#DEFAULT_TITLE_KEY}); null for none.
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
     * Builds the model, opening the embedder where a model name (or none) was given.
     *
     * @throws IllegalArgumentException if {@link #dims(int)} exceeds the model's width, the model
     *     is neither built-in nor a folder, or threads or a batch budget were set with an embedder
     * @throws dev.gecko.core.ModelLoadException if the model cannot be opened
     */
    public GeckoEmbeddingModel build() {
      boolean owned = embedder == null;
      if (!owned && (threads != null || maxBatchTokens != null)) {
        throw new IllegalArgumentException("threads and maxBatchTokens configure an embedder this builder opens; "
            + "set them on the GeckoEmbedder given instead");
      }
      GeckoEmbedder e = embedder;
      if (owned) {
        GeckoEmbedder.Builder b = GeckoEmbedder.builder();
        if (model != null) {
          b.model(model);
        }
        if (threads != null) {
          b.threads(threads);
        }
        if (maxBatchTokens != null) {
          b.maxBatchTokens(maxBatchTokens);
        }
        e = b.build();
      }
      int width = dims == null ? e.dimensions() : dims;
      if (width > e.dimensions()) {
        if (owned) {
          e.close();
        }
        throw new IllegalArgumentException("dims " + width + " exceeds the width of " + e.model().name() + " ("
            + e.dimensions() + ")");
      }
      return new GeckoEmbeddingModel(e, owned, width, documentTaskType, queryTaskType, titleKey);
    }
  }
}
