package dev.gecko.core;

import dev.gecko.core.internal.cache.ResourceCache;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A built-in model opened three ways: with an empty cache (rewrites the graph and keeps it), with
 * the kept graph (loads it by path), and with the kept graph damaged (not used; rewritten again).
 * All three must give the same vectors.
 */
class RewrittenGraphCacheTest {
  private static final List<String> TEXTS = List.of(
      "The quick brown fox jumps over the lazy dog.",
      "Matryoshka embeddings keep their meaning when truncated.",
      "short");

  @TempDir Path cacheDir;
  private String saved;

  @BeforeEach
  void pointTheCacheHere() {
    saved = System.getProperty(ResourceCache.DIR_PROPERTY);
    System.setProperty(ResourceCache.DIR_PROPERTY, cacheDir.toString());
  }

  @AfterEach
  void restore() {
    if (saved == null) {
      System.clearProperty(ResourceCache.DIR_PROPERTY);
    } else {
      System.setProperty(ResourceCache.DIR_PROPERTY, saved);
    }
  }

  @Test
  void theKeptGraphGivesTheSameVectors() throws IOException {
    List<float[]> fresh = embed();
    List<Path> kept = keptGraphs();
    assertThat(kept).singleElement().satisfies(p ->
        assertThat(p.getFileName().toString()).startsWith("bge-small-en-v1.5-q.fused-first.v").endsWith(".onnx"));
    var written = Files.getLastModifiedTime(kept.get(0));

    List<float[]> cached = embed();
    assertThat(keptGraphs()).isEqualTo(kept);
    assertThat(Files.getLastModifiedTime(kept.get(0))).isEqualTo(written); // read, not written again
    assertThat(cached).usingRecursiveComparison().isEqualTo(fresh);

    byte[] damaged = Files.readAllBytes(kept.get(0));
    damaged[damaged.length / 2] ^= 0x10;
    Files.write(kept.get(0), damaged);
    List<float[]> again = embed();
    assertThat(again).usingRecursiveComparison().isEqualTo(fresh);
    assertThat(keptGraphs()).hasSize(1);
    assertThat(Files.readAllBytes(kept.get(0))).isNotEqualTo(damaged); // replaced by a sound one
  }

  private static List<float[]> embed() {
    try (GeckoEmbedder e = GeckoEmbedder.builder().model("bge-small-en-v1.5-int8").threads(1).build()) {
      return e.embedAll(TEXTS, 384);
    }
  }

  private List<Path> keptGraphs() throws IOException {
    try (Stream<Path> files = Files.walk(cacheDir)) {
      return files.filter(p -> p.getFileName().toString().contains(".fused")).sorted().collect(Collectors.toList());
    }
  }
}
