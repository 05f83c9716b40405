package dev.gecko.bench.peers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The benchmark's text sets, read in place from the shared data folder: {@code short} (512
 * sentences of {@code golden/short.jsonl}), {@code passages} (256 passages of {@code
 * golden/passages.jsonl}) and {@code mixed} (384 texts made deterministically from those: a third
 * whole sentences, the rest word prefixes of passages with a uniformly drawn length from 8 words
 * to the whole passage, shuffled). Every text stays under 512 tokens, so no peer truncates.
 *
 * <p>{@code main(dir)} writes the three sets as JSONL ({@code {"text": ...}} per line) for the
 * transformers.js script. Immutable; thread-safe.
 */
public final class TextSets {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Seed of the mixed set; changing it changes the published numbers. */
  static final long MIXED_SEED = 20240607L;
  static final int MIXED_SIZE = 384;

  private TextSets() {}

  /** Returns the shared folder: system property {@code gecko.shared.dir}, default {@code ../shared}. */
  public static Path sharedDir() {
    return Path.of(System.getProperty("gecko.shared.dir", "../shared"));
  }

  /** Loads all three sets in a fixed order: short, passages, mixed. */
  public static Map<String, List<String>> load(Path shared) {
    List<String> shortTexts = read(shared.resolve("golden/short.jsonl"));
    List<String> passages = read(shared.resolve("golden/passages.jsonl"));
    Map<String, List<String>> sets = new LinkedHashMap<>();
    sets.put("short", shortTexts);
    sets.put("passages", passages);
    sets.put("mixed", mixed(shortTexts, passages));
    return sets;
  }

  static List<String> read(Path file) {
    List<String> out = new ArrayList<>();
    try {
      int line = 0;
      for (String s : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        line++;
        if (s.isBlank()) {
          continue;
        }
        JsonNode node = JSON.readTree(s);
        JsonNode text = node.get("text");
        if (text == null || !text.isTextual()) {
          throw new IllegalArgumentException(file + ":" + line + ": no string field \"text\"");
        }
        out.add(text.asText());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + " (set -Dgecko.shared.dir)", e);
    }
    return out;
  }

  static List<String> mixed(List<String> shortTexts, List<String> passages) {
    SplittableRandom random = new SplittableRandom(MIXED_SEED);
    List<String> out = new ArrayList<>(MIXED_SIZE);
    for (int i = 0; i < MIXED_SIZE; i++) {
      if (i % 3 == 0) {
        out.add(shortTexts.get(random.nextInt(shortTexts.size())));
      } else {
        String[] words = passages.get(random.nextInt(passages.size())).split(" ");
        int n = 8 + random.nextInt(Math.max(1, words.length - 7));
        out.add(String.join(" ", java.util.Arrays.copyOf(words, Math.min(n, words.length))));
      }
    }
    for (int i = out.size() - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      String t = out.get(i);
      out.set(i, out.get(j));
      out.set(j, t);
    }
    return out;
  }

  /**
   * Writes {@code short.jsonl}, {@code passages.jsonl} and {@code mixed.jsonl} to the folder
   * given as the first argument.
   */
  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: TextSets OUT_DIR   (reads -Dgecko.shared.dir, default ../shared)");
      System.exit(2);
    }
    Path dir = Path.of(args[0]);
    Files.createDirectories(dir);
    for (Map.Entry<String, List<String>> e : load(sharedDir()).entrySet()) {
      try (BufferedWriter w = Files.newBufferedWriter(dir.resolve(e.getKey() + ".jsonl"), StandardCharsets.UTF_8)) {
        for (String t : e.getValue()) {
          w.write(JSON.writeValueAsString(Map.of("text", t)));
          w.write('\n');
        }
      }
    }
  }
}
