package dev.gecko.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
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
 *   <li>{@link #fromDirectory(Path)}: a folder with {@code gecko-model.json} (the manifest, see
 *       {@code docs/model-packages.md}), or a sentence-transformers ONNX export ({@code
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
  /** The manifest file name inside a model folder. */
  public static final String MANIFEST = "gecko-model.json";

  /**
   * Jackson, created on first use: loading its classes takes about a third of a second, which a
   * built-in model (no manifest to read) should not pay on the way to its first vector.
   */
  private static final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();
  }

  private final String name;
  private final int dimensions;
  private final Pooling pooling;
  private final int maxTokens;
  /** Where {@link #maxTokens} was set, for messages: a manifest field, or the builder's method. */
  private final String maxTokensSource;
  private final Map<TaskType, String> prompts;
  private final String defaultPrompt;
  private final List<Integer> matryoshkaDims;
  private final Source model;
  private final Source tokenizer;
  private final Source adapter;

  private ModelPackage(Builder b) {
    this.name = b.name;
    this.dimensions = b.dimensions;
    this.pooling = b.pooling;
    this.maxTokens = b.maxTokens;
    this.maxTokensSource = b.maxTokensSource != null ? b.maxTokensSource : "maxTokens";
    this.prompts = Collections.unmodifiableMap(new EnumMap<>(b.prompts));
    this.defaultPrompt = b.defaultPrompt;
    this.matryoshkaDims = List.copyOf(b.matryoshkaDims);
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
   * Resolves a built-in name or a model folder path.
   *
   * @throws IllegalArgumentException if it is neither, or blank (an empty path would name the
   *     current folder)
   * @throws UncheckedIOException if the folder's files cannot be read
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
   * Loads a model folder: a Gecko manifest, or a sentence-transformers ONNX export. Every file the
   * package uses must lie inside the folder: a path that leads out with {@code ..}, an absolute
   * path, or a symbolic link whose target lies outside the folder's real path is refused.
   *
   * @throws IOException if a file cannot be read
   * @throws IllegalArgumentException if the folder is not a model package, or a file of it lies
   *     outside the folder (the message names the file and field at fault)
   */
  public static ModelPackage fromDirectory(Path dir) throws IOException {
    Objects.requireNonNull(dir, "dir is null");
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(dir + ": not a folder");
    }
    Path manifest = dir.resolve(MANIFEST);
    if (Files.exists(manifest)) {
      return fromManifest(dir, manifest);
    }
    if (Files.exists(dir.resolve("modules.json"))) {
      return fromSentenceTransformers(dir);
    }
    throw new IllegalArgumentException(dir + ": no " + MANIFEST + " and no sentence-transformers modules.json");
  }

  private static ModelPackage fromManifest(Path dir, Path manifest) throws IOException {
    JsonNode root = readJson(manifest);
    Builder b = builder()
        .name(text(root, "name", manifest))
        .pooling(pooling(text(root, "pooling", manifest), manifest))
        .maxTokens(integer(root, "maxTokens", manifest), manifest + ": field 'maxTokens'")
        .model(file(dir, root.path("model").asText("model.onnx"), manifest, "model"))
        .tokenizer(file(dir, root.path("tokenizer").asText("tokenizer.json"), manifest, "tokenizer"));
    if (root.has("dimensions")) {
      b.dimensions(integer(root, "dimensions", manifest));
    }
    String format = root.path("promptFormat").asText("");
    if ("gecko".equals(format)) {
      b.geckoPrompts();
    } else if (!format.isEmpty()) {
      throw new IllegalArgumentException(manifest + ": field 'promptFormat' must be 'gecko' or absent, was '" + format + "'");
    }
    Iterator<Map.Entry<String, JsonNode>> it = root.path("prompts").fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      TaskType t;
      try {
        t = TaskType.valueOf(e.getKey());
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException(manifest + ": prompts." + e.getKey() + ": unknown task type; expected one of "
            + List.of(TaskType.values()));
      }
      b.prompt(t, e.getValue().asText());
    }
    if (root.hasNonNull("defaultPrompt")) {
      b.defaultPrompt(root.get("defaultPrompt").asText());
    }
    for (JsonNode d : root.path("matryoshkaDims")) {
      b.matryoshkaDim(d.asInt());
    }
    if (root.hasNonNull("adapter")) {
      b.adapter(file(dir, root.get("adapter").asText(), manifest, "adapter"));
    }
    return b.build();
  }

  private static ModelPackage fromSentenceTransformers(Path dir) throws IOException {
    Builder b = builder().name(dir.getFileName() == null ? dir.toString() : dir.getFileName().toString());
    Path poolingConfig = null;
    boolean sawPooling = false;
    for (JsonNode module : readJson(dir.resolve("modules.json"))) {
      String type = module.path("type").asText("");
      if (type.endsWith("Pooling")) {
        poolingConfig = inside(dir, module.path("path").asText("1_Pooling") + "/config.json",
            dir.resolve("modules.json"), "the Pooling module's \"path\"");
        sawPooling = true;
      }
    }
    if (!sawPooling) {
      poolingConfig = dir.resolve("1_Pooling/config.json");
    }
    JsonNode pool = readJson(poolingConfig);
    if (pool.path("pooling_mode_cls_token").asBoolean(false)) {
      b.pooling(Pooling.CLS);
    } else if (pool.path("pooling_mode_mean_tokens").asBoolean(false)) {
      b.pooling(Pooling.MEAN);
    } else {
      throw new IllegalArgumentException(poolingConfig + ": only pooling_mode_cls_token and pooling_mode_mean_tokens are supported");
    }
    if (pool.has("word_embedding_dimension")) {
      b.dimensions(pool.get("word_embedding_dimension").asInt());
    }
    Path sbert = dir.resolve("sentence_bert_config.json");
    if (Files.exists(sbert)) {
      b.maxTokens(integer(readJson(sbert), "max_seq_length", sbert), sbert + ": field 'max_seq_length'");
    } else {
      b.maxTokens(512, dir + ": maxTokens (512 where there is no sentence_bert_config.json with max_seq_length)");
    }
    Path stConfig = dir.resolve("config_sentence_transformers.json");
    if (Files.exists(stConfig)) {
      JsonNode st = readJson(stConfig);
      Map<String, String> named = new java.util.HashMap<>();
      Iterator<Map.Entry<String, JsonNode>> it = st.path("prompts").fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        String prefix = e.getValue().asText();
        named.put(e.getKey(), prefix);
        for (TaskType t : taskTypesForPromptName(e.getKey())) {
          b.prompt(t, prefix + "{text}");
        }
      }
      String defaultName = st.path("default_prompt_name").asText(null);
      if (defaultName != null && named.containsKey(defaultName)) {
        b.defaultPrompt(named.get(defaultName) + "{text}");
      }
    }
    String onnx = "model.onnx";
    if (!Files.exists(dir.resolve(onnx))) {
      onnx = "onnx/model.onnx";
    }
    if (!Files.exists(dir.resolve(onnx))) {
      throw new IllegalArgumentException(dir + ": no model.onnx or onnx/model.onnx");
    }
    b.model(Source.of(inside(dir, onnx, dir, onnx)));
    b.tokenizer(file(dir, "tokenizer.json", dir.resolve("modules.json"), "tokenizer"));
    return b.build();
  }

  private static List<TaskType> taskTypesForPromptName(String promptName) {
    String n = promptName.toLowerCase(Locale.ROOT);
    switch (n) {
      case "query":
        return List.of(TaskType.RETRIEVAL_QUERY);
      case "document":
      case "passage":
      case "corpus":
        return List.of(TaskType.RETRIEVAL_DOCUMENT);
      default:
        for (TaskType t : TaskType.values()) {
          if (t.name().equalsIgnoreCase(promptName)) {
            return List.of(t);
          }
        }
        return List.of();
    }
  }

  private static JsonNode readJson(Path file) throws IOException {
    if (!Files.exists(file)) {
      throw new IllegalArgumentException(file + ": missing");
    }
    try {
      return Json.MAPPER.readTree(file.toFile());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
    }
  }

  private static String text(JsonNode root, String field, Path file) {
    JsonNode n = root.get(field);
    if (n == null || !n.isTextual() || n.asText().isBlank()) {
      throw new IllegalArgumentException(file + ": field '" + field + "' must be a non-empty string");
    }
    return n.asText();
  }

  private static int integer(JsonNode root, String field, Path file) {
    JsonNode n = root.get(field);
    if (n == null || !n.canConvertToInt() || !n.isIntegralNumber()) {
      throw new IllegalArgumentException(file + ": field '" + field + "' must be an integer");
    }
    return n.asInt();
  }

  private static Pooling pooling(String value, Path file) {
    try {
      return Pooling.valueOf(value.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": field 'pooling' must be 'cls' or 'mean', was '" + value + "'");
    }
  }

  private static Source file(Path dir, String relative, Path manifest, String field) throws IOException {
    Path p = inside(dir, relative, manifest, "field '" + field + "'");
    if (!Files.isRegularFile(p)) {
      throw new IllegalArgumentException(manifest + ": field '" + field + "': file not found: " + p);
    }
    return Source.of(p);
  }

  /**
   * Returns {@code dir.resolve(relative)}, normalised, after checking that it stays inside {@code
   * dir}: by its name (absolute paths and paths that climb out with {@code ..} are refused) and,
   * where it exists, by its real path (a symbolic link, of the file or of a folder on the way, may
   * not lead out of the folder's real path; the folder itself may be reached through a link).
   *
   * @throws IllegalArgumentException naming {@code origin} and {@code what} if it leaves the folder
   */
  private static Path inside(Path dir, String relative, Path origin, String what) throws IOException {
    Path base = dir.toAbsolutePath().normalize();
    Path p = dir.resolve(relative).normalize();
    if (!p.toAbsolutePath().normalize().startsWith(base)) {
      throw new IllegalArgumentException(origin + ": " + what + " points outside the folder: " + relative);
    }
    if (Files.exists(p)) {
      Path real = p.toRealPath();
      if (!real.startsWith(base.toRealPath())) {
        throw new IllegalArgumentException(origin + ": " + what + " points outside the folder: " + relative
            + " is a link to " + real);
      }
    }
    return p;
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
   * Where {@link #maxTokens()} came from, for messages: {@code "<manifest>: field 'maxTokens'"},
   * {@code "<folder>/sentence_bert_config.json: field 'max_seq_length'"}, or {@code "maxTokens"}.
   */
  String maxTokensSource() {
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

  /** Returns the Matryoshka widths the model was trained for (empty if none were declared). */
  public List<Integer> matryoshkaDims() {
    return matryoshkaDims;
  }

  /** Returns where the ONNX graph comes from. */
  public Source model() {
    return model;
  }

  /** Returns where the tokenizer.json comes from. */
  public Source tokenizer() {
    return tokenizer;
  }

  /** Returns where the adapter weights come from, if the package has an adapter. */
  public Optional<Source> adapter() {
    return Optional.ofNullable(adapter);
  }

  /**
   * Returns the text the model sees for a request: the request's task type's template (or the
   * default prompt when it has none) applied to its text and title.
   */
  public String render(EmbedRequest request) {
    String template = request.taskType() == null ? defaultPrompt : prompts.get(request.taskType());
    String title = request.title();
    boolean hasTitle = title != null && !title.isBlank();
    if (template == null) {
      return hasTitle ? (title + " " + request.text()).strip() : request.text();
    }
    if (template.contains("{title}")) {
      return template.replace("{title}", hasTitle ? title : "none").replace("{text}", request.text());
    }
    String body = hasTitle ? (title + " " + request.text()).strip() : request.text();
    return template.replace("{text}", body);
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

  /**
   * Where a file of a package comes from: a path on disk or a classpath resource. Immutable.
   */
  public static final class Source {
    private final Path path;
    private final String resource;
    private final ClassLoader loader;

    private Source(Path path, String resource, ClassLoader loader) {
      this.path = path;
      this.resource = resource;
      this.loader = loader;
    }

    /** A file on disk. */
    public static Source of(Path path) {
      return new Source(Objects.requireNonNull(path, "path is null"), null, null);
    }

    /** A classpath resource (absolute name, without a leading slash) of the given loader. */
    public static Source ofResource(String resource, ClassLoader loader) {
      return new Source(null, Objects.requireNonNull(resource, "resource is null"),
          Objects.requireNonNull(loader, "loader is null"));
    }

    /** Returns the path on disk, if this source is a file. */
    public Optional<Path> path() {
      return Optional.ofNullable(path);
    }

    /** Returns whether the source exists. */
    public boolean exists() {
      return path != null ? Files.isRegularFile(path) : loader.getResource(resource) != null;
    }

    /**
     * Opens the source for reading. The caller closes the stream.
     *
     * @throws IOException if it cannot be opened (the message names the source)
     */
    public InputStream open() throws IOException {
      if (path != null) {
        return Files.newInputStream(path);
      }
      InputStream in = loader.getResourceAsStream(resource);
      if (in == null) {
        throw new IOException("classpath resource not found: " + resource);
      }
      return in;
    }

    /**
     * Reads the whole source into one array of its exact size when the size is known (files, and
     * jar entries that record it), so that reading a large model leaves no second copy of garbage
     * behind (InputStream.readAllBytes gathers chunks and copies them).
     *
     * @throws IOException if it cannot be read, or changes size while being read (the message names
     *     the source)
     */
    public byte[] readAllBytes() throws IOException {
      if (path != null) {
        return Files.readAllBytes(path);
      }
      java.net.URL url = loader.getResource(resource);
      if (url == null) {
        throw new IOException("classpath resource not found: " + resource);
      }
      java.net.URLConnection connection = url.openConnection();
      connection.setUseCaches(false); // a jar opened for this read is closed with the stream
      long size = connection.getContentLengthLong();
      try (InputStream in = connection.getInputStream()) {
        if (size < 0 || size > Integer.MAX_VALUE - 8) {
          return in.readAllBytes();
        }
        byte[] bytes = new byte[(int) size];
        int read = in.readNBytes(bytes, 0, bytes.length);
        if (read != bytes.length || in.read() != -1) {
          throw new IOException(this + ": expected " + size + " bytes, read " + (read != bytes.length ? read : "more"));
        }
        return bytes;
      }
    }

    /** Returns whether this source is the resource {@code name} of {@code loader}. */
    boolean isResource(String name, ClassLoader loader) {
      return resource != null && resource.equals(name) && this.loader == loader;
    }

    /** Returns where the resource is, if this source is a resource that exists. */
    Optional<java.net.URL> resourceUrl() {
      return resource == null ? Optional.empty() : Optional.ofNullable(loader.getResource(resource));
    }

    @Override
    public String toString() {
      return path != null ? path.toString() : "classpath:" + resource;
    }
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
    private Source model;
    private Source tokenizer;
    private Source adapter;

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

    /** Sets the maximum tokens per text and where the value comes from (for messages; null: this builder). */
    Builder maxTokens(int maxTokens, String source) {
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

    /** Declares a Matryoshka width the model was trained for. */
    public Builder matryoshkaDim(int dims) {
      if (dims < 1) {
        throw new IllegalArgumentException("Matryoshka width must be >= 1, was " + dims);
      }
      matryoshkaDims.add(dims);
      return this;
    }

    /** Sets where the ONNX graph comes from. */
    public Builder model(Source model) {
      this.model = Objects.requireNonNull(model, "model is null");
      return this;
    }

    /** Sets where the tokenizer.json comes from. */
    public Builder tokenizer(Source tokenizer) {
      this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer is null");
      return this;
    }

    /** Sets where the adapter weights come from, or null for none. */
    public Builder adapter(Source adapter) {
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
        throw new IllegalStateException("name, pooling, model and tokenizer are required");
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
