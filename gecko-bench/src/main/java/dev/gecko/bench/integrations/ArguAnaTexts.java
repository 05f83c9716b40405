package dev.gecko.bench.integrations;

import dev.gecko.core.internal.model.PythonStrings;
import dev.gecko.core.io.Corpus;
import dev.gecko.core.io.Passage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The ArguAna corpus as MTEB embeds it ({@code (title + " " + text).strip()}), read in place. Not thread-safe; a tool. */
final class ArguAnaTexts {
  private ArguAnaTexts() {}

  static Path sharedDir() {
    return Path.of(System.getProperty("gecko.shared.dir", "../shared"));
  }

  /** The first {@code limit} passages' texts (all 8,674 when limit is 0 or more than that). */
  static List<String> read(int limit) throws IOException {
    List<Passage> corpus = Corpus.read(sharedDir().resolve("data/beir/arguana/corpus.jsonl.gz"),
        limit <= 0 ? Integer.MAX_VALUE : limit);
    List<String> out = new ArrayList<>(corpus.size());
    for (Passage p : corpus) {
      String title = p.title() == null ? "" : p.title();
      out.add(PythonStrings.strip(title + " " + p.text())); // as MTEB joins them, Python's whitespace
    }
    return out;
  }

  static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }

  static double median(double[] v) {
    double[] s = v.clone();
    java.util.Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  /** The 1, 5 and 15 minute load averages, or "?" where the system has none to read. */
  static String load() {
    try {
      String[] f = java.nio.file.Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }
}
