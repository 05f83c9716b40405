package dev.gecko.train.fret;

import dev.gecko.core.io.Corpus;
import dev.gecko.core.io.Passage;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.train.llm.Capability;
import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmClients;
import dev.gecko.train.llm.PriceTable;
import dev.gecko.train.llm.RetryPolicy;
import dev.gecko.train.llm.UsageMeter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.EnumSet;

/**
 * Runs the pipeline in a child JVM (killed with SIGKILL by {@code FretKillTest} and {@code
 * FretLockTest}). Args: baseUrl outDir limit. Or {@code probe-lock outDir}: tries to open the run
 * folder's store and exits {@value #PROBE_LOCKED} if it is refused as in use (0 if it got it).
 */
public final class FretChildMain {
  private FretChildMain() {}

  /** 24 ArguAna passages, each cut to its first 500 characters (so that two JVMs embed them quickly). */
  static List<Passage> corpus() throws IOException {
    List<Passage> out = new ArrayList<>();
    for (Passage p : Corpus.read(FretPipelineTest.shared().resolve("data/beir/arguana/corpus.jsonl.gz"), 24)) {
      out.add(new Passage(p.id(), p.title(), p.text().substring(0, Math.min(500, p.text().length()))));
    }
    return out;
  }

  /** Exit status of {@code probe-lock} when the folder was in use. */
  static final int PROBE_LOCKED = 3;

  public static void main(String[] args) throws Exception {
    if (args[0].equals("probe-lock")) {
      try (OutputStore s = OutputStore.open(Path.of(args[1]), FretLockTest.CONFIG,
          "probe", false, java.time.Clock.systemUTC())) {
        System.out.println("probe got the lock");
      } catch (RunFolderInUseException e) {
        System.out.println(e.getMessage());
        System.exit(PROBE_LOCKED);
      }
      return;
    }
    LlmClient http = LlmClients.openAiCompatible().baseUrl(args[0]).model("fake-llm").capabilities(EnumSet.allOf(Capability.class)).build();
    LlmClient llm = LlmClients.standard(http, 2, RetryPolicy.builder().build(), new UsageMeter(PriceTable.FREE), null);
    try (GeckoEmbedder embedder = GeckoEmbedder.builder().intraOpThreads(1).coalescingWindow(java.time.Duration.ZERO).build()) {
      FretPipeline.builder().llm(llm).embedder(embedder)
          .corpus(corpus())
          .output(Path.of(args[1])).settings(FretSettings.builder().limit(Integer.parseInt(args[2])).concurrency(2).build()).build().run();
    }
    System.out.println("child finished");
  }
}
