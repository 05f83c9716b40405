package dev.gecko.core;

import dev.gecko.core.internal.model.BuiltInModels;
import dev.gecko.core.internal.model.Fingerprints;
import dev.gecko.core.internal.model.ModelFolders;
import dev.gecko.core.internal.model.PromptRenderer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything needed to run one embedding model: where its ONNX graph and {@code tokenizer.json}
 * are, and how to use them (width, pooling, maximum tokens, prompts per task type).
 *
 * <p>Three ways to get one:
 *
 * <ul>
 *   <li>{@link #builtIn(String)}: a model whose weights ship in a Maven artifact on the
 *       classpath ({@code bge-small-en-v1.5}, {@code bge-small-en-v1.5-int8}, {@code
 *       all-MiniLM-L6-v2}, {@code all-MiniLM-L6-v2-int8}, {@code e5-small-v2}, {@code
 *       e5-small-v2-int8});
 *   <li>{@link #fromDirectory(Path)}: a folder with {@code gecko-model.json} (see {@link
 *       ModelManifest}), or a sentence-transformers ONNX export ({@code
 *       modules.json}, {@code 1_Pooling/config.json}, {@code sentence_bert_config.json}, {@code
 *       config_sentence_transformers.json}) with no manifest;
 *   <li>{@link #builder()}: by hand.
 * </ul>
 *
 * <h2>Prompt templates</h2>
 * A template is a string with {@code {text}} and optionally {@code {title}}, for example {@code
 * "query: {text}"} or {@code "title: {title} | text: {text}"}. A missing title renders as {@code
 * none} in a {@code {title}} slot; where a template has no title slot and a title is given, the
 * text becomes {@code title + " " + text} first (the BEIR/MTEB convention).
 *
 * <p>Immutable and thread-safe. Holds no native resources.
 */
public final class ModelPackage {
  /** The manifest file name inside a model folder ({@link ModelManifest#FILE_NAME}). */
  public static final String MANIFEST = ModelManifest.FILE_NAME;

  private final String name;
  private final int dimensions;
  private final Pooling pooling;
  private final int maxTokens;
  /** Where {@link #maxTokens} was set, for messages: a manifest field, or the builder's method. */
  private final String maxTokensSource;
  private final Map<TaskType, String> prompts;
  private final String defaultPrompt;
  private final List<Integer> matryoshkaDims;
  private final ModelSource model;
  private final ModelSource tokenizer;
  private final ModelSource adapter;
  private volatile String fingerprint;

  private ModelPackage(Builder b) {
    this.name = b.name;
    this.dimensions = b.dimensions;
    this.pooling = b.pooling;
    this.maxTokens = b.maxTokens;
    this.maxTokensSource = b.maxTokensSource != null ? b.maxTokensSource : "maxTokens";
    this.prompts = Collections.unmodifiableMap(new EnumMap<>(b.prompts));
    this.defaultPrompt = b.defaultPrompt;
    this.matryoshkaDims = b.matryoshkaDims.stream().distinct().sorted(Comparator.reverseOrder()).toList();
    this.model = b.model;
    this.tokenizer = b.tokenizer;
    this.adapter = b.adapter;
  }

  /** Returns a new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns the names accepted by {@link #builtIn(String)}. */
  public static List<String> builtInNames() {
    return BuiltInModels.names();
  }

  /**
   * Returns a built-in model whose weights come from a Maven artifact on the classpath.
   *
   * @throws IllegalArgumentException if the name is unknown, or its artifact is not on the
   *     classpath (the message names the Maven coordinates to add)
   */
  public static ModelPackage builtIn(String name) {
    return BuiltInModels.get(name);
  }

  /**
   * Resolves a built-in name or a model folder path (read by {@link #fromDirectory(Path)}).
   *
   * @throws NullPointerException if {@code nameOrPath} is null
   * @throws IllegalArgumentException if it is neither, or blank (an empty path would name the
   *     current folder), or the built-in model's artifact is not on the classpath
   * @throws InvalidDataException if the folder is not a model package or a file of it is malformed
   *     (naming the file and field at fault)
   * @throws UncheckedIOException if the folder's files cannot be read (its cause a {@link
   *     java.nio.file.NoSuchFileException} where a file it names does not exist)
   */
  public static ModelPackage resolve(String nameOrPath) {
    Objects.requireNonNull(nameOrPath, "model name or path is null");
    if (nameOrPath.isBlank()) {
      throw new IllegalArgumentException("model name or path is blank: give a built-in name " + BuiltInModels.names()
          + " or a model folder");
    }
    if (BuiltInModels.names().contains(nameOrPath)) {
      return builtIn(nameOrPath);
    }
    Path dir = Path.of(nameOrPath);
    if (Files.isDirectory(dir)) {
      try {
        return fromDirectory(dir);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    throw new IllegalArgumentException("unknown model '" + nameOrPath + "': not a built-in name "
        + BuiltInModels.names() + " and not a folder");
  }

  /**
   * Loads a model folder: a {@value ModelManifest#FILE_NAME} manifest ({@link ModelManifest}), or a
   * sentence-transformers ONNX export ({@code modules.json}, {@code 1_Pooling/config.json}, {@code
   * sentence_bert_config.json}, {@code config_sentence_transformers.json}) with no manifest. Every
   * file the package uses must lie inside the folder: a path that leads out with {@code ..}, an
   * absolute path, or a symbolic link whose target lies outside the folder's real path is refused.
   *
   * @throws java.nio.file.NoSuchFileException if the folder or a file it names does not exist
   * @throws IOException if a file cannot be read
   * @throws InvalidDataException if the folder is not a model package, a file is malformed, or a
   *     file lies outside the folder (the message names the file and field at fault)
   */
  public static ModelPackage fromDirectory(Path dir) throws IOException {
    return ModelFolders.read(Objects.requireNonNull(dir, "dir is null"));
  }

  /** Returns the model's name. */
  public String name() {
    return name;
  }

  /**
   * Returns the width of the pooled vector, or 0 if not declared (then it is read from the ONNX
   * graph when an embedder opens the package).
   */
  public int dimensions() {
    return dimensions;
  }

  /** Returns the pooling mode. */
  public Pooling pooling() {
    return pooling;
  }

  /** Returns the maximum tokens per text, special tokens included. */
  public int maxTokens() {
    return maxTokens;
  }

  /**
   * Where {@link #maxTokens()} was declared, for messages: {@code "<manifest>: field 'maxTokens'"},
   * {@code "<folder>/sentence_bert_config.json: field 'max_seq_length'"}, or {@code "maxTokens"}.
   */
  public String maxTokensOrigin() {
    return maxTokensSource;
  }

  /** Returns the prompt template for a task type, if the model has one. */
  public Optional<String> promptTemplate(TaskType taskType) {
    return Optional.ofNullable(prompts.get(taskType));
  }

  /** Returns all prompt templates by task type. */
  public Map<TaskType, String> prompts() {
    return prompts;
  }

  /** Returns the template applied when no task type is given, if any. */
  public Optional<String> defaultPrompt() {
    return Optional.ofNullable(defaultPrompt);
  }

  /** Returns the Matryoshka widths the model was trained for, widest first (empty if none were declared). */
  public List<Integer> matryoshkaDims() {
    return matryoshkaDims;
  }

  /** Returns where the ONNX graph comes from. */
  public ModelSource model() {
    return model;
  }

  /** Returns where the tokenizer.json comes from. */
  public ModelSource tokenizer() {
    return tokenizer;
  }

  /** Returns where the adapter weights come from, if the package has an adapter. */
  public Optional<ModelSource> adapter() {
    return Optional.ofNullable(adapter);
  }

  /**
   * Returns the text the model sees for a request: its task type's template, or the default
   * prompt for a request without a task type, applied to its text and title. A task type without
   * a template of its own gets no prompt (not the default one).
   */
  public String render(EmbedRequest request) {
    Objects.requireNonNull(request, "request is null");
    return PromptRenderer.render(request.taskType() == null ? defaultPrompt : prompts.get(request.taskType()), request);
  }

  /**
   * Returns what identifies the vectors this package makes, for caches and index manifests: a
   * SHA-256 (hex) over its settings (pooling, maximum tokens, width, prompts) and the content of
   * its graph, tokenizer and adapter. Files are hashed whole (a model retrained in place, of the
   * same size, gets another fingerprint); a class-path resource (a built-in model) is identified
   * by its CRC-32 and size, as its jar records them for a compressed entry (which costs nothing)
   * or else computed from its bytes (a stored entry, an exploded class path, Spring Boot's nested
   * jars), so one model has one fingerprint however it is deployed. Computed once per instance.
   *
   * @throws UncheckedIOException if a file cannot be read
   */
  public String fingerprint() {
    String f = fingerprint;
    if (f == null) {
      try {
        f = Fingerprints.of(this);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot fingerprint " + name + ": " + e.getMessage(), e);
      }
      fingerprint = f;
    }
    return f;
  }

  /** Returns a builder initialised with this package's values. */
  public Builder toBuilder() {
    Builder b = builder().name(name).pooling(pooling).maxTokens(maxTokens, maxTokensSource).model(model)
        .tokenizer(tokenizer);
    b.dimensions = dimensions;
    b.prompts.putAll(prompts);
    b.defaultPrompt = defaultPrompt;
    b.matryoshkaDims.addAll(matryoshkaDims);
    b.adapter = adapter;
    return b;
  }

  @Override
  public String toString() {
    return "ModelPackage[" + name + ", " + pooling + ", maxTokens=" + maxTokens + ", model=" + model + "]";
  }

  /** Builds a {@link ModelPackage}. Reusable; not thread-safe. */
  public static final class Builder {
    private String name;
    private int dimensions;
    private Pooling pooling;
    private int maxTokens = 512;
    private String maxTokensSource;
    private final Map<TaskType, String> prompts = new EnumMap<>(TaskType.class);
    private String defaultPrompt;
    private final List<Integer> matryoshkaDims = new ArrayList<>();
    private ModelSource model;
    private ModelSource tokenizer;
    private ModelSource adapter;

    private Builder() {}

    /** Sets the model's name. */
    public Builder name(String name) {
      this.name = requireText(name, "name");
      return this;
    }

    /** Sets the pooled width; 0 (the default) reads it from the ONNX graph. */
    public Builder dimensions(int dimensions) {
      if (dimensions < 0) {
        throw new IllegalArgumentException("dimensions must be >= 0, was " + dimensions);
      }
      this.dimensions = dimensions;
      return this;
    }

    /** Sets the pooling mode. */
    public Builder pooling(Pooling pooling) {
      this.pooling = Objects.requireNonNull(pooling, "pooling is null");
      return this;
    }

    /**
     * Sets the maximum tokens per text (default 512). It may not exceed the positions the graph
     * embeds: an embedder refuses to open a package whose maximum does (where it can read the
     * graph's position table, see docs/embedding.md).
     */
    public Builder maxTokens(int maxTokens) {
      return maxTokens(maxTokens, null);
    }

    /**
     * Sets the maximum tokens per text and where that value was declared, named in errors (for
     * example a manifest's field; null: this builder).
     */
    public Builder maxTokens(int maxTokens, String source) {
      if (maxTokens < 2) {
        throw new IllegalArgumentException("maxTokens must be >= 2, was " + maxTokens);
      }
      this.maxTokens = maxTokens;
      this.maxTokensSource = source;
      return this;
    }

    /**
     * Sets the prompt template of a task type.
     *
     * @throws IllegalArgumentException if the template has no {@code {text}} slot
     */
    public Builder prompt(TaskType taskType, String template) {
      prompts.put(Objects.requireNonNull(taskType, "taskType is null"), checkTemplate(template));
      return this;
    }

    /**
     * Sets the Gecko prompt format for every task type ({@code "task: search result | query:
     * {text}"}, ..., {@code "title: {title} | text: {text}"}); manifest {@code "promptFormat":
     * "gecko"}.
     */
    public Builder geckoPrompts() {
      prompts.putAll(BuiltInModels.geckoPrompts());
      return this;
    }

    /** Sets the template applied when no task type is given (sentence-transformers' default prompt). */
    public Builder defaultPrompt(String template) {
      this.defaultPrompt = template == null ? null : checkTemplate(template);
      return this;
    }

    /**
     * Declares a Matryoshka width the model was trained for, in any order ({@link
     * ModelPackage#matryoshkaDims()} lists them widest first, each once).
     */
    public Builder matryoshkaDim(int dims) {
      if (dims < 1) {
        throw new IllegalArgumentException("Matryoshka width must be >= 1, was " + dims);
      }
      matryoshkaDims.add(dims);
      return this;
    }

    /** Sets where the ONNX graph comes from. */
    public Builder model(ModelSource model) {
      this.model = Objects.requireNonNull(model, "model is null");
      return this;
    }

    /** Sets where the tokenizer.json comes from. */
    public Builder tokenizer(ModelSource tokenizer) {
      this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer is null");
      return this;
    }

    /** Sets where the adapter weights come from, or null for none. */
    public Builder adapter(ModelSource adapter) {
      this.adapter = adapter;
      return this;
    }

    /**
     * Builds the package.
     *
     * @throws IllegalStateException if name, pooling, model or tokenizer is missing, or a
     *     Matryoshka width exceeds {@code dimensions}
     */
    public ModelPackage build() {
      if (name == null || pooling == null || model == null || tokenizer == null) {
        throw new IllegalStateException("name, pooling, model and tokenizer are required; not set: " + String.join(", ",
            java.util.stream.Stream.of(name == null ? "name" : null, pooling == null ? "pooling" : null,
                model == null ? "model" : null, tokenizer == null ? "tokenizer" : null)
                .filter(java.util.Objects::nonNull).toList()));
      }
      if (dimensions > 0) {
        for (int d : matryoshkaDims) {
          if (d > dimensions) {
            throw new IllegalStateException("Matryoshka width " + d + " exceeds dimensions " + dimensions);
          }
        }
      }
      return new ModelPackage(this);
    }

    private static String checkTemplate(String template) {
      Objects.requireNonNull(template, "template is null");
      if (!template.contains("{text}")) {
        throw new IllegalArgumentException("prompt template must contain {text}: '" + template + "'");
      }
      return template;
    }

    private static String requireText(String s, String what) {
      if (s == null || s.isBlank()) {
        throw new IllegalArgumentException(what + " must be a non-empty string");
      }
      return s;
    }
  }
}
