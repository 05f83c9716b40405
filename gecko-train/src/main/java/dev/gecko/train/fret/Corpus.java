package dev.gecko.train.fret;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPInputStream;

/** Reads BEIR-style JSONL corpora ({@code _id}, {@code title}, {@code text}). Stateless. */
public final class Corpus {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Corpus() {}

  /**
   * Reads a corpus file ({@code .jsonl}, or {@code .jsonl.gz}). Each non-blank line is an object
   * with a string {@code _id} (or {@code id}), a string {@code text} and an optional {@code title}.
   *
   * @param limit the most passages to read, or {@code Integer.MAX_VALUE}
   * @throws IOException if the file cannot be read
   * @throws IllegalArgumentException if a line is not valid (the message names the file, line and
   *     field) or an id repeats
   */
  public static List<Passage> readJsonl(Path file, int limit) throws IOException {
    List<Passage> out = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    try (InputStream raw = Files.newInputStream(file);
        InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      int n = 0;
      while ((line = r.readLine()) != null && out.size() < limit) {
        n++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode o;
        try {
          o = JSON.readTree(line);
        } catch (IOException e) {
          throw new IllegalArgumentException(file + ":" + n + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (o == null || !o.isObject()) {
          throw new IllegalArgumentException(file + ":" + n + ": not a JSON object");
        }
        JsonNode id = o.has("_id") ? o.get("_id") : o.get("id");
        if (id == null || !(id.isTextual() || id.isNumber()) || id.asText().isBlank()) {
          throw new IllegalArgumentException(file + ":" + n + ": field '_id' must be a non-empty string");
        }
        JsonNode text = o.get("text");
        if (text == null || !text.isTextual()) {
          throw new IllegalArgumentException(file + ":" + n + ": field 'text' must be a string");
        }
        JsonNode title = o.get("title");
        if (title != null && !title.isNull() && !title.isTextual()) {
          throw new IllegalArgumentException(file + ":" + n + ": field 'title' must be a string");
        }
        if (!ids.add(id.asText())) {
          throw new IllegalArgumentException(file + ":" + n + ": duplicate _id '" + id.asText() + "'");
        }
        out.add(new Passage(id.asText(), title == null || title.isNull() ? "" : title.asText(), text.asText()));
      }
    }
    return out;
  }
}
