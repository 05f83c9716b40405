package dev.gecko.consumer.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.json.PackageVersion;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.adapter.Adapter;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingStoreIngestor;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gecko-core in a project that declares LangChain4j 1.11.0 first, with no dependencyManagement:
 * the Jackson jars Maven picks must belong together, a model folder (read with Jackson databind)
 * must open, and LangChain4j must not find a service of Gecko's model jars.
 */
class GeckoBesideLangChain4jTest {

  /** The version in the manifest of the jar that holds {@code type} (every Jackson jar has a Bundle-Version). */
  private static String bundleVersion(Class<?> type) throws Exception {
    Path jar = Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    try (JarFile f = new JarFile(jar.toFile())) {
      return f.getManifest().getMainAttributes().getValue("Bundle-Version");
    }
  }

  private static String minor(String version) {
    String[] p = version.split("\\.");
    return p[0] + "." + p[1];
  }

  @Test
  void jacksonJarsOnTheClasspathAreOneLine() throws Exception {
    String core = bundleVersion(com.fasterxml.jackson.core.JsonFactory.class);
    String databind = bundleVersion(com.fasterxml.jackson.databind.ObjectMapper.class);
    String annotations = bundleVersion(com.fasterxml.jackson.annotation.JsonProperty.class);
    assertThat(PackageVersion.VERSION.toString()).startsWith(core);
    assertThat(minor(databind)).as("jackson-databind " + databind + " beside jackson-core " + core)
        .isEqualTo(minor(core));
    assertThat(minor(annotations)).as("jackson-annotations " + annotations + " beside jackson-databind " + databind)
        .isEqualTo(minor(databind));
    // and the line this project's dependency order selects (so that both orders are exercised)
    assertThat(minor(databind)).isEqualTo(System.getProperty("expected.jackson.line"));
  }

  @Test
  void aModelFolderWithAnAdapterOpens(@TempDir Path dir) throws Exception {
    for (String[] f : new String[][] {{"gecko-models/bge-small-en-v1.5-q.onnx", "model.onnx"},
        {"gecko-models/bge-small-en-v1.5-q-tokenizer.json", "tokenizer.json"}}) {
      try (InputStream in = getClass().getClassLoader().getResourceAsStream(f[0])) {
        Files.copy(in, dir.resolve(f[1]));
      }
    }
    float[][] twice = new float[384][384];
    for (int i = 0; i < 384; i++) {
      twice[i][i] = 2f;
    }
    Adapter.linear(twice, new float[384]).save(dir.resolve("adapter.safetensors"));
    Files.writeString(dir.resolve(ModelPackage.MANIFEST), """
        {"name": "bge-int8-scaled", "pooling": "cls", "maxTokens": 512, "adapter": "adapter.safetensors",
         "prompts": {"RETRIEVAL_QUERY": "Represent this sentence for searching relevant passages: {text}"}}""");
    try (GeckoEmbedder folder = GeckoEmbedder.builder().model(dir.toString()).threads(1).build();
        GeckoEmbedder builtIn = GeckoEmbedder.builder().threads(1).build()) {
      float[] a = folder.embed(EmbedRequest.query("who owns a value in rust?"), 128);
      float[] b = builtIn.embed(EmbedRequest.query("who owns a value in rust?"), 128);
      // a scaled identity changes nothing once the vector is normalised
      for (int i = 0; i < a.length; i++) {
        assertThat(a[i]).isCloseTo(b[i], org.assertj.core.data.Offset.offset(1e-5f));
      }
      assertThat(folder.model().name()).isEqualTo("bge-int8-scaled");
    }
  }

  @Test
  void langChain4jFindsNoEmbeddingModelServiceInGeckosJars() {
    // LangChain4j looks for an EmbeddingModelFactory when no model is given; with the upstream
    // model jars on the classpath (their code without langchain4j-embeddings) this threw
    // NoClassDefFoundError: .../AbstractInProcessEmbeddingModel. Now no factory exists, so
    // LangChain4j reports its own missing-argument error.
    assertThatThrownBy(() -> EmbeddingStoreIngestor.builder()
        .embeddingStore(new InMemoryEmbeddingStore<TextSegment>()).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("embeddingModel");
  }
}
