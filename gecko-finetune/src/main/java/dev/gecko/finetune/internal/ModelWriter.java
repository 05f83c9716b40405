package dev.gecko.finetune.internal;

import dev.gecko.core.ModelManifest;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.adapter.Adapter;
import dev.gecko.core.internal.io.AtomicFiles;
import dev.gecko.core.internal.onnx.OnnxModel;
import dev.gecko.finetune.FineTuneConfig;
import dev.gecko.finetune.PromptStyle;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a trained model folder: the base package's own ONNX graph with the trained weights
 * copied into its initializers ({@code model.onnx}), its {@code tokenizer.json}, and a {@code
 * gecko-model.json} with the prompts of the training format and the training provenance; with an
 * output basis, {@code adapter.safetensors} (the basis, a zero residual) named by the manifest; with
 * int8, a second complete folder {@code int8/} whose graph is quantised by {@link Int8Quantizer}.
 * Stateless.
 */
public final class ModelWriter {
  /** The adapter's file name in a written folder. */
  static final String ADAPTER_FILE = "adapter.safetensors";

  private ModelWriter() {}

  /** The folders written. */
  public record Written(Path dir, Path int8Dir) {}

  /** The base graph with the encoder's weights in its initializers. */
  public static byte[] trainedGraph(OnnxModel graph, BertLayout.Mapping mapping, BertEncoder encoder) {
    OnnxModel.Editor edit = graph.edit();
    mapping.parameters().forEach((param, init) -> edit.replace(init, encoder.values(param)));
    return edit.write();
  }

  static Written write(OnnxModel graph, BertLayout.Mapping mapping, BertEncoder encoder, ModelPackage base,
      ModelPackage trained, PromptStyle style, FineTuneConfig config, Map<String, Object> provenance,
      Adapter adapter) throws IOException {
    Path dir = config.output();
    byte[] model = trainedGraph(graph, mapping, encoder);
    byte[] tokenizer;
    try (InputStream in = base.tokenizer().open()) {
      tokenizer = in.readAllBytes();
    }
    byte[] adapterBytes = null;
    if (adapter != null) {
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      adapter.write(out);
      adapterBytes = out.toByteArray();
    }
    String name = base.name() + "-finetuned";
    writeFolder(dir, model, tokenizer, adapterBytes, manifest(name, base, trained, style, config, provenance, adapter));
    Path int8 = null;
    if (config.quantizeInt8()) {
      int8 = dir.resolve("int8");
      Files.createDirectories(int8);
      byte[] q = Int8Quantizer.quantize(OnnxModel.parse(model));
      Map<String, Object> p = new LinkedHashMap<>(provenance);
      p.put("quantization", "int8 dynamic (weights per output column, symmetric int8 in [-64, 64]; "
          + "embedding tables uint8, zero point 128)");
      writeFolder(int8, q, tokenizer, adapterBytes, manifest(name + "-int8", base, trained, style, config, p, adapter));
    } else {
      deleteFolder(dir.resolve("int8")); // a previous run's twin, which would no longer match these weights
    }
    return new Written(dir, int8);
  }

  private static ModelManifest manifest(String name, ModelPackage base, ModelPackage trained, PromptStyle style,
      FineTuneConfig config, Map<String, Object> provenance, Adapter adapter) {
    ModelManifest m = ModelManifest.describing(trained).withName(name)
        .withDimensions(config.dims().get(0), config.dims());
    if (style == PromptStyle.GECKO) {
      m = new ModelManifest(m.name(), m.pooling(), m.maxTokens(), m.dimensions(), m.model(), m.tokenizer(), "gecko",
          Map.of(), null, m.matryoshkaDims(), null, null);
    }
    if (adapter != null) {
      m = m.withAdapter(ADAPTER_FILE);
    }
    return m.withTraining(provenance);
  }

  /** Removes the files {@link #writeFolder} writes, then the folder if that leaves it empty. */
  private static void deleteFolder(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    for (String f : new String[] {ModelManifest.FILE_NAME, "model.onnx", "tokenizer.json", ADAPTER_FILE}) {
      Files.deleteIfExists(dir.resolve(f));
    }
    try (java.util.stream.Stream<Path> left = Files.list(dir)) {
      if (left.findAny().isEmpty()) {
        Files.delete(dir);
      }
    }
  }

  /**
   * Writes one model folder, each file atomically; the manifest goes first and comes back last, so
   * that a crash part-way leaves a folder that does not load rather than new weights under an old
   * manifest.
   */
  private static void writeFolder(Path dir, byte[] model, byte[] tokenizer, byte[] adapter, ModelManifest manifest)
      throws IOException {
    Files.deleteIfExists(dir.resolve(ModelManifest.FILE_NAME));
    AtomicFiles.write(dir.resolve("model.onnx"), model);
    AtomicFiles.write(dir.resolve("tokenizer.json"), tokenizer);
    if (adapter != null) {
      AtomicFiles.write(dir.resolve(ADAPTER_FILE), adapter);
    } else {
      Files.deleteIfExists(dir.resolve(ADAPTER_FILE)); // a previous run's, which this model must not pick up
    }
    manifest.write(dir.resolve(ModelManifest.FILE_NAME));
  }
}
