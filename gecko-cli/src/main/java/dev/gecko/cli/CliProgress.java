package dev.gecko.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of a long command on standard error: a redrawn bar on a terminal, plain lines (no
 * {@code '\r'}) at every tenth of the work when standard error is piped or captured.
 */
interface CliProgress extends AutoCloseable {
  /** Records {@code n} more units of work done. */
  void step(long n);

  @Override
  void close();

  /**
   * Starts a progress display for {@code total} units named {@code unit}: a bar when the JVM has a
   * console, else plain lines on {@code err}.
   */
  static CliProgress start(String task, String unit, long total, PrintWriter err) {
    if (System.console() != null) {
      return new Bar(task, unit, total, System.err);
    }
    return new Lines(task, unit, total, err);
  }

  /** me.tongfei progress bar, for terminals. */
  final class Bar implements CliProgress {
    private final ProgressBar bar;

    Bar(String task, String unit, long total, PrintStream stream) {
      bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setUnit(" " + unit, 1)
          .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK).setUpdateIntervalMillis(250).showSpeed()
          .setConsumer(new ConsoleProgressBarConsumer(stream)).setMaxRenderedLength(100).build();
    }

    @Override
    public void step(long n) {
      bar.stepBy(n);
    }

    @Override
    public void close() {
      bar.close();
    }
  }

  /** Plain lines for logs: at each tenth of the total and at the end, with the rate. */
  final class Lines implements CliProgress {
    private final String task;
    private final String unit;
    private final long total;
    private final PrintWriter err;
    private final long startNanos = System.nanoTime();
    private long done;
    private long nextTenth = 1;
    private boolean closed;

    Lines(String task, String unit, long total, PrintWriter err) {
      this.task = task;
      this.unit = unit;
      this.total = total;
      this.err = err;
    }

    @Override
    public void step(long n) {
      done += n;
      boolean print = false;
      while (total > 0 && nextTenth <= 10 && done * 10 >= nextTenth * total) {
        nextTenth++;
        print = true;
      }
      if (print) {
        line();
      }
    }

    private void line() {
      long percent = total == 0 ? 100 : done * 100 / total;
      Duration elapsed = Duration.ofNanos(System.nanoTime() - startNanos);
      double rate = done / Math.max(1e-3, elapsed.toNanos() / 1e9);
      err.printf("gecko: %s: %d/%d %s (%d%%), %.1f %s/s%n", task, done, total, unit, percent, rate, unit);
      err.flush();
    }

    @Override
    public void close() {
      if (!closed && nextTenth <= 10) {
        line();
      }
      closed = true;
    }
  }
}
