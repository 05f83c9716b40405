package dev.gecko.consumer.springboot;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/** Spring Boot's dependency management decides the Jackson 2 line, whole; Gecko runs on it. */
class JacksonLineTest {
  private static String bundleVersion(Class<?> type) throws Exception {
    Path jar = Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    try (JarFile f = new JarFile(jar.toFile())) {
      return f.getManifest().getMainAttributes().getValue("Bundle-Version");
    }
  }

  private static String line(String version) {
    String[] p = version.split("\\.");
    return p[0] + "." + p[1];
  }

  @Test
  void theJacksonJarsAreSpringBootsLine() throws Exception {
    String core = bundleVersion(com.fasterxml.jackson.core.JsonFactory.class);
    String databind = bundleVersion(com.fasterxml.jackson.databind.ObjectMapper.class);
    String annotations = bundleVersion(com.fasterxml.jackson.annotation.JsonProperty.class);
    String expected = System.getProperty("expected.jackson.line");
    assertThat(line(core)).as("jackson-core " + core).isEqualTo(expected);
    assertThat(line(databind)).as("jackson-databind " + databind).isEqualTo(expected);
    assertThat(line(annotations)).as("jackson-annotations " + annotations).isEqualTo(expected);
  }
}
