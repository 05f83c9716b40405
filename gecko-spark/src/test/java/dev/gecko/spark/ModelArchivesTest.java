package dev.gecko.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The archives {@link GeckoEmbeddings#shipModelFolder} writes stay while their JVM runs (Spark
 * serves them from their path for the life of its context) and go when it exits, folder included;
 * another JVM's archive of the same content is neither reused nor deleted. Before, every archive
 * stayed in the temporary folder for good, one per content shipped, and a second JVM reused the
 * first one's.
 */
class ModelArchivesTest {
  @TempDir Path dir;

  @Test
  void anArchiveStaysWhileItsJvmRunsAndGoesWhenItExitsLeavingOtherJvmsArchives() throws Exception {
    Path folder = Files.createDirectories(dir.resolve("my-model"));
    Files.writeString(folder.resolve("model.onnx"), "not really a graph");
    Files.writeString(Files.createDirectories(folder.resolve("sub")).resolve("tokenizer.json"), "{}");
    Path tmp = Files.createDirectories(dir.resolve("tmp"));

    Path mine = ModelArchives.pack(folder, tmp); // this JVM's, deleted when the test JVM exits
    assertThat(mine).isRegularFile();
    assertThat(mine.getFileName().toString()).matches("my-model-[0-9a-f]{12}\\.zip");
    assertThat(mine.getParent().getFileName().toString()).matches("gecko-model-" + ProcessHandle.current().pid()
        + "-[0-9a-f]{16}");
    assertThat(ModelArchives.pack(folder, tmp)).as("the same content again: the same archive").isEqualTo(mine);
    try (Stream<Path> files = Files.list(mine.getParent())) {
      assertThat(files).as("no part file left").containsExactly(mine);
    }

    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Djava.io.tmpdir=" + tmp, "-cp", System.getProperty("java.class.path"), ModelArchivesExitProbe.class.getName(),
        folder.toString());
    // files, not pipes: the wait below is bounded whatever the child does, and what the JVM itself
    // prints to stderr ("Picked up JAVA_TOOL_OPTIONS") is not taken for the probe's lines
    Path stdout = dir.resolve("child-stdout.txt");
    Path stderr = dir.resolve("child-stderr.txt");
    pb.redirectOutput(stdout.toFile());
    pb.redirectError(stderr.toFile());
    Process p = pb.start();
    boolean exited = p.waitFor(60, TimeUnit.SECONDS);
    if (!exited) {
      p.destroyForcibly();
    }
    String out = Files.readString(stdout, StandardCharsets.UTF_8);
    String why = out + Files.readString(stderr, StandardCharsets.UTF_8);
    assertThat(exited).as("the child exited: %s", why).isTrue();
    assertThat(p.exitValue()).as(why).isZero();
    List<String> lines = out.lines().toList();
    assertThat(lines).as(why).hasSize(2);
    Path theirs = Path.of(lines.get(0));
    assertThat(lines.get(1)).as("there while the JVM ran").isEqualTo("true");
    assertThat(theirs.getFileName()).isEqualTo(mine.getFileName());
    assertThat(theirs.getParent()).as("a folder of its own").isNotEqualTo(mine.getParent());
    assertThat(theirs.getParent().getParent()).isEqualTo(mine.getParent().getParent());

    assertThat(theirs).as("deleted when its JVM exited").doesNotExist();
    assertThat(theirs.getParent()).as("with its folder").doesNotExist();
    assertThat(mine).as("the other JVM's archive of the same content, still served here").isRegularFile();
    try (Stream<Path> left = Files.list(tmp)) {
      assertThat(left).containsExactly(mine.getParent());
    }
  }
}
