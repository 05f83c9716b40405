package dev.gecko.train.fret;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.train.llm.Capability;
import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmClients;
import dev.gecko.train.llm.PriceTable;
import dev.gecko.train.llm.RetryPolicy;
import dev.gecko.train.llm.UsageMeter;
import dev.gecko.train.testing.FakeLlmServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One writer per run folder: a second writer is refused at once, in this process or another; the lock goes with its run. */
class FretLockTest {
  /** A run configuration for stores opened outside a pipeline. */
  static final RunManifest.Config CONFIG =
      new RunManifest.Config(new RunManifest.Llm("probe"), null, null, null, null, null);

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int SEEDS = 6;

  private static Process childJvm(Path log, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "-DOPT_OUT_TRACKING=true", "-Dai.djl.offline=true",
        "-Dgecko.shared.dir=" + FretPipelineTest.shared().toAbsolutePath(), FretChildMain.class.getName()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  private static FretPipeline.Builder pipeline(FakeLlmServer server, GeckoEmbedder embedder, Path out) throws Exception {
    LlmClient http = LlmClients.openAiCompatible().baseUrl(server.openAiBaseUrl()).model("fake-llm")
        .capabilities(EnumSet.allOf(Capability.class)).build();
    LlmClient llm = LlmClients.standard(http, 2, RetryPolicy.builder().build(), new UsageMeter(PriceTable.FREE), null);
    return FretPipeline.builder().llm(llm).embedder(embedder).corpus(FretChildMain.corpus()).output(out)
        .settings(FretSettings.builder().limit(SEEDS).concurrency(2).build());
  }

  @Test
  void aSecondStoreInThisProcessIsRefusedAndTheLockGoesWithClose(@TempDir Path dir) throws Exception {
    RunManifest.Config config = CONFIG;
    Clock clock = Clock.systemUTC();
    try (OutputStore first = OutputStore.open(dir, config, "d1", false, clock)) {
      first.writeManifest("running", null, null, 1);
      first.writeReject(new FretReject("s0", "generate", "r", "a")); // a run with data: another configuration is refused
      assertThatThrownBy(() -> OutputStore.open(dir, config, "d1", false, clock)).isInstanceOf(RunFolderInUseException.class)
          .hasMessageContaining(dir + " is in use by another run in this process").hasMessageContaining("run.lock");
      assertThat(Files.readString(dir.resolve("run.lock"), StandardCharsets.UTF_8)).isEqualTo("process " + ProcessHandle.current().pid() + "\n");
    }
    // a failed open (another configuration's run) releases the lock it took
    assertThatThrownBy(() -> OutputStore.open(dir, config, "d2", false, clock)).isInstanceOf(ResumeConflictException.class);
    OutputStore.open(dir, config, "d1", false, clock).close();
    // closed: the folder is free again
    try (OutputStore again = OutputStore.open(dir, config, "d1", false, clock)) {
      assertThat(again.exampleCount()).isZero();
      assertThat(again.rejectCount()).isOne();
    }
  }

  @Test
  void anotherProcessIsRefusedWhileThisOneHoldsTheFolderEvenAfterARefusalHere(@TempDir Path dir) throws Exception {
    Path out = Files.createDirectories(dir.resolve("run"));
    try (OutputStore held = OutputStore.open(out, CONFIG, "probe", false, Clock.systemUTC())) {
      held.writeManifest("running", null, null, 1); // the probe's configuration: once it gets the lock, it resumes
      // refused in-process first: that refusal must not drop this process's OS lock (POSIX drops all of a process's
      // locks on a file when any of its channels to the file closes)
      assertThatThrownBy(() -> OutputStore.open(out, CONFIG, "probe", false, Clock.systemUTC()))
          .isInstanceOf(RunFolderInUseException.class);
      Process probe = childJvm(dir.resolve("probe.log"), "probe-lock", out.toString());
      assertThat(probe.waitFor()).as(Files.readString(dir.resolve("probe.log"))).isEqualTo(FretChildMain.PROBE_LOCKED);
      assertThat(Files.readString(dir.resolve("probe.log"))).contains(out + " is in use by another run (process "
          + ProcessHandle.current().pid() + " holds the lock on");
    }
    Process probe = childJvm(dir.resolve("probe2.log"), "probe-lock", out.toString());
    assertThat(probe.waitFor()).as(Files.readString(dir.resolve("probe2.log"))).isZero();
  }

  @Test
  void aRunningChildJvmHoldsTheFolderUntilItDiesThenTheRunResumesWithoutDuplicates(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("run");
    try (FakeLlmServer busy = FakeLlmServer.start(); FakeLlmServer free = FakeLlmServer.start();
        GeckoEmbedder embedder = GeckoEmbedder.builder().threads(2).coalescingWindow(java.time.Duration.ZERO).build()) {
      busy.pause(); // the child's first LLM call waits: it holds the folder for as long as this test needs
      Process child = childJvm(Files.createDirectories(dir).resolve("child.log"), busy.openAiBaseUrl(), out.toString(),
          Integer.toString(SEEDS));
      try {
        long deadline = System.nanoTime() + 240_000_000_000L;
        while (!Files.exists(out.resolve("manifest.json")) && child.isAlive() && System.nanoTime() < deadline) {
          Thread.sleep(20); // the manifest is written after the lock is taken
        }
        assertThat(child.isAlive()).as(Files.readString(dir.resolve("child.log"))).isTrue();
        assertThatThrownBy(() -> pipeline(free, embedder, out).build().run()).isInstanceOf(RunFolderInUseException.class)
            .hasMessageContaining(out + " is in use by another run (process " + child.pid() + " holds the lock on");
        assertThat(child.isAlive()).as("the refusal came while the child held the folder").isTrue();
        assertThat(free.requests()).as("refused before any LLM call").isEmpty();
      } finally {
        child.destroyForcibly(); // SIGKILL: no close(), the OS drops the lock with the process
        child.waitFor();
      }
      RunSummary s = pipeline(free, embedder, out).build().run();
      assertThat(s.totalExamples()).isEqualTo(SEEDS);
      List<JsonNode> all = FretPipelineTest.lines(out.resolve("examples.jsonl"));
      assertThat(all).hasSize(SEEDS);
      assertThat(all).extracting(e -> e.path("seed_id").asText()).doesNotHaveDuplicates();
    }
  }
}
