package dev.gecko.finetune.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Starting DJL's engine opens no connection even where the process did not opt out of DJL's call
 * home: the test JVMs do ({@code -DOPT_OUT_TRACKING=true}, {@code -Dai.djl.offline=true} and the
 * variables {@code OPT_OUT_TRACKING} and {@code DJL_OFFLINE}, root pom), so {@link CallHomeProbe}
 * runs in a JVM of its own without any of them, behind a security manager that records and refuses
 * every connection that is not loopback.
 */
class NoCallHomeTest {
  static List<String> probe(String... jvmArgs) throws IOException, InterruptedException {
    assumeTrue(Runtime.version().feature() < 24, "a security manager cannot be installed on Java 24+");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Djava.security.manager=allow");
    command.addAll(List.of(jvmArgs));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), CallHomeProbe.class.getName()));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    // nothing may opt out for the child: not the surefire variables, nor options the launcher adds
    for (String name : List.of("OPT_OUT_TRACKING", "DJL_OFFLINE", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS",
        "_JAVA_OPTIONS")) {
      env.remove(name);
    }
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    List<String> lines = new ArrayList<>();
    for (String prefix : List.of("ENGINE ", "OPT_OUT_TRACKING ", "ATTEMPTS ")) {
      lines.add(out.lines().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow(() -> new AssertionError(
          "no line " + prefix + "in the probe's output:\n" + out)).substring(prefix.length()));
    }
    return lines;
  }

  @Test
  void theEngineStartsWithoutAConnectionWhereNothingOptedOut() throws Exception {
    List<String> r = probe();
    assertThat(r.get(2)).as("connection attempts").isEqualTo("[]");
    assertThat(r.get(0)).as("engine").isEqualTo("PyTorch");
    assertThat(r.get(1)).as("the property Torch set").isEqualTo("true");
  }

  /**
   * An explicit {@code OPT_OUT_TRACKING=false} is the application's choice, left alone: DJL then
   * calls home, and the probe's security manager sees it (which shows that it would see the
   * attempt above too).
   */
  @Test
  void anExplicitFalseIsRespectedAndTheProbeSeesTheCallHome() throws Exception {
    List<String> r = probe("-DOPT_OUT_TRACKING=false");
    assertThat(r.get(1)).isEqualTo("false");
    assertThat(r.get(2)).as("connection attempts").contains("169.254.169.254");
  }
}
