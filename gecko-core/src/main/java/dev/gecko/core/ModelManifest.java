package dev.gecko.core;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import dev.gecko.core.internal.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * {@code gecko-model.json}, the manifest of a model folder, as a typed value: the one reader and
 * writer of the format. {@link ModelPackage#fromDirectory(Path)} reads it; trainers write it.
 *
 * <pre>{@code
 * {
 *   "name": "bge-small-en-v1.5-mrl-adapter",
 *   "pooling": "cls",                  // or "mean"
 *   "maxTokens": 512,
 *   "dimensions": 384,                 // optional: else read from the graph
 *   "model": "model.onnx",             // default
 *   "tokenizer": "tokenizer.json",     // default
 *   "promptFormat": "gecko",           // optional: Gecko's prompts for every task type
 *   "prompts": {"RETRIEVAL_QUERY": "query: {text}"},   // optional, per task type
 *   "defaultPrompt": "{text}",         // optional: for requests without a task type
 *   "matryoshkaDims": [384, 256, 128], // optional: the widths it was trained for
 *   "adapter": "adapter.safetensors",  // optional
 *   "training": {...}                  // optional provenance, kept as written
 * }
 * }</pre>
 *
 * File names are relative to the folder and must stay inside it. Unknown fields are ignored, so
 * that a newer writer's manifest still opens.
 *
 * <p>Immutable and thread-safe, provided the values nested in {@code training} (copied
 * shallowly) are not changed.
 *
 * @param name the model's name; required
 * @param pooling {@code "cls"} or {@code "mean"}; required
 * @param maxTokens the most tokens per text, special tokens included; at least 2
 * @param dimensions the pooled width, or null to read it from the graph
 * @param model the ONNX graph's file name (default {@code model.onnx})
 * @param tokenizer the {@code tokenizer.json} file name (default {@code tokenizer.json})
 * @param promptFormat {@code "gecko"} for Gecko's prompts on every task type, or null
 * @param prompts prompt templates by task type ({@code {text}}, optionally {@code {title}});
 *     applied after {@code promptFormat}'s
 * @param defaultPrompt the template for requests without a task type, or null
 * @param matryoshkaDims the widths the model was trained for, strictly widest first (may be empty)
 * @param adapter the adapter's file name, or null
 * @param training provenance of a trained model (base model, data, objective, scores...), or null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"name", "pooling", "maxTokens", "dimensions", "model", "tokenizer", "promptFormat", "prompts",
    "defaultPrompt", "matryoshkaDims", "adapter", "training"})
