package dev.gecko.cli;

import dev.gecko.core.Progress;
import java.io.PrintWriter;

/** Run by {@link CliProgressTerminalTest} in its own JVM: a few reports through the CLI's display. */
public final class ProgressProbe {
  private ProgressProbe() {}

  public static void main(String[] args) {
    // that the test's set-up holds: stdout a pseudo-terminal (script's), which Java 17's console sees
    String stdout;
    try {
      stdout = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/1")).toString();
    } catch (java.io.IOException e) {
      stdout = "unknown (" + e + ")";
    }
    System.out.println("stdout is " + stdout + ", console: " + (System.console() != null));
    System.out.println("stderr is a terminal: " + CliProgress.stderrIsTerminal());
    try (CliProgress p = CliProgress.on(new PrintWriter(System.err, true))) {
      for (int i = 0; i <= 10; i++) {
        p.onProgress(Progress.of("probe", "texts", i * 10, 100));
      }
    }
  }
}
