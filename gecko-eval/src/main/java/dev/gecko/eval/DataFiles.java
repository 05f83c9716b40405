package dev.gecko.eval;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finding data files that may be gzipped, as BEIR ships them. */
final class DataFiles {
  private DataFiles() {}

  /** Returns {@code base} or {@code base.gz}, whichever exists, or null if neither. */
  static Path plainOrGz(Path dir, String base) {
    Path plain = dir.resolve(base);
    if (Files.isRegularFile(plain)) {
      return plain;
    }
    Path gz = dir.resolve(base + ".gz");
    return Files.isRegularFile(gz) ? gz : null;
  }
}
