package dev.gecko.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plain start (an application with gecko-core and no SLF4J binding, in a fresh JVM) prints no
 * warning the user cannot act on: not SLF4J's "no providers" lines, not DJL's "Failed to detect
 * GPU count" (seen on machines with a CUDA runtime and no GPU, this one included), because neither
 * SLF4J nor DJL's platform detection is ever started. The only line allowed on standard error is
 * the Vector API advice, which names its remedy. The JVM runs with {@code
 * --enable-native-access=ALL-UNNAMED}, as README advises: on JDK 24+ the JDK itself warns, with its
 * remedy, when ONNX Runtime and DJL load their native libraries through JNI without it (accepted
 * and silent on 17).
 */
class PlainStartTest {
  @TempDir Path dir;

  private record Run(String out, String err, String classes) {}

  private Run start(Path djlCache) throws Exception {
    String cp = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(p -> !p.contains("slf4j-jdk14")) // the test JVM's SLF4J binding: an application may have none
        .collect(Collectors.joining(File.pathSeparator));
    Path classes = Files.createTempFile(dir, "classes", ".log");
    Path err = Files.createTempFile(dir, "err", ".txt");
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xlog:class+load=info:file=" + classes, "--enable-native-access=ALL-UNNAMED", "-DDJL_CACHE_DIR=" + djlCache,
        "-Dgecko.cache.dir=" + System.getProperty("gecko.cache.dir", dir.resolve("cache").toString()),
        "-cp", cp, PlainStartProbe.class.getName());
    pb.environment().put("ORT_DISABLE_TELEMETRY", "1");
    pb.environment().remove("ENGINE_CACHE_DIR");
    pb.environment().remove("DJL_CACHE_DIR");
    pb.redirectError(err.toFile());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out + Files.readString(err)).isZero();
    return new Run(out, Files.readString(err), Files.readString(classes));
  }

  @Test
  void aPlainStartPrintsOnlyWhatTheUserCanActOn() throws Exception {
    Path djl = dir.resolve("djl");
    for (int i = 0; i < 2; i++) { // the first start copies DJL's library, the second finds it
      Run r = start(djl);
      assertThat(r.out()).contains("vector 8");
      List<String> other = r.err().lines()
          .filter(l -> !l.contains("dev.gecko.core.vector.VectorizationProvider")
              && !l.startsWith("WARNING: Java vector incubator module is not readable"))
          .toList();
      assertThat(other).as("standard error of start " + (i + 1) + ":\n" + r.err()).isEmpty();
      assertThat(r.classes()).doesNotContain("org.slf4j.LoggerFactory", "ai.djl.util.cuda.CudaUtils",
          "ai.djl.util.Platform ", "ai.djl.huggingface.tokenizers.jni.LibUtils");
      assertThat(r.classes()).contains("ai.djl.huggingface.tokenizers.jni.TokenizersLibrary");
      try (var files = Files.walk(djl.resolve("tokenizers"))) {
        assertThat(files.filter(f -> f.getFileName().toString().equals(System.mapLibraryName("tokenizers"))))
            .hasSize(1);
      }
    }
  }
}
