package dev.gecko.bench.integrations;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.langchain4j.GeckoEmbeddingModel;
import dev.langchain4j.data.document.Document;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15q.BgeSmallEnV15QuantizedEmbeddingModel;
import dev.langchain4j.store.embedding.EmbeddingStoreIngestor;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The ArguAna corpus ingested through LangChain4j's {@code EmbeddingStoreIngestor} into an {@code
 * InMemoryEmbeddingStore}, with bge-small-en-v1.5 int8: Gecko's {@link GeckoEmbeddingModel} against
 * LangChain4j's own {@code BgeSmallEnV15QuantizedEmbeddingModel} (the same ONNX file: Gecko's jar is
 * made from LangChain4j's), same JVM, runs interleaved (G,L then L,G, ...) after a warm-up of both.
 *
 * <p>Prints per-run wall times, the medians, tokens/s and their ratio, and how far the two agree:
 * the cosine of each passage's two vectors (min, mean, share at or above 0.99), separately for the
 * passages within the model's 512 tokens and those beyond (Gecko truncates them, as
 * sentence-transformers does; LangChain4j embeds 510-token pieces and averages them). Tokens count
 * what the model runs: special tokens included, at most 512 per passage, the same number for both.
 *
 * <p>System properties: {@code gecko.shared.dir} (default {@code ../shared}), {@code limit}
 * (passages, default all 8,674), {@code repeats} (default 3), {@code warmup} (passages, default
 * 256), {@code batchIndependent} (default false; true adds a third peer, Gecko with {@code
 * GeckoEmbedder.Builder.batchIndependent(true)}: every passage run alone, as LangChain4j runs it,
 * so that an int8 graph's per-batch activation scales match LangChain4j's). Not thread-safe; a
 * tool, not library API.
 */
public final class LangChain4jIngestBenchmark {
  private LangChain4jIngestBenchmark() {}

  /** An in-memory store that also keeps each added segment's vector, by text. */
  static final class CapturingStore extends InMemoryEmbeddingStore<TextSegment> {
    final Map<String, float[]> byText = new HashMap<>();

    @Override
    public void addAll(List<String> ids, List<Embedding> embeddings, List<TextSegment> embedded) {
      super.addAll(ids, embeddings, embedded);
      for (int i = 0; i < embeddings.size(); i++) {
        byText.put(embedded.get(i).text(), embeddings.get(i).vector());
      }
    }
  }

  static double ingest(EmbeddingModel model, List<Document> documents, CapturingStore store) {
    long t0 = System.nanoTime();
    EmbeddingStoreIngestor.builder().embeddingModel(model).embeddingStore(store).build().ingest(documents);
    return (System.nanoTime() - t0) / 1e9;
  }

