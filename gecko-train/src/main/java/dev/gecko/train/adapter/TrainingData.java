package dev.gecko.train.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gecko.core.InvalidDataException;
import dev.gecko.core.internal.model.PromptRenderer;
import dev.gecko.core.internal.model.PythonStrings;
import dev.gecko.core.io.JsonlReader;
import dev.gecko.core.io.LineReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * An immutable list of {@link TrainingExample training examples}, read from a file or built in
 * memory, with a deterministic train/validation split.
 *
 * <h2>Formats read by {@link #read(Path)}</h2>
 * <ul>
 *   <li>JSON Lines ({@code .jsonl}, {@code .json}, optionally {@code .gz}), one object a line:
 *       <ul>
 *         <li>FRet / sentence-transformers triplets: {@code anchor} (or {@code query}), {@code
 *             positive}, optional {@code negative}, optional {@code task} (empty: none); FRet's
 *             {@code positive_title} and {@code negative_title} are joined in front of their texts
 *             as a corpus line's title is; other fields (provenance) are ignored, but a {@code
 *             score} or {@code label} is refused (scored pairs are the next layout);
 *         <li>scored pairs: {@code sentence1}, {@code sentence2}, {@code score} (or {@code
 *             label});
 *         <li>a corpus: {@code text} with optional {@code title} (BEIR {@code corpus.jsonl}),
 *             read as {@code title + " " + text}.
 *       </ul>
 *   <li>TSV ({@code .tsv}) with a header row naming the same columns (in any case, blanks around
 *       them ignored), for example the STS layout {@code subset, sentence1, sentence2, score};
 *       plain tabs, no quoting. The header row again further down (files joined) is refused.
 *   <li>Plain text ({@code .txt}): one unlabelled text a line; blank lines are skipped.
 * </ul>
 * A row that fits none of these, a missing field, or a bad score fails with the file and line; so
 * does a pair without a score that has a field like one ({@code similarity}, {@code gold_label}),
 * which would otherwise train as a positive.
 *
 * <p>Immutable and thread-safe; it holds its examples in memory and no open file.
 */
public final class TrainingData {
  private final List<TrainingExample> examples;
  /** Whether the file held retrieval rows ({@link #hasQueryRows}). */
  private final boolean queryRows;

  private TrainingData(List<TrainingExample> examples, boolean queryRows) {
    this.examples = List.copyOf(examples);
    this.queryRows = queryRows;
  }

  /** Wraps examples (copied). */
  public static TrainingData of(List<TrainingExample> examples) {
    Objects.requireNonNull(examples, "examples is null");
    for (int i = 0; i < examples.size(); i++) {
      Objects.requireNonNull(examples.get(i), "examples[" + i + "] is null");
    }
    return new TrainingData(examples, false);
  }

  /**
   * Reads a file in one of the formats above (plain or gzip-compressed UTF-8, read by {@link
   * LineReader}).
   *
   * @throws IOException if it cannot be read
   * @throws InvalidDataException if a row is malformed (the message names file and line) or the
   *     file holds no examples
   * @throws IllegalArgumentException if the file name has none of the extensions above
   */
  public static TrainingData read(Path file) throws IOException {
    Objects.requireNonNull(file, "file is null");
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    String base = name.endsWith(".gz") ? name.substring(0, name.length() - 3) : name;
    boolean jsonl = base.endsWith(".jsonl") || base.endsWith(".json");
    boolean tsv = base.endsWith(".tsv");
    if (!jsonl && !tsv && !base.endsWith(".txt")) {
      throw new IllegalArgumentException(file + ": unknown data format; expected .jsonl, .json, .tsv or .txt"
          + " (optionally .gz)");
    }
    List<TrainingExample> out = new ArrayList<>();
    ReadState state = new ReadState();
    try (LineReader lines = LineReader.open(file)) {
      if (jsonl) {
        readJsonl(JsonlReader.of(lines), out, state);
      } else if (tsv) {
        readTsv(lines, out, state);
      } else {
        String line;
        while ((line = lines.readLine()) != null) {
          if (!line.isBlank()) {
            out.add(new TrainingExample(null, line.strip(), null, null, null, file + ":" + lines.lineNumber()));
          }
        }
      }
    }
    if (out.isEmpty()) {
      throw new InvalidDataException(file.toString(), 0, "no examples");
    }
    if (state.scoredPairs > 0 && state.firstUnscoredPair != null) {
      // a pair without a score in a scored file (a null, a misnamed column) would train as a positive
      throw new InvalidDataException(state.firstUnscoredPair, 0, "a sentence pair without a score, where "
          + state.scoredPairs + " other pairs of the file have one; give every pair a score or none");
    }
    return new TrainingData(out, state.queryRows);
  }

