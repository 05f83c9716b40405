package dev.gecko.eval;

import dev.gecko.core.InvalidDataException;
import dev.gecko.core.io.LineReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Sentence pairs with gold similarity scores.
 *
 * <p>{@link #read(Path)} accepts two layouts (plain or gzip-compressed UTF-8, read by {@link
 * LineReader}):
 *
 * <ul>
 *   <li>a pairs TSV with a header row naming at least {@code sentence1}, {@code sentence2} and
 *       {@code score} (the layout of {@code ../shared/data/sts/&#42;/pairs.*.tsv}: {@code subset,
 *       sentence1, sentence2, score}), plain tabs, no quoting;
 *   <li>the original STS Benchmark files ({@code sts-test.csv}): no header, tab-separated {@code
 *       genre, file, year, id, score, sentence1, sentence2}, extra trailing columns ignored.
 * </ul>
 *
 * <p>Immutable and thread-safe: the pairs are copied into an unmodifiable list; no file stays open.
 *
 * @param name a label for reports (the file name)
 * @param pairs the pairs, in file order; immutable
 */
public record StsDataset(String name, List<Pair> pairs) {

  /**
   * One pair. Immutable and thread-safe.
   *
   * @param sentence1 the first sentence
   * @param sentence2 the second sentence
   * @param score the gold similarity
   */
  public record Pair(String sentence1, String sentence2, double score) {
    /** Validates the fields. */
    public Pair {
      Objects.requireNonNull(sentence1, "sentence1 is null");
      Objects.requireNonNull(sentence2, "sentence2 is null");
      if (!Double.isFinite(score)) {
        throw new IllegalArgumentException("score must be finite, was " + score);
      }
    }
  }

  /**
   * Validates and copies.
   *
   * @throws IllegalArgumentException if there are fewer than 2 pairs
   */
  public StsDataset {
    Objects.requireNonNull(name, "name is null");
    pairs = List.copyOf(pairs);
    if (pairs.size() < 2) {
      throw new IllegalArgumentException(name + ": need at least 2 pairs, got " + pairs.size());
    }
  }

  /**
   * Reads a pairs TSV or an STS Benchmark CSV (see the class comment).
   *
   * @throws InvalidDataException if a line is malformed (the message names file and line), the
   *     file holds fewer than 2 pairs, or every pair has the same gold score (no correlation with
   *     them is defined; the message names {@code file} as given)
   * @throws IOException if the file cannot be read
   */
  public static StsDataset read(Path file) throws IOException {
    Objects.requireNonNull(file, "file is null");
    List<Pair> pairs = new ArrayList<>();
    try (LineReader in = LineReader.open(file)) {
      String line = in.readLine();
      if (line == null) {
        throw new InvalidDataException(file.toString(), 0, "empty file");
      }
      List<String> header = Arrays.asList(line.split("\t", -1));
      if (header.contains("sentence1") && header.contains("sentence2") && header.contains("score")) {
        int s1 = header.indexOf("sentence1");
        int s2 = header.indexOf("sentence2");
        int sc = header.indexOf("score");
        while ((line = in.readLine()) != null) {
          if (line.isEmpty()) {
            continue;
          }
          String[] f = line.split("\t", -1);
          if (f.length != header.size()) {
            throw in.invalid("expected " + header.size() + " tab-separated fields as in the header, got " + f.length);
          }
          pairs.add(new Pair(f[s1], f[s2], score(f[sc], in)));
        }
      } else {
        // STS Benchmark: genre, file, year, id, score, sentence1, sentence2 [, extra...]
        do {
          if (!line.isEmpty()) {
            String[] f = line.split("\t", -1);
            if (f.length < 7) {
              throw in.invalid("expected a pairs TSV header (sentence1, sentence2, score) or STS Benchmark rows of at"
                  + " least 7 tab-separated fields (genre, file, year, id, score, sentence1, sentence2), got " + f.length
                  + " fields");
            }
            pairs.add(new Pair(f[5], f[6], score(f[4], in)));
          }
        } while ((line = in.readLine()) != null);
      }
    }
    if (pairs.size() < 2) {
      throw new InvalidDataException(file.toString(), 0, "need at least 2 pairs, got " + pairs.size());
    }
    double first = pairs.get(0).score();
    if (pairs.stream().allMatch(p -> p.score() == first)) { // named as the caller gave the file, not by label
      throw new InvalidDataException(file.toString(), 0, "all " + pairs.size() + " gold scores are " + first
          + ": a correlation with constant scores is undefined");
    }
    return new StsDataset(label(file), pairs);
  }

  /** The file name with its parent folder's name, e.g. {@code stsbenchmark/pairs.test.tsv}. */
  static String label(Path file) {
    Path abs = file.toAbsolutePath().normalize();
    Path parent = abs.getParent();
    return parent == null || parent.getFileName() == null
        ? String.valueOf(abs.getFileName())
        : parent.getFileName() + "/" + abs.getFileName();
  }

  private static double score(String s, LineReader in) {
    try {
      double v = Double.parseDouble(s.strip());
      if (!Double.isFinite(v)) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw in.invalid("score is not a number: '" + s + "'");
    }
  }
}