public record ModelManifest(String name, String pooling, int maxTokens, Integer dimensions, String model,
    String tokenizer, String promptFormat, Map<TaskType, String> prompts, String defaultPrompt,
    List<Integer> matryoshkaDims, String adapter, Map<String, Object> training) {

  /** The manifest's file name inside a model folder. */
  public static final String FILE_NAME = "gecko-model.json";

  /**
   * Validates the fields and fills the defaults.
   *
   * @throws IllegalArgumentException naming the field at fault
   */
  public ModelManifest {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("field 'name' must be a non-empty string");
    }
    if (pooling == null || !List.of("cls", "mean").contains(pooling.toLowerCase(Locale.ROOT))) {
      throw new IllegalArgumentException("field 'pooling' must be 'cls' or 'mean', was " + quote(pooling));
    }
    pooling = pooling.toLowerCase(Locale.ROOT);
    if (maxTokens < 2) {
      throw new IllegalArgumentException("field 'maxTokens' must be an integer >= 2, was "
          + (maxTokens == 0 ? "0 or missing" : maxTokens));
    }
    if (dimensions != null && dimensions < 1) {
      throw new IllegalArgumentException("field 'dimensions' must be >= 1, was " + dimensions);
    }
    model = model == null ? "model.onnx" : model;
    tokenizer = tokenizer == null ? "tokenizer.json" : tokenizer;
    if (promptFormat != null && !promptFormat.equals("gecko")) {
      throw new IllegalArgumentException("field 'promptFormat' must be 'gecko' or absent, was " + quote(promptFormat));
    }
    Map<TaskType, String> p = new EnumMap<>(TaskType.class);
    if (prompts != null) {
      prompts.forEach((task, template) -> {
        if (task == null || template == null || !template.contains("{text}")) {
          throw new IllegalArgumentException("field 'prompts': the template of " + task + " must contain {text}, was "
              + quote(template));
        }
        p.put(task, template);
      });
    }
    prompts = Collections.unmodifiableMap(p);
    if (defaultPrompt != null && !defaultPrompt.contains("{text}")) {
      throw new IllegalArgumentException("field 'defaultPrompt' must contain {text}, was " + quote(defaultPrompt));
    }
    if (matryoshkaDims != null) {
      for (int i = 0; i < matryoshkaDims.size(); i++) {
        Integer d = matryoshkaDims.get(i);
        if (d == null || d < 1 || (dimensions != null && d > dimensions)) {
          throw new IllegalArgumentException("field 'matryoshkaDims': every width must be in [1, "
              + (dimensions == null ? "dimensions" : dimensions) + "], was " + d + " at [" + i + "] of " + matryoshkaDims);
        }
        if (i > 0 && d >= matryoshkaDims.get(i - 1)) {
          throw new IllegalArgumentException("field 'matryoshkaDims': widths must be listed widest first, each once, but "
              + d + " at [" + i + "] follows " + matryoshkaDims.get(i - 1) + " in " + matryoshkaDims);
        }
      }
    }
    matryoshkaDims = matryoshkaDims == null ? List.of() : List.copyOf(matryoshkaDims);
    training = training == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(training));
  }

  /**
   * A manifest that describes {@code pkg} as a folder holding {@code model.onnx} and {@code
   * tokenizer.json} (its adapter, if any, is not carried over: set it with {@link
   * #withAdapter(String)}).
   *
   * @throws IllegalArgumentException if a value of the package is not a valid manifest value (its
   *     Matryoshka widths not listed widest first, say)
   */
  public static ModelManifest describing(ModelPackage pkg) {
    Objects.requireNonNull(pkg, "pkg is null");
    return new ModelManifest(pkg.name(), pkg.pooling().name(), pkg.maxTokens(),
        pkg.dimensions() > 0 ? pkg.dimensions() : null, "model.onnx", "tokenizer.json", null, pkg.prompts(),
        pkg.defaultPrompt().orElse(null), pkg.matryoshkaDims(), null, null);
  }

  /** Returns a copy with another name. */
  public ModelManifest withName(String newName) {
    return new ModelManifest(newName, pooling, maxTokens, dimensions, model, tokenizer, promptFormat, prompts,
        defaultPrompt, matryoshkaDims, adapter, training);
  }

  /** Returns a copy with another width and Matryoshka widths. */
  public ModelManifest withDimensions(int newDimensions, List<Integer> newMatryoshkaDims) {
    return new ModelManifest(name, pooling, maxTokens, newDimensions, model, tokenizer, promptFormat, prompts,
        defaultPrompt, newMatryoshkaDims, adapter, training);
  }

  /** Returns a copy with other prompts (and no prompt format). */
  public ModelManifest withPrompts(Map<TaskType, String> newPrompts, String newDefaultPrompt) {
    return new ModelManifest(name, pooling, maxTokens, dimensions, model, tokenizer, null, newPrompts,
        newDefaultPrompt, matryoshkaDims, adapter, training);
  }

  /** Returns a copy with an adapter file (null for none). */
  public ModelManifest withAdapter(String file) {
    return new ModelManifest(name, pooling, maxTokens, dimensions, model, tokenizer, promptFormat, prompts,
        defaultPrompt, matryoshkaDims, file, training);
  }

  /** Returns a copy with training provenance (null for none). */
  public ModelManifest withTraining(Map<String, Object> provenance) {
    return new ModelManifest(name, pooling, maxTokens, dimensions, model, tokenizer, promptFormat, prompts,
        defaultPrompt, matryoshkaDims, adapter, provenance);
  }

  /** Returns the pooling as the enum. */
  public Pooling poolingMode() {
    return Pooling.valueOf(pooling.toUpperCase(Locale.ROOT));
  }

  /**
   * Reads a manifest file. Values must have their field's JSON type: a number where a string is
   * expected (or a string or fraction where an integer is) is refused, not converted.
   *
   * @throws NoSuchFileException if it does not exist
   * @throws IOException if it cannot be read
   * @throws InvalidDataException if it is not valid JSON, not a JSON object, or a field is wrong
   *     (naming the file and the field)
   */
  public static ModelManifest read(Path file) throws IOException {
    Objects.requireNonNull(file, "file is null");
    if (!Files.exists(file)) {
      throw new NoSuchFileException(file.toString(), null, "file not found");
    }
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(file.toFile());
    } catch (JsonProcessingException e) {
      throw new InvalidDataException(file.toString(), 0, "not valid JSON: "
          + e.getOriginalMessage().lines().findFirst().orElse(""), e);
    }
    if (root == null || !root.isObject()) {
      throw new InvalidDataException(file.toString(), 0, "expected a JSON object, was "
          + (root == null || root.isMissingNode() ? "an empty file" : root.getNodeType().name().toLowerCase(Locale.ROOT)));
    }
    try {
      return Json.MAPPER.treeToValue(root, ModelManifest.class);
    } catch (ValueInstantiationException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new InvalidDataException(file.toString(), 0, cause.getMessage(), e);
    } catch (JsonMappingException e) {
      String field = e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
          .collect(Collectors.joining(".")).replace(".[", "[");
      String reason = e.getOriginalMessage().lines().findFirst().orElse("");
      java.util.regex.Matcher key = java.util.regex.Pattern.compile("from String \"([^\"]*)\"").matcher(reason);
      if (field.equals("prompts") && reason.contains("TaskType") && key.find()) {
        field = "prompts." + key.group(1);
        reason = "unknown task type; expected one of " + List.of(TaskType.values());
      } else if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
        reason = "must be " + expected(m.getTargetType()) + ", was " + found(root, e.getPath());
      }
      throw new InvalidDataException(file.toString(), 0, (field.isEmpty() ? "" : "field '" + field + "': ") + reason, e);
    } catch (JsonProcessingException e) { // a number too large for its field
      throw new InvalidDataException(file.toString(), 0, e.getOriginalMessage().lines().findFirst().orElse(""), e);
    }
  }

  /** What a value of a field's Java type looks like in JSON. */
  private static String expected(Class<?> type) {
    if (type == int.class || type == Integer.class) {
      return "an integer";
    }
    if (type == String.class) {
      return "a string";
    }
    if (List.class.isAssignableFrom(type)) {
      return "an array";
    }
    if (Map.class.isAssignableFrom(type)) {
      return "an object";
    }
    return "a " + type.getSimpleName();
  }

  /** The JSON value at a mapping error's path, for its message. */
  private static String found(JsonNode root, List<JsonMappingException.Reference> path) {
    JsonNode n = root;
    for (JsonMappingException.Reference r : path) {
      n = r.getFieldName() != null ? n.path(r.getFieldName()) : n.path(r.getIndex());
    }
    return n.isMissingNode() ? "missing" : n.isTextual() ? "the string " + n : n.toString();
  }

  /**
   * Writes the manifest to {@code file}, atomically where the file system allows (a sibling
   * temporary file moved into place).
   *
   * @throws IOException if it cannot be written
   */
  public void write(Path file) throws IOException {
    Objects.requireNonNull(file, "file is null");
    byte[] bytes = Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
    byte[] withNewline = java.util.Arrays.copyOf(bytes, bytes.length + 1);
    withNewline[bytes.length] = '\n';
    AtomicFiles.write(file, withNewline);
  }

  private static String quote(String s) {
    return s == null ? "nothing" : "'" + s + "'";
  }

  /** Jackson, created on first use: built-in models never read a manifest. */
  private static final class Json {
    static final ObjectMapper MAPPER = JsonMapper.builder()
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
        // a value of the wrong JSON type is refused, not converted ("512" or 512.9 for 512, 5 for "5")
        .withCoercionConfig(LogicalType.Integer, c -> c.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
            .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
            .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
        .withCoercionConfig(LogicalType.Textual, c -> c.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
            .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
            .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
        .build();
  }
}
