package dev.gecko.consumer.easyrag;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import dev.gecko.langchain4j.GeckoEmbeddingModel;
import dev.gecko.langchain4j.spi.GeckoEmbeddingModelFactory;
import dev.langchain4j.data.document.Document;
import dev.langchain4j.data.document.loader.FileSystemDocumentLoader;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.retriever.EmbeddingStoreContentRetriever;
import dev.langchain4j.rag.query.Query;
import dev.langchain4j.spi.data.document.splitter.DocumentSplitterFactory;
import dev.langchain4j.spi.model.embedding.EmbeddingModelFactory;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingStoreIngestor;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;

/**
 * A user's project as docs/integrations.md ("LangChain4j's default embedding model (Easy RAG)")
 * shows it: gecko-langchain4j-spi beside langchain4j-easy-rag without its bge model jar. Easy RAG
 * still registers its document splitter, whose tokenizer lives in langchain4j-embeddings; the
 * static {@code EmbeddingStoreIngestor.ingest(documents, store)} loads that splitter, and Gecko
 * must be the model that embeds, on the project's ONNX Runtime and DJL tokenizers.
 */
class EasyRagWithGeckoTest {
  private static final Path ROOT = Path.of(System.getProperty("gecko.root", "../.."));

  private static final String RUST =
      "Each value in Rust has a variable that is its owner; when the owner goes out of scope, the value is dropped.";
  private static final String WESTPHALIA = "The Treaty of Westphalia ended the Thirty Years' War in 1648.";
  private static final String PHOTOSYNTHESIS =
      "Photosynthesis turns light, water and carbon dioxide into glucose and oxygen.";

  /** A property of the project's root pom.xml (the build's versions). */
  private static String rootProperty(String name) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    Element project = f.newDocumentBuilder().parse(ROOT.resolve("pom.xml").toFile()).getDocumentElement();
    Element props = (Element) project.getElementsByTagName("properties").item(0);
    return props.getElementsByTagName(name).item(0).getTextContent().strip();
  }

  /** The version of the Maven artifact whose jar holds {@code type}: the jar's folder in the repository. */
  private static String jarVersion(Class<?> type) throws Exception {
    Path jar = Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    return jar.getParent().getFileName().toString();
  }

  @Test
  void theDocumentedIngestRunsEasyRagsSplitterAndGeckosModel(@TempDir Path docs) throws Exception {
    Files.writeString(docs.resolve("rust.txt"), RUST);
    Files.writeString(docs.resolve("westphalia.txt"), WESTPHALIA);
    Files.writeString(docs.resolve("photosynthesis.txt"), PHOTOSYNTHESIS);
    List<Document> documents = FileSystemDocumentLoader.loadDocuments(docs);
    assertThat(documents).hasSize(3);

    // the call of docs/integrations.md: no splitter, no model
    InMemoryEmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
    EmbeddingStoreIngestor.ingest(documents, store);

    // a model-less retriever finds the right segment
    List<Content> hits = EmbeddingStoreContentRetriever.from(store).retrieve(Query.from("who owns a value in rust?"));
    assertThat(hits).isNotEmpty();
    assertThat(hits.get(0).textSegment().text()).isEqualTo(RUST);

    // every stored vector is the one Gecko's default model gives the segment as a document; the
    // ingestor embedded the three segments in one call, and int8 vectors depend slightly on their
    // batch (README), so they are embedded here in one call too (Gecko orders a batch by length)
    try (GeckoEmbeddingModel gecko = GeckoEmbeddingModel.builder().build()) {
      Embedding query = gecko.forQueries().embed("anything").content();
      List<EmbeddingMatch<TextSegment>> all =
          store.search(EmbeddingSearchRequest.builder().queryEmbedding(query).maxResults(10).minScore(0.0).build())
              .matches();
      assertThat(all).extracting(m -> m.embedded().text())
          .containsExactlyInAnyOrder(RUST, WESTPHALIA, PHOTOSYNTHESIS);
      List<Embedding> expected = gecko.embedAll(all.stream().map(EmbeddingMatch::embedded).toList()).content();
      for (int i = 0; i < all.size(); i++) {
        assertThat(all.get(i).embedding().vector()).hasSize(384)
            .containsExactly(expected.get(i).vector(), org.assertj.core.data.Offset.offset(1e-5f));
      }
    }
  }

  @Test
  void easyRagsSplitterIsRegisteredAndGeckoIsTheOnlyModelFactory() {
    // the path the ingest above takes: Easy RAG's splitter factory is still there
    List<DocumentSplitterFactory> splitters = ServiceLoader.load(DocumentSplitterFactory.class).stream()
        .map(ServiceLoader.Provider::get).toList();
    assertThat(splitters).singleElement().extracting(s -> s.getClass().getSimpleName())
        .isEqualTo("RecursiveDocumentSplitterFactory");
    // it counts tokens with langchain4j-embeddings' tokenizer, on the project's DJL tokenizers:
    // a long text is cut into segments of at most 300 of its tokens
    String longText = String.join(" ", java.util.Collections.nCopies(60, RUST));
    assertThat(splitters.get(0).create().split(Document.from(longText))).hasSizeGreaterThan(1);
    // and the only model factory is Gecko's (LangChain4j refuses two)
    List<EmbeddingModelFactory> models = ServiceLoader.load(EmbeddingModelFactory.class).stream()
        .map(ServiceLoader.Provider::get).toList();
    assertThat(models).singleElement().isInstanceOf(GeckoEmbeddingModelFactory.class);
    assertThat(models.get(0).create()).isInstanceOf(GeckoEmbeddingModel.class)
        .extracting(m -> m.dimension()).isEqualTo(384);
  }

  @Test
  void onnxRuntimeAndTokenizersAreTheProjects() throws Exception {
    // langchain4j-embeddings (the splitter's tokenizer) depends on older ONNX Runtime and DJL
    // tokenizers: the project's must win, in the jars and in the native library that runs
    String ort = rootProperty("onnxruntime.version");
    assertThat(jarVersion(OrtEnvironment.class)).isEqualTo(ort);
    String djl = rootProperty("djl.version");
    assertThat(jarVersion(ai.djl.huggingface.tokenizers.HuggingFaceTokenizer.class)).isEqualTo(djl);
    // langchain4j-embeddings declares DJL's api too: tokenizers 0.36 beside api 0.31 is not DJL's line
    assertThat(jarVersion(ai.djl.util.Utils.class)).isEqualTo(djl);
    new GeckoEmbeddingModelFactory().create().embed("load the runtime");
    assertThat(OrtEnvironment.getEnvironment().getVersion()).isEqualTo(ort);
  }
}
