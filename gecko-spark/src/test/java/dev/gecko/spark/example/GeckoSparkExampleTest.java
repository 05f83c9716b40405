package dev.gecko.spark.example;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The example's command line: usage errors exit 2 with the usage line, before a Spark session starts. */
class GeckoSparkExampleTest {

  private static Process run(String... args) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new java.util.ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
        GeckoSparkExample.class.getName()));
    command.addAll(List.of(args));
    ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true);
    b.environment().remove("JAVA_TOOL_OPTIONS"); // "Picked up ..." would come first
    b.environment().remove("_JAVA_OPTIONS");
    Process p = b.start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("GeckoSparkExample " + String.join(" ", args) + " did not end in 120 s");
    }
    return p;
  }

  @Test
  void usageErrorsExitTwoWithTheUsageLine() throws Exception {
    for (String[] args : new String[][] {{}, {"frobnicate"}, {"embed", "stray"}, {"--master", "local[1]", "embed", "x"},
        {"check-embeddings", "--data", "x", "--min-cosine", "high"}, {"check-embeddings", "--min-cosine", "1.5"}}) {
      Process p = run(args);
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as(out).isEqualTo(2);
      assertThat(out).as(String.join(" ", args)).contains("usage error: ").contains("usage: GeckoSparkExample")
          .doesNotContain("Exception").doesNotContain("SparkContext");
    }
  }
}
