package dev.gecko.finetune.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.internal.onnx.OnnxModel;
import dev.gecko.core.vector.VectorOps;
import dev.gecko.tokenizer.GeckoTokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The trainable model, before training, gives ONNX Runtime's vectors for the same package. */
class ParityTest {
  @ParameterizedTest
  @ValueSource(strings = {"bge-small-en-v1.5", "all-MiniLM-L6-v2"})
  void trainableModelEqualsOnnxRuntime(String name) {
    ModelPackage pkg = ModelPackage.builtIn(name);
    OnnxModel graph = TestModels.graph(pkg);
    BertLayout.Mapping mapping = BertLayout.read(graph, name);
    assertThat(mapping.config().layerNormEps()).isEqualTo(1e-12f);
    List<String> texts = new ArrayList<>(TestModels.golden("short.jsonl", 48));
    texts.addAll(TestModels.golden("passages.jsonl", 8));
    Torch.engine();
    try (NDManager m = NDManager.newBaseManager();
        BertEncoder enc = BertEncoder.load(graph, mapping, m, DataType.FLOAT32);
        GeckoTokenizer tok = TestModels.tokenizer(pkg);
        GeckoEmbedder ort = GeckoEmbedder.builder().model(pkg).build()) {
      TorchEmbedder torch = new TorchEmbedder(pkg, tok, enc, m, 4096);
      List<float[]> expected = ort.embedAll(texts, 384);
      List<float[]> actual = torch.embedAll(texts, 384);
      double worst = 1;
      for (int i = 0; i < texts.size(); i++) {
        worst = Math.min(worst, VectorOps.dot(expected.get(i), actual.get(i)));
      }
      assertThat(worst).as("lowest cosine, " + name).isGreaterThanOrEqualTo(0.9999);
    }
  }
}
