package dev.gecko.train.fret;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.train.llm.Capability;
import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmClients;
import dev.gecko.train.llm.PriceTable;
import dev.gecko.train.llm.RetryPolicy;
import dev.gecko.train.llm.UsageMeter;
import dev.gecko.train.testing.FakeLlmServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 of a JVM running the pipeline loses nothing finished and duplicates nothing on resume. */
class FretKillTest {
  private static final int SEEDS = 10;

  private static long lineCount(Path f) throws Exception {
    if (!Files.exists(f)) {
      return 0;
    }
    try (var lines = Files.lines(f)) {
      return lines.count();
    }
  }

  @Test
  void resumeAfterSigkillCompletesWithExactlyOneExamplePerSeed(@TempDir Path out) throws Exception {
    try (FakeLlmServer server = FakeLlmServer.start()) {
      server.delayEveryAnswer(25); // a slow model, so the child is mid-run when killed
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), "-DOPT_OUT_TRACKING=true", "-Dai.djl.offline=true",
          "-Dgecko.shared.dir=" + FretPipelineTest.shared().toAbsolutePath(), FretChildMain.class.getName(),
          server.openAiBaseUrl(), out.toString(), Integer.toString(SEEDS)));
      Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(Files.createDirectories(out).resolve("child.log").toFile())
          .start();
      Path examples = out.resolve("examples.jsonl");
      try {
        long deadline = System.nanoTime() + 240_000_000_000L;
        while (lineCount(examples) < 2 && child.isAlive() && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertThat(child.isAlive()).as("the child must still be running when killed").isTrue();
      } finally {
        child.destroyForcibly(); // SIGKILL on Linux
        child.waitFor();
      }
      assertThat(child.exitValue()).isEqualTo(137);
      byte[] killed = Files.readAllBytes(examples);
      int end = 0; // the complete lines: up to the last newline (a torn record may follow)
      int complete = 0;
      for (int i = 0; i < killed.length; i++) {
        if (killed[i] == '\n') {
          end = i + 1;
          complete++;
        }
      }
      assertThat(complete).isBetween(2, SEEDS - 1);

      server.delayEveryAnswer(0);
      LlmClient http = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).model("fake-llm")
          .capabilities(EnumSet.allOf(Capability.class)).build();
      LlmClient llm = LlmClients.standard(http, 2, RetryPolicy.builder().build(), new UsageMeter(PriceTable.FREE), null);
      try (GeckoEmbedder embedder = GeckoEmbedder.builder().threads(2).coalescingWindow(java.time.Duration.ZERO).build()) {
        RunSummary s = FretPipeline.builder().llm(llm).embedder(embedder)
            .corpus(FretChildMain.corpus())
            .output(out).settings(FretSettings.builder().limit(SEEDS).concurrency(2).build()).build().run();
        assertThat(s.totalExamples()).isEqualTo(SEEDS);
        // the finished seeds were kept, not redone (a whole record the kill left without its
        // newline counts as finished too)
        assertThat(s.skipped()).isBetween(complete, complete + 1);
        assertThat(s.written()).isEqualTo(SEEDS - s.skipped());
      }
      assertThat(java.util.Arrays.copyOf(Files.readAllBytes(examples), end)).as("the lines written before the kill")
          .isEqualTo(java.util.Arrays.copyOf(killed, end));
      List<JsonNode> all = FretPipelineTest.lines(examples);
      assertThat(all).hasSize(SEEDS);
      assertThat(all).extracting(e -> e.path("seed_id").asText()).doesNotHaveDuplicates();
      assertThat(all).allSatisfy(e -> assertThat(e.path("candidates")).hasSize(20));
    }
  }
}
