package dev.gecko.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/** Small fixtures cut from the real shared data sets into a temp folder (never into the repo). */
final class Fixtures {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Fixtures() {}

  static Path shared() {
    return Path.of(System.getProperty("gecko.shared.dir", "../../shared"));
  }

  static Path sts(String relative) {
    return shared().resolve("data/sts").resolve(relative);
  }

  /** The first {@code lines} lines of a shared file, written to {@code out}. */
  static Path head(Path source, int lines, Path out) throws IOException {
    List<String> all = Files.readAllLines(source, StandardCharsets.UTF_8);
    Files.write(out, all.subList(0, Math.min(lines, all.size())), StandardCharsets.UTF_8);
    return out;
  }

  /**
   * A BEIR folder with the first {@code queries} ArguAna test queries whose relevant document is
   * in the corpus, their relevant documents, the documents with the queries' own ids, {@code
   * extraDocs} other documents, and two queries without qrels. The corpus is gzipped.
   */
  static Path arguanaSlice(Path dir, int queries, int extraDocs) throws IOException {
    Path src = shared().resolve("data/beir/arguana");
    List<String[]> qrels = new ArrayList<>();
    Set<String> allDocIds = new LinkedHashSet<>();
    List<JsonNode> corpus = new ArrayList<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(
        new GZIPInputStream(Files.newInputStream(src.resolve("corpus.jsonl.gz"))), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        JsonNode n = JSON.readTree(line);
        corpus.add(n);
        allDocIds.add(n.get("_id").asText());
      }
    }
    List<String> qrelLines = Files.readAllLines(src.resolve("qrels/test.tsv"), StandardCharsets.UTF_8);
    for (String l : qrelLines.subList(1, qrelLines.size())) {
      String[] f = l.split("\t");
      if (allDocIds.contains(f[1]) && allDocIds.contains(f[0]) && qrels.size() < queries) {
        qrels.add(f);
      }
    }
    Set<String> keepDocs = new LinkedHashSet<>();
    Set<String> keepQueries = new LinkedHashSet<>();
    for (String[] f : qrels) {
      keepQueries.add(f[0]);
      keepDocs.add(f[0]);
      keepDocs.add(f[1]);
    }
    int extra = 0;
    for (JsonNode n : corpus) {
      if (extra < extraDocs && keepDocs.add(n.get("_id").asText())) {
        extra++;
      }
    }
    Files.createDirectories(dir.resolve("qrels"));
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(dir.resolve("corpus.jsonl.gz")))) {
      for (JsonNode n : corpus) {
        if (keepDocs.contains(n.get("_id").asText())) {
          out.write((JSON.writeValueAsString(n) + "\n").getBytes(StandardCharsets.UTF_8));
        }
      }
    }
    List<String> queryLines = new ArrayList<>();
    int unjudged = 0;
    for (String l : Files.readAllLines(src.resolve("queries.jsonl"), StandardCharsets.UTF_8)) {
      String id = JSON.readTree(l).get("_id").asText();
      if (keepQueries.contains(id)) {
        queryLines.add(l);
      } else if (unjudged < 2) {
        queryLines.add(l);
        unjudged++;
      }
    }
    Files.write(dir.resolve("queries.jsonl"), queryLines, StandardCharsets.UTF_8);
    List<String> q = new ArrayList<>();
    q.add("query-id\tcorpus-id\tscore");
    for (String[] f : qrels) {
      q.add(String.join("\t", f));
    }
    Files.write(dir.resolve("qrels/test.tsv"), q, StandardCharsets.UTF_8);
    return dir;
  }

  static void write(Path file, String content) {
    try {
      Files.writeString(file, content, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
