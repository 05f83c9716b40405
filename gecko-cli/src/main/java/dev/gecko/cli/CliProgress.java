package dev.gecko.cli;

import dev.gecko.core.Progress;
import dev.gecko.core.ProgressListener;
import java.io.Console;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The one progress display of every command: it takes the library's {@link Progress} reports
 * (embedding, evaluation phases, FRet generation, training epochs) and shows each phase on standard
 * error: a redrawn bar on a terminal, and, when standard error is piped or captured, plain lines
 * (never a {@code '\r'}) at every tenth of a phase, at most {@code interval} apart while it runs,
 * and once when it ends. A line reads {@code gecko: <phase>: <done>/<total> <unit> (<percent>%),
 * <rate> <unit>/s, ETA <time>[, <metric> <value>...]}; the rate starts with the phase's first
 * progress (so an index built first does not count).
 *
 * <p>Thread-safe: reports may come from worker threads.
 */
final class CliProgress implements ProgressListener, AutoCloseable {
  private final PrintWriter err;
  private final long intervalNanos;
  private final boolean terminal;
  private Phase current;
  /** The report that ended the last phase, until another report comes. */
  private Progress lastEnd;
  private ScheduledExecutorService heartbeat;
  private boolean closed;

  /**
   * A display on {@code err} (a terminal bar when standard error is a terminal, {@link
   * #stderrIsTerminal()}), with plain lines at most {@code interval} apart.
   */
  CliProgress(PrintWriter err, Duration interval) {
    this(err, interval, stderrIsTerminal());
  }

  /**
   * Whether standard error is a terminal. {@code System.console()} alone does not say it: on Java
   * 17-21 it tells whether standard input and output are (so {@code gecko eval ... 2> log} typed at a
   * terminal drew a bar into the log), and from Java 22 it exists even when they are redirected.
   * Where the process's descriptors can be read ({@code /proc/self/fd/2} on Linux), that decides;
   * where {@code /dev/fd/2} exists (macOS; not tried there), it must be a character device; elsewhere
   * (Windows) the console must exist and, from Java 22, say it is a terminal.
   */
  static boolean stderrIsTerminal() {
    Path fd = Path.of("/proc/self/fd/2");
    if (Files.exists(fd, LinkOption.NOFOLLOW_LINKS)) {
      try {
        String target = Files.readSymbolicLink(fd).toString();
        return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
      } catch (IOException | UnsupportedOperationException | SecurityException e) {
        return false;
      }
    }
    Path devFd = Path.of("/dev/fd/2"); // macOS: what descriptor 2 is open on
    if (Files.exists(devFd)) {
      return isCharacterDevice(devFd);
    }
    Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      return (Boolean) Console.class.getMethod("isTerminal").invoke(console); // Java 22+
    } catch (NoSuchMethodException e) {
      return true; // before Java 22 a console exists only on a terminal
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }

  /**
   * Whether {@code file} is a character device: a terminal, or {@code /dev/null}, where a bar does
   * no harm; not a file or a pipe, where it would. False where the file system cannot tell.
   */
  static boolean isCharacterDevice(Path file) {
    try {
      int mode = (Integer) Files.getAttribute(file, "unix:mode");
      return (mode & 0170000) == 0020000; // S_IFMT, S_IFCHR
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException | SecurityException | ClassCastException e) {
      return false;
    }
  }

  CliProgress(PrintWriter err, Duration interval, boolean terminal) {
    this.err = Objects.requireNonNull(err, "err is null");
    this.intervalNanos = interval.toNanos();
    this.terminal = terminal;
  }

  /** A display with lines at most 10 s apart. */
  static CliProgress on(PrintWriter err) {
    return new CliProgress(err, Duration.ofSeconds(10));
  }

  @Override
  public synchronized void onProgress(Progress p) {
    if (current == null && repeatsLastEnd(p)) {
      return; // the final report again (a library may report a phase's end twice): it is on the display already
    }
    lastEnd = null;
    if (current == null || !current.phase.equals(p.phase()) || p.done() < current.done) {
      finish();
      current = terminal ? new Bar(p, System.err) : new Lines(p);
      if (!terminal && heartbeat == null && !closed) {
        startHeartbeat();
      }
    }
    current.update(p);
    if (p.finished()) {
      finish();
      lastEnd = p;
    }
  }

  /** The count the terminal bar's rate and ETA count from; -1 without a bar. For tests. */
  synchronized long barStart() {
    return current instanceof Bar b ? b.bar.getStart() : -1;
  }

  /** Whether {@code p} is the same final report as the one that ended the last phase. */
  private boolean repeatsLastEnd(Progress p) {
    return lastEnd != null && p.finished() && p.phase().equals(lastEnd.phase()) && p.done() == lastEnd.done()
        && p.total() == lastEnd.total();
  }

