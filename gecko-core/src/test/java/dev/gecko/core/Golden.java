package dev.gecko.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads the reference vectors in ../shared/golden. */
final class Golden {
  private static final ObjectMapper JSON = new ObjectMapper();

  record Row(String text, long[] inputIds, float[] embedding) {}

  private Golden() {}

  static Path shared() {
    return Path.of(System.getProperty("gecko.shared.dir", "../../shared"));
  }

  static List<Row> read(String file) {
    Path path = shared().resolve("golden").resolve(file);
    List<Row> rows = new ArrayList<>();
    try (BufferedReader reader = Files.newBufferedReader(path)) {
      String line;
      while ((line = reader.readLine()) != null) {
        JsonNode n = JSON.readTree(line);
        JsonNode idsNode = n.path("input_ids");
        long[] ids = new long[idsNode.size()];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = idsNode.get(i).asLong();
        }
        JsonNode emb = n.path("embedding");
        float[] e = new float[emb.size()];
        for (int i = 0; i < e.length; i++) {
          e[i] = (float) emb.get(i).asDouble();
        }
        rows.add(new Row(n.get("text").asText(), ids, e));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }

  static List<String> texts(List<Row> rows) {
    return rows.stream().map(Row::text).toList();
  }

  static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
