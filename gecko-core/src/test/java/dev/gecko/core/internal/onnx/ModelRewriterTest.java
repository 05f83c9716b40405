package dev.gecko.core.internal.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What caches of rewritten graphs key on: a fingerprint of the rewriting code that changes when
 * any class of the package changes, appears or goes, and only then.
 */
class ModelRewriterTest {
  @TempDir Path copy;

  @Test
  void theCodeFingerprintChangesWithEveryClassOfThePackage() throws Exception {
    Path classes = Path.of(ModelRewriter.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    String pkg = ModelRewriter.class.getPackageName().replace('.', '/');
    Path dir = Files.createDirectories(copy.resolve(pkg));
    try (Stream<Path> files = Files.list(classes.resolve(pkg))) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.copy(f, dir.resolve(f.getFileName()));
      }
    }
    String original = ModelRewriter.fingerprintOf(copy).orElseThrow();
    assertThat(ModelRewriter.codeFingerprint()).contains(original);
    assertThat(ModelRewriter.fingerprintOf(copy)).contains(original); // stable

    for (String name : new String[] {"GraphRewrite.class", "ClsTokenPruning.class", "PositionTable.class"}) {
      byte[] bytes = Files.readAllBytes(dir.resolve(name));
      byte[] changed = bytes.clone();
      changed[changed.length / 2] ^= 1;
      Files.write(dir.resolve(name), changed);
      assertThat(ModelRewriter.fingerprintOf(copy).orElseThrow()).as("one bit of %s", name).isNotEqualTo(original);
      Files.write(dir.resolve(name), bytes);
    }
    Files.write(dir.resolve("Added.class"), new byte[] {1});
    assertThat(ModelRewriter.fingerprintOf(copy).orElseThrow()).as("a class added").isNotEqualTo(original);
    Files.delete(dir.resolve("Added.class"));
    Files.move(dir.resolve("Protobuf.class"), copy.resolve("Protobuf.class"));
    assertThat(ModelRewriter.fingerprintOf(copy).orElseThrow()).as("a class removed").isNotEqualTo(original);
    Files.move(copy.resolve("Protobuf.class"), dir.resolve("Protobuf.class"));
    assertThat(ModelRewriter.fingerprintOf(copy)).contains(original);
    Files.delete(dir.resolve("ModelRewriter.class"));
    assertThat(ModelRewriter.fingerprintOf(copy)).as("not the rewriting code").isEmpty();
  }
}
