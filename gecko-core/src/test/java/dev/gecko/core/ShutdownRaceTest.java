package dev.gecko.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JVM exits cleanly while other threads are inside ONNX Runtime: {@link ExitRace} in 25 fresh
 * JVMs, exiting after 0 to 1,200 ms (while models open, and while they embed). Before {@link
 * OrtRuntime} pinned the environment and gated native calls, most such runs died with SIGSEGV in
 * {@code libonnxruntime.so} (exit 134 and an hs_err file).
 */
class ShutdownRaceTest {
  /**
   * 25 (about a minute on 2 cores), exiting 50 ms apart; {@code -Dgecko.test.exitRaceRuns=N} runs N,
   * spread over the same 1.2 s.
   */
  static final int RUNS = Integer.getInteger("gecko.test.exitRaceRuns", 25);

  @TempDir Path work;

  @Test
  void exitDuringEmbeddingAndOpeningNeverCrashes() throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> failures = new ArrayList<>();
    for (int run = 0; run < RUNS; run++) {
      long delay = RUNS == 1 ? 0 : run * 1200L / (RUNS - 1);
      ProcessBuilder pb = new ProcessBuilder(java.toString(),
          "-XX:ErrorFile=" + work.resolve("hs_err_" + run + "_%p.log"),
          "-Dgecko.cache.dir=" + System.getProperty("gecko.cache.dir", work.resolve("cache").toString()),
          "-cp", System.getProperty("java.class.path"), ExitRace.class.getName(), Long.toString(delay));
      pb.environment().put("ORT_DISABLE_TELEMETRY", "1");
      pb.directory(work.toFile());
      pb.redirectErrorStream(true);
      pb.redirectOutput(work.resolve("run-" + run + ".log").toFile());
      Process p = pb.start();
      assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("run %d finished", run).isTrue();
      if (p.exitValue() != 0) {
        failures.add("run " + run + " (exit after " + delay + " ms): exit code " + p.exitValue() + "\n"
            + tail(work.resolve("run-" + run + ".log")));
      }
    }
    try (Stream<Path> files = Files.list(work)) {
      assertThat(files.map(f -> f.getFileName().toString())).noneMatch(n -> n.startsWith("hs_err"));
    }
    assertThat(failures).isEmpty();
  }

  private static String tail(Path log) throws IOException {
    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
  }
}