  private void finish() {
    if (current != null) {
      current.end();
      current = null;
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    finish();
    if (heartbeat != null) {
      heartbeat.shutdownNow();
    }
  }

  /**
   * Plain lines come at most {@code interval} apart even while no report arrives (a long batch, a
   * slow LLM): a daemon thread repeats the last state, with its rate and ETA brought up to date.
   */
  private void startHeartbeat() {
    heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "gecko-progress");
      t.setDaemon(true);
      return t;
    });
    long period = Math.max(TimeUnit.MILLISECONDS.toNanos(10), intervalNanos / 4);
    heartbeat.scheduleWithFixedDelay(this::tick, period, period, TimeUnit.NANOSECONDS);
  }

  private synchronized void tick() {
    if (current instanceof Lines lines) {
      lines.tick(System.nanoTime());
    }
  }

  /** The metrics of a report as {@code ", name value"} pairs. */
  static String metrics(Progress p) {
    StringBuilder s = new StringBuilder();
    for (Map.Entry<String, Double> m : p.metrics().entrySet()) {
      double v = m.getValue();
      s.append(", ").append(m.getKey()).append(' ');
      if (v == Math.rint(v) && Math.abs(v) < 1e15) {
        s.append((long) v);
      } else {
        s.append(String.format(Locale.ROOT, Math.abs(v) < 1 ? "%.4f" : "%.2f", v));
      }
    }
    return s.toString();
  }

  /** One phase on the display. */
  private abstract static class Phase {
    final String phase;
    long done;

    Phase(Progress first) {
      this.phase = first.phase();
      this.done = first.done();
    }

    abstract void update(Progress p);

    abstract void end();
  }

  /** me.tongfei's progress bar, for terminals. */
  private static final class Bar extends Phase {
    private final ProgressBar bar;

    Bar(Progress first, PrintStream stream) {
      super(first);
      // a resumed run's first report counts what earlier runs did: the rate and ETA count from it
      bar = new ProgressBarBuilder().setTaskName(first.phase()).setInitialMax(first.total())
          .startsFrom(first.done(), Duration.ZERO)
          .setUnit(" " + first.unit(), 1).setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK).setUpdateIntervalMillis(250)
          .showSpeed().setConsumer(new ConsoleProgressBarConsumer(stream)).setMaxRenderedLength(120).build();
    }

    @Override
    void update(Progress p) {
      done = p.done();
      bar.maxHint(p.total());
      bar.stepTo(p.done());
      String extra = metrics(p);
      bar.setExtraMessage(extra.isEmpty() ? "" : extra.substring(2));
    }

    @Override
    void end() {
      bar.close();
    }
  }

  /** Plain lines for logs. */
  private final class Lines extends Phase {
    private final long startNanos = System.nanoTime();
    private long rateFromNanos = -1;
    private long rateFromDone;
    private long lastLineNanos = startNanos;
    private long nextTenth = 1;
    private Progress last;
    private boolean printedEnd;

    Lines(Progress first) {
      super(first);
    }

    @Override
    void update(Progress p) {
      long now = System.nanoTime();
      if (rateFromNanos < 0 && p.done() > done) {
        rateFromNanos = lastReportNanos;
        rateFromDone = done;
      }
      lastReportNanos = now;
      done = p.done();
      last = p;
      boolean tenth = false;
      while (p.total() > 0 && nextTenth <= 10 && p.done() * 10 >= nextTenth * p.total()) {
        nextTenth++;
        tenth = true;
      }
      if (p.finished()) {
        return; // end() prints the last line
      }
      if (tenth || now - lastLineNanos >= intervalNanos) {
        line(p, now);
      }
    }

    private long lastReportNanos = startNanos;

    private void line(Progress p, long now) {
      lastLineNanos = now;
      long percent = p.total() == 0 ? 100 : p.done() * 100 / p.total();
      double secs = rateFromNanos < 0 ? 0 : (now - rateFromNanos) / 1e9;
      double rate = secs <= 0 ? 0 : (p.done() - rateFromDone) / secs;
      String eta = rate > 0 ? duration((long) Math.ceil((p.total() - p.done()) / rate)) : "?";
      err.printf(Locale.ROOT, "gecko: %s: %d/%d %s (%d%%), %.1f %s/s, ETA %s%s%n", p.phase(), p.done(), p.total(), p.unit(),
          percent, rate, p.unit(), eta, metrics(p));
      err.flush();
    }

    /** Repeats the last state if no line came for {@code interval}. */
    void tick(long now) {
      if (last != null && !last.finished() && now - lastLineNanos >= intervalNanos) {
        line(last, now);
      }
    }

    @Override
    void end() {
      if (last != null && !printedEnd) {
        printedEnd = true;
        line(last, System.nanoTime());
      }
    }
  }

  static String duration(long s) {
    return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
        : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
  }
}
