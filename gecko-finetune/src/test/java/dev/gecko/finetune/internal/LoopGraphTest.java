package dev.gecko.finetune.internal;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gecko.core.ModelLoadException;
import dev.gecko.core.ModelManifest;
import dev.gecko.core.ModelPackage;
import dev.gecko.finetune.UnsupportedModelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How {@link Loop#graph} tells a model it cannot read from a damaged file. */
class LoopGraphTest {
  /** Writes a model folder with {@code model} as its graph and all-MiniLM-L6-v2's tokenizer. */
  private static ModelPackage folder(Path dir, byte[] model) throws Exception {
    ModelPackage mini = ModelPackage.builtIn("all-MiniLM-L6-v2");
    Files.createDirectories(dir);
    Files.write(dir.resolve("model.onnx"), model);
    Files.write(dir.resolve("tokenizer.json"), mini.tokenizer().readAllBytes());
    ModelManifest.describing(mini).withName(dir.getFileName().toString()).write(dir.resolve(ModelManifest.FILE_NAME));
    return ModelPackage.fromDirectory(dir);
  }

  @Test
  void aWellFormedGraphWithExternalWeightsIsUnsupportedNotDamaged(@TempDir Path tmp) throws Exception {
    byte[] model = new TinyOnnx().input("x", false, 1, 2).externalFloats("w", new long[] {2, 2}, "weights.bin")
        .node("mm", "MatMul", List.of("x", "w"), List.of("y")).output("y").bytes();
    ModelPackage pkg = folder(tmp.resolve("external"), model);
    assertThatThrownBy(() -> Loop.graph(pkg)).isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("external data files");
  }

  @Test
  void bytesThatAreNoModelAreDamagedNotUnsupported(@TempDir Path tmp) throws Exception {
    // a message that happens to say "not supported" is still a damaged file: the kind decides, not the words
    byte[] junk = "this file is not supported by anything: not an ONNX model".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ModelPackage pkg = folder(tmp.resolve("junk"), junk);
    assertThatThrownBy(() -> Loop.graph(pkg)).isInstanceOf(ModelLoadException.class)
        .isNotInstanceOf(UnsupportedModelException.class).hasMessageContaining("not a well-formed ONNX model");
  }
}
