package dev.gecko.core.internal.runtime;

import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.tokenizer.Encoding;
import dev.gecko.tokenizer.GeckoTokenizer;
import java.util.function.Function;

/** What the Coalescer's tests build their cases from. */
final class CoalescerFixtures {
  private CoalescerFixtures() {}

  /** The settings {@code GeckoEmbedder.builder().threads(threads)} opens an embedder with. */
  static EmbedderSettings builderDefaults(int threads) {
    return builderDefaults(threads, GeckoEmbedder.Builder.DEFAULT_MAX_BATCH_TOKENS,
        GeckoEmbedder.Builder.DEFAULT_MAX_BATCH_SIZE);
  }

  /**
   * As {@link #builderDefaults(int)}, with a batch budget of {@code maxBatchTokens} tokens and
   * {@code maxBatchSize} texts.
   */
  static EmbedderSettings builderDefaults(int threads, int maxBatchTokens, int maxBatchSize) {
    return new EmbedderSettings(threads, 1, maxBatchTokens, maxBatchSize, false, false, true, true,
        GeckoEmbedder.Builder.DEFAULT_COALESCING_WINDOW, GeckoEmbedder.Builder.DEFAULT_MAX_QUEUED_TOKENS, true);
  }

  /** The tokenizer of {@code pkg}, allowed {@code maxLength} tokens; the caller closes it. */
  static GeckoTokenizer tokenizer(ModelPackage pkg, int maxLength) throws java.io.IOException {
    try (java.io.InputStream in = pkg.tokenizer().open()) {
      return GeckoTokenizer.builder().tokenizerJson(in, pkg.tokenizer().toString()).maxLength(maxLength).build();
    }
  }

  /**
   * A text of {@code word} repeated whose encoding ({@code encode}: as the embedder queues it) is
   * exactly {@code tokens} tokens long.
   */
  static String textOfTokens(Function<String, Encoding> encode, String word, int tokens) {
    for (int n = Math.max(1, tokens - 8); n <= tokens; n++) {
      String t = (word + " ").repeat(n).trim();
      if (encode.apply(t).length() == tokens) {
        return t;
      }
    }
    throw new AssertionError("no repetition of '" + word + "' is " + tokens + " tokens long");
  }
}
