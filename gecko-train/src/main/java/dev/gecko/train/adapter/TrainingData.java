package dev.gecko.train.adapter;

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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.zip.GZIPInputStream;

/**
 * An immutable list of {@link TrainingExample training examples}, read from a file or built in
 * memory, with a deterministic train/validation split.
 *
 * <h2>Formats read by {@link #read(Path)}</h2>
 * <ul>
 *   <li>JSON Lines ({@code .jsonl}, {@code .json}, optionally {@code .gz}), one object a line:
 *       <ul>
 *         <li>FRet / sentence-transformers triplets: {@code anchor} (or {@code query}), {@code
 *             positive}, optional {@code negative}, optional {@code task}; other fields
 *             (provenance) are ignored;
 *         <li>scored pairs: {@code sentence1}, {@code sentence2}, {@code score} (or {@code
 *             label});
 *         <li>a corpus: {@code text} with optional {@code title} (BEIR {@code corpus.jsonl}),
 *             read as {@code title + " " + text}.
 *       </ul>
 *   <li>TSV ({@code .tsv}) with a header row naming the same columns, for example the STS layout
 *       {@code subset, sentence1, sentence2, score}; plain tabs, no quoting.
 *   <li>Plain text ({@code .txt}): one unlabelled text a line; blank lines are skipped.
 * </ul>
 * A row that fits none of these, a missing field, or a bad score fails with the file and line.
 *
 * <p>Immutable and thread-safe.
 */
public final class TrainingData {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<TrainingExample> examples;

  private TrainingData(List<TrainingExample> examples) {
    this.examples = List.copyOf(examples);
  }

  /** Wraps examples (copied). */
  public static TrainingData of(List<TrainingExample> examples) {
    Objects.requireNonNull(examples, "examples is null");
    for (int i = 0; i < examples.size(); i++) {
      Objects.requireNonNull(examples.get(i), "examples[" + i + "] is null");
    }
    return new TrainingData(examples);
  }

