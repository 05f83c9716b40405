package dev.gecko.finetune.internal;

import dev.gecko.core.ModelManifest;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.adapter.Adapter;
import dev.gecko.core.internal.model.ModelFolderWriter;
import dev.gecko.core.internal.onnx.OnnxModel;
import dev.gecko.finetune.FineTuneConfig;
import dev.gecko.finetune.PromptStyle;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a trained model folder: the base package's own ONNX graph with the trained weights
 * copied into its initializers ({@code model.onnx}), its {@code tokenizer.json}, and a {@code
 * gecko-model.json} with the prompts of the training format and the training provenance; with an
 * output basis, {@code adapter.safetensors} (the basis, a zero residual) named by the manifest; with
 * int8, a second complete folder {@code int8/} whose graph is quantised by {@link Int8Quantizer}.
 * An earlier run's {@code int8/} is removed before anything else is written. Stateless.
 */
public final class ModelWriter {
  /** The adapter's file name in a written folder. */
  static final String ADAPTER_FILE = ModelFolderWriter.ADAPTER_FILE;
  /** The int8 twin's folder inside the output folder. */
  public static final String INT8_FOLDER = "int8";

  private ModelWriter() {}

  /** The folders written. Immutable. */
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
    // A previous run's twin would no longer match these weights: it goes before the main folder is
    // replaced, so that a quantisation that fails (or a kill) after that leaves no int8 folder that
    // loads beside the new weights, only the new fp32 folder.
    ModelFolderWriter.delete(dir.resolve(INT8_FOLDER));
    writeFolder(dir, model, tokenizer, adapterBytes, manifest(name, base, trained, style, config, provenance, adapter));
    Path int8 = null;
    if (config.quantizeInt8()) {
      int8 = dir.resolve(INT8_FOLDER);
      byte[] q = Int8Quantizer.quantize(OnnxModel.parse(model));
      Map<String, Object> p = new LinkedHashMap<>(provenance);
      p.put("quantization", "int8 dynamic (weights per output column, symmetric int8 in [-64, 64]; "
          + "embedding tables uint8, zero point 128)");
      // the scores and curve above are the fp32 weights'; this graph was not validated itself
      p.put("validationScoresOf", "the fp32 model in the parent folder (this int8 graph was not validated)");
      writeFolder(int8, q, tokenizer, adapterBytes, manifest(name + "-int8", base, trained, style, config, p, adapter));
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

  private static void writeFolder(Path dir, byte[] model, byte[] tokenizer, byte[] adapter, ModelManifest manifest)
      throws IOException {
    ModelFolderWriter.write(dir, out -> out.write(model), out -> out.write(tokenizer),
        adapter == null ? null : out -> out.write(adapter), manifest);
  }
}
