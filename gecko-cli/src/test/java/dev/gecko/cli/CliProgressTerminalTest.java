package dev.gecko.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The display chosen by where standard error goes, in a JVM whose standard input and output are a
 * terminal ({@code script} gives it one) and whose standard error is a file: plain lines, never a
 * redrawn bar (Java 17's {@code System.console()} looks at standard input and output only).
 */
class CliProgressTerminalTest {
  @Test
  void stderrRedirectedToAFileGetsPlainLinesEvenWhenStdoutIsATerminal(@TempDir Path dir) throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "needs script(1) for a pseudo-terminal");
    Path log = dir.resolve("err.log");
    Path out = dir.resolve("out.log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String command = "'" + java + "' -cp '" + System.getProperty("java.class.path") + "' dev.gecko.cli.ProgressProbe 2> '"
        + log + "'";
    Process p = new ProcessBuilder("/usr/bin/script", "-qec", command, "/dev/null")
        .redirectOutput(out.toFile()).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(out)).isZero();
    String err = Files.readString(log, StandardCharsets.UTF_8);
    // the set-up itself: stdout is script's pseudo-terminal, and Java's console sees it (else
    // stderr's plain lines would prove nothing)
    assertThat(Files.readString(out)).containsPattern("stdout is /dev/pts/\\d+, console: true");
    assertThat(Files.readString(out)).contains("stderr is a terminal: false");
    assertThat(err).doesNotContain("\r").doesNotContain("\u001b");
    List<String> lines = err.lines().filter(l -> l.startsWith("gecko: probe: ")).toList();
    assertThat(lines).anyMatch(l -> l.startsWith("gecko: probe: 100/100 texts (100%)"));
  }
}
