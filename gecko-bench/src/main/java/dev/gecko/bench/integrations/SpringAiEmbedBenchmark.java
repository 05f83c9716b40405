package dev.gecko.bench.integrations;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.vector.VectorOps;
import dev.gecko.springai.GeckoEmbeddingModel;
import dev.gecko.springai.GeckoEmbeddingOptions;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.springframework.ai.document.Document;
import org.springframework.ai.embedding.BatchingStrategy;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.embedding.EmbeddingOptions;
import org.springframework.ai.embedding.TokenCountBatchingStrategy;
import org.springframework.ai.transformers.TransformersEmbeddingModel;

/**
 * The ArguAna corpus through Spring AI's {@code EmbeddingModel.embed(List<Document>, options,
 * batchingStrategy)} with all-MiniLM-L6-v2 (fp32), asking for {@code dims} dimensions: Gecko's
 * {@link GeckoEmbeddingModel} against Spring AI's {@code TransformersEmbeddingModel} loading the
 * same ONNX file and tokenizer.json (Gecko's gecko-model-all-minilm-l6-v2 jar, by classpath URL),
 * told to pad to the longest text of a batch and truncate at 256 tokens as the model is used
 * (sentence-transformers' max_seq_length; the tokenizer.json itself says 128, padded), with Spring
 * AI's default {@code TokenCountBatchingStrategy}; same JVM, runs interleaved after a warm-up.
 *
 * <p>Prints the wall times, tokens/s (tokens the model runs: at most 256 per passage, the same
 * number for both) and their ratio; checks that Gecko's vectors are {@code dims} wide and unit
 * length and Spring AI's are not; and how far they agree: the cosine of Gecko's vector with Spring
 * AI's cut to {@code dims} (min, mean, share at or above 0.99).
 *
 * <p>System properties: {@code gecko.shared.dir}, {@code limit} (default all 8,674), {@code
 * repeats} (default 3), {@code warmup} (default 256), {@code dims} (default 256). Spring AI's model
 * pools with DJL on the PyTorch engine, whose native library comes from the pytorch-native-cpu jar
 * (run with {@code -Dai.djl.offline=true}). Not thread-safe; a tool, not library API.
 */
public final class SpringAiEmbedBenchmark {
  private SpringAiEmbedBenchmark() {}

  static EmbeddingOptions dims(int d) {
    return GeckoEmbeddingOptions.builder().dimensions(d).build();
  }

  static double time(EmbeddingModel model, List<Document> docs, EmbeddingOptions options, BatchingStrategy batching,
      List<float[]> out) {
    long t0 = System.nanoTime();
    List<float[]> v = model.embed(docs, options, batching);
    double s = (System.nanoTime() - t0) / 1e9;
    out.clear();
    out.addAll(v);
    return s;
  }