  public static void main(String[] args) throws Exception {
    int limit = Integer.getInteger("limit", 0);
    int repeats = Integer.getInteger("repeats", 3);
    int warmup = Integer.getInteger("warmup", 256);
    boolean alone = Boolean.getBoolean("batchIndependent");
    List<String> texts = ArguAnaTexts.read(limit);
    List<Document> documents = texts.stream().map(Document::from).toList();
    System.out.printf("# LangChain4jIngestBenchmark: %d ArguAna passages, repeats %d, %d processors, Java %s, load %s%n",
        texts.size(), repeats, Runtime.getRuntime().availableProcessors(), Runtime.version(), ArguAnaTexts.load());

    try (GeckoEmbeddingModel gecko = GeckoEmbeddingModel.builder().model("bge-small-en-v1.5-int8").build();
        GeckoEmbedder aloneEmbedder = alone
            ? GeckoEmbedder.builder().model("bge-small-en-v1.5-int8").batchIndependent(true).build() : null) {
      GeckoEmbeddingModel geckoAlone = alone ? GeckoEmbeddingModel.builder().embedder(aloneEmbedder).build() : null;
      EmbeddingModel lc4j = new BgeSmallEnV15QuantizedEmbeddingModel();
      GeckoEmbedder embedder = gecko.embedder();
      long tokens = 0;
      long untruncated = 0;
      boolean[] isLong = new boolean[texts.size()];
      for (int i = 0; i < texts.size(); i++) {
        int n = embedder.countTokens(EmbedRequest.document(texts.get(i)));
        untruncated += n;
        tokens += Math.min(n, embedder.model().maxTokens());
        isLong[i] = n > embedder.model().maxTokens();
      }
      long longCount = 0;
      for (boolean b : isLong) {
        longCount += b ? 1 : 0;
      }
      System.out.printf("# tokens: %d run by the model (<= 512 per passage), %d before truncation; %d passages"
          + " longer than 512 tokens%n", tokens, untruncated, longCount);

      List<Document> warm = documents.subList(0, Math.min(warmup, documents.size()));
      ingest(gecko, warm, new CapturingStore());
      ingest(lc4j, warm, new CapturingStore());
      if (alone) {
        ingest(geckoAlone, warm, new CapturingStore());
      }

      double[] tg = new double[repeats];
      double[] tl = new double[repeats];
      double[] ta = new double[repeats];
      CapturingStore gStore = null;
      CapturingStore lStore = null;
      CapturingStore aStore = null;
      for (int r = 0; r < repeats; r++) {
        String before = ArguAnaTexts.load();
        CapturingStore gs = new CapturingStore();
        CapturingStore ls = new CapturingStore();
        if (r % 2 == 0) {
          tg[r] = ingest(gecko, documents, gs);
          tl[r] = ingest(lc4j, documents, ls);
        } else {
          tl[r] = ingest(lc4j, documents, ls);
          tg[r] = ingest(gecko, documents, gs);
        }
        gStore = gs;
        lStore = ls;
        if (alone) { // last in every round: the two-peer comparison runs as without it
          CapturingStore as = new CapturingStore();
          ta[r] = ingest(geckoAlone, documents, as);
          aStore = as;
          System.out.printf("# run %d: gecko batchIndependent %.1f s (%.0f tokens/s), %.2fx langchain4j%n", r + 1, ta[r],
              tokens / ta[r], tl[r] / ta[r]);
        }
        System.out.printf("# run %d: gecko %.1f s (%.0f tokens/s), langchain4j %.1f s (%.0f tokens/s), ratio %.2fx;"
            + " load %s -> %s%n", r + 1, tg[r], tokens / tg[r], tl[r], tokens / tl[r], tl[r] / tg[r], before,
            ArguAnaTexts.load());
      }

      double mg = ArguAnaTexts.median(tg);
      double ml = ArguAnaTexts.median(tl);
      double[] cos = cosines(texts, gStore, lStore);
      System.out.println();
      System.out.println("| peer | median s | tokens/s | passages/s |");
      System.out.println("|---|---:|---:|---:|");
      System.out.printf("| Gecko (GeckoEmbeddingModel) | %.1f | %.0f | %.1f |%n", mg, tokens / mg, texts.size() / mg);
      System.out.printf("| LangChain4j (BgeSmallEnV15QuantizedEmbeddingModel) | %.1f | %.0f | %.1f |%n", ml, tokens / ml,
          texts.size() / ml);
      double ma = alone ? ArguAnaTexts.median(ta) : Double.NaN;
      if (alone) {
        System.out.printf("| Gecko, batchIndependent(true) | %.1f | %.0f | %.1f |%n", ma, tokens / ma, texts.size() / ma);
      }
      System.out.printf("%nGecko / LangChain4j tokens/s: %.2fx (medians of %d interleaved runs; per run: %s)%n", ml / mg,
          repeats, Arrays.toString(ratios(tl, tg)));
      agreement("passages within 512 tokens", cos, isLong, false);
      agreement("passages beyond 512 tokens", cos, isLong, true);
      if (alone) {
        System.out.printf("%nGecko batchIndependent / LangChain4j tokens/s: %.2fx (per run: %s)%n", ml / ma,
            Arrays.toString(ratios(tl, ta)));
        double[] cosAlone = cosines(texts, aStore, lStore);
        System.out.print("batchIndependent: ");
        agreement("passages within 512 tokens", cosAlone, isLong, false);
        System.out.print("batchIndependent: ");
        agreement("passages beyond 512 tokens", cosAlone, isLong, true);
      }
    }
  }

  /** Each text's cosine between the vectors two stores hold for it. */
  static double[] cosines(List<String> texts, CapturingStore a, CapturingStore b) {
    double[] cos = new double[texts.size()];
    for (int i = 0; i < cos.length; i++) {
      cos[i] = ArguAnaTexts.cosine(a.byText.get(texts.get(i)), b.byText.get(texts.get(i)));
    }
    return cos;
  }

    static String[] ratios(double[] num, double[] den) {
    String[] out = new String[num.length];
    for (int i = 0; i < num.length; i++) {
      out[i] = String.format("%.2fx", num[i] / den[i]);
    }
    return out;
  }

  static void agreement(String label, double[] cos, boolean[] isLong, boolean wantLong) {
    List<Double> c = new ArrayList<>();
    for (int i = 0; i < cos.length; i++) {
      if (isLong[i] == wantLong) {
        c.add(cos[i]);
      }
    }
    if (c.isEmpty()) {
      System.out.printf("cosine Gecko vs LangChain4j, %s: none%n", label);
      return;
    }
    double min = c.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    double mean = c.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    long ok = c.stream().filter(x -> x >= 0.99).count();
    System.out.printf("cosine Gecko vs LangChain4j, %s (%d): min %.4f, mean %.4f, %d (%.1f%%) at or above 0.99%n",
        label, c.size(), min, mean, ok, 100.0 * ok / c.size());
  }
}
