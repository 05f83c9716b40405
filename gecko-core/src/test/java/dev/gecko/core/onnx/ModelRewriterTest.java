package dev.gecko.core.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/** What caches of rewritten graphs key on. */
class ModelRewriterTest {
  @Test
  void theCodeFingerprintCoversEveryClassOfThePackage() throws Exception {
    Path dir = Path.of(ModelRewriter.class.getProtectionDomain().getCodeSource().getLocation().toURI())
        .resolve("dev/gecko/core/onnx");
    // the same CRC-32 computed here over the class files found on disk, in name order
    CRC32 crc = new CRC32();
    try (var files = Files.list(dir)) {
      Path[] classes = files.filter(p -> p.toString().endsWith(".class")).sorted().toArray(Path[]::new);
      assertThat(Arrays.stream(classes).map(p -> p.getFileName().toString()))
          .contains("ModelRewriter.class", "SkipLayerNormFusion.class", "ClsTokenPruning.class", "GraphRewrite.class");
      for (Path p : classes) {
        crc.update(p.getFileName().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        crc.update(Files.readAllBytes(p));
      }
    }
    assertThat(ModelRewriter.codeFingerprint()).contains(String.format("%08x", crc.getValue()));
  }
}
