package dev.gecko.core;

import dev.gecko.core.internal.model.BuiltInModels;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelPackageTest {
  @Test
  void sourcesReadWholeFromJarsAndFiles(@TempDir Path dir) throws Exception {
    // a jar entry (the built-in model's tokenizer), read at its recorded size and as a stream
    ModelSource tokenizer = ModelPackage.builtIn("bge-small-en-v1.5-int8").tokenizer();
    byte[] streamed;
    try (InputStream in = tokenizer.open()) {
      streamed = in.readAllBytes();
    }
    assertThat(tokenizer.readAllBytes()).hasSizeGreaterThan(100_000).isEqualTo(streamed);
    Path file = dir.resolve("model.onnx");
    Files.write(file, new byte[] {1, 2, 3});
    assertThat(ModelSource.of(file).readAllBytes()).containsExactly(1, 2, 3);
    assertThatThrownBy(() -> ModelSource.of(dir.resolve("missing.onnx")).readAllBytes())
        .isInstanceOf(IOException.class).hasMessageContaining("missing.onnx");
    assertThatThrownBy(() -> ModelSource.ofResource("no/such/model.onnx", getClass().getClassLoader())
        .readAllBytes()).isInstanceOf(IOException.class).hasMessageContaining("no/such/model.onnx");
  }

  private static final List<String> TEXTS = List.of("A man is playing a guitar.", "Ownership rules in Rust.", "");

  private static void extract(String resource, Path target) throws IOException {
    Files.createDirectories(target.getParent());
    try (InputStream in = ModelPackageTest.class.getClassLoader().getResourceAsStream(resource)) {
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  @Test
  void sentenceTransformersExportLoadsWithoutAManifest(@TempDir Path dir) throws Exception {
    // the layout of an ONNX export of sentence-transformers/all-MiniLM-L6-v2
    extract("gecko-models/all-minilm-l6-v2-q.onnx", dir.resolve("onnx/model.onnx"));
    extract("gecko-models/all-minilm-l6-v2-q-tokenizer.json", dir.resolve("tokenizer.json"));
    Files.writeString(dir.resolve("modules.json"), """
        [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
         {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
         {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]""");
    Files.createDirectories(dir.resolve("1_Pooling"));
    Files.writeString(dir.resolve("1_Pooling/config.json"), """
        {"word_embedding_dimension": 384, "pooling_mode_cls_token": false, "pooling_mode_mean_tokens": true,
         "pooling_mode_max_tokens": false, "pooling_mode_mean_sqrt_len_tokens": false}""");
    Files.writeString(dir.resolve("sentence_bert_config.json"), "{\"max_seq_length\": 256, \"do_lower_case\": false}");
    Files.writeString(dir.resolve("config_sentence_transformers.json"), """
        {"prompts": {"query": "query: ", "document": "passage: "}, "default_prompt_name": null}""");

    ModelPackage pkg = ModelPackage.fromDirectory(dir);
    assertThat(pkg.pooling()).isEqualTo(Pooling.MEAN);
    assertThat(pkg.maxTokens()).isEqualTo(256);
    assertThat(pkg.dimensions()).isEqualTo(384);
    assertThat(pkg.promptTemplate(TaskType.RETRIEVAL_QUERY)).contains("query: {text}");
    assertThat(pkg.render(EmbedRequest.document("x").withTitle("T"))).isEqualTo("passage: T x");
    assertThat(pkg.defaultPrompt()).isEmpty();
    // a default prompt that names none of the prompts, or prompts that are not an object, are
    // refused as sentence-transformers refuses them, not read as no prompt
    Path st = dir.resolve("config_sentence_transformers.json");
    String config = Files.readString(st);
    Files.writeString(st, "{\"prompts\": {\"query\": \"query: \"}, \"default_prompt_name\": \"classification\"}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).isInstanceOf(InvalidDataException.class)
        .hasMessage(st + ": field 'default_prompt_name': 'classification' is not one of its prompts [query]");
    Files.writeString(st, "{\"prompts\": [\"query: \"]}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).isInstanceOf(InvalidDataException.class)
        .hasMessage(st + ": field 'prompts' must be an object of names and prefixes, was array");
    Files.writeString(st, "{\"prompts\": {\"query\": \"query: \", \"passage\": \"passage: \"}, "
        + "\"default_prompt_name\": \"passage\"}");
    assertThat(ModelPackage.fromDirectory(dir).defaultPrompt()).contains("passage: {text}");
    Files.writeString(st, config);
    try (GeckoEmbedder fromDir = GeckoEmbedder.builder().model(dir.toString()).build();
        GeckoEmbedder builtIn = GeckoEmbedder.builder().model("all-MiniLM-L6-v2-int8").build()) {
      List<float[]> a = fromDir.embedAll(TEXTS, 384);
      List<float[]> b = builtIn.embedAll(TEXTS, 384);
      for (int i = 0; i < TEXTS.size(); i++) {
        assertThat(a.get(i)).isEqualTo(b.get(i));
      }
    }
  }

  @Test
  void aSentenceTransformersLayoutWithALayerGeckoWouldSkipIsRefused(@TempDir Path dir) throws Exception {
    extract("gecko-models/all-minilm-l6-v2-q.onnx", dir.resolve("onnx/model.onnx"));
    extract("gecko-models/all-minilm-l6-v2-q-tokenizer.json", dir.resolve("tokenizer.json"));
    Files.createDirectories(dir.resolve("1_Pooling"));
    Path pooling = dir.resolve("1_Pooling/config.json");
    Path modules = dir.resolve("modules.json");
    String transformerAndPooling = """
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}""";
    // a Dense projection after the pooling (LaBSE, distiluse-*): its vectors are not the pooled ones
    Files.writeString(modules, "[" + transformerAndPooling + """
        ,
         {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}]""");
    Files.writeString(pooling, "{\"word_embedding_dimension\": 384, \"pooling_mode_mean_tokens\": true}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("modules.json").hasMessageContaining("module 2 is a sentence_transformers.models.Dense");
    Files.writeString(modules, "[" + transformerAndPooling + "]");
    assertThat(ModelPackage.fromDirectory(dir).pooling()).isEqualTo(Pooling.MEAN);
    // two modes are concatenated by sentence-transformers; either alone would be another vector
    Files.writeString(pooling, "{\"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": true}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("config.json")
        .hasMessageContaining("sets pooling_mode_cls_token and pooling_mode_mean_tokens");
    Files.writeString(pooling, "{\"pooling_mode_max_tokens\": true}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).hasMessageContaining("sets pooling_mode_max_tokens");
    Files.writeString(pooling, "{\"pooling_mode_mean_tokens\": true, \"include_prompt\": false}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).hasMessageContaining("include_prompt false");
  }

  @Test
  void aHuggingFaceHubSnapshotLoadsThroughItsLinksIntoBlobs(@TempDir Path dir) throws Exception {
    // the hub cache: snapshots/REV/ holds links into the repository's blobs/
    Path repo = dir.resolve("models--sentence-transformers--all-MiniLM-L6-v2");
    Path blobs = Files.createDirectories(repo.resolve("blobs"));
    Path snapshot = Files.createDirectories(repo.resolve("snapshots/c9745ed1d9f207416be6d2e6f8de32d1f16199bf"));
    extract("gecko-models/all-minilm-l6-v2-q.onnx", blobs.resolve("a1"));
    extract("gecko-models/all-minilm-l6-v2-q-tokenizer.json", blobs.resolve("b2"));
    Files.writeString(blobs.resolve("c3"), "{\"word_embedding_dimension\": 384, \"pooling_mode_mean_tokens\": true}");
    Files.createDirectories(snapshot.resolve("onnx"));
    Files.createDirectories(snapshot.resolve("1_Pooling"));
    Files.createSymbolicLink(snapshot.resolve("onnx/model.onnx"), Path.of("../../../blobs/a1"));
    Files.createSymbolicLink(snapshot.resolve("tokenizer.json"), Path.of("../../blobs/b2"));
    Files.createSymbolicLink(snapshot.resolve("1_Pooling/config.json"), Path.of("../../../blobs/c3"));
    Files.writeString(snapshot.resolve("modules.json"), """
        [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
         {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]""");
    ModelPackage pkg = ModelPackage.fromDirectory(snapshot);
    assertThat(pkg.pooling()).isEqualTo(Pooling.MEAN);
    try (GeckoEmbedder hub = GeckoEmbedder.builder().model(pkg).build();
        GeckoEmbedder builtIn = GeckoEmbedder.builder().model("all-MiniLM-L6-v2-int8").build()) {
      assertThat(hub.embed("hello", 64)).isEqualTo(builtIn.embed("hello", 64));
    }
    // a link anywhere else, another repository's blobs included, is still refused
    Path other = Files.createDirectories(dir.resolve("models--someone--else/blobs"));
    Files.copy(blobs.resolve("b2"), other.resolve("b2"));
    Files.delete(snapshot.resolve("tokenizer.json"));
    Files.createSymbolicLink(snapshot.resolve("tokenizer.json"), other.resolve("b2"));
    assertThatThrownBy(() -> ModelPackage.fromDirectory(snapshot)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("points outside the folder");
  }

  @Test
  void aBuiltInModelHasOneFingerprintHoweverItsResourcesArePackaged(@TempDir Path dir) throws Exception {
    ModelPackage builtIn = ModelPackage.builtIn("bge-small-en-v1.5-int8");
    // the same bytes on an exploded class path (an IDE's, Spring Boot's nested jars, a stored entry)
    Path root = Files.createDirectories(dir.resolve("classes/copy"));
    try (InputStream in = builtIn.model().open()) {
      Files.copy(in, root.resolve("model.onnx"));
    }
    try (InputStream in = builtIn.tokenizer().open()) {
      Files.copy(in, root.resolve("tokenizer.json"));
    }
    // and in a jar of its own with compressed entries, whose central directory records their CRC-32
    // (the built-in may itself come from target/classes in a reactor build)
    Path jar = dir.resolve("models.jar");
    try (java.util.jar.JarOutputStream out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar))) {
      for (String name : List.of("model.onnx", "tokenizer.json")) {
        out.putNextEntry(new java.util.jar.JarEntry("copy/" + name)); // DEFLATED, the default
        Files.copy(root.resolve(name), out);
        out.closeEntry();
      }
    }
    try (java.net.URLClassLoader loader = new java.net.URLClassLoader(
        new java.net.URL[] {dir.resolve("classes").toUri().toURL()}, null);
        java.net.URLClassLoader jarLoader = new java.net.URLClassLoader(new java.net.URL[] {jar.toUri().toURL()}, null)) {
      ModelPackage exploded = builtIn.toBuilder().model(ModelSource.ofResource("copy/model.onnx", loader))
          .tokenizer(ModelSource.ofResource("copy/tokenizer.json", loader)).build();
      ModelPackage jarred = builtIn.toBuilder().model(ModelSource.ofResource("copy/model.onnx", jarLoader))
          .tokenizer(ModelSource.ofResource("copy/tokenizer.json", jarLoader)).build();
      assertThat(jarred.model().resourceUrl()).get().extracting(java.net.URL::getProtocol).isEqualTo("jar");
      assertThat(exploded.fingerprint()).isEqualTo(jarred.fingerprint()).isEqualTo(builtIn.fingerprint());
      Files.write(root.resolve("tokenizer.json"), new byte[] {'{', '}'});
      ModelPackage changed = builtIn.toBuilder().model(ModelSource.ofResource("copy/model.onnx", loader))
          .tokenizer(ModelSource.ofResource("copy/tokenizer.json", loader)).build();
      assertThat(changed.fingerprint()).isNotEqualTo(builtIn.fingerprint());
    }
  }

  @Test
  void manifestFolderLoadsAndHonoursItsPrompts(@TempDir Path dir) throws Exception {
    extract("gecko-models/bge-small-en-v1.5-q.onnx", dir.resolve("model.onnx"));
    extract("gecko-models/bge-small-en-v1.5-q-tokenizer.json", dir.resolve("tokenizer.json"));
    Files.writeString(dir.resolve(ModelPackage.MANIFEST), """
        {"name": "my-gecko", "dimensions": 384, "pooling": "cls", "maxTokens": 512,
         "model": "model.onnx", "tokenizer": "tokenizer.json", "promptFormat": "gecko",
         "matryoshkaDims": [384, 256, 128]}""");
    ModelPackage pkg = ModelPackage.fromDirectory(dir);
    assertThat(pkg.name()).isEqualTo("my-gecko");
    assertThat(pkg.matryoshkaDims()).containsExactly(384, 256, 128);
    assertThat(pkg.render(EmbedRequest.query("q"))).isEqualTo("task: search result | query: q");
    assertThat(pkg.render(EmbedRequest.document("t").withTitle(null))).isEqualTo("title: none | text: t");
    assertThat(pkg.render(EmbedRequest.document("t").withTitle("A"))).isEqualTo("title: A | text: t");
    assertThat(pkg.render(EmbedRequest.of(TaskType.FACT_VERIFICATION, "c"))).isEqualTo("task: fact checking | query: c");
    assertThat(pkg.render(EmbedRequest.of("plain"))).isEqualTo("plain");
    try (GeckoEmbedder e = GeckoEmbedder.builder().model(pkg).build();
        GeckoEmbedder builtIn = GeckoEmbedder.builder().model("bge-small-en-v1.5-int8").build()) {
      assertThat(e.embed("hello", 128)).isEqualTo(builtIn.embed("hello", 128));
      assertThat(e.embed(EmbedRequest.query("q"), 64)).isEqualTo(builtIn.embed("task: search result | query: q", 64));
    }
  }

  @Test
  void badManifestsNameTheFileAndField(@TempDir Path dir) throws Exception {
    Path manifest = dir.resolve(ModelPackage.MANIFEST);
    Files.writeString(manifest, "{\"name\": \"x\", \"pooling\": \"max\", \"maxTokens\": 128}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining(manifest.toString()).hasMessageContaining("pooling");
    Files.writeString(manifest, "{\"name\": \"x\", \"pooling\": \"cls\", \"maxTokens\": \"many\"}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).hasMessageContaining("maxTokens");
    Files.writeString(manifest, "{\"name\": \"x\", \"pooling\": \"cls\", \"maxTokens\": 128}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).isInstanceOf(java.nio.file.NoSuchFileException.class)
        .hasMessage(dir.resolve("model.onnx") + ": file not found (field 'model' of " + manifest + ")");
    assertThatThrownBy(() -> ModelPackage.resolve(dir.toString())).isInstanceOf(java.io.UncheckedIOException.class)
        .hasCauseInstanceOf(java.nio.file.NoSuchFileException.class);
    Files.createDirectories(dir.resolve("model.onnx"));
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).isInstanceOf(java.nio.file.FileSystemException.class)
        .isNotInstanceOf(java.nio.file.NoSuchFileException.class)
        .hasMessage(dir.resolve("model.onnx") + ": a folder, where field 'model' of " + manifest + " names a file");
    Files.delete(dir.resolve("model.onnx"));
    Files.writeString(manifest, "{\"name\": \"x\", \"pooling\": \"cls\", \"maxTokens\": 128, \"model\": \"../../etc/passwd\"}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).hasMessageContaining("outside the folder");
    Files.writeString(manifest, "{broken");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).hasMessageContaining("not valid JSON");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir.resolve("missing"))).isInstanceOf(java.nio.file.NoSuchFileException.class)
        .hasMessageContaining("folder not found");
    // a corrupt ONNX file: a clear error, not a crash
    Files.writeString(dir.resolve("model.onnx"), "not an onnx graph");
    extract("gecko-models/bge-small-en-v1.5-q-tokenizer.json", dir.resolve("tokenizer.json"));
    Files.writeString(manifest, "{\"name\": \"x\", \"pooling\": \"cls\", \"maxTokens\": 128, \"prompts\": {\"SEARCH\": \"{text}\"}}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).hasMessageContaining("prompts.SEARCH");
    Files.writeString(manifest, "{\"name\": \"x\", \"pooling\": \"cls\", \"maxTokens\": 128}");
    assertThatThrownBy(() -> GeckoEmbedder.builder().model(ModelPackage.fromDirectory(dir)).build())
        .isInstanceOf(ModelLoadException.class).hasMessageContaining("model.onnx");
  }

  @Test
  void aManifestThatIsNotAnObjectIsRefusedNamingTheFile(@TempDir Path dir) throws Exception {
    Path manifest = dir.resolve(ModelPackage.MANIFEST);
    for (String notAnObject : new String[] {"null", "", "[1]", "\"x\""}) {
      Files.writeString(manifest, notAnObject);
      assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).as(notAnObject).isInstanceOf(InvalidDataException.class)
          .hasMessageStartingWith(manifest + ": expected a JSON object");
    }
  }

  @Test
  void manifestValuesOfTheWrongJsonTypeAreRefusedNotConverted(@TempDir Path dir) throws Exception {
    Path manifest = dir.resolve(ModelPackage.MANIFEST);
    String[][] cases = {
        {"\"maxTokens\": 512.9", "field 'maxTokens': must be an integer, was 512.9"},
        {"\"maxTokens\": \"512\"", "field 'maxTokens': must be an integer, was the string \"512\""},
        {"\"maxTokens\": 512, \"dimensions\": true", "field 'dimensions': must be an integer, was true"},
        {"\"maxTokens\": 512, \"name\": 5", "field 'name': must be a string, was 5"},
        {"\"maxTokens\": 512, \"prompts\": {\"RETRIEVAL_QUERY\": 1}", "field 'prompts.RETRIEVAL_QUERY': must be a string"},
        {"\"maxTokens\": 512, \"matryoshkaDims\": [384, \"64\"]", "field 'matryoshkaDims[1]': must be an integer"},
        {"\"maxTokens\": 512, \"matryoshkaDims\": [64, null]", "field 'matryoshkaDims'"},
        {"\"maxTokens\": 512, \"matryoshkaDims\": [64, 384, 64]", "field 'matryoshkaDims': widths must be listed widest first"},
        {"\"maxTokens\": 512, \"matryoshkaDims\": [384, 64, 64]", "field 'matryoshkaDims': widths must be listed widest first"},
    };
    for (String[] c : cases) {
      String fields = c[0].contains("\"name\"") ? c[0] : c[0] + ", \"name\": \"x\"";
      Files.writeString(manifest, "{\"pooling\": \"cls\", " + fields + "}");
      assertThatThrownBy(() -> ModelManifest.read(manifest)).as(c[0]).isInstanceOf(InvalidDataException.class)
          .hasMessageStartingWith(manifest + ": " + c[1]);
    }
    Files.writeString(manifest, "{\"name\": \"x\", \"pooling\": \"cls\", \"maxTokens\": 512, \"matryoshkaDims\": [64, null]}");
    assertThatThrownBy(() -> ModelManifest.read(manifest)).hasMessageContaining("null at [1]");
    assertThatThrownBy(() -> new ModelManifest("x", "cls", 512, null, null, null, null, null, null,
        java.util.Arrays.asList(64, null), null, null)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("field 'matryoshkaDims'").hasMessageContaining("null at [1]");
    Files.writeString(manifest, "{\"name\": \"x\", \"pooling\": \"cls\", \"maxTokens\": 512, \"matryoshkaDims\": [384, 128, 64]}");
    assertThat(ModelManifest.read(manifest).matryoshkaDims()).containsExactly(384, 128, 64);
  }

  @Test
  void anAbsolutePathInAManifestIsRefusedEvenInsideTheFolder(@TempDir Path dir) throws Exception {
    Files.write(dir.resolve("model.onnx"), new byte[] {1});
    Files.write(dir.resolve("tokenizer.json"), new byte[] {2});
    Files.writeString(dir.resolve(ModelPackage.MANIFEST), "{\"name\": \"x\", \"pooling\": \"cls\", \"maxTokens\": 128,"
        + " \"model\": \"" + dir.toAbsolutePath().resolve("model.onnx").toString().replace("\\", "\\\\") + "\"}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining(ModelPackage.MANIFEST).hasMessageContaining("field 'model' must be a path relative to the folder");
  }

  @Test
  void sentenceTransformersValuesTheBuilderRefusesNameTheirFileAndField(@TempDir Path dir) throws Exception {
    extract("gecko-models/all-minilm-l6-v2-q.onnx", dir.resolve("onnx/model.onnx"));
    extract("gecko-models/all-minilm-l6-v2-q-tokenizer.json", dir.resolve("tokenizer.json"));
    Files.writeString(dir.resolve("modules.json"), """
        [{"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]""");
    Files.createDirectories(dir.resolve("1_Pooling"));
    Files.writeString(dir.resolve("1_Pooling/config.json"), """
        {"word_embedding_dimension": 384, "pooling_mode_mean_tokens": true}""");
    Path sbert = dir.resolve("sentence_bert_config.json");
    Files.writeString(sbert, "{\"max_seq_length\": 1}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining(sbert.toString()).hasMessageContaining("max_seq_length");
    Files.writeString(sbert, "{\"max_seq_length\": 256}");
    Path st = dir.resolve("config_sentence_transformers.json");
    Files.writeString(st, "{\"prompts\": {\"query\": null}}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining(st.toString()).hasMessageContaining("prompts.query").hasMessageContaining("string");
    Files.writeString(st, "{\"prompts\": {\"query\": \"query: {text} \"}}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("prompts.query").hasMessageContaining("{text}");
    Files.writeString(st, "{\"prompts\": {\"query\": \"q: \", \"query\": \"other: \"}}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).hasMessageContaining(st.toString())
        .hasMessageContaining("query");
    Files.writeString(st, "{\"prompts\": {\"query\": \"q: \"}}");
    assertThat(ModelPackage.fromDirectory(dir).promptTemplate(TaskType.RETRIEVAL_QUERY)).contains("q: {text}");
    // jina-embeddings-v3's prompt names map; a name that maps to no task type is said to be unused
    Files.writeString(st, "{\"prompts\": {\"retrieval.query\": \"Q: \", \"retrieval.passage\": \"P: \","
        + " \"text-matching\": \"S: \", \"separation\": \"X: \"}}");
    List<String> logged;
    try (LoggedLines log = new LoggedLines(dev.gecko.core.internal.model.ModelFolders.class.getName(),
        java.util.logging.Level.INFO)) {
      ModelPackage jina = ModelPackage.fromDirectory(dir);
      assertThat(jina.promptTemplate(TaskType.RETRIEVAL_QUERY)).contains("Q: {text}");
      assertThat(jina.promptTemplate(TaskType.RETRIEVAL_DOCUMENT)).contains("P: {text}");
      assertThat(jina.promptTemplate(TaskType.SEMANTIC_SIMILARITY)).contains("S: {text}");
      logged = log.levelsAndMessages();
    }
    assertThat(logged).singleElement().asString().startsWith("INFO " + st + ": prompt separation names no task type"
        + " and is not used");
    Files.writeString(st, "{\"prompts\": {\"query\": \"q: \", \"retrieval.query\": \"Q: \"}}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining(st.toString()).hasMessageContaining("prompts 'query' and 'retrieval.query' are both for"
            + " RETRIEVAL_QUERY");
    Files.writeString(st, "{\"prompts\": {\"query\": \"q: \"}}");
    // a manifest path with a NUL character names the manifest
    Path manifestDir = dir.resolve("m");
    Files.createDirectories(manifestDir);
    Files.writeString(manifestDir.resolve(ModelPackage.MANIFEST),
        "{\"name\": \"x\", \"pooling\": \"cls\", \"maxTokens\": 128, \"model\": \"a\\u0000b.onnx\"}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(manifestDir)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining(ModelPackage.MANIFEST).hasMessageContaining("model");
  }

  @Test
  void aBrokenTokenizerBesideAGoodGraphIsAModelLoadErrorNamingIt(@TempDir Path dir) throws Exception {
    extract("gecko-models/bge-small-en-v1.5-q.onnx", dir.resolve("model.onnx"));
    Files.writeString(dir.resolve("tokenizer.json"), "{\"not\": \"a tokenizer\"");
    Files.writeString(dir.resolve(ModelPackage.MANIFEST), """
        {"name": "x", "dimensions": 384, "pooling": "cls", "maxTokens": 512,
         "model": "model.onnx", "tokenizer": "tokenizer.json"}""");
    ModelPackage pkg = ModelPackage.fromDirectory(dir);
    assertThatThrownBy(() -> GeckoEmbedder.builder().model(pkg).build()).isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("tokenizer.json");
    Files.delete(dir.resolve("tokenizer.json"));
    assertThatThrownBy(() -> GeckoEmbedder.builder().model(pkg).build()).isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("tokenizer.json");
  }

  @Test
  void builtInPromptsFollowThePublishedConfigurations() {
    ModelPackage bge = ModelPackage.builtIn("bge-small-en-v1.5-int8");
    assertThat(bge.render(EmbedRequest.query("q"))).isEqualTo("Represent this sentence for searching relevant passages: q");
    for (TaskType t : TaskType.values()) {
      if (t != TaskType.RETRIEVAL_QUERY) {
        assertThat(bge.promptTemplate(t)).as(t.name()).isEmpty();
      }
    }
    ModelPackage e5 = ModelPackage.builtIn("e5-small-v2");
    assertThat(e5.render(EmbedRequest.query("q"))).isEqualTo("query: q");
    assertThat(e5.render(EmbedRequest.document("body").withTitle("Title"))).isEqualTo("passage: Title body");
    assertThat(e5.render(EmbedRequest.of(TaskType.SEMANTIC_SIMILARITY, "s"))).isEqualTo("query: s");
    assertThat(e5.render(EmbedRequest.of("plain"))).isEqualTo("plain");
    assertThat(ModelPackage.builtIn("all-MiniLM-L6-v2").maxTokens()).isEqualTo(256);
    assertThat(ModelPackage.builtIn("all-MiniLM-L6-v2").prompts()).isEmpty();
    assertThat(ModelPackage.builtInNames()).containsExactly("bge-small-en-v1.5", "bge-small-en-v1.5-int8",
        "all-MiniLM-L6-v2", "all-MiniLM-L6-v2-int8", "e5-small-v2", "e5-small-v2-int8");
  }

  /** A manifest folder with small placeholder files (enough for ModelPackage; not for an embedder). */
  private static Path manifestFolder(Path dir, String extraFields) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(ModelPackage.MANIFEST), "{\"name\": \"x\", \"pooling\": \"cls\", \"maxTokens\": 128"
        + extraFields + "}");
    return dir;
  }

  @Test
  void filesThatAreLinksLeavingTheFolderAreRefused(@TempDir Path root) throws Exception {
    Path outside = Files.createDirectories(root.resolve("outside"));
    Files.write(outside.resolve("model.onnx"), new byte[] {1});
    Files.write(outside.resolve("tokenizer.json"), new byte[] {2});
    Files.write(outside.resolve("adapter.safetensors"), new byte[] {3});
    Path dir = manifestFolder(root.resolve("pkg"), ", \"adapter\": \"adapter.safetensors\"");
    Files.createSymbolicLink(dir.resolve("model.onnx"), outside.resolve("model.onnx"));
    Files.write(dir.resolve("tokenizer.json"), new byte[] {2});
    Files.write(dir.resolve("adapter.safetensors"), new byte[] {3});
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining(ModelPackage.MANIFEST).hasMessageContaining("'model'")
        .hasMessageContaining("outside the folder");
    // a relative link that climbs out, on the tokenizer
    Files.delete(dir.resolve("model.onnx"));
    Files.write(dir.resolve("model.onnx"), new byte[] {1});
    Files.delete(dir.resolve("tokenizer.json"));
    Files.createSymbolicLink(dir.resolve("tokenizer.json"), Path.of("../outside/tokenizer.json"));
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).hasMessageContaining("'tokenizer'")
        .hasMessageContaining("outside the folder");
    // a folder inside the package that is a link to elsewhere, on the adapter
    Files.delete(dir.resolve("tokenizer.json"));
    Files.write(dir.resolve("tokenizer.json"), new byte[] {2});
    Files.createSymbolicLink(dir.resolve("weights"), outside);
    Files.writeString(dir.resolve(ModelPackage.MANIFEST),
        "{\"name\": \"x\", \"pooling\": \"cls\", \"maxTokens\": 128, \"adapter\": \"weights/adapter.safetensors\"}");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).hasMessageContaining("'adapter'")
        .hasMessageContaining("outside the folder");
    // links that stay inside are fine, and so is a package folder reached through a link
    Files.createDirectories(dir.resolve("inner"));
    Files.write(dir.resolve("inner/adapter.safetensors"), new byte[] {3});
    Files.delete(dir.resolve("adapter.safetensors"));
    Files.createSymbolicLink(dir.resolve("adapter.safetensors"), Path.of("inner/adapter.safetensors"));
    Files.writeString(dir.resolve(ModelPackage.MANIFEST),
        "{\"name\": \"x\", \"pooling\": \"cls\", \"maxTokens\": 128, \"adapter\": \"adapter.safetensors\"}");
    assertThat(ModelPackage.fromDirectory(dir).adapter()).isPresent();
    Path linkToPackage = Files.createSymbolicLink(root.resolve("via-link"), dir);
    assertThat(ModelPackage.fromDirectory(linkToPackage).name()).isEqualTo("x");
  }

  @Test
  void aSentenceTransformersGraphThatIsALinkLeavingTheFolderIsRefused(@TempDir Path root) throws Exception {
    Path outside = Files.createDirectories(root.resolve("outside"));
    Files.write(outside.resolve("model.onnx"), new byte[] {1});
    Path dir = Files.createDirectories(root.resolve("st"));
    Files.writeString(dir.resolve("modules.json"), "[]");
    Files.createDirectories(dir.resolve("1_Pooling"));
    Files.writeString(dir.resolve("1_Pooling/config.json"), "{\"pooling_mode_mean_tokens\": true}");
    Files.write(dir.resolve("tokenizer.json"), new byte[] {2});
    Files.createSymbolicLink(dir.resolve("model.onnx"), outside.resolve("model.onnx"));
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("model.onnx").hasMessageContaining("outside the folder");
    // modules.json may not send the pooling config out of the folder either
    Files.delete(dir.resolve("model.onnx"));
    Files.write(dir.resolve("model.onnx"), new byte[] {1});
    Files.createDirectories(outside.resolve("pool"));
    Files.writeString(outside.resolve("pool/config.json"), "{\"pooling_mode_mean_tokens\": true}");
    Files.writeString(dir.resolve("modules.json"), "[{\"type\": \"sentence_transformers.models.Pooling\", \"path\": \"../outside/pool\"}]");
    assertThatThrownBy(() -> ModelPackage.fromDirectory(dir)).hasMessageContaining("modules.json")
        .hasMessageContaining("outside the folder");
  }

  @Test
  void aBlankModelNameIsRefusedInsteadOfOpeningTheCurrentFolder() {
    for (String blank : new String[] {"", " ", "\t"}) {
      assertThatThrownBy(() -> ModelPackage.resolve(blank)).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("model name or path is blank: give a built-in name " + ModelPackage.builtInNames()
              + " or a model folder");
      assertThatThrownBy(() -> GeckoEmbedder.builder().model(blank)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("model name or path is blank");
    }
  }

  @Test
  void aManifestMaxTokensAboveTheGraphsPositionTableIsRefusedAtOpen(@TempDir Path dir) throws Exception {
    extract("gecko-models/bge-small-en-v1.5-q.onnx", dir.resolve("model.onnx"));
    extract("gecko-models/bge-small-en-v1.5-q-tokenizer.json", dir.resolve("tokenizer.json"));
    Path manifest = dir.resolve(ModelPackage.MANIFEST);
    Files.writeString(manifest, "{\"name\": \"long\", \"pooling\": \"cls\", \"maxTokens\": 1024}");
    ModelPackage pkg = ModelPackage.fromDirectory(dir);
    // rewritten (the graph is read anyway) and as shipped (read for the check alone)
    for (boolean rewrite : new boolean[] {true, false}) {
      assertThatThrownBy(() -> GeckoEmbedder.builder().model(pkg).fuseLayerNorm(rewrite).firstTokenOnly(rewrite).build())
          .as("rewrite %s", rewrite).isInstanceOf(ModelLoadException.class)
          .hasMessageContaining(manifest + ": field 'maxTokens' is 1024")
          .hasMessageContaining("embeddings.position_embeddings.weight_quantized")
          .hasMessageContaining("512 positions");
    }
    // at the table's size it opens and embeds a text longer than the table
    Files.writeString(manifest, "{\"name\": \"long\", \"pooling\": \"cls\", \"maxTokens\": 512}");
    try (GeckoEmbedder e = GeckoEmbedder.builder().model(dir.toString()).build()) {
      assertThat(e.embed("word ".repeat(2000), 8)).hasSize(8);
    }
  }

  @Test
  void aSentenceTransformersMaxSeqLengthAboveThePositionTableIsRefusedAtOpen(@TempDir Path dir) throws Exception {
    extract("gecko-models/all-minilm-l6-v2-q.onnx", dir.resolve("model.onnx"));
    extract("gecko-models/all-minilm-l6-v2-q-tokenizer.json", dir.resolve("tokenizer.json"));
    Files.writeString(dir.resolve("modules.json"), "[]");
    Files.createDirectories(dir.resolve("1_Pooling"));
    Files.writeString(dir.resolve("1_Pooling/config.json"), "{\"pooling_mode_mean_tokens\": true}");
    Path sbert = dir.resolve("sentence_bert_config.json");
    Files.writeString(sbert, "{\"max_seq_length\": 2048}");
    assertThatThrownBy(() -> GeckoEmbedder.builder().model(dir.toString()).build())
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining(sbert + ": field 'max_seq_length' is 2048").hasMessageContaining("512 positions");
  }

  @Test
  void aBuiltInGraphIsCheckedAgainstItsKnownTable() throws Exception {
    ModelPackage longer = ModelPackage.builtIn("all-MiniLM-L6-v2-int8").toBuilder().maxTokens(600).build();
    assertThatThrownBy(() -> GeckoEmbedder.builder().model(longer).build()).isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("maxTokens is 600").hasMessageContaining("512 positions");
    // what is known of the built-in graphs is what their graphs say
    for (String name : ModelPackage.builtInNames()) {
      ModelPackage pkg = ModelPackage.builtIn(name);
      assertThat(BuiltInModels.positions(pkg.model()))
          .hasValue((int) dev.gecko.core.internal.onnx.PositionTable.find(pkg.model().readAllBytes()).orElseThrow().positions());
      assertThat(pkg.maxTokens()).isLessThanOrEqualTo(BuiltInModels.positions(pkg.model()).getAsInt());
    }
    assertThat(BuiltInModels.positions(ModelSource.of(Path.of("bge-small-en-v1.5.onnx")))).isEmpty();
  }

  /** What a package declares of its width is checked against its graph when the graph opens. */
  @Test
  void aDeclaredWidthOrMatryoshkaWidthTheGraphDoesNotHaveIsRefusedAtOpen() {
    ModelPackage wider = ModelPackage.builtIn("all-MiniLM-L6-v2-int8").toBuilder().dimensions(512).build();
    assertThatThrownBy(() -> GeckoEmbedder.builder().model(wider).build()).isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("package declares 512 dimensions but the graph outputs 384");
    // no width declared: the builder cannot check the Matryoshka widths, the open does
    ModelPackage matryoshka = ModelPackage.builtIn("all-MiniLM-L6-v2-int8").toBuilder().dimensions(0)
        .matryoshkaDim(1024).matryoshkaDim(64).build();
    assertThatThrownBy(() -> GeckoEmbedder.builder().model(matryoshka).build()).isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("package declares Matryoshka width 1024 but the graph outputs 384");
  }

  /** Widths declared in any order are held widest first, each once, so a manifest can always describe the package. */
  @Test
  void matryoshkaWidthsDeclaredInAnyOrderAreHeldWidestFirst() {
    ModelPackage pkg = ModelPackage.builtIn("bge-small-en-v1.5-int8").toBuilder()
        .matryoshkaDim(64).matryoshkaDim(384).matryoshkaDim(128).matryoshkaDim(64).build();
    assertThat(pkg.matryoshkaDims()).containsExactly(384, 128, 64);
    assertThat(ModelManifest.describing(pkg).matryoshkaDims()).containsExactly(384, 128, 64);
  }
}
