package dev.gecko.spark;

import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelLoadException;
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
 * GeckoEmbedder} per model, model files and options, created on first use and shared by every
 * task thread, never serialised.
 *
 * <h2>Which files</h2>
 * The driver reads the model once per {@code transform} (once per evaluation, once per FRet run)
 * ({@link #driverFingerprint}: its {@link ModelPackage#fingerprint()}, SHA-256 of its settings and
 * of its graph, tokenizer and adapter files) and ships that fingerprint with the tasks. Here an
 * embedder is keyed by the model path as {@link #resolve} returns it, threads, batch tokens, and
 * the fingerprint of the files it opened (computed once, when it opens, after its session has read
 * them). A task gets the embedder whose files have the driver's fingerprint; where there is none
 * it opens the model again, and if the files it finds do not have the driver's fingerprint (the
 * folder changed after the driver looked, or this node's copy differs from the driver's) the task
 * fails with a {@link ModelLoadException} naming the path. So a model folder retrained in place is
 * picked up by the next {@code transform}, and no job mixes two versions of a model: tasks that
 * open the folder mid-overwrite fail instead. A driver that cannot find the model (a folder
 * shipped to the executors only, a built-in model whose jar only they have) sends no fingerprint:
 * such tasks get the first embedder this JVM opened for the path and options, unchecked.
 *
 * <h2>Lifetime</h2>
 * An embedder is never closed: a task may hold it for as long as it runs, and its native memory
 * (the ONNX Runtime session, the tokenizer, its threads) is freed when the JVM exits. So an executor
 * holds one session per distinct model version and options that any task of any job asked for,
 * however long it runs: a model folder retrained in place N times costs N sessions (the graph's
 * size each, plus its arena) on every executor that embedded with each version, until the executor
 * restarts; docs/spark.md says so to users.
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
  /** Per model path and options, the embedders opened, oldest first (an immutable list, replaced on an open). */
  private static final Map<Key, List<Opened>> EMBEDDERS = new ConcurrentHashMap<>();

  /** Per key, the monitor its opens take turns on. */
  private static final Map<Key, Object> OPENING = new ConcurrentHashMap<>();

  /** What makes two embedders differ besides their files: the model as resolved here, and the options that change it. */
  private record Key(String model, int threads, int maxBatchTokens) {}

  /** An embedder and the fingerprint of the files it opened. */
  private record Opened(String fingerprint, GeckoEmbedder embedder) {}

  private ExecutorEmbedders() {}

  /**
   * Returns this JVM's embedder for a model (built-in name, folder, or the name of a folder or
   * archive shipped with {@code SparkContext.addFile}/{@code addArchive}) and options whose files
   * have the driver's {@code fingerprint}, opening it if there is none.
   *
   * @param fingerprint the model's {@link ModelPackage#fingerprint()} as the driver read it ({@link
   *     #driverFingerprint}); null where the driver cannot find the model: then the first embedder
   *     opened here for the model and options, whatever its files
   * @throws IllegalArgumentException if the model is not found here (the message says where it looked)
   * @throws ModelLoadException if the model does not load, or its files here do not have the
   *     driver's fingerprint (the message names the path)
   */
  static GeckoEmbedder get(String model, int threads, int maxBatchTokens, String fingerprint) {
    Key key = new Key(resolve(model), threads, maxBatchTokens);
    GeckoEmbedder found = find(EMBEDDERS.get(key), fingerprint);
    if (found != null) {
      return found;
    }
    // opened under the key's own monitor: tasks asking for the same model and options wait for one
    // open, and no other key waits (a ConcurrentHashMap.compute would hold its bin for the seconds
    // an open takes, and the map's contract asks for short computations)
    synchronized (OPENING.computeIfAbsent(key, k -> new Object())) {
      List<Opened> before = EMBEDDERS.getOrDefault(key, List.of());
      found = find(before, fingerprint);
      if (found != null) {
        return found;
      }
      Opened opened = open(key, fingerprint, before);
      List<Opened> after = new ArrayList<>(before);
      after.add(opened);
      EMBEDDERS.put(key, List.copyOf(after)); // only this key's monitor holder writes its entry
      return opened.embedder();
    }
  }

  private static GeckoEmbedder find(List<Opened> opened, String fingerprint) {
    if (opened == null || opened.isEmpty()) {
      return null;
    }
    if (fingerprint == null) {
      return opened.get(0).embedder();
    }
    for (Opened o : opened) {
      if (o.fingerprint().equals(fingerprint)) {
        return o.embedder();
      }
    }
    return null;
  }

  private static Opened open(Key k, String expected, List<Opened> before) {
    if (!before.isEmpty()) {
      LOG.log(System.Logger.Level.WARNING, "a task asks for model {0} with other files (fingerprint {1}) than the "
          + "{2} version(s) this JVM has open ({3}): opening its files again, beside the old, whose memory is held until "
          + "this JVM exits; publish a retrained model under a new path to avoid this", k.model(),
          expected == null ? "unchecked" : shortFingerprint(expected), before.size(),
          before.stream().map(o -> shortFingerprint(o.fingerprint())).toList());
    }
    LOG.log(System.Logger.Level.INFO, "opening model {0} ({1} threads, {2} tokens per batch) for this JVM's tasks",
        k.model(), k.threads(), k.maxBatchTokens());
    ModelPackage pkg = ModelPackage.resolve(k.model());
    GeckoEmbedder embedder = GeckoEmbedder.builder().model(pkg).threads(k.threads()).maxBatchTokens(k.maxBatchTokens())
        .coalescingWindow(Duration.ZERO).build();
    String here;
    try {
      // after the session has read the files, not before: files that change between the two reads
      // give a fingerprint that differs from the driver's (the task fails), never a session of other
      // files under the driver's fingerprint. The package caches it: hashed once per embedder.
      here = pkg.fingerprint();
    } catch (RuntimeException e) {
      embedder.close();
      throw e;
    }
    if (expected != null && !expected.equals(here)) {
      embedder.close(); // no task has it yet
      throw new ModelLoadException("the files of model " + k.model() + " on this node differ from what the driver saw "
          + "when the job was defined (fingerprint here " + shortFingerprint(here) + ", the driver's "
          + shortFingerprint(expected) + "): the model was changed after transform was called, or is being written, "
          + "or this node's copy differs from the driver's. Call transform again once the model's files are complete "
          + "and the same on every node (a retrained model is best published under a new path)");
    }
    return new Opened(here, embedder);
  }

  private static String shortFingerprint(String f) {
    return f.length() > 12 ? f.substring(0, 12) : f;
  }

  /**
   * The fingerprint of the model as this JVM (the driver) finds it, for the tasks to check ({@link
   * #get}): computed from the model's files on each call (a folder's graph, tokenizer and adapter
   * are read and hashed whole; a built-in model's compressed jar entries cost nothing, and other
   * class-path resources are read once); null where this JVM does not find the model (a folder
   * shipped to the executors only, a built-in model whose jar only they have).
   *
   * @throws dev.gecko.core.InvalidDataException if the folder is not a model package
   * @throws UncheckedIOException if its files cannot be read
   */
  static String driverFingerprint(String model) {
    ModelPackage pkg = findHere(model);
    return pkg == null ? null : pkg.fingerprint(); // null: not on this node, the tasks find it, unchecked
  }

  /**
   * The full width of {@code pkg}'s vectors, for the driver's checks and plans: the width its
   * manifest declares ({@link ModelPackage#dimensions()}), or, where it declares none (the field is
   * optional in {@code gecko-model.json}, and a sentence-transformers folder without {@code
   * word_embedding_dimension} gives none: {@code dimensions()} is 0), the width of its graph, read
   * by opening an embedder here once ({@link GeckoEmbedder#dimensions()}) and closing it. Only
   * that second case loads the model on this JVM.
   *
   * @throws dev.gecko.core.ModelLoadException if the width has to be read from the graph and the
   *     model does not load
   */
  static int width(ModelPackage pkg) {
    Objects.requireNonNull(pkg, "pkg is null");
    if (pkg.dimensions() > 0) {
      return pkg.dimensions();
    }
    LOG.log(System.Logger.Level.DEBUG, "model {0} declares no width: opening it once to read the width of its graph", pkg.name());
    try (GeckoEmbedder embedder = GeckoEmbedder.builder().model(pkg).threads(1).coalescingWindow(Duration.ZERO).build()) {
      return embedder.dimensions();
    }
  }

  /**
   * The model as this JVM finds it ({@link #resolve}, then {@link ModelPackage#resolve}: a folder's
   * manifest is read), or null where it does not (a folder shipped to the executors only, a
   * built-in model whose jar only they have).
   *
   * @throws dev.gecko.core.InvalidDataException if the folder is not a model package
   * @throws UncheckedIOException if its files cannot be read
   */
  static ModelPackage findHere(String model) {
    try {
      return ModelPackage.resolve(resolve(model));
    } catch (IllegalArgumentException e) {
      return null;
    }
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
      // an archive unpacked in the working folder (a cluster's executors): its only sub-folder where
      // it packed the folder itself, as for a shipped one below
      Path dir = modelFolderIn(local);
      return (dir != null ? dir : local).toString();
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

  /**
   * The last name of a path or URI; of a Windows driver's path ({@code D:\m\m.zip}, {@code
   * \\host\share\m}) too, whose backslashes separate names. Elsewhere a backslash is part of a
   * name, as POSIX allows.
   */
  static String lastSegment(String model) {
    boolean windows = model.matches("(?s)[A-Za-z]:[\\\\/].*|\\\\\\\\.*");
    String s = model;
    while ((s.endsWith("/") || (windows && s.endsWith("\\"))) && s.length() > 1) {
      s = s.substring(0, s.length() - 1);
    }
    int slash = windows ? Math.max(s.lastIndexOf('/'), s.lastIndexOf('\\')) : s.lastIndexOf('/');
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
