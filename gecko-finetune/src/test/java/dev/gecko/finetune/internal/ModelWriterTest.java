package dev.gecko.finetune.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.gecko.core.ModelManifest;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.internal.onnx.OnnxModel;
import dev.gecko.finetune.FineTuneConfig;
import dev.gecko.finetune.FineTuner;
import dev.gecko.finetune.PromptStyle;
import dev.gecko.train.adapter.TrainingData;
import dev.gecko.train.adapter.TrainingExample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The written folders: an earlier run's int8 twin never outlives a write that fails to replace it. */
class ModelWriterTest {
  @Test
  void aQuantisationThatFailsLeavesNoStaleInt8TwinBesideTheNewWeights(@TempDir Path tmp) throws Exception {
    ModelPackage base = ModelPackage.builtIn("all-MiniLM-L6-v2");
    Path out = tmp.resolve("out");
    TrainingData data = TrainingData.of(List.of(TrainingExample.scored("a cat sleeps", "a cat is asleep", 4.5),
        TrainingExample.scored("a man runs", "the sky is blue", 0.5)));
    FineTuneConfig config = FineTuner.builder().baseModel(base).data(data).output(out).quantizeInt8(true).build()
        .config();
    OnnxModel graph = TestModels.graph(base);
    BertLayout.Mapping mapping = BertLayout.read(graph, "all-MiniLM-L6-v2");
    Torch.engine();
    try (NDManager nd = NDManager.newBaseManager();
        BertEncoder encoder = BertEncoder.load(graph, mapping, nd, DataType.FLOAT32)) {
      // an earlier run's output, with its complete int8 twin
      ModelWriter.Written first = ModelWriter.write(graph, mapping, encoder, base, base, PromptStyle.MODEL, config,
          Map.of("trainer", "gecko-finetune", "run", 1), null);
      assertThat(first.int8Dir()).isEqualTo(out.resolve(ModelWriter.INT8_FOLDER));
      assertThat(ModelPackage.fromDirectory(first.int8Dir()).name()).endsWith("-int8");

      // this run's weights cannot be quantised (a NaN in one matrix): the write fails after the main folder
      String param = "encoder.layer.0.attention.self.query.weight";
      float[] w = encoder.values(param);
      w[7] = Float.NaN;
      encoder.set(param, w);
      assertThatThrownBy(() -> ModelWriter.write(graph, mapping, encoder, base, base, PromptStyle.MODEL, config,
          Map.of("trainer", "gecko-finetune", "run", 2), null))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(mapping.parameters().get(param));
      assertThat(ModelManifest.read(out.resolve(ModelManifest.FILE_NAME)).training()).containsEntry("run", 2);
      // the earlier twin is gone, not left to load beside weights it no longer matches
      assertThat(out.resolve(ModelWriter.INT8_FOLDER).resolve(ModelManifest.FILE_NAME)).doesNotExist();
      assertThat(out.resolve(ModelWriter.INT8_FOLDER)).doesNotExist();
      try (java.util.stream.Stream<Path> files = Files.list(out)) {
        assertThat(files.map(p -> p.getFileName().toString()))
            .containsExactlyInAnyOrder("model.onnx", "tokenizer.json", ModelManifest.FILE_NAME);
      }
    }
  }
}
