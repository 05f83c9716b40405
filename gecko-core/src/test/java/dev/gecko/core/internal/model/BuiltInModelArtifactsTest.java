package dev.gecko.core.internal.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gecko.core.ModelPackage;
import java.io.IOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The built-in models come from this project's resource-only gecko-model-* artifacts: each holds
 * the model's ONNX graph and tokenizer.json under {@code gecko-models/}, its licence and a notice,
 * and nothing else (no class, no service registration of another framework).
 */
class BuiltInModelArtifactsTest {

  @Test
  void eachModelArtifactHoldsItsTwoFilesALicenceAndANoticeOnly() throws Exception {
    for (String name : ModelPackage.builtInNames()) {
      ModelPackage pkg = ModelPackage.builtIn(name);
      URL onnx = pkg.model().resourceUrl().orElseThrow();
      URL tokenizer = pkg.tokenizer().resourceUrl().orElseThrow();
      List<String> entries = entriesBeside(onnx);
      String onnxName = onnx.toString().substring(onnx.toString().lastIndexOf('/') + 1);
      String tokenizerName = tokenizer.toString().substring(tokenizer.toString().lastIndexOf('/') + 1);
      assertThat(entries).as(name + " artifact").containsExactlyInAnyOrder(
          "META-INF/LICENSE", "META-INF/NOTICE", "gecko-models/" + onnxName, "gecko-models/" + tokenizerName);
      assertThat(onnxName).endsWith(".onnx");
      assertThat(tokenizerName).endsWith("tokenizer.json");
    }
  }

  @Test
  void noOtherFrameworksServiceFileComesWithTheModels() throws IOException {
    List<URL> factories = Collections.list(getClass().getClassLoader()
        .getResources("META-INF/services/dev.langchain4j.spi.model.embedding.EmbeddingModelFactory"));
    assertThat(factories).isEmpty();
    assertThat(getClass().getClassLoader().getResource("dev/langchain4j")).isNull();
  }

  /** The files of the jar (or, before packaging, the folder) that holds {@code resource}, but the manifest. */
  private static List<String> entriesBeside(URL resource) throws IOException, URISyntaxException {
    List<String> out = new ArrayList<>();
    if (resource.getProtocol().equals("jar")) {
      JarURLConnection c = (JarURLConnection) resource.openConnection();
      c.setUseCaches(false);
      try (JarFile jar = c.getJarFile()) {
        jar.stream().filter(e -> !e.isDirectory() && !e.getName().equals("META-INF/MANIFEST.MF"))
            .forEach(e -> out.add(e.getName()));
      }
      return out;
    }
    Path root = Path.of(resource.toURI()).getParent().getParent(); // <root>/gecko-models/<file>
    try (Stream<Path> files = Files.walk(root)) {
      files.filter(Files::isRegularFile).forEach(f -> out.add(root.relativize(f).toString().replace('\\', '/')));
    }
    return out;
  }
}
