package dev.gecko.core.internal.model;

import dev.gecko.core.ModelPackage;
import dev.gecko.core.ModelSource;
import dev.gecko.core.Pooling;
import dev.gecko.core.TaskType;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The models whose weights ship in Maven artifacts, and their published configurations. Stateless
 * and thread-safe: the registry is filled once when the class initialises and only read afterwards.
 */
public final class BuiltInModels {
  private BuiltInModels() {}

  /** bge-small-en-v1.5 (BAAI): CLS pooling, 512 tokens, an instruction on retrieval queries only. */
  private static final String BGE_QUERY = "Represent this sentence for searching relevant passages: {text}";

  /**
   * Rows of every built-in graph's position-embedding table, read from the graphs (the test
   * {@code aBuiltInGraphIsCheckedAgainstItsKnownTable} reads them again): a built-in model's
   * maximum tokens are checked against this instead of reading its graph at open.
   */
  private static final int POSITIONS = 512;

  /**
   * Where the gecko-model-* jars keep their files: a folder that is not a package, so that the
   * jars, automatic modules on a module path, export nothing and cannot split a package.
   */
  public static final String RESOURCE_FOLDER = "gecko-models/";

  private record Entry(
      String onnx, String tokenizer, String artifact, Pooling pooling, int maxTokens, Map<TaskType, String> prompts) {
    Entry {
      onnx = RESOURCE_FOLDER + onnx;
      tokenizer = RESOURCE_FOLDER + tokenizer;
    }
  }

  private static final Map<String, Entry> MODELS = new LinkedHashMap<>();

  static {
    Map<TaskType, String> bge = Map.of(TaskType.RETRIEVAL_QUERY, BGE_QUERY);
    Map<TaskType, String> e5 = new EnumMap<>(TaskType.class);
    // e5's model card: "query: " for queries and for symmetric tasks, "passage: " for documents.
    for (TaskType t : TaskType.values()) {
      e5.put(t, "query: {text}");
    }
    e5.put(TaskType.RETRIEVAL_DOCUMENT, "passage: {text}");
    // this project's resource-only jars (gecko-models), made from LangChain4j's model jars by the build
    String jar = "dev.gecko:gecko-model-";
    MODELS.put("bge-small-en-v1.5", new Entry("bge-small-en-v1.5.onnx", "bge-small-en-v1.5-tokenizer.json",
        jar + "bge-small-en-v15", Pooling.CLS, 512, bge));
    MODELS.put("bge-small-en-v1.5-int8", new Entry("bge-small-en-v1.5-q.onnx", "bge-small-en-v1.5-q-tokenizer.json",
        jar + "bge-small-en-v15-int8", Pooling.CLS, 512, bge));
    // sentence-transformers uses max_seq_length 256; the tokenizer.json in the jar says 128.
    MODELS.put("all-MiniLM-L6-v2", new Entry("all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json",
        jar + "all-minilm-l6-v2", Pooling.MEAN, 256, Map.of()));
    MODELS.put("all-MiniLM-L6-v2-int8", new Entry("all-minilm-l6-v2-q.onnx", "all-minilm-l6-v2-q-tokenizer.json",
        jar + "all-minilm-l6-v2-int8", Pooling.MEAN, 256, Map.of()));
    MODELS.put("e5-small-v2", new Entry("e5-small-v2.onnx", "e5-small-v2-tokenizer.json",
        jar + "e5-small-v2", Pooling.MEAN, 512, e5));
    MODELS.put("e5-small-v2-int8", new Entry("e5-small-v2-q.onnx", "e5-small-v2-q-tokenizer.json",
        jar + "e5-small-v2-int8", Pooling.MEAN, 512, e5));
  }

  /**
   * Returns how many positions a built-in graph embeds, when {@code model} is one of the built-in
   * graphs (a resource of this class's loader with a built-in graph's name); empty otherwise.
   */
  public static OptionalInt positions(ModelSource model) {
    ClassLoader loader = BuiltInModels.class.getClassLoader();
    for (Entry e : MODELS.values()) {
      if (model.isResource(e.onnx(), loader)) {
        return OptionalInt.of(POSITIONS);
      }
    }
    return OptionalInt.empty();
  }

  public static List<String> names() {
    return List.copyOf(MODELS.keySet());
  }

  public static ModelPackage get(String name) {
    Entry e = MODELS.get(name);
    if (e == null) {
      throw new IllegalArgumentException("unknown built-in model '" + name + "'; built-in models are " + names());
    }
    ClassLoader loader = BuiltInModels.class.getClassLoader();
    ModelSource onnx = ModelSource.ofResource(e.onnx(), loader);
    if (!onnx.exists()) {
      throw new IllegalArgumentException("model '" + name + "' needs its weights on the classpath: add the Maven "
          + "dependency " + e.artifact() + " (the version of gecko-core; gecko-bom manages it)");
    }
    ModelPackage.Builder b = ModelPackage.builder()
        .name(name)
        .dimensions(384)
        .pooling(e.pooling())
        .maxTokens(e.maxTokens(), "built-in model " + name + ": maxTokens")
        .model(onnx)
        .tokenizer(ModelSource.ofResource(e.tokenizer(), loader));
    e.prompts().forEach(b::prompt);
    return b.build();
  }

  /** The prompt templates of Gecko-format models (Lee et al. 2024, appendix B). */
  public static Map<TaskType, String> geckoPrompts() {
    Map<TaskType, String> m = new EnumMap<>(TaskType.class);
    m.put(TaskType.RETRIEVAL_QUERY, "task: search result | query: {text}");
    m.put(TaskType.QUESTION_ANSWERING, "task: question answering | query: {text}");
    m.put(TaskType.FACT_VERIFICATION, "task: fact checking | query: {text}");
    m.put(TaskType.CLASSIFICATION, "task: classification | query: {text}");
    m.put(TaskType.CLUSTERING, "task: clustering | query: {text}");
    m.put(TaskType.SEMANTIC_SIMILARITY, "task: sentence similarity | query: {text}");
    m.put(TaskType.CODE_RETRIEVAL_QUERY, "task: code retrieval | query: {text}");
    m.put(TaskType.RETRIEVAL_DOCUMENT, "title: {title} | text: {text}");
    return m;
  }
}
