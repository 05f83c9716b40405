package dev.gecko.core.internal.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.gecko.core.InvalidDataException;
import dev.gecko.core.ModelManifest;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.ModelSource;
import dev.gecko.core.Pooling;
import dev.gecko.core.TaskType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a model folder into a {@link ModelPackage}: a Gecko folder ({@code gecko-model.json}, read
 * by {@link ModelManifest}) or a sentence-transformers ONNX export ({@code modules.json}, {@code
 * 1_Pooling/config.json}, {@code sentence_bert_config.json}, {@code
 * config_sentence_transformers.json}). Every file the package uses must lie inside the folder: a
 * path that leads out with {@code ..}, an absolute path, or a symbolic link whose target lies
 * outside the folder's real path is refused, except a link from a Hugging Face hub snapshot
 * ({@code models--ORG--NAME/snapshots/REV/}) into its own repository's {@code blobs/}. Internal: {@link ModelPackage#fromDirectory(Path)} is
 * the API.
 *
 * <p>Stateless and thread-safe.
 */
public final class ModelFolders {
  private static final System.Logger LOG = System.getLogger(ModelFolders.class.getName());

  private ModelFolders() {}

  /**
   * Reads a model folder.
   *
   * @throws NoSuchFileException if {@code dir} does not exist
   * @throws IOException if a file cannot be read
   * @throws InvalidDataException if the folder is not a model package, a file of it is malformed,
   *     or a file lies outside the folder (naming the file and field at fault)
   */
  public static ModelPackage read(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      throw new NoSuchFileException(dir.toString(), null, "folder not found");
    }
    if (!Files.isDirectory(dir)) {
      throw new InvalidDataException(dir.toString(), 0, "not a folder");
    }
    Path manifest = dir.resolve(ModelManifest.FILE_NAME);
    if (Files.exists(manifest)) {
      return fromManifest(dir, manifest, ModelManifest.read(manifest));
    }
    if (Files.exists(dir.resolve("modules.json"))) {
      return fromSentenceTransformers(dir);
    }
    throw new InvalidDataException(dir.toString(), 0, "not a model folder: no " + ModelManifest.FILE_NAME
        + " and no sentence-transformers modules.json");
  }

  private static ModelPackage fromManifest(Path dir, Path file, ModelManifest m) throws IOException {
    ModelPackage.Builder b = ModelPackage.builder()
        .name(m.name())
        .pooling(m.poolingMode())
        .maxTokens(m.maxTokens(), file + ": field 'maxTokens'")
        .model(file(dir, m.model(), file, "model"))
        .tokenizer(file(dir, m.tokenizer(), file, "tokenizer"));
    if (m.dimensions() != null) {
      setting(file, "dimensions", () -> b.dimensions(m.dimensions()));
    }
    if ("gecko".equals(m.promptFormat())) {
      b.geckoPrompts();
    }
    m.prompts().forEach((t, p) -> setting(file, "prompts." + t, () -> b.prompt(t, p)));
    if (m.defaultPrompt() != null) {
      setting(file, "defaultPrompt", () -> b.defaultPrompt(m.defaultPrompt()));
    }
    m.matryoshkaDims().forEach(d -> setting(file, "matryoshkaDims", () -> b.matryoshkaDim(d)));
    if (m.adapter() != null) {
      b.adapter(file(dir, m.adapter(), file, "adapter"));
    }
    return build(b, file);
  }

  private static ModelPackage fromSentenceTransformers(Path dir) throws IOException {
    Path modules = dir.resolve("modules.json");
    ModelPackage.Builder b = ModelPackage.builder()
        .name(dir.getFileName() == null ? dir.toString() : dir.getFileName().toString());
    Path poolingConfig = dir.resolve("1_Pooling/config.json");
    int index = 0;
    for (JsonNode module : readJson(modules)) {
      String type = module.path("type").asText("");
      if (type.endsWith("Pooling")) {
        poolingConfig = inside(dir, module.path("path").asText("1_Pooling") + "/config.json", modules,
            "the Pooling module's \"path\"");
      } else if (!type.endsWith(".Transformer") && !type.endsWith(".Normalize")) {
        // a Dense projection (LaBSE, distiluse-*), a second pooling, a custom layer: skipped, the
        // vectors would be another model's (of the transformer's width, not the layer's)
        throw new InvalidDataException(modules.toString(), 0, "module " + index + " is a " + (type.isEmpty()
            ? "module without a type" : type) + "; only a Transformer, a Pooling and a Normalize module are"
            + " supported, and skipping any other would give other vectors than sentence-transformers does");
      }
      index++;
    }
    JsonNode pool = readJson(poolingConfig);
    List<String> modes = new java.util.ArrayList<>();
    Iterator<Map.Entry<String, JsonNode>> fields = pool.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> f = fields.next();
      if (f.getKey().startsWith("pooling_mode_") && f.getValue().asBoolean(false)) {
        modes.add(f.getKey());
      }
    }
    if (modes.equals(List.of("pooling_mode_cls_token"))) {
      b.pooling(Pooling.CLS);
    } else if (modes.equals(List.of("pooling_mode_mean_tokens"))) {
      b.pooling(Pooling.MEAN);
    } else {
      // several modes are concatenated by sentence-transformers: one alone would be another vector
      throw new InvalidDataException(poolingConfig.toString(), 0, "pooling " + (modes.isEmpty() ? "sets no mode"
          : "sets " + String.join(" and ", modes)) + "; only pooling_mode_cls_token or pooling_mode_mean_tokens,"
          + " alone, is supported");
    }
    if (!pool.path("include_prompt").asBoolean(true)) {
      throw new InvalidDataException(poolingConfig.toString(), 0, "include_prompt false (the prompt's tokens left out"
          + " of the pooling) is not supported: Gecko pools the prompt's tokens with the text's");
    }
    if (pool.has("word_embedding_dimension")) {
      int width = integer(pool, "word_embedding_dimension", poolingConfig);
      setting(poolingConfig, "word_embedding_dimension", () -> b.dimensions(width));
    }
    Path sbert = dir.resolve("sentence_bert_config.json");
    if (Files.exists(sbert)) {
      int max = integer(readJson(sbert), "max_seq_length", sbert);
      setting(sbert, "max_seq_length", () -> b.maxTokens(max, sbert + ": field 'max_seq_length'"));
    } else {
      b.maxTokens(512, dir + ": maxTokens (512 where there is no sentence_bert_config.json with max_seq_length)");
    }
    Path stConfig = dir.resolve("config_sentence_transformers.json");
    if (Files.exists(stConfig)) {
      JsonNode st = readJson(stConfig);
      Map<String, String> named = new HashMap<>();
      Map<TaskType, String> mappedBy = new java.util.EnumMap<>(TaskType.class);
      JsonNode prompts = st.path("prompts");
      if (!prompts.isMissingNode() && !prompts.isNull() && !prompts.isObject()) {
        throw new InvalidDataException(stConfig.toString(), 0, "field 'prompts' must be an object of names and "
            + "prefixes, was " + prompts.getNodeType().name().toLowerCase(Locale.ROOT));
      }
      Iterator<Map.Entry<String, JsonNode>> it = prompts.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        String field = "prompts." + e.getKey();
        if (!e.getValue().isTextual()) {
          throw new InvalidDataException(stConfig.toString(), 0, "field '" + field + "' must be a string, was "
              + e.getValue().getNodeType().name().toLowerCase(Locale.ROOT));
        }
        String prefix = e.getValue().asText();
        if (prefix.contains("{text}") || prefix.contains("{title}")) { // a prefix, not a template: the slot would fill twice
          throw new InvalidDataException(stConfig.toString(), 0, "field '" + field + "' holds {text} or {title};"
              + " a sentence-transformers prompt is a plain prefix");
        }
        named.put(e.getKey(), prefix);
        for (TaskType t : taskTypesForPromptName(e.getKey())) {
          String before = mappedBy.putIfAbsent(t, e.getKey());
          if (before != null) { // which would win is the JSON's order: neither, said plainly
            throw new InvalidDataException(stConfig.toString(), 0, "prompts '" + before + "' and '" + e.getKey()
                + "' are both for " + t + "; keep one, or map prompts to task types in a gecko-model.json");
          }
          setting(stConfig, field, () -> b.prompt(t, prefix + "{text}"));
        }
      }
      String defaultName = st.path("default_prompt_name").asText(null);
      List<String> unused = named.keySet().stream()
          .filter(n -> taskTypesForPromptName(n).isEmpty() && !n.equals(defaultName)).sorted().toList();
      if (!unused.isEmpty()) {
        LOG.log(System.Logger.Level.INFO, () -> stConfig + ": prompt" + (unused.size() == 1 ? " " : "s ")
            + String.join(", ", unused) + " name" + (unused.size() == 1 ? "s" : "") + " no task type and "
            + (unused.size() == 1 ? "is" : "are") + " not used; a gecko-model.json in the folder can map prompts to"
            + " task types");
      }
      if (defaultName != null && !named.containsKey(defaultName)) { // sentence-transformers refuses it too
        throw new InvalidDataException(stConfig.toString(), 0, "field 'default_prompt_name': '" + defaultName
            + "' is not one of its prompts " + new java.util.TreeSet<>(named.keySet()));
      }
      if (defaultName != null) {
        setting(stConfig, "default_prompt_name", () -> b.defaultPrompt(named.get(defaultName) + "{text}"));
      }
    }
    String onnx = Files.exists(dir.resolve("model.onnx")) ? "model.onnx" : "onnx/model.onnx";
    if (!Files.exists(dir.resolve(onnx))) {
      throw new InvalidDataException(dir.toString(), 0, "no model.onnx or onnx/model.onnx");
    }
    b.model(ModelSource.of(inside(dir, onnx, dir, onnx)));
    b.tokenizer(file(dir, "tokenizer.json", modules, "tokenizer", "the tokenizer of a sentence-transformers folder"));
    return build(b, modules);
  }

  /** Runs a builder setter; its refusal becomes an error naming the file and field that gave the value. */
  private static void setting(Path origin, String field, Runnable setter) {
    try {
      setter.run();
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new InvalidDataException(origin.toString(), 0, "field '" + field + "': " + e.getMessage(), e);
    }
  }

  private static ModelPackage build(ModelPackage.Builder b, Path origin) {
    try {
      return b.build();
    } catch (IllegalStateException | IllegalArgumentException e) {
      throw new InvalidDataException(origin.toString(), 0, e.getMessage(), e);
    }
  }

  private static List<TaskType> taskTypesForPromptName(String promptName) {
    switch (promptName.toLowerCase(Locale.ROOT)) {
      case "query":
        return List.of(TaskType.RETRIEVAL_QUERY);
      case "document":
      case "passage":
      case "corpus":
      case "retrieval.passage": // jina-embeddings-v3's names
        return List.of(TaskType.RETRIEVAL_DOCUMENT);
      case "retrieval.query":
        return List.of(TaskType.RETRIEVAL_QUERY);
      case "sts":
      case "text-matching":
        return List.of(TaskType.SEMANTIC_SIMILARITY);
      default:
        for (TaskType t : TaskType.values()) {
          if (t.name().equalsIgnoreCase(promptName)) {
            return List.of(t);
          }
        }
        return List.of();
    }
  }

  /** Jackson, created on first use: built-in models never read a folder. */
  private static final class Json {
    static final ObjectMapper MAPPER = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
  }

  private static JsonNode readJson(Path file) throws IOException {
    if (!Files.exists(file)) {
      throw new NoSuchFileException(file.toString(), null, "file not found");
    }
    try {
      return Json.MAPPER.readTree(file.toFile());
    } catch (JsonProcessingException e) {
      throw new InvalidDataException(file.toString(), 0, "not valid JSON: "
          + e.getOriginalMessage().lines().findFirst().orElse(""), e);
    }
  }

  private static int integer(JsonNode root, String field, Path file) {
    JsonNode n = root.get(field);
    if (n == null || !n.canConvertToInt() || !n.isIntegralNumber()) {
      throw new InvalidDataException(file.toString(), 0, "field '" + field + "' must be an integer");
    }
    return n.asInt();
  }

  private static ModelSource file(Path dir, String relative, Path origin, String field) throws IOException {
    return file(dir, relative, origin, field, "field '" + field + "' of " + origin);
  }

  /** As above; a missing file is said to be {@code wanted}'s. */
  private static ModelSource file(Path dir, String relative, Path origin, String field, String wanted)
      throws IOException {
    Path p = inside(dir, relative, origin, "field '" + field + "'");
    if (Files.isDirectory(p)) {
      throw new java.nio.file.FileSystemException(p.toString(), null, "a folder, where field '" + field + "' of " + origin
          + " names a file");
    }
    if (!Files.isRegularFile(p)) {
      // an I/O state (a download not finished, a file not copied), not malformed data: the same
      // exception as a missing manifest, naming what asked for the file
      throw new NoSuchFileException(p.toString(), null, "file not found (" + wanted + ")");
    }
    return ModelSource.of(p);
  }

  /**
   * Returns {@code dir.resolve(relative)}, normalised, after checking that it stays inside {@code
   * dir}: by its name (absolute paths and paths that climb out with {@code ..} are refused) and,
   * where it exists, by its real path (a symbolic link, of the file or of a folder on the way, may
   * not lead out of the folder's real path; the folder itself may be reached through a link).
   *
   * @throws InvalidDataException naming {@code origin} and {@code what} if it leaves the folder
   */
  static Path inside(Path dir, String relative, Path origin, String what) throws IOException {
    Path base = dir.toAbsolutePath().normalize();
    Path given;
    try {
      given = dir.getFileSystem().getPath(relative);
    } catch (java.nio.file.InvalidPathException e) { // a NUL character, say
      throw new InvalidDataException(origin.toString(), 0, what + " is not a valid path: " + e.getMessage(), e);
    }
    if (given.getRoot() != null) { // absolute, or rooted ("\\x", "C:x" on Windows): not relative to the folder
      throw new InvalidDataException(origin.toString(), 0, what + " must be a path relative to the folder, was "
          + relative);
    }
    Path p = dir.resolve(given).normalize();
    if (!p.toAbsolutePath().normalize().startsWith(base)) {
      throw new InvalidDataException(origin.toString(), 0, what + " points outside the folder: " + relative);
    }
    if (Files.exists(p)) {
      Path real = p.toRealPath();
      Path folder = base.toRealPath();
      if (!real.startsWith(folder) && !inHubBlobs(folder, real)) {
        throw new InvalidDataException(origin.toString(), 0, what + " points outside the folder: " + relative
            + " is a link to " + real);
      }
    }
    return p;
  }

  /**
   * Whether {@code real} is a file of the Hugging Face hub cache's repository whose snapshot
   * {@code folder} is: {@code models--ORG--NAME/snapshots/REV/} holds links into the same
   * repository's {@code blobs/}, as {@code snapshot_download} and sentence-transformers leave it.
   */
  private static boolean inHubBlobs(Path folder, Path real) {
    Path snapshots = folder.getParent();
    Path repo = snapshots == null ? null : snapshots.getParent();
    return repo != null && repo.getFileName() != null && snapshots.getFileName().toString().equals("snapshots")
        && repo.getFileName().toString().startsWith("models--") && real.startsWith(repo.resolve("blobs"));
  }
}
