package dev.gecko.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gecko.core.index.FlatIndex;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The folder {@code gecko index} writes and {@code gecko search} reads:
 *
 * <ul>
 *   <li>{@code index.json}: {@code {"format": "gecko-index", "version": 1, "model": ..., "dims": N,
 *       "precision": "float32|int8|binary", "metric": "dot|hamming", "count": N, "vectors":
 *       "vectors.gkfx", "docs": "docs.jsonl"}};
 *   <li>{@code vectors.gkfx}: the {@link FlatIndex} file (format in its Javadoc);
 *   <li>{@code docs.jsonl}: one {@code {"id", "title", "snippet"}} per vector, in ordinal order.
 * </ul>
 */
final class IndexDirectory {
  static final String MANIFEST = "index.json";
  static final String VECTORS = "vectors.gkfx";
  static final String DOCS = "docs.jsonl";
  static final int SNIPPET_CHARS = 240;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One indexed document as search prints it. */
  record Doc(String id, String title, String snippet) {}

  final String model;
  final int dims;
  final FlatIndex index;
  final List<Doc> docs;

  private IndexDirectory(String model, int dims, FlatIndex index, List<Doc> docs) {
    this.model = model;
    this.dims = dims;
    this.index = index;
    this.docs = docs;
  }

  static void write(Path dir, String model, FlatIndex index, List<Doc> docs) throws IOException {
    Files.createDirectories(dir);
    index.save(dir.resolve(VECTORS));
    try (BufferedWriter w = Files.newBufferedWriter(dir.resolve(DOCS), StandardCharsets.UTF_8)) {
      for (Doc d : docs) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", d.id());
        n.put("title", d.title());
        n.put("snippet", d.snippet());
        w.write(JSON.writeValueAsString(n));
        w.newLine();
      }
    }
    ObjectNode m = JSON.createObjectNode();
    m.put("format", "gecko-index");
    m.put("version", 1);
    m.put("model", model);
    m.put("dims", index.dimensions());
    m.put("precision", index.precision().name().toLowerCase(java.util.Locale.ROOT));
    m.put("metric", index.metric().name().toLowerCase(java.util.Locale.ROOT));
    m.put("count", index.size());
    m.put("vectors", VECTORS);
    m.put("docs", DOCS);
    // written last: a folder without it is an unfinished index
    Files.writeString(dir.resolve(MANIFEST), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n");
  }

  /**
   * Reads an index folder.
   *
   * @throws IllegalArgumentException naming the file and the problem if the folder is not a
   *     complete index
   */
  static IndexDirectory read(Path dir) throws IOException {
    Path manifest = dir.resolve(MANIFEST);
    if (!Files.isRegularFile(manifest)) {
      throw new IllegalArgumentException(dir + " is not a gecko index (no " + MANIFEST + "; create one with gecko index)");
    }
    JsonNode m;
    try {
      m = JSON.readTree(manifest.toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException(manifest + ": not valid JSON");
    }
    if (m == null || !"gecko-index".equals(m.path("format").asText()) || m.path("version").asInt() != 1) {
      throw new IllegalArgumentException(manifest + ": not a version 1 gecko-index manifest");
    }
    String model = m.path("model").asText(null);
    if (model == null || model.isBlank()) {
      throw new IllegalArgumentException(manifest + ": field \"model\" is missing");
    }
    FlatIndex index = FlatIndex.load(dir.resolve(m.path("vectors").asText(VECTORS)));
    int dims = m.path("dims").asInt(-1);
    if (dims != index.dimensions()) {
      throw new IllegalArgumentException(manifest + ": dims " + dims + " but the vectors have " + index.dimensions());
    }
    List<Doc> docs = new ArrayList<>(index.size());
    Path docsFile = dir.resolve(m.path("docs").asText(DOCS));
    try (BufferedReader r = Files.newBufferedReader(docsFile, StandardCharsets.UTF_8)) {
      String line;
      int lineNo = 0;
      while ((line = r.readLine()) != null) {
        lineNo++;
        JsonNode n;
        try {
          n = JSON.readTree(line);
        } catch (IOException e) {
          throw new IllegalArgumentException(docsFile + ":" + lineNo + ": not valid JSON");
        }
        docs.add(new Doc(n.path("id").asText(""), n.path("title").asText(""), n.path("snippet").asText("")));
      }
    }
    if (docs.size() != index.size()) {
      throw new IllegalArgumentException(docsFile + " has " + docs.size() + " documents but the index has "
          + index.size() + " vectors");
    }
    return new IndexDirectory(model, dims, index, docs);
  }

  static String snippet(String text) {
    String flat = text.replaceAll("\\s+", " ").strip();
    return flat.length() <= SNIPPET_CHARS ? flat : flat.substring(0, SNIPPET_CHARS - 1).strip() + "...";
  }
}
