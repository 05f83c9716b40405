package dev.gecko.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The archives {@link GeckoEmbeddings#shipModelFolder} writes stay while their JVM runs (Spark
 * serves them from their path for the life of its context) and go when it exits, folder included;
 * another JVM's archive of the same content is neither reused nor deleted; an archive shipped to
 * a context goes when that context stops. Before, every archive stayed in the temporary folder for
 * good, one per content shipped, and a second JVM reused the first one's; then, until its JVM
 * exited, however many contexts it had started and stopped.
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

    List<String> lines = runChild(List.of("-Djava.io.tmpdir=" + tmp), ModelArchivesExitProbe.class, folder.toString());
    String why = String.join("\n", lines);
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

  /**
   * A folder whose name Spark would misread in the path it is given ({@code #} starts a URI
   * fragment) is packed under a name of {@code [A-Za-z0-9._-]} only, which Spark adds and unpacks,
   * and the executors find by it. Before, the archive of {@code v1#best} was {@code
   * v1#best-<content>.zip}, which {@code addArchive} read as the file {@code v1} with the fragment
   * {@code best-<content>.zip}, and failed with NoSuchFileException naming {@code .../v1}.
   */
  @Test
  void aFolderNameWithAHashIsShippedUnderASafeName() throws Exception {
    Path folder = Files.createDirectories(dir.resolve("v1#best"));
    String content = "not really a graph " + System.nanoTime(); // new content: a new archive in the shared context
    Files.writeString(folder.resolve("model.onnx"), content);
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    assertThat(ModelArchives.pack(folder, tmp).getFileName().toString()).matches("v1_best-[0-9a-f]{12}\\.zip");
    assertThat(ModelArchives.archiveName(Path.of("/models/v2?x y%20+z"), "0123456789ab"))
        .isEqualTo("v2_x_y_20_z-0123456789ab.zip");
    assertThat(ModelArchives.archiveName(Path.of("/models/my-model.v2_final"), "0123456789ab"))
        .as("safe characters are kept").isEqualTo("my-model.v2_final-0123456789ab.zip");

    String name = GeckoEmbeddings.shipModelFolder(TestSpark.session().sparkContext(), folder);
    assertThat(name).matches("v1_best-[0-9a-f]{12}\\.zip");
    Path unpacked = Path.of(ExecutorEmbedders.resolve(name)); // as a task finds it, through SparkFiles
    assertThat(unpacked.resolve("model.onnx")).hasContent(content);
  }

  /**
   * A link to a model folder ({@code models/current -> models/v7}) is packed with the folder's files,
   * under the link's name. Before, the walk stopped at the link it started from: the archive was
   * empty, and every task failed to find a model.
   */
  @Test
  void aLinkToAFolderIsPackedWithTheFolderFiles() throws Exception {
    Path folder = Files.createDirectories(dir.resolve("v7"));
    Files.writeString(folder.resolve("model.onnx"), "not really a graph");
    Files.writeString(Files.createDirectories(folder.resolve("sub")).resolve("tokenizer.json"), "{}");
    Path link;
    try {
      link = Files.createSymbolicLink(dir.resolve("current"), folder);
    } catch (UnsupportedOperationException | java.io.IOException e) {
      org.junit.jupiter.api.Assumptions.abort("no symbolic links here: " + e);
      return;
    }
    Path zip = ModelArchives.pack(link, Files.createDirectories(dir.resolve("tmp")));
    assertThat(zip.getFileName().toString()).matches("current-[0-9a-f]{12}\\.zip");
    List<String> entries = new ArrayList<>();
    try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(zip.toFile())) {
      z.stream().forEach(e -> entries.add(e.getName()));
    }
    assertThat(entries).containsExactly("model.onnx", "sub/tokenizer.json");
  }

  /**
   * A driver that starts a context, ships a folder, stops the context, and does it again: the
   * archive is there while its context runs, gone with the context's folder once it stopped, and
   * packed again, in a folder of the next context's own, for the next context; a stopped context
   * is refused. Spark runs in a JVM of its own here (one context per JVM), with this JVM's module
   * options and system properties.
   */
  @Test
  void anArchiveGoesWhenItsContextStops() throws Exception {
    Path folder = Files.createDirectories(dir.resolve("my-model"));
    Files.writeString(folder.resolve("model.onnx"), "not really a graph");
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    Path local = Files.createDirectories(dir.resolve("spark-local"));
    // what Spark needs (--add-opens and the like) and the tests' properties; no agents (a debugger's
    // port is taken), and not JAVA_TOOL_OPTIONS twice (the child inherits the environment)
    List<String> options = new ArrayList<>();
    for (String o : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if ((o.startsWith("--add-") || o.startsWith("-D") || o.equals("-XX:+IgnoreUnrecognizedVMOptions"))
          && !o.startsWith("-Djava.io.tmpdir=") && !(System.getenv("JAVA_TOOL_OPTIONS") + "").contains(o)) {
        options.add(o);
      }
    }
    options.add("-Djava.io.tmpdir=" + tmp);
    List<String> lines = runChild(options, ContextArchivesProbe.class, folder.toString(), local.toString()).stream()
        .filter(l -> l.startsWith("probe: ")).map(l -> l.substring("probe: ".length())).toList();
    assertThat(lines).hasSize(5);
    Path first = archive(lines.get(0));
    assertThat(lines.get(1)).as("deleted when the context stopped").isEqualTo("false");
    assertThat(first.getParent()).as("with the context's folder").doesNotExist();
    Path second = archive(lines.get(2));
    assertThat(second.getFileName()).as("the same content, the same name").isEqualTo(first.getFileName());
    assertThat(second.getParent()).as("a folder of the next context's own").isNotEqualTo(first.getParent());
    assertThat(second.getParent().getParent()).isEqualTo(first.getParent().getParent());
    assertThat(lines.get(3)).as("deleted when that context stopped").isEqualTo("false");
    assertThat(lines.get(4)).as("a stopped context refused").isEqualTo("true");
    assertThat(first.getParent().getParent()).as("the JVM's folder, gone with it").doesNotExist();
  }

  /** The archive of a probe line {@code <archive> <there>}, which must say it was there. */
  private static Path archive(String line) {
    assertThat(line).as("shipped: there while the context runs").endsWith(" true");
    Path zip = Path.of(line.substring(0, line.length() - " true".length()));
    assertThat(zip.getFileName().toString()).matches("my-model-[0-9a-f]{12}\\.zip");
    assertThat(zip.getParent().getFileName().toString()).startsWith("context-");
    assertThat(zip.getParent().getParent().getFileName().toString()).startsWith("gecko-model-");
    return zip;
  }

  /**
   * Runs {@code main} in a JVM of its own with {@code options} and this JVM's class path, and
   * returns its standard output's lines once it exited with 0 (within two minutes).
   */
  private List<String> runChild(List<String> options, Class<?> main, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(options);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    // files, not pipes: the wait below is bounded whatever the child does, and what the JVM itself
    // prints to stderr ("Picked up JAVA_TOOL_OPTIONS") is not taken for the probe's lines
    Path stdout = dir.resolve("child-stdout-" + main.getSimpleName() + ".txt");
    Path stderr = dir.resolve("child-stderr-" + main.getSimpleName() + ".txt");
    pb.redirectOutput(stdout.toFile());
    pb.redirectError(stderr.toFile());
    Process p = pb.start();
    boolean exited = p.waitFor(120, TimeUnit.SECONDS);
    if (!exited) {
      p.destroyForcibly();
    }
    String out = Files.readString(stdout, StandardCharsets.UTF_8);
    String why = out + Files.readString(stderr, StandardCharsets.UTF_8);
    assertThat(exited).as("the child exited: %s", why).isTrue();
    assertThat(p.exitValue()).as(why).isZero();
    return out.lines().toList();
  }
}
