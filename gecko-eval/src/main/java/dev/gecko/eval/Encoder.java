package dev.gecko.eval;

import dev.gecko.core.Progress;
import dev.gecko.core.ProgressListener;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Embeds requests at full width once per distinct rendered text, through an optional cache. */
final class Encoder {
  /** Texts per call to the embedder: big enough for length-sorted batches, small for progress. */
  static final int CHUNK = 256;

  private Encoder() {}

  /**
   * Returns full-width vectors aligned with {@code requests}; equal rendered texts share one
   * array (callers must not modify them).
   */
  static List<float[]> embed(GeckoEmbedder embedder, EmbeddingCache cache, List<EmbedRequest> requests,
      String phase, ProgressListener progress) {
    Map<String, Integer> slot = new HashMap<>();
    List<String> unique = new ArrayList<>();
    List<EmbedRequest> uniqueRequests = new ArrayList<>();
    int[] index = new int[requests.size()];
    for (int i = 0; i < requests.size(); i++) {
      String rendered = embedder.model().render(requests.get(i));
      Integer s = slot.get(rendered);
      if (s == null) {
        s = unique.size();
        slot.put(rendered, s);
        unique.add(rendered);
        uniqueRequests.add(requests.get(i));
      }
      index[i] = s;
    }
    int width = embedder.dimensions();
    float[][] vectors = new float[unique.size()][];
    EmbeddingCache.Store store = cache == null ? null : cache.store(embedder.model(), width);
    List<Integer> missing = new ArrayList<>();
    for (int u = 0; u < unique.size(); u++) {
      vectors[u] = store == null ? null : store.get(unique.get(u));
      if (vectors[u] == null) {
        missing.add(u);
      }
    }
    long total = unique.size();
    long done = total - missing.size();
    progress.onProgress(Progress.of(phase, "texts", done, total));
    // Similar lengths in one call let the embedder cut tight batches.
    missing.sort(Comparator.comparingInt(u -> unique.get(u).length()));
    for (int from = 0; from < missing.size(); from += CHUNK) {
      List<Integer> chunk = missing.subList(from, Math.min(missing.size(), from + CHUNK));
      List<EmbedRequest> batch = new ArrayList<>(chunk.size());
      List<String> texts = new ArrayList<>(chunk.size());
      for (int u : chunk) {
        batch.add(uniqueRequests.get(u));
        texts.add(unique.get(u));
      }
      List<float[]> out = embedder.embedRequests(batch, width);
      for (int j = 0; j < chunk.size(); j++) {
        vectors[chunk.get(j)] = out.get(j);
      }
      if (store != null) {
        store.putAll(texts, out);
      }
      done += chunk.size();
      progress.onProgress(Progress.of(phase, "texts", done, total));
    }
    List<float[]> result = new ArrayList<>(requests.size());
    for (int i : index) {
      result.add(vectors[i]);
    }
    return result;
  }
}
