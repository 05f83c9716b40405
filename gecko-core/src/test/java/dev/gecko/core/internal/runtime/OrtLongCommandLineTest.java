package dev.gecko.core.internal.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * ONNX Runtime's environment created with a long command line. Where {@code ORT_DISABLE_TELEMETRY}
 * is not set, ONNX Runtime 1.29's Linux build starts its telemetry client on the thread that creates
 * the environment, with stack use that grows with the command line: without {@link OrtLibraries}'
 * own thread, a JVM started with a 20 KB argument dies with a segmentation fault (exit 139).
 */
class OrtLongCommandLineTest {
  @Test
  void theStackCoversWhatTheTelemetryStartUpWasMeasuredToNeed() {
    // measured with ONNX Runtime 1.29 (the class comment of OrtLibraries): 5 KB of command line
    // overflowed 1 MiB, 20 KB overflowed 4 MiB, 99 KB ran in 32 MiB
    assertThat(OrtLibraries.stackBytes(0)).isGreaterThanOrEqualTo(32L << 20);
    assertThat(OrtLibraries.stackBytes(20_000)).isGreaterThan(20_000L * 330);
    assertThat(OrtLibraries.stackBytes(99_000)).isGreaterThan(99_000L * 330);
    assertThat(OrtLibraries.stackBytes(3_000_000)).isEqualTo(1L << 30); // ARG_MAX's order: capped
    assertThat(OrtLibraries.stackBytes(-1)).isEqualTo(32L << 20);
  }

  /**
   * Runs ONNX Runtime with its telemetry on, so it is not part of the build: ONNX Runtime's
   * telemetry client resolves its collector's host name some seconds after it starts (a DNS query),
   * which the build's no-network check refuses. Run it by hand in an empty network namespace:
   * {@code GECKO_TEST_ORT_TELEMETRY=1 unshare -n ./mvnw -o -pl gecko-core test
   * -Dtest=OrtLongCommandLineTest} (as root, or under {@code unshare -rn}).
   */
  @Test
  @EnabledIfEnvironmentVariable(named = "GECKO_TEST_ORT_TELEMETRY", matches = "1")
  void aLongCommandLineDoesNotCrashTheJvmWithTelemetryOn() throws Exception {
    assumeTrue(System.getProperty("os.name").startsWith("Linux"), "the telemetry client is in the Linux build");
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
        OrtEnvironmentProbe.class.getName(), "x".repeat(20_000));
    pb.environment().remove("ORT_DISABLE_TELEMETRY");
    pb.redirectErrorStream(true);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("environment ok");
  }
}
