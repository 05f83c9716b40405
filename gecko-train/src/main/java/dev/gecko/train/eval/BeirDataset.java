package dev.gecko.train.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A retrieval test set in the BEIR layout: a corpus, queries and graded relevance judgements.
 *
 * <p>{@link #read(Path)} reads a folder with {@code corpus.jsonl} (one JSON object a line: {@code
 * _id}, optional {@code title}, {@code text}), {@code queries.jsonl} ({@code _id}, {@code text})
 * and {@code qrels/test.tsv} ({@code query-id, corpus-id, score}, header row optional); any of
 * them may be gzipped ({@code corpus.jsonl.gz}). As BEIR's loader does, only queries that have
 * qrels are kept. Qrels may point at documents missing from the corpus (they still count as
 * relevant, as in MTEB).
 *
 * @param name a label for reports (the folder name)
 * @param corpus the documents, in file order; immutable
 * @param queries the queries with qrels, in file order; immutable
 * @param qrels query id to (document id to grade); immutable
 */
public record BeirDataset(
    String name, List<Document> corpus, List<Query> queries, Map<String, Map<String, Integer>> qrels) {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * A corpus document.
   *
   * @param id the document id
   * @param title the title, empty if none
   * @param text the text
   */
  public record Document(String id, String title, String text) {
    /** Validates the fields. */
    public Document {
      Objects.requireNonNull(id, "id is null");
      Objects.requireNonNull(title, "title is null");
      Objects.requireNonNull(text, "text is null");
    }
  }

  /**
   * A query.
   *
   * @param id the query id
   * @param text the text
   */
  public record Query(String id, String text) {
    /** Validates the fields. */
    public Query {
      Objects.requireNonNull(id, "id is null");
      Objects.requireNonNull(text, "text is null");
    }
  }

  /**
   * Validates and copies.
   *
   * @throws IllegalArgumentException if the corpus or the queries are empty
   */
  public BeirDataset {
    Objects.requireNonNull(name, "name is null");
    corpus = List.copyOf(corpus);
    queries = List.copyOf(queries);
    Map<String, Map<String, Integer>> copy = new LinkedHashMap<>();
    qrels.forEach((q, docs) -> copy.put(q, Collections.unmodifiableMap(new LinkedHashMap<>(docs))));
    qrels = Collections.unmodifiableMap(copy);
    if (corpus.isEmpty()) {
      throw new IllegalArgumentException(name + ": empty corpus");
    }
    if (queries.isEmpty()) {
      throw new IllegalArgumentException(name + ": no queries with qrels");
    }
  }

  /**
   * Reads the {@code test} split of a BEIR folder.
   *
   * @throws IllegalArgumentException if a file is missing or malformed (the message names file,
   *     line and field)
   * @throws UncheckedIOException if a file cannot be read
   */
  public static BeirDataset read(Path dir) {
    return read(dir, "test");
  }

  /**
   * Reads a split ({@code qrels/<split>.tsv}) of a BEIR folder.
   *
   * @throws IllegalArgumentException if a file is missing or malformed (the message names file,
   *     line and field)
   * @throws UncheckedIOException if a file cannot be read
   */
  public static BeirDataset read(Path dir, String split) {
    Objects.requireNonNull(dir, "dir is null");
    Objects.requireNonNull(split, "split is null");
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(dir + ": not a folder");
    }
    Path corpusFile = require(dir, "corpus.jsonl");
    Path queriesFile = require(dir, "queries.jsonl");
    Path qrelsFile = require(dir, "qrels/" + split + ".tsv");

    Map<String, Map<String, Integer>> qrels = readQrels(qrelsFile);
    List<Document> corpus = new ArrayList<>();
    Set<String> docIds = new HashSet<>();
    forEachJson(corpusFile, (node, lineNo) -> {
      String id = field(node, "_id", true, corpusFile, lineNo);
      if (!docIds.add(id)) {
        throw new IllegalArgumentException(corpusFile + ":" + lineNo + ": duplicate _id '" + id + "'");
      }
      String title = field(node, "title", false, corpusFile, lineNo);
      corpus.add(new Document(id, title == null ? "" : title, field(node, "text", true, corpusFile, lineNo)));
    });
    List<Query> queries = new ArrayList<>();
    Set<String> queryIds = new HashSet<>();
    forEachJson(queriesFile, (node, lineNo) -> {
      String id = field(node, "_id", true, queriesFile, lineNo);
      if (!queryIds.add(id)) {
        throw new IllegalArgumentException(queriesFile + ":" + lineNo + ": duplicate _id '" + id + "'");
      }
      if (qrels.containsKey(id)) {
        queries.add(new Query(id, field(node, "text", true, queriesFile, lineNo)));
      }
    });
    for (String q : qrels.keySet()) {
      if (!queryIds.contains(q)) {
        throw new IllegalArgumentException(qrelsFile + ": query-id '" + q + "' is not in " + queriesFile);
      }
    }
    Path abs = dir.toAbsolutePath().normalize();
    String name = abs.getFileName() == null ? abs.toString() : abs.getFileName().toString();
    return new BeirDataset(name, corpus, queries, qrels);
  }

  private interface LineHandler {
    void accept(JsonNode node, int lineNo);
  }

  private static void forEachJson(Path file, LineHandler handler) {
    try (BufferedReader in = DataFiles.open(file)) {
      String line;
      int lineNo = 0;
      while ((line = in.readLine()) != null) {
        lineNo++;
        if (lineNo == 1) {
          line = DataFiles.stripBom(line);
        }
        if (line.isBlank()) {
          continue;
        }
        JsonNode node;
        try {
          node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
          throw new IllegalArgumentException(file + ":" + lineNo + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
          throw new IllegalArgumentException(file + ":" + lineNo + ": expected a JSON object");
        }
        handler.accept(node, lineNo);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": " + e.getMessage(), e);
    }
  }

  private static String field(JsonNode node, String name, boolean required, Path file, int lineNo) {
    JsonNode v = node.get(name);
    if (v == null || v.isNull()) {
      if (required) {
        throw new IllegalArgumentException(file + ":" + lineNo + ": missing field '" + name + "'");
      }
      return null;
    }
    if (!v.isTextual() && !v.isNumber()) {
      throw new IllegalArgumentException(file + ":" + lineNo + ": field '" + name + "' must be a string");
    }
    return v.asText();
  }

  private static Map<String, Map<String, Integer>> readQrels(Path file) {
    Map<String, Map<String, Integer>> qrels = new LinkedHashMap<>();
    try (BufferedReader in = DataFiles.open(file)) {
      String line;
      int lineNo = 0;
      while ((line = in.readLine()) != null) {
        lineNo++;
        if (lineNo == 1) {
          line = DataFiles.stripBom(line);
          if (line.startsWith("query-id\t") || line.startsWith("query_id\t")) {
            continue;
          }
        }
        if (line.isBlank()) {
          continue;
        }
        String[] f = line.split("\t", -1);
        if (f.length != 3) {
          throw new IllegalArgumentException(file + ":" + lineNo + ": expected 3 tab-separated fields (query-id, "
              + "corpus-id, score), got " + f.length);
        }
        int grade;
        try {
          grade = Integer.parseInt(f[2].strip());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(file + ":" + lineNo + ": score is not an integer: '" + f[2] + "'");
        }
        qrels.computeIfAbsent(f[0], k -> new LinkedHashMap<>()).put(f[1], grade);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": " + e.getMessage(), e);
    }
    if (qrels.isEmpty()) {
      throw new IllegalArgumentException(file + ": no qrels");
    }
    return qrels;
  }

  private static Path require(Path dir, String base) {
    Path p = DataFiles.plainOrGz(dir, base);
    if (p == null) {
      throw new IllegalArgumentException(dir + ": missing " + base + " (or " + base + ".gz)");
    }
    return p;
  }
}
