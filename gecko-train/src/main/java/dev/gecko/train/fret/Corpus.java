package dev.gecko.train.fret;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads corpora for FRet: the JSON Lines layout and id rule of {@link dev.gecko.core.io.Corpus},
 * which every command shares. Stateless.
 */
public final class Corpus {
  private Corpus() {}

  /**
   * Reads a corpus file ({@code .jsonl}, or gzip-compressed) by the rule of {@link
   * dev.gecko.core.io.Corpus}.
   *
   * @param limit the most passages to read, or {@code Integer.MAX_VALUE}
   * @throws IOException if the file cannot be read
   * @throws dev.gecko.core.InvalidDataException if a line is not valid (the message names the file,
   *     line and field) or an id repeats
   */
  public static List<Passage> readJsonl(Path file, int limit) throws IOException {
    return dev.gecko.core.io.Corpus.read(file, limit).stream()
        .map(p -> new Passage(p.id(), p.title(), p.text()))
        .toList();
  }
}
