package dev.gecko.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gecko.core.InvalidDataException;
import dev.gecko.core.io.Corpus;
import dev.gecko.core.io.JsonlReader;
import dev.gecko.core.io.LineReader;
import dev.gecko.core.io.Passage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A retrieval test set in the BEIR layout: a corpus, queries and graded relevance judgements.
 *
 * <p>{@link #read(Path)} reads a folder with {@code corpus.jsonl} (read by {@link Corpus}: {@code
 * _id}, optional {@code title}, {@code text}), {@code queries.jsonl} ({@code _id}, {@code text},
 * by the same id rule) and {@code qrels/test.tsv} ({@code query-id, corpus-id, score}, header row
 * optional); any of them may be gzipped ({@code corpus.jsonl.gz}). Every corpus and query line
 * needs its id ({@code _id} or {@code id}): qrels match by id, so a line numbered in place of one
 * would match nothing. As BEIR's loader does, only queries that have qrels are kept. Qrels may point
 * at documents missing from the corpus (they still count as relevant, as in MTEB; their number is
 * logged); one query-document pair graded twice must agree.
 *
 * <p>Immutable and thread-safe: the constructor copies the corpus, queries and qrels into
 * unmodifiable collections; everything is held in memory, no file stays open.
 *
 * @param name a label for reports (the folder name)
 * @param corpus the documents, in file order; immutable
 * @param queries the queries with qrels, in file order; immutable
 * @param qrels query id to (document id to grade); immutable
 */
