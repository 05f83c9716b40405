package dev.gecko.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The exit race of {@link ShutdownRaceTest}, in its own JVM: two threads embed with a shared
 * embedder, two threads open and close embedders, and the main thread calls {@code System.exit(0)}
 * after the delay given in milliseconds. Exits 0 unless the JVM dies, or 3 if a racing thread
 * failed before the exit began.
 */
public final class ExitRace {
  private ExitRace() {}

  /** Set just before {@code System.exit}: until then, every call must work. */
  private static volatile boolean exiting;

  public static void main(String[] args) throws Exception {
    long delayMillis = Long.parseLong(args[0]);
    // a racing thread that dies before the exit would leave no race to test: fail the run (exit 3)
    Thread.setDefaultUncaughtExceptionHandler((thread, e) -> {
      if (!exiting) {
        e.printStackTrace();
        Runtime.getRuntime().halt(3);
      }
    });
    GeckoEmbedder shared = GeckoEmbedder.builder().threads(1).build();
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      texts.add("passage " + i + " on the quick brown fox that jumps over the lazy dog, again and again " + i);
    }
    CountDownLatch started = new CountDownLatch(4);
    for (int t = 0; t < 2; t++) {
      Thread embedding = new Thread(() -> {
        started.countDown();
        while (true) {
          try {
            shared.embedAll(texts, 64);
          } catch (IllegalStateException shuttingDown) {
            // the gate is shut: the JVM is exiting
          }
        }
      }, "race-embed-" + t);
      embedding.start();
    }
    for (int t = 0; t < 2; t++) {
      Thread opening = new Thread(() -> {
        started.countDown();
        while (true) {
          try (GeckoEmbedder own = GeckoEmbedder.builder().threads(1).build()) {
            own.embed("an embedder opened and closed under load", 8);
          } catch (IllegalStateException shuttingDown) {
            // as above
          }
        }
      }, "race-open-" + t);
      opening.start();
    }
    started.await();
    Thread.sleep(delayMillis);
    exiting = true;
    System.exit(0);
  }
}
