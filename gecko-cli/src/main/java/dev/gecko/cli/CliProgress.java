package dev.gecko.cli;

<<<<<<< HEAD
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
=======
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
>>>>>>> main
    }
  }
}