  /** What a read learns beyond the rows. */
  private static final class ReadState {
    boolean queryRows;
    int scoredPairs;
    String firstUnscoredPair;
  }

  private static void readJsonl(JsonlReader in, List<TrainingExample> out, ReadState state) throws IOException {
    ObjectNode row;
    while ((row = in.next()) != null) {
      ObjectNode r = row;
      out.add(fromFields(new Fields() {
        @Override
        public String get(String name) {
          JsonNode v = r.get(name);
          if (v == null || v.isNull()) {
            return null;
          }
          if (!v.isValueNode()) {
            throw in.invalid("field '" + name + "' must be a string or number");
          }
          return v.asText();
        }

        @Override
        public Iterable<String> names() {
          return r::fieldNames;
        }
      }, in.source() + ":" + in.lineNumber(), in::invalid, state));
    }
  }

  private static void readTsv(LineReader in, List<TrainingExample> out, ReadState state) throws IOException {
    String header = in.readLine();
    if (header == null) {
      return;
    }
    // column names as written by hand or by a spreadsheet: "Score", "score " and "score" are one
    List<String> columns = new ArrayList<>();
    for (String c : header.split("\t", -1)) {
      String name = columnName(c);
      if (!name.isEmpty() && columns.contains(name)) {
        throw in.invalid("the header names column '" + name + "' twice");
      }
      columns.add(name);
    }
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) {
        continue;
      }
      String[] cells = line.split("\t", -1);
      if (cells.length != columns.size()) { // more: a tab inside a text, whose end would be dropped
        throw in.invalid(cells.length + " columns, the header has " + columns.size()
            + (cells.length > columns.size() ? " (a tab inside a text?)" : ""));
      }
      if (java.util.Arrays.stream(cells).map(TrainingData::columnName).toList().equals(columns)) {
        throw in.invalid("the header row again (files joined with their headers?)");
      }
      out.add(fromFields(new Fields() {
        @Override
        public String get(String name) {
          int i = columns.indexOf(name);
          return i < 0 ? null : cells[i];
        }

        @Override
        public Iterable<String> names() {
          return columns;
        }
      }, in.source() + ":" + in.lineNumber(), in::invalid, state));
    }
  }

  /** A TSV header cell as a column name: "Score", "score " and "score" are one. */
  private static String columnName(String cell) {
    return cell.strip().toLowerCase(java.util.Locale.ROOT);
  }

  private interface Fields {
    /** The field's value, or null when the row has none (or a JSON null). */
    String get(String name);

    /** The row's field names (a TSV's header, lower-cased). */
    Iterable<String> names();
  }

  /**
   * A field that looks like a score but is not read as one ({@code similarity}, {@code
   * similarity_score}, {@code gold_label}), or null: a scored file whose score column is misnamed
   * would otherwise train every pair as a positive.
   */
  private static String scoreLike(Fields f) {
    for (String name : f.names()) {
      String n = name.toLowerCase(java.util.Locale.ROOT);
      if (!name.equals("score") && !name.equals("label") // read as the score; "Score" in JSON is not
          && (n.contains("score") || n.contains("label") || n.contains("similarity"))) {
        return name;
      }
    }
    return null;
  }

  private static TrainingExample fromFields(Fields f, String where, Function<String, InvalidDataException> invalid,
      ReadState state) {
    String task = f.get("task");
    task = task == null || task.isBlank() ? null : task; // an empty cell is no task, as an empty negative is none
    String s1 = f.get("sentence1");
    if (s1 != null) {
      notBlank(s1, "sentence1", invalid);
      String s2 = notBlank(require(f.get("sentence2"), "sentence2", invalid), "sentence2", invalid);
      String scoreText = f.get("score") != null ? f.get("score") : f.get("label");
      Double score = null;
      if (scoreText != null) {
        try {
          score = Double.parseDouble(scoreText.strip());
        } catch (NumberFormatException e) {
          throw invalid.apply("score '" + scoreText + "' is not a number");
        }
        if (!Double.isFinite(score)) {
          throw invalid.apply("score '" + scoreText + "' is not finite");
        }
      }
      String unread = score == null ? scoreLike(f) : null;
      if (unread != null) {
        throw invalid.apply("field '" + unread + "' is not read as the score: name it 'score' or 'label' "
            + "(without one, every pair trains as a positive)");
      }
      if (score != null) {
        state.scoredPairs++;
      } else if (state.firstUnscoredPair == null) {
        state.firstUnscoredPair = where;
      }
      return new TrainingExample(task, s1, s2, null, score, where);
    }
    String anchor = f.get("anchor") != null ? f.get("anchor") : f.get("query");
    if (anchor != null) {
      // a retrieval row: FRet's (it names its task) or one whose first text is called a query;
      // sentence-transformers' plain anchor/positive sets (NLI, paraphrases) may be symmetric
      state.queryRows |= task != null || f.get("anchor") == null;
      notBlank(anchor, f.get("anchor") != null ? "anchor" : "query", invalid);
      String scored = scoreField(f);
      if (scored != null) { // a scored pair under other names: it would train as a positive, its score unread
        throw invalid.apply("field '" + scored + "' on a row of " + (f.get("anchor") != null ? "anchor" : "query")
            + "/positive is not read: drop or rename it (scored pairs are sentence1/sentence2/score)");
      }
      // FRet's examples carry their documents' titles apart: joined as a corpus line's are
      String positive = notBlank(PromptRenderer.titled(f.get("positive_title"),
          require(f.get("positive"), "positive", invalid)), "positive", invalid);
      String negative = f.get("negative");
      // an empty or blank cell (a TSV row without one) is no negative, never a blank text to train on
      negative = negative == null ? null : PromptRenderer.titled(f.get("negative_title"), negative);
      negative = negative == null || PythonStrings.isBlank(negative) || negative.isBlank() ? null : negative;
      return new TrainingExample(task, anchor, positive, negative, null, where);
    }
    String text = f.get("text");
    if (text != null) {
      String titled = PromptRenderer.titled(f.get("title"), text); // a title alone is a text (BEIR has such documents)
      notBlank(titled, "text", invalid);
      return new TrainingExample(task, titled, null, null, null, where);
    }
    throw invalid.apply("expected fields anchor/positive[/negative], query/positive, sentence1/sentence2[/score] or text");
  }

  /** A field called score or label, in any case, with a value, or null (FRet's "scorer" is none). */
  private static String scoreField(Fields f) {
    for (String name : f.names()) {
      String n = name.toLowerCase(java.util.Locale.ROOT);
      if ((n.equals("score") || n.equals("label")) && f.get(name) != null) {
        return name;
      }
    }
    return null;
  }

  /** A text must hold something: a blank one would be embedded as the special tokens alone, and trained on. */
  private static String notBlank(String value, String field, Function<String, InvalidDataException> invalid) {
    if (value.isBlank()) {
      throw invalid.apply("field '" + field + "' is blank");
    }
    return value;
  }

  private static String require(String value, String field, Function<String, InvalidDataException> invalid) {
    if (value == null) {
      throw invalid.apply("missing field '" + field + "'");
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

  /**
   * Returns whether the file holds retrieval rows: rows with a {@code task} (FRet's output) or
   * whose first text is a {@code query} field (MS MARCO-style triplets). Their first text is a
   * query and the others are documents, and {@link Trainer} renders them so unless told otherwise.
   * Plain {@code anchor}/{@code positive} rows (sentence-transformers' NLI and paraphrase sets,
   * which may be symmetric) do not count. False for data built with {@link #of}: wrap the examples
   * with {@code of} to train retrieval rows with the model's default prompt.
   */
  public boolean hasQueryRows() {
    return queryRows;
  }

  /** Returns whether every example has a positive. */
  public boolean allPaired() {
    return examples.stream().allMatch(e -> e.positive() != null);
  }

  /** Returns whether every example has a score. */
  public boolean allScored() {
    return examples.stream().allMatch(e -> e.score() != null);
  }

  /** The two sides of a split. Immutable and thread-safe. */
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
    return new Split(new TrainingData(train, queryRows), new TrainingData(val, queryRows));
  }

  /** Returns a copy limited to the first {@code n} examples. */
  public TrainingData limit(int n) {
    return new TrainingData(examples.subList(0, Math.min(n, examples.size())), queryRows);
  }

  @Override
  public String toString() {
    return "TrainingData[" + examples.size() + " examples]";
  }
}
