package dev.gecko.cli;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.index.FlatIndex;
import dev.gecko.core.io.JsonlReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The folder {@code gecko index} writes and {@code gecko search} reads:
 *
 * <ul>
 *   <li>{@code index.json}: {@code {"format": "gecko-index", "version": 2, "model": ...,
 *       "modelName": ..., "modelFingerprint": ..., "dims": N, "precision": "float32|int8|binary",
 *       "metric": "dot|cosine|hamming", "count": N, "vectors": "vectors.gkfx", "docs":
 *       "docs.jsonl"}}, written last (a folder without it is an unfinished index);
 *   <li>{@code vectors.gkfx}: the {@link FlatIndex} file (format in its Javadoc);
 *   <li>{@code docs.jsonl}: one {@code {"id", "title", "snippet"}} per vector, in ordinal order.
 * </ul>
 *
 * <p>{@link #read} believes nothing in {@code index.json} that it can check: its dims,
 * precision, metric and count must be those of the vectors file and its count that of the docs
 * file; {@code vectors} and {@code docs} must name files inside the folder (no absolute path, no
 * {@code ..}, no symbolic link whose real path leaves the folder). {@link #checkModel} refuses a
 * model other than the one the vectors were made with: {@code model} is the built-in name given
 * to {@code gecko index} or the model folder's absolute path, {@code modelName} the package's name
 * and {@code modelFingerprint} its {@link ModelPackage#fingerprint()}, a SHA-256 (hex) over its
 * settings (pooling, maximum tokens, declared width, prompts) and its graph, tokenizer and
 * adapter. Version 1 manifests (no fingerprint) are refused with a message to re-create the index.
 */
final class IndexDirectory {
  static final String MANIFEST = "index.json";
  static final String VECTORS = "vectors.gkfx";
  static final String DOCS = "docs.jsonl";
  static final int VERSION = 2;
  static final int SNIPPET_CHARS = 240;
  private static final ObjectMapper JSON = JsonMapper.builder().disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
      .withCoercionConfig(LogicalType.Textual, c -> c.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
          .setCoercion(CoercionInputShape.Float, CoercionAction.Fail).setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
      .build();

  /** One indexed document as search prints it (a line of {@code docs.jsonl}); absent fields read as "". */
  @JsonPropertyOrder({"id", "title", "snippet"})
  record Doc(String id, String title, String snippet) {
    Doc {
      id = id == null ? "" : id;
      title = title == null ? "" : title;
      snippet = snippet == null ? "" : snippet;
    }
  }

  /** {@code index.json}; fields are boxed so that a missing one is told apart from zero. */
  @JsonPropertyOrder({"format", "version", "model", "modelName", "modelFingerprint", "dims", "precision", "metric", "count",
      "vectors", "docs"})
  record Manifest(String format, Integer version, String model, String modelName, String modelFingerprint, Integer dims,
      String precision, String metric, Integer count, String vectors, String docs) {
  }

  final Path manifest;
  /** The model as given to {@code gecko index}: a built-in name or a folder. */
  final String model;
  final String modelName;
  final String modelFingerprint;
  final int dims;
  final FlatIndex index;
  final List<Doc> docs;

  private IndexDirectory(Path manifest, String model, String modelName, String modelFingerprint, FlatIndex index,
      List<Doc> docs) {
    this.manifest = manifest;
    this.model = model;
    this.modelName = modelName;
    this.modelFingerprint = modelFingerprint;
    this.dims = index.dimensions();
    this.index = index;
    this.docs = docs;
  }

  /**
   * Checks, before any work, that {@code gecko index} may write {@code dir}: a new or empty folder
   * (hidden files aside), an index, or an unfinished index (its vectors file, and docs file, alone). A folder of other
   * files is someone else's, and a corpus that is one of the files the index writes would be
   * overwritten by it.
   *
   * @throws GeckoCli.UsageException if the folder holds other files, or {@code corpus} is one of
   *     its index files (exit 2)
   * @throws IOException if the folder cannot be listed
   */
  static void checkOutput(Path dir, Path corpus) throws IOException {
    if (!Files.isDirectory(dir)) {
      return; // a new folder (a file in the way is CliFiles.writableFolder's to refuse)
    }
    List<String> visible = new ArrayList<>();
    try (java.util.stream.Stream<Path> files = Files.list(dir)) {
      files.map(f -> f.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().forEach(visible::add);
    }
    // an unfinished index (a run stopped before its manifest) holds its vectors file and nothing of others
    boolean unfinishedIndex = visible.contains(VECTORS) && List.of(VECTORS, DOCS).containsAll(visible);
    if (!visible.isEmpty() && !unfinishedIndex && !isIndexManifest(dir.resolve(MANIFEST))) {
      throw new GeckoCli.UsageException("--out: " + dir + " is not empty (" + String.join(", ", visible.subList(0,
          Math.min(3, visible.size()))) + (visible.size() > 3 ? ", ..." : "") + ") and holds no gecko index's "
          + MANIFEST + " (not an index); refusing to write into it: give a new or empty folder, or an index folder"
          + " to replace");
    }
    for (String name : List.of(MANIFEST, VECTORS, DOCS)) {
      Path file = dir.resolve(name);
      if (Files.exists(file) && Files.exists(corpus) && Files.isSameFile(file, corpus)) {
        throw new GeckoCli.UsageException("--corpus: " + corpus + " is the index's own " + name + " in --out " + dir
            + ", which the index writes over; copy it elsewhere or give another --out");
      }
    }
  }

  /** Whether {@code file} is a gecko index's manifest ({@code "format": "gecko-index"}), not any index.json. */
  private static boolean isIndexManifest(Path file) {
    if (!Files.isRegularFile(file)) {
      return false;
    }
    try {
      return "gecko-index".equals(JSON.readTree(file.toFile()).path("format").asText(null));
    } catch (IOException e) { // not JSON, or unreadable: not something this command may write over
      return false;
    }
  }

  /**
   * Writes an index folder. The vectors and docs are written first under hidden names, so that a
   * run that fails there (a full disk) leaves an index already in the folder as it was; then the
   * old manifest is removed, the files are moved into place and the new manifest is written,
   * last, so that a run stopped in between never leaves an old manifest over new vectors (a folder
   * without one is an unfinished index, which {@link #read} refuses).
   *
   * @param model the built-in name, or the model folder's absolute path (opened again by {@code gecko search})
   * @param pkg the package that made the vectors, fingerprinted into the manifest
   */
  static void write(Path dir, String model, ModelPackage pkg, FlatIndex index, List<Doc> docs) throws IOException {
    Files.createDirectories(dir);
    Path vectorsNext = dir.resolve("." + VECTORS + ".next");
    Path docsNext = dir.resolve("." + DOCS + ".next");
    Path manifestNext = dir.resolve("." + MANIFEST + ".next");
    try {
      index.save(vectorsNext);
      try (BufferedWriter w = Files.newBufferedWriter(docsNext, StandardCharsets.UTF_8)) {
        for (Doc d : docs) {
          w.write(JSON.writeValueAsString(d));
          w.newLine();
        }
      }
      Manifest m = new Manifest("gecko-index", VERSION, model, pkg.name(), pkg.fingerprint(), index.dimensions(),
          lower(index.precision()), lower(index.metric()), index.size(), VECTORS, DOCS);
      Files.writeString(manifestNext, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n");
      // until here an index already in the folder is intact; until the manifest's move it is unfinished
      Files.deleteIfExists(dir.resolve(MANIFEST));
      Files.move(vectorsNext, dir.resolve(VECTORS), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      Files.move(docsNext, dir.resolve(DOCS), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      Files.move(manifestNext, dir.resolve(MANIFEST), StandardCopyOption.ATOMIC_MOVE); // last
    } finally {
      for (Path next : List.of(vectorsNext, docsNext, manifestNext)) {
        try {
          Files.deleteIfExists(next);
        } catch (IOException e) {
          // left behind (a folder in its place, say): hidden, and replaced by the next run
        }
      }
    }
  }

  /**
   * Reads an index folder and checks that its files agree (see the class comment).
   *
   * @throws IllegalArgumentException naming the file, the field and the problem if the folder is
   *     not a complete, consistent index
   * @throws IOException if a file cannot be read, or the vectors file is damaged (naming it)
   */
  static IndexDirectory read(Path dir) throws IOException {
    Path manifest = dir.resolve(MANIFEST);
    if (!Files.isRegularFile(manifest)) {
      throw new IllegalArgumentException(dir + " is not a gecko index (no " + MANIFEST + "; create one with gecko index)");
    }
    Manifest m;
    try (java.io.InputStream in = Files.newInputStream(manifest)) {
      m = JSON.readValue(in, Manifest.class);
    } catch (MismatchedInputException e) {
      String field = e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
          .collect(Collectors.joining("."));
      if (field.isEmpty()) {
        throw new IllegalArgumentException(manifest + ": not a gecko-index manifest (not a JSON object)");
      }
      String want = e.getTargetType() == Integer.class ? "an integer" : e.getTargetType() == String.class
          ? "a non-empty string" : e.getTargetType().getSimpleName();
      throw new IllegalArgumentException(manifest + ": field \"" + field + "\" must be " + want);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(manifest + ": not valid JSON");
    } catch (java.nio.file.FileSystemException e) {
      throw e; // names the file and the reason (permission denied, say)
    } catch (IOException e) {
      throw new IOException(manifest + ": cannot be read: " + GeckoCli.describe(e), e);
    }
    if (m == null || !"gecko-index".equals(m.format())) {
      throw new IllegalArgumentException(manifest + ": not a gecko-index manifest (no \"format\": \"gecko-index\")");
    }
    int version = integer(m.version(), "version", manifest);
    if (version == 1) {
      throw new IllegalArgumentException(manifest + ": a version 1 index, which does not record what identifies its"
          + " model and whose vectors file has no checksum; re-create it with gecko index");
    }
    if (version != VERSION) {
      throw new IllegalArgumentException(manifest + ": index version " + version + ", this build reads " + VERSION);
    }
    String model = text(m.model(), "model", manifest);
    String modelName = text(m.modelName(), "modelName", manifest);
    String modelFingerprint = text(m.modelFingerprint(), "modelFingerprint", manifest);
    int dims = integer(m.dims(), "dims", manifest);
    String precision = text(m.precision(), "precision", manifest);
    String metric = text(m.metric(), "metric", manifest);
    int count = integer(m.count(), "count", manifest);
    FlatIndex index = FlatIndex.load(inside(dir, manifest, m.vectors(), "vectors"));
    if (dims != index.dimensions()) {
      throw new IllegalArgumentException(manifest + ": dims " + dims + " but the vectors have " + index.dimensions());
    }
    if (!precision.equals(lower(index.precision()))) {
      throw new IllegalArgumentException(manifest + ": precision " + precision + " but the vectors are "
          + lower(index.precision()));
    }
    if (!metric.equals(lower(index.metric()))) {
      throw new IllegalArgumentException(manifest + ": metric " + metric + " but the vectors are scored by "
          + lower(index.metric()));
    }
    if (count != index.size()) {
      throw new IllegalArgumentException(manifest + ": count " + count + " but the vectors file holds " + index.size()
          + " vectors");
    }
    Path docsFile = inside(dir, manifest, m.docs(), "docs");
    List<Doc> docs = new ArrayList<>(index.size());
    try (JsonlReader r = JsonlReader.open(docsFile)) {
      Doc d;
      while ((d = r.next(Doc.class)) != null) {
        docs.add(d);
      }
    }
    if (docs.size() != index.size()) {
      throw new IllegalArgumentException(docsFile + " has " + docs.size() + " documents but the index has "
          + index.size() + " vectors");
    }
    return new IndexDirectory(manifest, model, modelName, modelFingerprint, index, docs);
  }

  /**
   * Refuses a model package other than the one the vectors were made with: scores against it
   * would be meaningless.
   *
   * @throws IllegalArgumentException naming the manifest, what it records and what the package is
   * @throws IOException if the package's files cannot be read
   */
  void checkModel(ModelPackage pkg) throws IOException {
    String fingerprint = pkg.fingerprint();
    if (!pkg.name().equals(modelName) || !fingerprint.equals(modelFingerprint)) {
      throw new IllegalArgumentException(manifest + ": the vectors were made with model " + modelName + " ("
          + modelFingerprint + "), but its \"model\" '" + model + "' is now " + pkg.name() + " (" + fingerprint
          + "): scores of its queries against these vectors would be meaningless; re-create the index with gecko"
          + " index, or restore that model");
    }
  }



  /**
   * The file a manifest field names, checked to lie inside the index folder: a plain relative
   * path, without {@code ..}, whose real path (symbolic links followed) is inside the folder's.
   */
  private static Path inside(Path dir, Path manifest, String value, String field) throws IOException {
    String name = text(value, field, manifest);
    Path relative;
    try {
      relative = Path.of(name);
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException(manifest + ": field \"" + field + "\" is not a path: " + name);
    }
    boolean climbs = false;
    for (Path part : relative) {
      climbs |= part.toString().equals("..");
    }
    if (relative.isAbsolute() || relative.getRoot() != null || climbs) {
      throw new IllegalArgumentException(manifest + ": field \"" + field + "\" must name a file inside the index"
          + " folder, was " + name);
    }
    Path file = dir.resolve(relative);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(manifest + ": field \"" + field + "\": file not found: " + file);
    }
    Path real = file.toRealPath();
    if (!real.startsWith(dir.toRealPath())) {
      throw new IllegalArgumentException(manifest + ": field \"" + field + "\" must name a file inside the index"
          + " folder, but " + file + " is a link to " + real);
    }
    return file;
  }

  private static String text(String value, String field, Path manifest) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(manifest + ": field \"" + field + "\" must be a non-empty string");
    }
    return value;
  }

  private static int integer(Integer value, String field, Path manifest) {
    if (value == null) {
      throw new IllegalArgumentException(manifest + ": field \"" + field + "\" must be an integer");
    }
    return value;
  }

  private static String lower(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }

  static String snippet(String text) {
    String flat = text.replaceAll("\\s+", " ").strip();
    if (flat.length() <= SNIPPET_CHARS) {
      return flat;
    }
    int cut = SNIPPET_CHARS - 1;
    if (Character.isHighSurrogate(flat.charAt(cut - 1))) {
      cut--; // not between the halves of a pair: the half alone is no character, and UTF-8 refuses it
    }
    return flat.substring(0, cut).strip() + "...";
  }
}