  public static void main(String[] args) throws Exception {
    int limit = Integer.getInteger("limit", 0);
    int repeats = Integer.getInteger("repeats", 3);
    int warmup = Integer.getInteger("warmup", 256);
    int d = Integer.getInteger("dims", 256);
    List<String> texts = ArguAnaTexts.read(limit);
    List<Document> documents = texts.stream().map(Document::new).toList();
    System.out.printf("# SpringAiEmbedBenchmark: %d ArguAna passages, %d dims requested, repeats %d, %d processors,"
        + " Java %s, load %s%n", texts.size(), d, repeats, Runtime.getRuntime().availableProcessors(), Runtime.version(),
        ArguAnaTexts.load());

    TransformersEmbeddingModel spring = new TransformersEmbeddingModel();
    spring.setModelResource("classpath:gecko-models/all-minilm-l6-v2.onnx");
    spring.setTokenizerResource("classpath:gecko-models/all-minilm-l6-v2-tokenizer.json");
    spring.setTokenizerOptions(Map.of("padding", "true", "truncation", "true", "maxLength", "256",
        "modelMaxLength", "256"));
    spring.setResourceCacheDirectory(Files.createTempDirectory("spring-ai-onnx-cache").toString());
    spring.afterPropertiesSet();
    try (GeckoEmbeddingModel gecko = GeckoEmbeddingModel.builder().model("all-MiniLM-L6-v2").build()) {
      GeckoEmbedder embedder = gecko.embedder();
      long tokens = 0;
      int longCount = 0;
      for (String t : texts) {
        int n = embedder.countTokens(EmbedRequest.document(t));
        tokens += Math.min(n, embedder.model().maxTokens());
        longCount += n > embedder.model().maxTokens() ? 1 : 0;
      }
      System.out.printf("# tokens: %d run by the model (<= %d per passage); %d passages longer%n", tokens,
          embedder.model().maxTokens(), longCount);
      BatchingStrategy batching = new TokenCountBatchingStrategy();
      EmbeddingOptions options = dims(d);
      List<float[]> gv = new ArrayList<>();
      List<float[]> sv = new ArrayList<>();
      List<Document> warm = documents.subList(0, Math.min(warmup, documents.size()));
      time(gecko, warm, options, batching, gv);
      time(spring, warm, options, batching, sv);

      double[] tg = new double[repeats];
      double[] ts = new double[repeats];
      for (int r = 0; r < repeats; r++) {
        String before = ArguAnaTexts.load();
        if (r % 2 == 0) {
          tg[r] = time(gecko, documents, options, batching, gv);
          ts[r] = time(spring, documents, options, batching, sv);
        } else {
          ts[r] = time(spring, documents, options, batching, sv);
          tg[r] = time(gecko, documents, options, batching, gv);
        }
        System.out.printf("# run %d: gecko %.1f s (%.0f tokens/s), spring ai %.1f s (%.0f tokens/s), ratio %.2fx;"
            + " load %s -> %s%n", r + 1, tg[r], tokens / tg[r], ts[r], tokens / ts[r], ts[r] / tg[r], before,
            ArguAnaTexts.load());
      }
      double mg = ArguAnaTexts.median(tg);
      double ms = ArguAnaTexts.median(ts);
      System.out.println();
      System.out.println("| peer | median s | tokens/s | passages/s | vector width | unit length |");
      System.out.println("|---|---:|---:|---:|---:|---|");
      System.out.printf("| Gecko (GeckoEmbeddingModel) | %.1f | %.0f | %.1f | %d | %s |%n", mg, tokens / mg,
          texts.size() / mg, gv.get(0).length, allUnit(gv));
      System.out.printf("| Spring AI (TransformersEmbeddingModel) | %.1f | %.0f | %.1f | %d | %s |%n", ms, tokens / ms,
          texts.size() / ms, sv.get(0).length, allUnit(sv));
      System.out.printf("%nGecko / Spring AI tokens/s: %.2fx (medians of %d interleaved runs; per run: %s)%n", ms / mg,
          repeats, Arrays.toString(LangChain4jIngestBenchmark.ratios(ts, tg)));
      double min = 1;
      double sum = 0;
      int ok = 0;
      for (int i = 0; i < gv.size(); i++) {
        double c = ArguAnaTexts.cosine(gv.get(i), Arrays.copyOf(sv.get(i), gv.get(i).length));
        min = Math.min(min, c);
        sum += c;
        ok += c >= 0.99 ? 1 : 0;
      }
      System.out.printf("cosine of Gecko's %d-dim vector with Spring AI's cut to %d: min %.6f, mean %.6f, %d of %d at or"
          + " above 0.99%n", d, d, min, sum / gv.size(), ok, gv.size());
    } finally {
      spring.close();
    }
  }

  private static String allUnit(List<float[]> vectors) {
    float worst = 0;
    for (float[] v : vectors) {
      worst = Math.max(worst, Math.abs(VectorOps.norm(v) - 1f));
    }
    return worst < 1e-4 ? "yes" : String.format("no (|norm - 1| up to %.2f)", worst);
  }
}
