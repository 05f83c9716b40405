package dev.gecko.spark;

import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkFiles;

/**
 * The embedders of this JVM (a Spark executor, or the driver in local mode): one {@link
 * GeckoEmbedder} per model and options, created on first use and shared by every task thread,
 * never serialised.
 *
 * <h2>Lifetime</h2>
 * An embedder is never closed: it lives as long as the JVM, and its native memory (the ONNX
 * Runtime session, the tokenizer, its threads) is freed when the JVM exits. So an executor holds
 * one session per distinct {@code Key} (model path as {@link #resolve} returns it, threads, batch
 * tokens) that any task of any job asked for, however long it runs; docs/spark.md says so to
 * users. The key is the path, not the files: a model folder overwritten in place at the same path
 * keeps serving the old weights on an executor that already opened it, until the executor
 * restarts. (Keying on the files' sizes and times was not done: the old session could not be
 * closed while a task may still hold it, and tasks of one job would mix weights mid-overwrite.)
 *
 * <p>Coalescing is off in these embedders: the task threads share one embedder, and coalescing
 * would let one task's texts ride in another's batch, so a partition's vectors would depend on
 * what ran beside it. An int8 graph quantises activations per batch, so that would make a
 * re-executed task (a retry, a speculative copy, a second {@code transform}) give different
 * vectors for the same rows. Without it a partition's vectors depend only on its own rows, and
 * Spark's tasks send full batches anyway.
 *
 * <p>Thread-safe.
 */
final class ExecutorEmbedders {
  private static final System.Logger LOG = System.getLogger(ExecutorEmbedders.class.getName());
  private static final Map<Key, GeckoEmbedder> EMBEDDERS = new ConcurrentHashMap<>();

  /** What makes two embedders differ: the model as resolved here, and the options that change how it runs. */
  private record Key(String model, int threads, int maxBatchTokens) {}

  private ExecutorEmbedders() {}

  /**
   * Returns this JVM's embedder for a model (built-in name, folder, or the name of a folder or
   * archive shipped with {@code SparkContext.addFile}/{@code addArchive}) and options, opening it
   * on first use.
   *
   * @throws IllegalArgumentException if the model is not found here (the message says where it looked)
   * @throws dev.gecko.core.ModelLoadException if the model does not load
   */
  static GeckoEmbedder get(String model, int threads, int maxBatchTokens) {
    Key key = new Key(resolve(model), threads, maxBatchTokens);
    return EMBEDDERS.computeIfAbsent(key, k -> {
      LOG.log(System.Logger.Level.INFO, "opening model {0} ({1} threads, {2} tokens per batch) for this JVM's tasks",
          k.model(), k.threads(), k.maxBatchTokens());
      return GeckoEmbedder.builder().model(k.model()).threads(k.threads()).maxBatchTokens(k.maxBatchTokens())
          .coalescingWindow(Duration.ZERO).build();
    });
  }

  /**
   * Finds a model on this JVM: a built-in name as it is; a folder path that exists here (a local
   * path, or a shared one every node mounts); else a folder or unpacked archive of that name
   * shipped to the executors ({@code SparkFiles.get(name)}, where {@code name} is the path's
   * last segment, so {@code hdfs://nn/models/m} and {@code /models/m.zip} work once added).
   *
   * @throws IllegalArgumentException if none of these exists
   */
  static String resolve(String model) {
    Objects.requireNonNull(model, "model is null");
    if (model.isBlank()) {
      throw new IllegalArgumentException("model is blank: give a built-in name " + ModelPackage.builtInNames() + " or a folder");
    }
    if (ModelPackage.builtInNames().contains(model)) {
      return model;
    }
    Path local = localPath(model);
    if (local != null && Files.isDirectory(local)) {
      return local.toString();
    }
    String name = lastSegment(model);
    List<String> looked = new ArrayList<>();
    if (local != null) {
      looked.add(local.toString());
    }
    try {
      Path shipped = Path.of(SparkFiles.get(name));
      looked.add(shipped + " (SparkFiles)");
      Path dir = modelFolderIn(shipped);
      if (dir != null) {
        return dir.toString();
      }
    } catch (RuntimeException e) {
      looked.add("SparkFiles (" + e.getMessage() + ")");
    }
    throw new IllegalArgumentException("model '" + model + "' is not a built-in name " + ModelPackage.builtInNames()
        + " nor a model folder on this node (looked in " + String.join(", ", looked) + "); put the folder on a path every "
        + "node sees, or ship it with GeckoEmbeddings.shipModelFolder / SparkContext.addArchive");
  }

  private static Path localPath(String model) {
    try {
      if (model.startsWith("file:")) {
        return Path.of(URI.create(model));
      }
      if (model.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*")) {
        return null; // hdfs://, s3a://...: only reachable once shipped
      }
      return Path.of(model);
    } catch (RuntimeException e) {
      return null;
    }
  }

  static String lastSegment(String model) {
    String s = model;
    while (s.endsWith("/") && s.length() > 1) {
      s = s.substring(0, s.length() - 1);
    }
    int slash = s.lastIndexOf('/');
    return slash >= 0 ? s.substring(slash + 1) : s;
  }

  /**
   * The model folder at {@code p}: {@code p} itself when it holds a model's files, or its only
   * sub-folder (an archive that packed the folder itself); null when there is none.
   */
  static Path modelFolderIn(Path p) {
    if (!Files.isDirectory(p)) {
      return null;
    }
    if (isModelFolder(p)) {
      return p;
    }
    List<Path> dirs = new ArrayList<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(p)) {
      for (Path c : s) {
        if (Files.isDirectory(c)) {
          dirs.add(c);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dirs.size() == 1 && isModelFolder(dirs.get(0)) ? dirs.get(0) : null;
  }

  private static boolean isModelFolder(Path p) {
    return Files.isRegularFile(p.resolve(ModelPackage.MANIFEST)) || Files.isRegularFile(p.resolve("modules.json"))
        || Files.isRegularFile(p.resolve("model.onnx")) || Files.isDirectory(p.resolve("onnx"));
  }
}
