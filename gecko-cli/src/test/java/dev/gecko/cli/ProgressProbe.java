package dev.gecko.cli;

import dev.gecko.core.Progress;
import java.io.PrintWriter;

/** Run by {@link CliProgressTerminalTest} in its own JVM: a few reports through the CLI's display. */
public final class ProgressProbe {
  private ProgressProbe() {}

  public static void main(String[] args) {
    System.out.println("stderr is a terminal: " + CliProgress.stderrIsTerminal());
    try (CliProgress p = CliProgress.on(new PrintWriter(System.err, true))) {
      for (int i = 0; i <= 10; i++) {
        p.onProgress(Progress.of("probe", "texts", i * 10, 100));
      }
    }
  }
}
