package dev.gecko.springai.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.TaskType;
import dev.gecko.core.io.Passage;
import dev.gecko.core.vector.VectorOps;
import dev.gecko.eval.BeirDataset;
import dev.gecko.springai.GeckoEmbeddingModel;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.springframework.ai.document.Document;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.embedding.EmbeddingRequest;
import org.springframework.ai.embedding.EmbeddingResponse;
import org.springframework.ai.vectorstore.SearchRequest;
import org.springframework.ai.vectorstore.SimpleVectorStore;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The auto-configuration in a real Spring application context ({@link ApplicationContextRunner}). */
class GeckoEmbeddingAutoConfigurationTest {
  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(GeckoEmbeddingAutoConfiguration.class))
      .withPropertyValues("gecko.embedding.threads=2");

  static Path shared() {
    return Path.of(System.getProperty("gecko.shared.dir", "../../shared"));
  }

  @Test
  void theDefaultModelIsConfiguredAndClosedWithTheContext() {
    AtomicReference<GeckoEmbeddingModel> seen = new AtomicReference<>();
    runner.run(context -> {
      assertThat(context).hasSingleBean(EmbeddingModel.class);
      GeckoEmbeddingModel model = context.getBean(GeckoEmbeddingModel.class);
      assertThat(model.modelName()).isEqualTo(GeckoEmbedder.Builder.DEFAULT_MODEL);
      assertThat(model.dimensions()).isEqualTo(384);
      assertThat(model.embed("hello")).hasSize(384);
      seen.set(model);
    });
    assertThatThrownBy(() -> seen.get().embed("after close")).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void propertiesConfigureModelWidthAndTaskTypes() {
    runner.withPropertyValues("gecko.embedding.model=all-MiniLM-L6-v2-int8", "gecko.embedding.dims=128",
        "gecko.embedding.query-task-type=clustering", "gecko.embedding.document-task-type=SEMANTIC_SIMILARITY",
        "gecko.embedding.max-batch-tokens=256", "gecko.embedding.title-metadata-key=")
        .run(context -> {
          GeckoEmbeddingModel model = context.getBean(GeckoEmbeddingModel.class);
          assertThat(model.modelName()).isEqualTo("all-MiniLM-L6-v2-int8");
          assertThat(model.dimensions()).isEqualTo(128);
          GeckoEmbeddingProperties p = context.getBean(GeckoEmbeddingProperties.class);
          assertThat(p.getQueryTaskType()).isEqualTo(TaskType.CLUSTERING);
          assertThat(p.getDocumentTaskType()).isEqualTo(TaskType.SEMANTIC_SIMILARITY);
          assertThat(p.getTitleMetadataKey()).isNull();
          assertThat(p.getMaxBatchTokens()).isEqualTo(256);
          EmbeddingResponse r = model.call(new EmbeddingRequest(List.of("a", "b"), null));
          assertThat(r.getResults().get(0).getOutput()).hasSize(128);
        });
  }

  /**
   * The properties reach the model built from them, not only the properties bean: bge-small-en-v1.5
   * (the default model) has a prompt for {@code RETRIEVAL_QUERY} only, so swapping the task types
   * changes what the model embeds, and each vector equals the embedder's own for the configured
   * task type (one text per call: int8 vectors do not depend on a batch then).
   */
  @Test
  void taskTypesWidthAndBatchBudgetReachTheModel() {
    String query = "who owns a value in rust?";
    String text = "Each value in Rust has an owner.";
    runner.withPropertyValues("gecko.embedding.query-task-type=clustering",
        "gecko.embedding.document-task-type=retrieval-query", "gecko.embedding.dims=100",
        "gecko.embedding.max-batch-tokens=16").run(context -> {
          EmbeddingModel model = context.getBean(EmbeddingModel.class);
          GeckoEmbedder embedder = context.getBean(GeckoEmbeddingModel.class).embedder();
          assertThat(embedder.model().name()).isEqualTo("bge-small-en-v1.5-int8");
          // the chosen task types render differently on this model, so the vectors below can tell them apart
          assertThat(embedder.model().render(EmbedRequest.of(TaskType.CLUSTERING, query)))
              .isNotEqualTo(embedder.model().render(EmbedRequest.of(TaskType.RETRIEVAL_QUERY, query)));
          assertThat(embedder.model().render(EmbedRequest.of(TaskType.RETRIEVAL_QUERY, text)))
              .isNotEqualTo(embedder.model().render(EmbedRequest.of(TaskType.RETRIEVAL_DOCUMENT, text)));

          float[] plain = model.embed(query);
          assertThat(plain).hasSize(100).containsExactly(embedder.embed(EmbedRequest.of(TaskType.CLUSTERING, query), 100));
          assertThat(plain).isNotEqualTo(embedder.embed(EmbedRequest.of(TaskType.RETRIEVAL_QUERY, query), 100));

          float[] document = model.embed(new Document(text));
          assertThat(document).containsExactly(embedder.embed(EmbedRequest.of(TaskType.RETRIEVAL_QUERY, text), 100));
          assertThat(document).isNotEqualTo(embedder.embed(EmbedRequest.of(TaskType.RETRIEVAL_DOCUMENT, text), 100));

          // a budget of 16 padded tokens holds one of these texts (9 to 12 tokens each), never two:
          // one batch per text, where the default budget (512) runs them as one batch
          List<String> texts = List.of("Each value in Rust has an owner.", "The moon raises the tides twice a day.",
              "Westphalia ended the Thirty Years' War.", "Bees dance to show where flowers are.");
          long before = embedder.metrics().batches();
          model.call(new EmbeddingRequest(texts, null));
          assertThat(embedder.metrics().batches() - before).isEqualTo(texts.size());
        });
  }

  /**
   * {@code threads} reaches the embedder. The embedder runs {@code threads} batches at a time:
   * the calling thread and {@code threads - 1} helper threads ({@code gecko-infer-N}, started on a
   * call's first batches and kept idle for 30 s). A call of 65 texts (more than a coalesced batch
   * holds, so it is scheduled on its own) in one-text batches (a budget of 16 tokens) starts two new
   * helpers with {@code threads=3} and none with {@code threads=1}.
   */
  @Test
  void theThreadsPropertyReachesTheEmbedder() {
    List<String> texts = IntStream.range(0, GeckoEmbedder.Builder.DEFAULT_MAX_BATCH_SIZE + 1).mapToObj(i -> "Sentence number " + i + " of the list.").toList();
    for (int threads : new int[] {1, 3}) {
      runner.withPropertyValues("gecko.embedding.threads=" + threads, "gecko.embedding.max-batch-tokens=16")
          .run(context -> {
            EmbeddingModel model = context.getBean(EmbeddingModel.class);
            GeckoEmbedder embedder = context.getBean(GeckoEmbeddingModel.class).embedder();
            Set<String> before = inferenceThreads();
            long batches = embedder.metrics().batches();
            model.call(new EmbeddingRequest(texts, null));
            assertThat(embedder.metrics().batches() - batches).isEqualTo(texts.size());
            Set<String> started = inferenceThreads();
            started.removeAll(before);
            assertThat(started).as("helper threads started with threads=%d", threads).hasSize(threads - 1);
          });
    }
  }

  /** The names of this JVM's live batch helper threads. */
  private static Set<String> inferenceThreads() {
    Set<String> names = new HashSet<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("gecko-infer-")) {
        names.add(t.getName());
      }
    }
    return names;
  }

  /**
   * The title key reaches the model: with {@code title-metadata-key=heading} a document's
   * {@code heading} is its title (bge: {@code title text}), and its {@code title} is ordinary
   * metadata, which changes nothing.
   */
  @Test
  void theTitleMetadataKeyReachesTheModel() {
    String text = "Each value in Rust has an owner.";
    runner.withPropertyValues("gecko.embedding.title-metadata-key=heading").run(context -> {
      EmbeddingModel model = context.getBean(EmbeddingModel.class);
      GeckoEmbedder embedder = context.getBean(GeckoEmbeddingModel.class).embedder();
      float[] untitled = model.embed(new Document(text));
      assertThat(untitled).containsExactly(embedder.embed(EmbedRequest.document(text), 384));

      float[] headed = model.embed(new Document(text, Map.of("heading", "Ownership")));
      assertThat(headed).containsExactly(embedder.embed(EmbedRequest.document(text).withTitle("Ownership"), 384));
      assertThat(headed).isNotEqualTo(untitled);

      assertThat(model.embed(new Document(text, Map.of("title", "Ownership")))).containsExactly(untitled);
    });
    // a trailing blank, as a .properties file keeps it, would have matched no metadata key
    GeckoEmbeddingProperties p = new GeckoEmbeddingProperties();
    p.setTitleMetadataKey("heading  ");
    assertThat(p.getTitleMetadataKey()).isEqualTo("heading");
  }

  /**
   * A model folder whose graph ONNX Runtime cannot read fails the start naming the property, with
   * the library's own failure attached (the file and what is wrong with it, its stack trace).
   * Before, it was dropped and only its message kept.
   */
  @Test
  void aModelThatCannotBeOpenedNamesThePropertyAndKeepsTheCause(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    try (InputStream in = getClass().getClassLoader().getResourceAsStream("gecko-models/all-minilm-l6-v2-q-tokenizer.json")) {
      java.nio.file.Files.copy(in, dir.resolve("tokenizer.json"));
    }
    java.nio.file.Files.write(dir.resolve("model.onnx"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    java.nio.file.Files.writeString(dir.resolve(dev.gecko.core.ModelPackage.MANIFEST),
        "{\"name\": \"broken\", \"pooling\": \"mean\", \"maxTokens\": 256}");
    runner.withPropertyValues("gecko.embedding.model=" + dir).run(context -> {
      assertThat(context).hasFailed();
      List<Throwable> chain = new java.util.ArrayList<>();
      for (Throwable c = context.getStartupFailure(); c != null; c = c.getCause()) {
        chain.add(c);
        chain.addAll(List.of(c.getSuppressed()));
      }
      assertThat(chain).anySatisfy(c -> assertThat(c.getMessage()).contains("gecko.embedding.model"));
      assertThat(chain).anySatisfy(c -> assertThat(c).isInstanceOf(dev.gecko.core.GeckoException.class));
    });
  }

  /** A model folder (a trained model's layout: manifest read with Jackson databind, an adapter) by path. */
  @Test
  void aModelFolderIsConfiguredByPath(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    for (String[] f : new String[][] {{"gecko-models/all-minilm-l6-v2-q.onnx", "model.onnx"},
        {"gecko-models/all-minilm-l6-v2-q-tokenizer.json", "tokenizer.json"}}) {
      try (InputStream in = getClass().getClassLoader().getResourceAsStream(f[0])) {
        java.nio.file.Files.copy(in, dir.resolve(f[1]));
      }
    }
    float[][] twice = new float[384][384];
    for (int i = 0; i < 384; i++) {
      twice[i][i] = 2f;
    }
    dev.gecko.core.adapter.Adapter.linear(twice, new float[384]).save(dir.resolve("adapter.safetensors"));
    java.nio.file.Files.writeString(dir.resolve(dev.gecko.core.ModelPackage.MANIFEST),
        "{\"name\": \"minilm-scaled\", \"pooling\": \"mean\", \"maxTokens\": 256, \"adapter\": \"adapter.safetensors\"}");
    runner.withPropertyValues("gecko.embedding.model=" + dir, "gecko.embedding.dims=64").run(context -> {
      GeckoEmbeddingModel model = context.getBean(GeckoEmbeddingModel.class);
      assertThat(model.modelName()).isEqualTo("minilm-scaled");
      try (GeckoEmbedder builtIn = GeckoEmbedder.builder().model("all-MiniLM-L6-v2-int8").threads(1).build()) {
        float[] a = model.embed("a scaled identity changes nothing once normalised");
        float[] b = builtIn.embed(EmbedRequest.query("a scaled identity changes nothing once normalised"), 64);
        for (int i = 0; i < a.length; i++) {
          assertThat(a[i]).isCloseTo(b[i], org.assertj.core.data.Offset.offset(1e-5f));
        }
      }
    });
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnModel {
    @Bean
    EmbeddingModel myModel() {
      return GeckoEmbeddingModel.builder().model("all-MiniLM-L6-v2-int8").threads(1).dims(16).build();
    }
  }

  @Test
  void anApplicationsOwnModelOrAnotherProviderWins() {
    runner.withUserConfiguration(OwnModel.class).run(context -> {
      assertThat(context).hasSingleBean(EmbeddingModel.class);
      assertThat(context.getBean(EmbeddingModel.class).dimensions()).isEqualTo(16);
      assertThat(context).doesNotHaveBean("geckoEmbeddingModel");
    });
    runner.withPropertyValues("spring.ai.model.embedding=openai")
        .run(context -> assertThat(context).doesNotHaveBean(EmbeddingModel.class));
    runner.withPropertyValues("spring.ai.model.embedding=gecko", "gecko.embedding.model=all-MiniLM-L6-v2-int8")
        .run(context -> assertThat(context).hasSingleBean(GeckoEmbeddingModel.class));
  }

  /**
   * Where the application embeds with its own model, {@code gecko.embedding.*} is neither bound
   * nor validated: values Gecko would refuse do not stop the start.
   */
  @Test
  void geckoEmbeddingIsNotBoundBesideTheApplicationsOwnModel() {
    runner.withUserConfiguration(OwnModel.class)
        .withPropertyValues("gecko.embedding.dims=0", "gecko.embedding.threads=many", "gecko.embedding.model=")
        .run(context -> {
          assertThat(context).hasNotFailed();
          assertThat(context).hasSingleBean(EmbeddingModel.class);
          assertThat(context.getBean(EmbeddingModel.class).dimensions()).isEqualTo(16);
          assertThat(context).doesNotHaveBean(GeckoEmbeddingProperties.class);
        });
    // the same values fail the start where Gecko's model is made
    runner.withPropertyValues("gecko.embedding.dims=0").run(context -> assertThat(context).hasFailed());
  }

  /** Another provider's embedding model: a stand-in that runs no model. */
  static final class OtherProviderModel implements EmbeddingModel {
    @Override
    public EmbeddingResponse call(EmbeddingRequest request) {
      throw new UnsupportedOperationException("a stand-in");
    }

    @Override
    public float[] embed(Document document) {
      throw new UnsupportedOperationException("a stand-in");
    }
  }

  /** An auto-configuration ordered before Gecko's that registers another provider's model. */
  @AutoConfiguration(before = GeckoEmbeddingAutoConfiguration.class)
  static class ProviderBeforeGecko {
    @Bean
    OtherProviderModel otherProviderModel() {
      return new OtherProviderModel();
    }
  }

  /** The same, ordered after Gecko's and conditional on its own type only, as Spring AI's providers are. */
  @AutoConfiguration(after = GeckoEmbeddingAutoConfiguration.class)
  static class ProviderAfterGecko {
    @Bean
    @ConditionalOnMissingBean(OtherProviderModel.class)
    OtherProviderModel otherProviderModel() {
      return new OtherProviderModel();
    }
  }

  /**
   * Beside another provider's embedding auto-configuration, the outcome depends on which one
   * Spring Boot evaluates first (docs/integrations.md): Gecko's backs off from a model registered
   * before it, and its properties are not bound; one registered after it stands beside Gecko's.
   */
  @Test
  void besideAnotherProviderTheOrderOfTheAutoConfigurationsDecides() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(GeckoEmbeddingAutoConfiguration.class, ProviderBeforeGecko.class))
        .withPropertyValues("gecko.embedding.dims=0")
        .run(context -> {
          assertThat(context).hasNotFailed();
          assertThat(context).hasSingleBean(EmbeddingModel.class).hasSingleBean(OtherProviderModel.class);
          assertThat(context).doesNotHaveBean(GeckoEmbeddingProperties.class);
        });
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(GeckoEmbeddingAutoConfiguration.class, ProviderAfterGecko.class))
        .withPropertyValues("gecko.embedding.threads=1")
        .run(context -> {
          assertThat(context).hasSingleBean(GeckoEmbeddingModel.class).hasSingleBean(OtherProviderModel.class);
          assertThat(context.getBeansOfType(EmbeddingModel.class)).hasSize(2);
        });
  }

  @Test
  void aBadValueFailsTheStartWithAMessageNamingTheProperty() {
    Map<String, String> bad = Map.of(
        "gecko.embedding.dims=0", "gecko.embedding.dims",
        "gecko.embedding.dims=many", "gecko.embedding.dims",
        "gecko.embedding.dims=1000", "gecko.embedding.dims",
        "gecko.embedding.threads=0", "gecko.embedding.threads",
        "gecko.embedding.max-batch-tokens=-1", "gecko.embedding.max-batch-tokens",
        "gecko.embedding.query-task-type=", "gecko.embedding.query-task-type",
        "gecko.embedding.document-task-type=summary", "gecko.embedding.document-task-type",
        "gecko.embedding.model=no-such-model", "gecko.embedding.model",
        "gecko.embedding.model=", "gecko.embedding.model",
        "gecko.embedding.dimensions=256", "gecko.embedding.dimensions"); // a misspelling of dims: not ignored
    bad.forEach((property, name) -> runner.withPropertyValues("gecko.embedding.model=all-MiniLM-L6-v2-int8", property)
        .run(context -> {
          assertThat(context).as(property).hasFailed();
          Throwable t = context.getStartupFailure();
          StringBuilder messages = new StringBuilder();
          for (Throwable c = t; c != null; c = c.getCause()) {
            messages.append(c.getMessage()).append('\n');
          }
          assertThat(messages.toString()).as(property).contains(name);
        }));
    // the rule too, as Spring Boot's failure report shows it
    runner.withPropertyValues("gecko.embedding.model=all-MiniLM-L6-v2-int8", "gecko.embedding.dims=0").run(context -> {
      StringBuilder messages = new StringBuilder();
      for (Throwable c = context.getStartupFailure(); c != null; c = c.getCause()) {
        messages.append(c.getMessage()).append('\n');
      }
      assertThat(messages.toString())
          .contains("Property gecko.embedding.dims with value '0' is invalid: must be at least 1, was 0");
    });
  }

  /**
   * An application's own Spring {@code Validator}, injected by type, stays the only one: Gecko's
   * properties check their values in their setters. Before, the properties bean was a {@code
   * Validator} too, and the injection failed as ambiguous.
   */
  @Test
  void anApplicationsOwnValidatorStaysTheOnlyOne() {
    runner.withPropertyValues("gecko.embedding.model=all-MiniLM-L6-v2-int8")
        .withUserConfiguration(OwnValidator.class)
        .run(context -> {
          assertThat(context).hasNotFailed();
          assertThat(context).hasSingleBean(org.springframework.validation.Validator.class);
          assertThat(context.getBean(Injected.class).validator()).isSameAs(context.getBean("ownValidator"));
        });
  }

  @org.springframework.context.annotation.Configuration(proxyBeanMethods = false)
  static class OwnValidator {
    @Bean
    org.springframework.validation.Validator ownValidator() {
      return new org.springframework.validation.Validator() {
        @Override
        public boolean supports(Class<?> type) {
          return false;
        }

        @Override
        public void validate(Object target, org.springframework.validation.Errors errors) {}
      };
    }

    @Bean
    Injected injected(org.springframework.validation.Validator validator) { // by type, as an application injects it
      return new Injected(validator);
    }
  }

  record Injected(org.springframework.validation.Validator validator) {}

  @Test
  void ideMetadataDescribesEveryProperty() throws Exception {
    JsonNode metadata = null;
    for (java.net.URL url : java.util.Collections.list(getClass().getClassLoader()
        .getResources("META-INF/spring-configuration-metadata.json"))) { // Spring Boot's own jars have one too
      try (InputStream in = url.openStream()) {
        JsonNode m = new ObjectMapper().readTree(in);
        if (m.path("groups").path(0).path("name").asText().equals(GeckoEmbeddingProperties.PREFIX)) {
          metadata = m;
        }
      }
    }
    assertThat(metadata).as("gecko's configuration metadata on the classpath").isNotNull();
    Map<String, JsonNode> properties = new HashMap<>();
    metadata.path("properties").forEach(p -> properties.put(p.path("name").asText(), p));
    assertThat(properties).containsKeys("gecko.embedding.model", "gecko.embedding.dims",
        "gecko.embedding.document-task-type", "gecko.embedding.query-task-type", "gecko.embedding.threads",
        "gecko.embedding.max-batch-tokens", "gecko.embedding.title-metadata-key");
    properties.values().forEach(p -> assertThat(p.path("description").asText()).as(p.path("name").asText()).isNotBlank());
    assertThat(properties.get("gecko.embedding.model").path("defaultValue").asText()).isEqualTo(GeckoEmbedder.Builder.DEFAULT_MODEL);
    assertThat(properties.get("gecko.embedding.query-task-type").path("defaultValue").asText()).isEqualTo("retrieval-query");
    List<String> hinted = new ArrayList<>();
    metadata.path("hints").path(0).path("values").forEach(v -> hinted.add(v.path("value").asText()));
    assertThat(hinted).containsExactlyInAnyOrderElementsOf(dev.gecko.core.ModelPackage.builtInNames());
  }

  /**
   * A SimpleVectorStore over 60 ArguAna passages, searched with 12 of its queries: the hits are
   * those of an exact search over Gecko's own vectors (documents with titles, queries with the
   * query instruction), in the same order. (SimpleVectorStore embeds its documents one at a time,
   * so the expected vectors are made one at a time too: int8 vectors depend slightly on their batch.)
   */
  @Test
  void aSimpleVectorStoreSearchesRealTextWithGeckosVectors() throws Exception {
    BeirDataset arguana = BeirDataset.read(shared().resolve("data/beir/arguana"));
    List<Passage> passages = arguana.corpus().subList(0, 60);
    Set<String> ids = new HashSet<>();
    passages.forEach(p -> ids.add(p.id()));
    List<BeirDataset.Query> queries = arguana.queries().stream()
        .filter(q -> arguana.qrels().get(q.id()).keySet().stream().anyMatch(ids::contains)).limit(12).toList();
    assertThat(queries).hasSize(12);
    runner.run(context -> {
      EmbeddingModel model = context.getBean(EmbeddingModel.class);
      SimpleVectorStore store = SimpleVectorStore.builder(model).build();
      List<Document> documents = new ArrayList<>();
      for (Passage p : passages) {
        documents.add(Document.builder().id(p.id()).text(p.text().strip()).metadata("title", p.title()).build());
      }
      store.add(documents);

      GeckoEmbedder gecko = ((GeckoEmbeddingModel) model).embedder();
      List<float[]> docVectors = passages.stream()
          .map(p -> gecko.embed(EmbedRequest.document(p.text().strip()).withTitle(p.title()), 384)).toList();
      int goldFirst = 0;
      int goldInTop = 0;
      for (BeirDataset.Query q : queries) {
        List<String> hits = store.similaritySearch(SearchRequest.builder().query(q.text()).topK(10).build())
            .stream().map(Document::getId).toList();
        float[] qv = gecko.embed(EmbedRequest.query(q.text()), 384);
        List<String> exact = IntStream.range(0, passages.size()).boxed()
            .sorted(Comparator.comparingDouble((Integer i) -> -VectorOps.dot(qv, docVectors.get(i))))
            .limit(10).map(i -> passages.get(i).id()).toList();
        assertThat(hits).as(q.id()).isEqualTo(exact);
        List<String> other = hits.stream().filter(id -> !id.equals(q.id())).toList();
        if (arguana.qrels().get(q.id()).containsKey(other.get(0))) {
          goldFirst++;
        }
        if (other.stream().anyMatch(arguana.qrels().get(q.id())::containsKey)) {
          goldInTop++;
        }
      }
      // real retrieval, not chance (1 in 60): the counter-argument is usually among the hits, often first
      assertThat(goldInTop).isGreaterThan(2 * queries.size() / 3);
      assertThat(goldFirst).isGreaterThan(queries.size() / 4);
    });
  }
}