public record BeirDataset(
    String name, List<Passage> corpus, List<Query> queries, Map<String, Map<String, Integer>> qrels) {
  private static final System.Logger LOG = System.getLogger(BeirDataset.class.getName());

  /**
   * A query. Immutable and thread-safe.
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
   * @throws IllegalArgumentException if the corpus or the queries are empty, or a document id or
   *     query id is given twice (the evaluator keeps one vector and one ranking per id)
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
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (Passage p : corpus) {
      if (!seen.add(p.id())) {
        throw new IllegalArgumentException(name + ": document id '" + p.id() + "' is given twice");
      }
    }
    seen.clear();
    for (Query q : queries) {
      if (!seen.add(q.id())) {
        throw new IllegalArgumentException(name + ": query id '" + q.id() + "' is given twice");
      }
    }
  }

  /**
   * Reads the {@code test} split of a BEIR folder.
   *
   * @throws NoSuchFileException if the folder or one of its files is missing
   * @throws InvalidDataException if a file is malformed (the message names file, line and field)
   * @throws IOException if a file cannot be read
   */
  public static BeirDataset read(Path dir) throws IOException {
    return read(dir, "test");
  }

  /**
   * Reads a split ({@code qrels/<split>.tsv}) of a BEIR folder.
   *
   * @throws NoSuchFileException if the folder or one of its files is missing
   * @throws InvalidDataException if a file is malformed (the message names file, line and field),
   *     the corpus is empty, or no judged document is in it (the ids of corpus and qrels differ)
   * @throws IOException if a file cannot be read
   */
  public static BeirDataset read(Path dir, String split) throws IOException {
    Objects.requireNonNull(dir, "dir is null");
    Objects.requireNonNull(split, "split is null");
    if (!Files.isDirectory(dir)) {
      throw new NoSuchFileException(dir.toString(), null, "not a folder");
    }
    Path corpusFile = require(dir, "corpus.jsonl");
    Path queriesFile = require(dir, "queries.jsonl");
    Path qrelsFile = require(dir, "qrels/" + split + ".tsv");

    Map<String, Integer> qrelsLines = new HashMap<>();
    Map<String, Map<String, Integer>> qrels = readQrels(qrelsFile, qrelsLines);
    List<Passage> corpus = new ArrayList<>();
    Map<String, Integer> corpusLines = readTexts(corpusFile, corpus::add);
    List<Query> queries = new ArrayList<>();
    Map<String, Integer> queryLines = readTexts(queriesFile, q -> {
      if (qrels.containsKey(q.id())) {
        queries.add(new Query(q.id(), q.text()));
      }
    });
    for (String q : qrels.keySet()) {
      if (!queryLines.containsKey(q)) {
        throw new InvalidDataException(qrelsFile.toString(), qrelsLines.get(q), "query-id '" + q + "' is not in "
            + queriesFile);
      }
    }
    if (corpus.isEmpty()) {
      throw new InvalidDataException(corpusFile.toString(), 0, "holds no documents");
    }
    List<String> judged = qrels.values().stream().flatMap(d -> d.keySet().stream()).distinct().toList();
    long missing = judged.stream().filter(d -> !corpusLines.containsKey(d)).count();
    if (missing > 0 && missing == judged.size()) { // every score would be 0: the ids do not match
      String first = judged.get(0);
      throw new InvalidDataException(qrelsFile.toString(), 0, "none of its " + judged.size()
          + " judged documents is in " + corpusFile + " (corpus-id '" + first + "' is not; do the ids match?)");
    }
    if (missing > 0) {
      LOG.log(System.Logger.Level.WARNING, "{0}: {1} judged documents are not in {2}; they count as relevant and are"
          + " never retrieved (as in MTEB)", qrelsFile, missing, corpusFile);
    }
    Path abs = dir.toAbsolutePath().normalize();
    String name = abs.getFileName() == null ? abs.toString() : abs.getFileName().toString();
    return new BeirDataset(name, corpus, queries, qrels);
  }

  /**
   * Reads a BEIR JSON Lines file of texts with ids (the corpus rule for ids and text, every id
   * given and unique) into {@code sink}, in order; returns each id's line.
   */
  private static Map<String, Integer> readTexts(Path file, Consumer<Passage> sink) throws IOException {
    Map<String, Integer> lines = new HashMap<>();
    try (JsonlReader in = JsonlReader.open(file)) {
      ObjectNode o;
      while ((o = in.next()) != null) {
        Passage p = Corpus.passage(o, requireId(o, in));
        Integer before = lines.putIfAbsent(p.id(), in.lineNumber());
        if (before != null) {
          throw in.invalid("duplicate id '" + p.id() + "' (first on line " + before + ")");
        }
        sink.accept(p);
      }
    }
    return lines;
  }

  /** The reader, after checking that the line has an id field (BEIR files match by id). */
  private static JsonlReader requireId(ObjectNode o, JsonlReader in) {
    if (!o.hasNonNull("_id") && !o.hasNonNull("id")) {
      throw in.invalid("no '_id': a BEIR file's lines need their ids (qrels match by id)");
    }
    return in;
  }

  private static Map<String, Map<String, Integer>> readQrels(Path file, Map<String, Integer> firstLines)
      throws IOException {
    Map<String, Map<String, Integer>> qrels = new LinkedHashMap<>();
    Map<String, Integer> pairLines = new HashMap<>();
    try (LineReader in = LineReader.open(file)) {
      String line;
      while ((line = in.readLine()) != null) {
        if (in.lineNumber() == 1 && (line.startsWith("query-id\t") || line.startsWith("query_id\t"))) {
          continue;
        }
        if (line.isBlank()) {
          continue;
        }
        String[] f = line.split("\t", -1);
        if (f.length != 3) {
          throw in.invalid("expected 3 tab-separated fields (query-id, corpus-id, score), got " + f.length);
        }
        int grade;
        try {
          grade = Integer.parseInt(f[2].strip());
        } catch (NumberFormatException e) {
          throw in.invalid("score is not an integer: '" + f[2] + "'");
        }
        firstLines.putIfAbsent(f[0], in.lineNumber());
        Integer before = qrels.computeIfAbsent(f[0], k -> new LinkedHashMap<>()).putIfAbsent(f[1], grade);
        if (before == null) {
          pairLines.put(f[0] + "\t" + f[1], in.lineNumber());
        } else if (before != grade) {
          throw in.invalid("query-id '" + f[0] + "', corpus-id '" + f[1] + "' graded " + grade + " here and " + before
              + " on line " + pairLines.get(f[0] + "\t" + f[1]));
        }
      }
    }
    if (qrels.isEmpty()) {
      throw new InvalidDataException(file.toString(), 0, "no qrels");
    }
    return qrels;
  }

  private static Path require(Path dir, String base) throws NoSuchFileException {
    Path p = DataFiles.plainOrGz(dir, base);
    if (p == null) {
      throw new NoSuchFileException(dir.resolve(base).toString(), null, "missing (and no " + base + ".gz)");
    }
    return p;
  }
}
