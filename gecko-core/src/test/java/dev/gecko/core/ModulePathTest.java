package dev.gecko.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gecko-core as a named module: an application on the module path that {@code requires
 * dev.gecko.core} compiles against the API packages, embeds with the default model, and cannot
 * compile against an internal package.
 */
class ModulePathTest {
  @TempDir Path dir;

  private static List<String> entries() {
    return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(p -> !p.contains("test-classes") && !p.matches(".*(junit|opentest4j|apiguardian|assertj|byte-buddy).*"))
        .toList();
  }

  /** Jars (automatic or named modules) and folders with a module descriptor. */
  private static String modulePath() {
    return entries().stream().filter(p -> !isPlainFolder(p)).collect(Collectors.joining(File.pathSeparator));
  }

  /**
   * Folders without a module descriptor: a reactor build that stops before packaging resolves the
   * resource-only model artifacts to their target/classes folders, which a module path would read
   * as folders OF modules; a launcher puts such a folder on the class path, and so does this test.
   */
  private static String classPath() {
    return entries().stream().filter(ModulePathTest::isPlainFolder).collect(Collectors.joining(File.pathSeparator));
  }

  private static boolean isPlainFolder(String entry) {
    Path p = Path.of(entry);
    return Files.isDirectory(p) && !Files.exists(p.resolve("module-info.class"));
  }

  private Path app(String name, String body) throws Exception {
    Path src = Files.createDirectories(dir.resolve(name + "/src/demo"));
    Files.writeString(dir.resolve(name + "/src/module-info.java"), "module demo.app { requires dev.gecko.core; }\n");
    Files.writeString(src.resolve("Main.java"), "package demo;\n" + body);
    return dir.resolve(name);
  }

  private static int compile(Path app, StringWriter errors) {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    List<String> args = new ArrayList<>(List.of("-d", app.resolve("out").toString(), "--module-path", modulePath(),
        app.resolve("src/module-info.java").toString(), app.resolve("src/demo/Main.java").toString()));
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    int code = javac.run(null, null, new java.io.PrintStream(bytes, true, StandardCharsets.UTF_8), args.toArray(String[]::new));
    errors.write(bytes.toString(StandardCharsets.UTF_8));
    return code;
  }

  @Test
  void anApplicationOnTheModulePathEmbedsThroughTheApiOnly() throws Exception {
    Path ok = app("ok", """
        import dev.gecko.core.GeckoEmbedder;
        public class Main {
          public static void main(String[] a) {
            try (GeckoEmbedder e = GeckoEmbedder.builder().threads(1).build()) {
              System.out.println("vector " + e.embed("hello", 4).length + " from " + e.getClass().getModule().getName());
            }
          }
        }
        """);
    StringWriter errors = new StringWriter();
    assertThat(compile(ok, errors)).as(errors.toString()).isZero();
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> command = new ArrayList<>(List.of(java.toString(), "-Dgecko.cache.dir=" + System.getProperty(
        "gecko.cache.dir", dir.resolve("cache").toString()), "--module-path", ok.resolve("out") + File.pathSeparator
        + modulePath()));
    if (!classPath().isEmpty()) {
      command.addAll(List.of("-cp", classPath()));
    }
    command.addAll(List.of("-m", "demo.app/demo.Main"));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put("ORT_DISABLE_TELEMETRY", "1");
    pb.redirectErrorStream(true);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("vector 4 from dev.gecko.core");

    Path internal = app("internal", """
        public class Main {
          public static void main(String[] a) {
            System.out.println(dev.gecko.core.internal.runtime.BatchCutter.BATCH_COST_TOKENS);
          }
        }
        """);
    StringWriter refused = new StringWriter();
    assertThat(compile(internal, refused)).isNotZero();
    assertThat(refused.toString()).contains("dev.gecko.core.internal.runtime").contains("not visible");
  }
}
