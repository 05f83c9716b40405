package dev.gecko.consumer.bom;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/** gecko-bom lists every artifact the project publishes, and the Jackson line, ONNX Runtime and DJL of the build. */
class BomTest {
  private static final Path ROOT = Path.of(System.getProperty("gecko.root", "../.."));

  private static Element read(Path pom) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    return f.newDocumentBuilder().parse(pom.toFile()).getDocumentElement();
  }

  private static String child(Element e, String name) {
    for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element c && c.getTagName().equals(name)) {
        return c.getTextContent().strip();
      }
    }
    return null;
  }

  private static Element childElement(Element e, String name) {
    for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element c && c.getTagName().equals(name)) {
        return c;
      }
    }
    return null;
  }

  /** artifactId to whether its deployment is skipped, for every jar module of the build. */
  private static Map<String, Boolean> jarModules() throws Exception {
    Map<String, Boolean> out = new TreeMap<>();
    List<Path> poms = new ArrayList<>();
    try (Stream<Path> s = Files.walk(ROOT, 4)) {
      s.filter(p -> p.getFileName().toString().equals("pom.xml"))
          .filter(p -> !p.toString().contains("/target/") && !p.toString().contains("/node_modules/"))
          .forEach(poms::add);
    }
    for (Path pom : poms) {
      Element project = read(pom);
      String packaging = child(project, "packaging");
      if (packaging != null && !packaging.equals("jar")) {
        continue;
      }
      Element props = childElement(project, "properties");
      boolean skip = props != null && "true".equals(child(props, "maven.deploy.skip"));
      Element parent = childElement(project, "parent");
      boolean consumerTest = parent != null && "gecko-consumer-tests".equals(child(parent, "artifactId"));
      out.put(child(project, "artifactId"), skip || consumerTest);
    }
    return out;
  }

  @Test
  void theBomListsEveryPublishedArtifactAndNothingElse() throws Exception {
    Element bom = read(ROOT.resolve("gecko-bom/pom.xml"));
    List<String> listed = new ArrayList<>();
    NodeList deps = childElement(childElement(bom, "dependencyManagement"), "dependencies").getElementsByTagName("dependency");
    for (int i = 0; i < deps.getLength(); i++) {
      Element d = (Element) deps.item(i);
      if ("dev.gecko".equals(child(d, "groupId"))) {
        listed.add(child(d, "artifactId"));
      }
    }
    Map<String, Boolean> modules = jarModules();
    List<String> published = modules.entrySet().stream().filter(e -> !e.getValue()).map(Map.Entry::getKey).toList();
    assertThat(published).contains("gecko-core", "gecko-langchain4j", "gecko-spring-boot-starter",
        "gecko-model-bge-small-en-v15-int8");
    assertThat(listed).containsExactlyInAnyOrderElementsOf(published);
    assertThat(modules).containsEntry("gecko-bench", true);
  }

  @Test
  void theBomsJacksonIsTheBuildsAndItsVersionTheProjects() throws Exception {
    Element bom = read(ROOT.resolve("gecko-bom/pom.xml"));
    Element parent = read(ROOT.resolve("pom.xml"));
    for (String version : List.of("jackson.version", "onnxruntime.version", "djl.version", "pytorch.version")) {
      assertThat(child(childElement(bom, "properties"), version)).as(version)
          .isEqualTo(child(childElement(parent, "properties"), version));
    }
    assertThat(child(childElement(bom, "properties"), "gecko.repository.url"))
        .isEqualTo(child(childElement(parent, "properties"), "gecko.repository.url"));
    assertThat(child(bom, "version")).isEqualTo(child(parent, "version"));
  }
}