  /**
   * Reads a file in one of the formats above.
   *
   * @throws IOException if it cannot be read
   * @throws IllegalArgumentException if a row is malformed (the message names file and line) or
   *     the file holds no examples
   */
  public static TrainingData read(Path file) throws IOException {
    Objects.requireNonNull(file, "file is null");
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    boolean gz = name.endsWith(".gz");
    String base = gz ? name.substring(0, name.length() - 3) : name;
    List<TrainingExample> out = new ArrayList<>();
    try (InputStream raw = Files.newInputStream(file);
        InputStream in = gz ? new GZIPInputStream(raw) : raw;
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      if (base.endsWith(".jsonl") || base.endsWith(".json")) {
        readJsonl(reader, file, out);
      } else if (base.endsWith(".tsv")) {
        readTsv(reader, file, out);
      } else if (base.endsWith(".txt")) {
        String line;
        int n = 0;
        while ((line = reader.readLine()) != null) {
          n++;
          if (!line.isBlank()) {
            out.add(new TrainingExample(null, line.strip(), null, null, null, file + ":" + n));
          }
        }
      } else {
        throw new IllegalArgumentException(file + ": unknown data format; expected .jsonl, .json, .tsv or .txt"
            + " (optionally .gz)");
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(file + ": no examples");
    }
    return new TrainingData(out);
  }

  private static void readJsonl(BufferedReader reader, Path file, List<TrainingExample> out) throws IOException {
    String line;
    int n = 0;
    while ((line = reader.readLine()) != null) {
      n++;
      if (line.isBlank()) {
        continue;
      }
      String where = file + ":" + n;
      JsonNode row;
      try {
        row = JSON.readTree(line);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalArgumentException(where + ": not valid JSON: " + e.getOriginalMessage(), e);
      }
      if (row == null || !row.isObject()) {
        throw new IllegalArgumentException(where + ": expected a JSON object");
      }
      out.add(fromFields(name -> {
        JsonNode v = row.get(name);
        if (v == null || v.isNull()) {
          return null;
        }
        if (!v.isValueNode()) {
          throw new IllegalArgumentException(where + ": field '" + name + "' must be a string or number");
        }
        return v.asText();
      }, where));
    }
  }

  private static void readTsv(BufferedReader reader, Path file, List<TrainingExample> out) throws IOException {
    String header = reader.readLine();
    if (header == null) {
      return;
    }
    List<String> columns = List.of(header.split("\t", -1));
    String line;
    int n = 1;
    while ((line = reader.readLine()) != null) {
      n++;
      if (line.isBlank()) {
        continue;
      }
      String where = file + ":" + n;
      String[] cells = line.split("\t", -1);
      if (cells.length < columns.size()) {
        throw new IllegalArgumentException(where + ": " + cells.length + " columns, the header has " + columns.size());
      }
      out.add(fromFields(name -> {
        int i = columns.indexOf(name);
        return i < 0 ? null : cells[i];
      }, where));
    }
  }

  private interface Fields {
    String get(String name);
  }

  private static TrainingExample fromFields(Fields f, String where) {
    String task = f.get("task");
    String s1 = f.get("sentence1");
    if (s1 != null) {
      String s2 = require(f.get("sentence2"), "sentence2", where);
      String scoreText = f.get("score") != null ? f.get("score") : f.get("label");
      Double score = null;
      if (scoreText != null) {
        try {
          score = Double.parseDouble(scoreText.strip());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(where + ": score '" + scoreText + "' is not a number");
        }
      }
      return new TrainingExample(task, s1, s2, null, score, where);
    }
    String anchor = f.get("anchor") != null ? f.get("anchor") : f.get("query");
    if (anchor != null) {
      String positive = require(f.get("positive"), "positive", where);
      String negative = f.get("negative");
      return new TrainingExample(task, anchor, positive, negative == null || negative.isEmpty() ? null : negative,
          null, where);
    }
    String text = f.get("text");
    if (text != null) {
      String title = f.get("title");
      String full = title == null || title.isBlank() ? text : (title + " " + text).strip();
      return new TrainingExample(task, full, null, null, null, where);
    }
    throw new IllegalArgumentException(where + ": expected fields anchor/positive[/negative], query/positive,"
        + " sentence1/sentence2[/score] or text");
  }

  private static String require(String value, String field, String where) {
    if (value == null) {
      throw new IllegalArgumentException(where + ": missing field '" + field + "'");
    }
    return value;
  }

  /** Returns the examples in file order. */
  public List<TrainingExample> examples() {
    return examples;
  }

  /** Returns the number of examples. */
  public int size() {
    return examples.size();
  }

  /** Returns every distinct text (anchors, positives, negatives) in first-seen order. */
  public List<String> texts() {
    Set<String> s = new LinkedHashSet<>();
    for (TrainingExample e : examples) {
      s.add(e.anchor());
      if (e.positive() != null) {
        s.add(e.positive());
      }
      if (e.negative() != null) {
        s.add(e.negative());
      }
    }
    return List.copyOf(s);
  }

  /** Returns whether every example has a positive. */
  public boolean allPaired() {
    return examples.stream().allMatch(e -> e.positive() != null);
  }

  /** Returns whether every example has a score. */
  public boolean allScored() {
    return examples.stream().allMatch(e -> e.score() != null);
  }

  /** The two sides of a split. */
  public record Split(TrainingData train, TrainingData validation) {}

  /**
   * Splits deterministically: an example goes to validation when a hash of its anchor text and
   * the seed falls below {@code validationFraction}, so equal anchors stay on one side and the
   * same seed gives the same split on every JVM. The order within each side is kept.
   *
   * @throws IllegalArgumentException if the fraction is not in [0, 1)
   */
  public Split split(double validationFraction, long seed) {
    if (!(validationFraction >= 0 && validationFraction < 1)) {
      throw new IllegalArgumentException("validationFraction must be in [0, 1), was " + validationFraction);
    }
    List<TrainingExample> train = new ArrayList<>();
    List<TrainingExample> val = new ArrayList<>();
    for (TrainingExample e : examples) {
      double u = (Rng.mix(seed ^ Rng.mix(e.anchor().hashCode())) >>> 11) * 0x1.0p-53;
      (u < validationFraction ? val : train).add(e);
    }
    return new Split(new TrainingData(train), new TrainingData(val));
  }

  /** Returns a copy limited to the first {@code n} examples. */
  public TrainingData limit(int n) {
    return new TrainingData(examples.subList(0, Math.min(n, examples.size())));
  }

  @Override
  public String toString() {
    return "TrainingData[" + examples.size() + " examples]";
  }
}
