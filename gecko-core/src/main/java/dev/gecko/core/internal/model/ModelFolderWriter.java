package dev.gecko.core.internal.model;

import dev.gecko.core.ModelManifest;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.internal.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Writes the model folders that training runs produce (gecko-train's adapter trainer, gecko-finetune),
 * one way for both: which folder may be written, and in what order its files go so that a crash
 * part-way never leaves new weights under an old manifest. Internal.
 *
 * <p>Stateless and thread-safe; two runs writing one folder at once are not guarded against.
 */
public final class ModelFolderWriter {
  /** The graph's file name in a written folder. */
  public static final String MODEL_FILE = "model.onnx";
  /** The tokenizer's file name in a written folder. */
  public static final String TOKENIZER_FILE = "tokenizer.json";
  /** The adapter's file name in a written folder. */
  public static final String ADAPTER_FILE = "adapter.safetensors";

  private static final Set<String> FOLDER_FILES = Set.of(MODEL_FILE, TOKENIZER_FILE, ADAPTER_FILE, ModelManifest.FILE_NAME);

  /** The training block's key naming the trainer that wrote a folder. */
  public static final String TRAINER = "trainer";
  /** The adapter trainer's name in {@value #TRAINER}. */
  public static final String GECKO_TRAIN = "gecko-train";

  private ModelFolderWriter() {}

  /**
   * Checks that {@code dir} may become a run's output folder: new (and creatable), empty, an
   * earlier run's output (its manifest has a {@code training} block, or it holds one of {@code
   * runFiles}), or what an interrupted run left (only the folder's files, {@code runFiles} and
   * hidden files such as temporary ones, without the manifest, which goes last); writable; and not
   * the folder of {@code base}'s own graph. Files of other names are never touched by a run, but a
   * folder of them with no sign of a run is refused: it is someone else's.
   *
   * @param runFiles names of further files or folders only the run itself puts there (a
   *     checkpoint): one of them that is a file marks the folder as a run's, whatever else it holds
   * @param trainer the run's {@value #TRAINER} in the training block ({@code gecko-train},
   *     {@code gecko-finetune}): a folder another trainer wrote is not this run's to replace (a
   *     block without one is {@code gecko-train}'s, which wrote none before)
   * @throws IllegalArgumentException if the folder is a file, holds other files and no sign of a
   *     run, holds a model no training run wrote (a base model, say) or another trainer wrote, or
   *     is the base model's
   * @throws UncheckedIOException if it cannot be created, listed or written
   */
  public static void checkOutput(Path dir, ModelPackage base, Set<String> runFiles, String trainer) {
    if (Files.exists(dir)) {
      checkExisting(dir, runFiles, trainer);
      if (base != null && base.model().path().isPresent()) {
        Path baseDir = base.model().path().get().toAbsolutePath().getParent();
        try {
          if (baseDir != null && Files.isSameFile(baseDir, dir)) {
            throw new IllegalArgumentException(dir + ": the output folder is the base model's own folder; write to "
                + "another one");
          }
        } catch (IOException e) {
          throw new UncheckedIOException(dir + ": cannot compare the output folder with the base model's", e);
        }
      }
      if (!Files.isWritable(dir)) {
        throw new UncheckedIOException(new AccessDeniedException(dir.toString(), null,
            "the output folder is not writable"));
      }
      return;
    }
    Path parent = dir.toAbsolutePath().getParent();
    while (parent != null && !Files.exists(parent)) {
      parent = parent.getParent();
    }
    if (parent == null || !Files.isDirectory(parent) || !Files.isWritable(parent)) {
      throw new UncheckedIOException(new AccessDeniedException(dir.toString(), null,
          "the output folder cannot be created ("
          + (parent == null ? "no existing parent" : parent + " is not a writable folder") + ")"));
    }
  }

  private static void checkExisting(Path dir, Set<String> runFiles, String trainer) {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(dir + ": the output folder is a file");
    }
    Set<String> ours = new HashSet<>(FOLDER_FILES);
    ours.addAll(runFiles);
    Path manifest = dir.resolve(ModelManifest.FILE_NAME);
    boolean runLeft = runFiles.stream().anyMatch(f -> Files.isRegularFile(dir.resolve(f)));
    try (Stream<Path> s = Files.list(dir)) {
      // hidden files (temporary files, a desktop's .DS_Store) say nothing about whose folder it is
      boolean onlyOurs = s.map(f -> f.getFileName().toString()).allMatch(n -> ours.contains(n) || n.startsWith("."));
      if (!onlyOurs && !runLeft && !Files.exists(manifest)) {
        throw new IllegalArgumentException(dir + ": the output folder is not empty and holds no "
            + ModelManifest.FILE_NAME + " (not an earlier output); refusing to write into it");
      }
    } catch (IOException e) { // a failure of the machine (permissions, I/O), not a bad argument
      throw new UncheckedIOException(dir + ": cannot list the output folder ("
          + (e instanceof java.nio.file.AccessDeniedException ? "permission denied" : e.toString()) + ")", e);
    }
    if (Files.exists(manifest)) {
      Map<String, Object> training;
      try {
        training = ModelManifest.read(manifest).training();
      } catch (IOException | RuntimeException e) {
        throw new IllegalArgumentException(dir + ": the output folder's " + ModelManifest.FILE_NAME + " cannot be read ("
            + e.getMessage() + "); refusing to write into it", e);
      }
      if (training == null || training.isEmpty()) {
        throw new IllegalArgumentException(dir + ": the output folder holds a model that no training run wrote "
            + "(its " + ModelManifest.FILE_NAME + " has no training block); refusing to overwrite it");
      }
      Object wrote = training.getOrDefault(TRAINER, GECKO_TRAIN);
      if (!trainer.equals(wrote)) { // a fine-tuned encoder is not an adapter run's to replace, nor the reverse
        throw new IllegalArgumentException(dir + ": the output folder holds a model that " + wrote + " wrote; refusing"
            + " to overwrite it with " + trainer + "'s: give another folder");
      }
    }
  }

  /**
   * Writes one model folder (created if missing): the manifest is removed first, each file is
   * replaced atomically, and the manifest comes back last, so that a crash part-way leaves a folder
   * that does not load rather than new files under an old manifest. Then the temporary files a
   * killed earlier write left beside them (as large as the graph; older than this process) are
   * removed.
   *
   * @param adapter the adapter's bytes, or null for none (a previous run's adapter is removed)
   */
  public static void write(Path dir, AtomicFiles.Body model, AtomicFiles.Body tokenizer, AtomicFiles.Body adapter,
      ModelManifest manifest) throws IOException {
    Files.createDirectories(dir);
    Files.deleteIfExists(dir.resolve(ModelManifest.FILE_NAME));
    AtomicFiles.write(dir.resolve(MODEL_FILE), model);
    AtomicFiles.write(dir.resolve(TOKENIZER_FILE), tokenizer);
    if (adapter != null) {
      AtomicFiles.write(dir.resolve(ADAPTER_FILE), adapter);
    } else {
      Files.deleteIfExists(dir.resolve(ADAPTER_FILE)); // a previous run's, which this model must not pick up
    }
    manifest.write(dir.resolve(ModelManifest.FILE_NAME));
    for (String f : FOLDER_FILES) { // what a run killed while writing (an earlier one, or this one's) left behind
      AtomicFiles.removeTemporarySiblings(dir, f);
    }
  }

  /** Removes the files {@link #write} writes (the manifest first), then the folder if that leaves it empty. */
  public static void delete(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    for (String f : new String[] {ModelManifest.FILE_NAME, MODEL_FILE, TOKENIZER_FILE, ADAPTER_FILE}) {
      AtomicFiles.removeTemporarySiblings(dir, f); // a killed write's leftovers would keep the folder
      Files.deleteIfExists(dir.resolve(f));
    }
    try (Stream<Path> left = Files.list(dir)) {
      if (left.findAny().isEmpty()) {
        Files.delete(dir);
      }
    }
  }
}
