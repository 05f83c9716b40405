package dev.gecko.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Inputs for the benchmarks: golden texts read in place from the shared folder, random vectors. */
public final class BenchData {
  private static final ObjectMapper JSON = new ObjectMapper();

  private BenchData() {}

  /**
   * The shared data folder: system property {@code gecko.shared.dir}, else {@code ../shared} or
   * {@code ../../shared} from the working directory, whichever holds {@code golden/}.
   *
   * @throws IllegalStateException if none does
   */
  public static Path sharedDir() {
    String prop = System.getProperty("gecko.shared.dir");
    List<Path> candidates = prop != null ? List.of(Paths.get(prop)) : List.of(Paths.get("../shared"),
        Paths.get("../../shared"), Paths.get("shared"));
    for (Path p : candidates) {
      if (Files.isDirectory(p.resolve("golden"))) {
        return p;
      }
    }
    throw new IllegalStateException("no shared data folder with golden/ at " + candidates
        + "; pass -Dgecko.shared.dir=/path/to/shared");
  }

  /**
   * Reads the {@code "text"} of every line of {@code golden/<name>}.
   *
   * @throws UncheckedIOException if the file cannot be read
   * @throws IllegalArgumentException naming the line if one has no text
   */
  public static List<String> goldenTexts(String name) {
    Path file = sharedDir().resolve("golden").resolve(name);
    List<String> texts = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int lineNo = 0;
      while ((line = r.readLine()) != null) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode text = JSON.readTree(line).get("text");
        if (text == null || !text.isTextual()) {
          throw new IllegalArgumentException(file + ":" + lineNo + ": field \"text\" must be a string");
        }
        texts.add(text.asText());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    return texts;
  }

  /** Returns {@code n} floats uniform in [-1, 1). */
  public static float[] randomFloats(Random r, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextFloat() * 2f - 1f;
    }
    return v;
  }

  /** Returns a random unit vector (Gaussian components, normalised in double precision). */
  public static float[] randomUnit(Random r, int dims) {
    float[] v = new float[dims];
    double sq = 0;
    for (int i = 0; i < dims; i++) {
      double g = r.nextGaussian();
      v[i] = (float) g;
      sq += g * g;
    }
    float inv = (float) (1 / Math.sqrt(sq));
    for (int i = 0; i < dims; i++) {
      v[i] *= inv;
    }
    return v;
  }
}
