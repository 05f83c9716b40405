package dev.gecko.bench.quality;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Measures how far int8 vectors are from the reference vectors in {@code ../shared/golden}, and
 * how much a vector depends on its batch (cosine of the batched vector against the same text run
 * alone). Prints a Markdown table to standard output.
 *
 * <p>Run: {@code java -cp ... dev.gecko.bench.quality.Int8Agreement [sharedDir]}.
 */
public final class Int8Agreement {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Int8Agreement() {}

  /** Entry point; the optional argument is the shared folder (default {@code ../shared}). */
  public static void main(String[] args) throws IOException {
    Path shared = Path.of(args.length > 0 ? args[0] : "../shared");
    String[][] cases = {
      {"bge-small-en-v1.5-int8", "bge-small-en-v1.5.q8.max512", "512"},
      {"all-MiniLM-L6-v2-int8", "all-MiniLM-L6-v2.q8.max128", "128"},
      {"bge-small-en-v1.5", "bge-small-en-v1.5.fp32.max512", "512"},
      {"all-MiniLM-L6-v2", "all-MiniLM-L6-v2.fp32.max256", "256"},
    };
    System.out.println("| model | set | vs reference, alone: min / mean | vs reference, batched: min / mean "
        + "| batched vs alone: min / mean |");
    System.out.println("|---|---|---|---|---|");
    for (String[] c : cases) {
      for (String set : new String[] {"short", "passages"}) {
        List<String> texts = new ArrayList<>();
        List<float[]> reference = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(shared.resolve("golden/" + c[1] + "." + set + ".jsonl"))) {
          String line;
          while ((line = r.readLine()) != null) {
            JsonNode n = JSON.readTree(line);
            texts.add(n.get("text").asText());
            float[] e = new float[n.get("embedding").size()];
            for (int i = 0; i < e.length; i++) {
              e[i] = (float) n.get("embedding").get(i).asDouble();
            }
            reference.add(e);
          }
        }
        ModelPackage pkg = ModelPackage.builtIn(c[0]).toBuilder().maxTokens(Integer.parseInt(c[2])).build();
        List<float[]> alone;
        List<float[]> batched;
        try (GeckoEmbedder e = GeckoEmbedder.builder().model(pkg).batchIndependent(true).build()) {
          alone = e.embedAll(texts, 384);
        }
        try (GeckoEmbedder e = GeckoEmbedder.builder().model(pkg).build()) {
          batched = e.embedAll(texts, 384);
        }
        System.out.printf("| %s (max %s) | %s (%d) | %s | %s | %s |%n", c[0], c[2], set, texts.size(),
            stats(alone, reference), stats(batched, reference), stats(batched, alone));
      }
    }
  }

  private static String stats(List<float[]> a, List<float[]> b) {
    double min = 1;
    double sum = 0;
    for (int i = 0; i < a.size(); i++) {
      double c = cosine(a.get(i), b.get(i));
      min = Math.min(min, c);
      sum += c;
    }
    return String.format("%.5f / %.5f", min, sum / a.size());
  }

  private static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
