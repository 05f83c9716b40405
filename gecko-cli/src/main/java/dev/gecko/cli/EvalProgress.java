package dev.gecko.cli;

import dev.gecko.eval.ProgressListener;
import java.io.PrintWriter;
import java.util.Objects;

/**
 * Shows an evaluator's phases ("embedding corpus", "searching at 256 dims", ...) through {@link
 * CliProgress}: one bar (terminal) or one set of plain lines (piped) per phase. Not thread-safe;
 * evaluators report from one thread.
 */
final class EvalProgress implements ProgressListener, AutoCloseable {
  private final PrintWriter err;
  private String phase;
  private CliProgress current;
  private long done;

  EvalProgress(PrintWriter err) {
    this.err = Objects.requireNonNull(err, "err is null");
  }

  @Override
  public void onProgress(String phase, long done, long total) {
    if (!phase.equals(this.phase)) {
      close();
      this.phase = phase;
      this.current = CliProgress.start(phase, unit(phase), total, err);
      this.done = 0;
    }
    if (done > this.done) {
      current.step(done - this.done);
      this.done = done;
    }
    if (done >= total) {
      close();
    }
  }

  private static String unit(String phase) {
    return phase.startsWith("searching") ? "queries" : "texts";
  }

  @Override
  public void close() {
    if (current != null) {
      current.close();
      current = null;
      phase = null;
    }
  }
}
