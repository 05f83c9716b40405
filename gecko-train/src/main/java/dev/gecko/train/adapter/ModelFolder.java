package dev.gecko.train.adapter;

import dev.gecko.core.ModelSource;
import dev.gecko.core.ModelManifest;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.adapter.Adapter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The model folder a training run writes: the base model's {@code model.onnx} and {@code
 * tokenizer.json}, the adapter, and a manifest ({@link ModelManifest}) with a {@code training}
 * block. Stateless.
 */
final class ModelFolder {
  /** The adapter's file name in the folder. */
  static final String ADAPTER_FILE = "adapter.safetensors";

  /** The files {@link #write} puts in a folder. */
  private static final java.util.Set<String> OUR_FILES =
      java.util.Set.of("model.onnx", "tokenizer.json", ADAPTER_FILE, ModelPackage.MANIFEST);

  private ModelFolder() {}

  /**
   * Checks that {@code dir} can become the output folder: new (creatable), empty, or an earlier
   * output (it holds the manifest), and writable.
   *
   * @throws IllegalArgumentException if the folder is a file, or is not empty and holds no {@code
   *     gecko-model.json} (or a model no training wrote)
   * @throws UncheckedIOException if it cannot be created or written
   */
  static void checkUsable(Path dir) {
    if (Files.exists(dir)) {
      if (!Files.isDirectory(dir)) {
        throw new IllegalArgumentException(dir + ": the output folder is a file");
      }
      Path manifest = dir.resolve(ModelPackage.MANIFEST);
      try (Stream<Path> s = Files.list(dir)) {
        // an earlier output, or what an interrupted one left (its files without the manifest, written last)
        boolean onlyOurs = s.map(f -> f.getFileName().toString())
            .allMatch(n -> OUR_FILES.contains(n) || (n.startsWith(".") && n.endsWith(".tmp")));
        if (!onlyOurs && !Files.exists(manifest)) {
          throw new IllegalArgumentException(dir + ": the output folder is not empty and holds no "
              + ModelPackage.MANIFEST + " (not an earlier output); refusing to write into it");
        }
      } catch (IOException e) {
        throw new IllegalArgumentException(dir + ": cannot list the output folder: " + e.getMessage(), e);
      }
      if (Files.exists(manifest)) {
        Map<String, Object> training;
        try {
          training = ModelManifest.read(manifest).training();
        } catch (IOException | RuntimeException e) {
          throw new IllegalArgumentException(dir + ": the output folder's " + ModelPackage.MANIFEST + " cannot be read ("
              + e.getMessage() + "); refusing to write into it", e);
        }
        if (training == null || training.isEmpty()) { // a model folder no training run wrote: a base model, say
          throw new IllegalArgumentException(dir + ": the output folder holds a model that no training run wrote "
              + "(its " + ModelPackage.MANIFEST + " has no training block); refusing to overwrite it");
        }
      }
      if (!Files.isWritable(dir)) {
        throw new UncheckedIOException(new java.nio.file.AccessDeniedException(dir.toString(), null,
            "the output folder is not writable"));
      }
      return;
    }
    Path parent = dir.toAbsolutePath().getParent();
    while (parent != null && !Files.exists(parent)) {
      parent = parent.getParent();
    }
    if (parent == null || !Files.isDirectory(parent) || !Files.isWritable(parent)) {
      throw new UncheckedIOException(new java.nio.file.AccessDeniedException(dir.toString(), null,
          "the output folder cannot be created ("
          + (parent == null ? "no existing parent" : parent + " is not a writable folder") + ")"));
    }
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
    checkUsable(dir);
    Files.createDirectories(dir);
    if (base.model().path().isPresent()
        && Files.isSameFile(base.model().path().get().toAbsolutePath().getParent(), dir)) {
      throw new IllegalArgumentException(dir + ": the output folder is the base model's own folder; write to "
          + "another one");
    }
    // the manifest goes first and comes back last: a run interrupted part-way leaves a folder that
    // does not load (and that the next run may write into), never new files under an old manifest
    Files.deleteIfExists(dir.resolve(ModelManifest.FILE_NAME));
    copy(base.model(), dir.resolve("model.onnx"));
    copy(base.tokenizer(), dir.resolve("tokenizer.json"));
    adapter.save(dir.resolve(ADAPTER_FILE));
    List<Integer> dims = new ArrayList<>();
    for (int w = widths.length - 1; w >= 0; w--) {
      dims.add(widths[w]);
    }
    Map<String, Object> training = new LinkedHashMap<>();
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
      point.put("validationScore", e.validationScore());
      points.add(point);
    }
    training.put("curve", points);
    ModelManifest.describing(base)
        .withName(config.outputName() != null ? config.outputName() : base.name() + "-mrl-adapter")
        .withDimensions(adapter.dimensions(), dims)
        .withAdapter(ADAPTER_FILE)
        .withTraining(training)
        .write(dir.resolve(ModelManifest.FILE_NAME));
    return ModelPackage.fromDirectory(dir);
  }

  private static void copy(ModelSource from, Path to) throws IOException {
    if (from.path().isPresent() && Files.exists(to) && Files.isSameFile(from.path().get(), to)) {
      return;
    }
    try (InputStream in = from.open()) {
      dev.gecko.core.internal.io.AtomicFiles.write(to, out -> in.transferTo(out));
    }
  }
}
