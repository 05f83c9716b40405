package dev.gecko.core.internal.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Coalescer}'s helper threads for tests: the runners it starts are held until the test
 * runs them (on its own thread), so that the coalescer's batches form only from what was queued
 * before. Thread-safe.
 */
final class HeldRunners implements Executor {
  private static final long WAIT_SECONDS = 60;

  final BlockingQueue<Runnable> held = new LinkedBlockingQueue<>();

  @Override
  public void execute(Runnable r) {
    held.add(r);
  }

  /** Waits for the next runner the coalescer starts. */
  Runnable next() throws InterruptedException {
    Runnable r = held.poll(WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(r).as("a helper runner was started").isNotNull();
    return r;
  }
}
