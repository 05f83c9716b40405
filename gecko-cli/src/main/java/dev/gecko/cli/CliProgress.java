package dev.gecko.cli;

import dev.gecko.train.eval.ProgressListener;
import java.io.PrintWriter;
import java.util.Objects;
import java.util.function.LongSupplier;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

/**
 * Renders evaluation progress: a progress bar on stderr when a terminal is attached, otherwise one
 * plain line per phase every {@code intervalNanos} (and at its end) to the given writer, never a
 * carriage return. The clock is injectable for tests.
 * Not thread-safe; evaluators call it from one thread.
 */
final class CliProgress implements ProgressListener, AutoCloseable {
  private final PrintWriter err;
  private final boolean terminal;
  private final LongSupplier nanoTime;
  private final long intervalNanos;
  private String phase;
  private ProgressBar bar;
  private long lastLine;
  private long phaseStart;

  CliProgress(PrintWriter err, boolean terminal, LongSupplier nanoTime, long intervalNanos) {
    this.err = Objects.requireNonNull(err);
    this.terminal = terminal;
    this.nanoTime = Objects.requireNonNull(nanoTime);
    this.intervalNanos = intervalNanos;
  }

  /** Bars on System.err when a terminal is attached, otherwise lines to {@code err} every 10 s. */
  static CliProgress forStderr(PrintWriter err) {
    return new CliProgress(err, System.console() != null, System::nanoTime, 10_000_000_000L);
  }

  @Override
  public void onProgress(String phase, long done, long total) {
    long now = nanoTime.getAsLong();
    if (!phase.equals(this.phase)) {
      close();
      this.phase = phase;
      this.phaseStart = now;
      this.lastLine = now;
      if (terminal) {
        bar = new ProgressBarBuilder().setTaskName(phase).setInitialMax(total)
            .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUpdateIntervalMillis(500).build();
      }
    }
    if (bar != null) {
      bar.maxHint(total);
      bar.stepTo(done);
      if (done >= total) {
        close();
      }
    } else if (done >= total || now - lastLine >= intervalNanos) {
      lastLine = now;
      double secs = (now - phaseStart) / 1e9;
      err.printf(java.util.Locale.ROOT, "%s: %d/%d (%.0f s)%n", phase, done, total, secs);
      err.flush();
    }
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
      bar = null;
    }
  }
}
