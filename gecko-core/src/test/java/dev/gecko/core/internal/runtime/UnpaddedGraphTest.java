package dev.gecko.core.internal.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Batches without padding run on the graph without the attention mask, and give the masked graph's vectors. */
class UnpaddedGraphTest {
  private static EmbedderSettings settings(boolean unpadded) {
    return new EmbedderSettings(1, 1, 512, 64, false, false, true, true, unpadded, Duration.ZERO, 1 << 20, true);
  }

  @ParameterizedTest
  @ValueSource(strings = {"bge-small-en-v1.5", "bge-small-en-v1.5-int8", "all-MiniLM-L6-v2"})
  void everyShippedModelGetsOneAndItsVectorsAreTheMaskedGraphs(String name) throws Exception {
    try (InferenceSession s = SessionLoader.open(OrtEnvironment.getEnvironment(), ModelPackage.builtIn(name),
        settings(true))) {
      assertThat(s.hasUnpaddedGraph()).isTrue();
    }
    try (InferenceSession s = SessionLoader.open(OrtEnvironment.getEnvironment(), ModelPackage.builtIn(name),
        settings(false))) {
      assertThat(s.hasUnpaddedGraph()).isFalse();
    }
    // alone (no padding), two of one length (none), and a batch with padding (the masked graph)
    List<String> texts = List.of("A man is playing a guitar.", "A woman is slicing an onion.",
        "The stock market fell sharply on Monday morning after the report.", "Three dogs run.");
    try (GeckoEmbedder with = GeckoEmbedder.builder().model(name).threads(1).unpaddedGraph(true).build();
        GeckoEmbedder without = GeckoEmbedder.builder().model(name).threads(1).build()) {
      for (String t : texts) {
        assertThat(with.embed(t)).as(t).isEqualTo(without.embed(t));
      }
      assertThat(with.embedAll(texts, 384)).containsExactlyElementsOf(without.embedAll(texts, 384));
      List<String> sameLength = List.of("a cat sat", "a dog ran", "a cow ate"); // five tokens each
      assertThat(with.embedAll(sameLength, 384)).containsExactlyElementsOf(without.embedAll(sameLength, 384));
    }
  }
}
