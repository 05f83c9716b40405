package dev.gecko.core.internal.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ONNX Runtime's native libraries from the cache, in a fresh JVM (the test JVM's ORT may be loaded already). */
class OrtLibrariesTest {
  @TempDir Path cacheDir;

  @Test
  void loadsTheCachedCopyAndLeavesOtherClassLoadersTheirOwn() throws Exception {
    assumeTrue(System.getProperty("os.name").startsWith("Linux"), "the cached copies are used on Linux only");
    assumeTrue(!OrtLibraries.onNoexecMount(cacheDir), "the temporary directory is on a noexec mount");

    List<String> first = probe();
    assertThat(first).anySatisfy(l -> assertThat(l).matches(
        "mapped " + java.util.regex.Pattern.quote(cacheDir.toString()) + "/[0-9a-f]{8}-[0-9]+/libonnxruntime\\.so"));
    assertThat(first).contains("property null", "second loader ok");

    List<String> second = probe(); // the copy is there now: found, checked, loaded again
    assertThat(second).isEqualTo(first);
  }

  private List<String> probe() throws IOException, InterruptedException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb = new ProcessBuilder(java.toString(), "-Dgecko.cache.dir=" + cacheDir,
        "-cp", System.getProperty("java.class.path"), OrtLibrariesProbe.class.getName());
    pb.environment().put("ORT_DISABLE_TELEMETRY", "1");
    pb.redirectErrorStream(true);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out.lines().filter(l -> l.startsWith("mapped ") || l.startsWith("property ") || l.startsWith("second loader "))
        .toList();
  }

  @Test
  void tellsNoexecMountsByTheLongestMountPointHoldingThePath() {
    List<String> mounts = List.of(
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw",
        "30 22 0:26 / /tmp rw,nosuid,nodev,noexec shared:5 - tmpfs tmpfs rw",
        "31 22 0:27 / /home/me/my\\040cache rw,nosuid shared:6 - tmpfs tmpfs rw",
        "32 22 0:28 / /mnt rw shared:7 - tmpfs tmpfs rw",
        "33 32 0:29 / /mnt rw,noexec shared:8 - tmpfs tmpfs rw");
    assertThat(OrtLibraries.noexec("/home/me/.cache/gecko", mounts)).isFalse();
    assertThat(OrtLibraries.noexec("/tmp/gecko", mounts)).isTrue();
    assertThat(OrtLibraries.noexec("/tmp", mounts)).isTrue();
    assertThat(OrtLibraries.noexec("/tmpfiles/gecko", mounts)).isFalse(); // not under /tmp
    assertThat(OrtLibraries.noexec("/home/me/my cache/gecko", mounts)).isFalse();
    assertThat(OrtLibraries.noexec("/mnt/gecko", mounts)).isTrue(); // the later mount hides the earlier
    assertThat(OrtLibraries.noexec("/anything", List.of())).isTrue(); // cannot tell: ONNX Runtime's own way
  }}
