package dev.gecko.train.adapter;

import dev.gecko.core.ModelSource;
import dev.gecko.core.ModelManifest;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.adapter.Adapter;
import dev.gecko.core.internal.io.AtomicFiles;
import dev.gecko.core.internal.model.ModelFolderWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The model folder a training run writes: the base model's {@code model.onnx} and {@code
 * tokenizer.json}, the adapter, and a manifest ({@link ModelManifest}) with a {@code training}
 * block, written by gecko-core's {@link ModelFolderWriter} (as gecko-finetune writes its folders).
 * Stateless.
 */
final class ModelFolder {
  /** The adapter's file name in the folder. */
  static final String ADAPTER_FILE = ModelFolderWriter.ADAPTER_FILE;

  private ModelFolder() {}

  /**
   * Checks that {@code dir} can become the output folder ({@link ModelFolderWriter#checkOutput}).
   *
   * @throws IllegalArgumentException if the folder is a file, or is not empty and holds no {@code
   *     gecko-model.json} (or a model no training wrote), or is the base model's own folder
   * @throws UncheckedIOException if it cannot be created or written
   */
  static void checkUsable(Path dir, ModelPackage base) {
    ModelFolderWriter.checkOutput(dir, base, Set.of(), ModelFolderWriter.GECKO_TRAIN);
  }

  /**
   * Writes the folder {@code config.output()} and reads it back.
   *
   * @param curve the training curve as reported (validation scores x 100)
   * @throws IOException if a file cannot be read or written
   * @throws IllegalArgumentException if the folder became unusable since {@link #checkUsable}
   */
  static ModelPackage write(TrainerConfig config, ModelPackage base, Adapter adapter, int[] widths,
      Objective objective, int bestEpoch, List<EpochStats> curve) throws IOException {
    Path dir = config.output();
    checkUsable(dir, base);
    List<Integer> dims = new ArrayList<>();
    for (int w = widths.length - 1; w >= 0; w--) {
      dims.add(widths[w]);
    }
    Map<String, Object> training = new LinkedHashMap<>();
    training.put(ModelFolderWriter.TRAINER, ModelFolderWriter.GECKO_TRAIN);
    training.put("baseModel", base.name());
    training.put("objective", objective.name());
    training.put("adapterKind", config.adapterKind().name());
    training.put("basis", config.basis().name());
    training.put("validation", adapter.metadata().get("validation"));
    training.put("seed", config.seed());
    training.put("bestEpoch", bestEpoch);
    List<Map<String, Object>> points = new ArrayList<>();
    for (EpochStats e : curve) {
      Map<String, Object> point = new LinkedHashMap<>();
      point.put("epoch", e.epoch());
      point.put("trainLoss", Double.isNaN(e.trainLoss()) ? null : e.trainLoss());
      point.put("validationScore", Double.isNaN(e.validationScore()) ? null : e.validationScore()); // JSON has no NaN
      points.add(point);
    }
    training.put("curve", points);
    ModelManifest manifest = ModelManifest.describing(base)
        .withName(config.outputName() != null ? config.outputName() : base.name() + "-mrl-adapter")
        .withDimensions(adapter.dimensions(), dims)
        .withAdapter(ADAPTER_FILE)
        .withTraining(training);
    ModelFolderWriter.write(dir, copyOf(base.model()), copyOf(base.tokenizer()), adapter::write, manifest);
    return ModelPackage.fromDirectory(dir);
  }

  /**
   * The bytes of {@code from}, read when the file is written: the writer writes a temporary file
   * and moves it into place, so {@code from} may be the file it replaces.
   */
  private static AtomicFiles.Body copyOf(ModelSource from) {
    return out -> {
      try (InputStream in = from.open()) {
        in.transferTo(out);
      }
    };
  }
}
