package dev.gecko.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelManifest;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.TaskType;
import dev.gecko.core.io.Passage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model folder whose files change at the same path in a long-lived application (a notebook, a
 * service in local mode): the executors, which keep the embedders they opened, must not go on
 * embedding with the old files.
 */
class GeckoEmbeddingsModelFilesTest {
  private static List<Passage> passages;

  @BeforeAll
  static void read() {
    passages = TestSpark.arguanaPassages(6);
  }

  /** Writes {@code builtIn}'s graph, tokenizer and manifest into {@code folder}, over what it holds. */
  static void writeModel(ModelPackage builtIn, Path folder) throws IOException {
    Files.createDirectories(folder);
    try (InputStream m = builtIn.model().open(); InputStream t = builtIn.tokenizer().open()) {
      Files.copy(m, folder.resolve("model.onnx"), StandardCopyOption.REPLACE_EXISTING);
      Files.copy(t, folder.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
    }
    ModelManifest.describing(builtIn).write(folder.resolve(ModelPackage.MANIFEST));
  }

  private static List<EmbedRequest> documents() {
    List<EmbedRequest> r = new ArrayList<>();
    for (Passage p : passages) {
      r.add(new EmbedRequest(p.text(), TaskType.RETRIEVAL_DOCUMENT, p.title()));
    }
    return r;
  }

  private static GeckoEmbeddings embed(Path folder) {
    return new GeckoEmbeddings().setModel(folder.toString()).setTitleCol("title").setTaskType(TaskType.RETRIEVAL_DOCUMENT);
  }

  /**
   * A folder overwritten in place with another model, then transformed again in the same
   * application: the vectors are the new model's, those of a fresh embedder on the folder. Before,
   * the executor (here the driver's JVM) kept the embedder it had opened for the path and gave the
   * old model's vectors, silently.
   */
  @Test
  void aModelFolderRetrainedInPlaceIsUsedByTheNextTransform(@TempDir Path dir) throws Exception {
    Path folder = dir.resolve("retrained-" + System.nanoTime()); // a path no other test's embedder has opened
    writeModel(ModelPackage.builtIn(GeckoEmbedder.Builder.DEFAULT_MODEL), folder);
    Dataset<Row> in = TestSpark.passages(passages, 1); // one partition: one embedder call, as the fresh one below
    Map<String, float[]> before = GeckoEmbeddingsTest.vectors(embed(folder).transform(in), "embedding");

    writeModel(ModelPackage.builtIn(GeckoEmbeddingsTest.FP32), folder); // "retrained": same path, same width
    Map<String, float[]> after = GeckoEmbeddingsTest.vectors(embed(folder).transform(in), "embedding");

    List<float[]> expected;
    try (GeckoEmbedder fresh = GeckoEmbedder.builder().model(folder.toString()).threads(1)
        .maxBatchTokens(GeckoEmbedder.Builder.DEFAULT_MAX_BATCH_TOKENS).coalescingWindow(Duration.ZERO).build()) {
      assertThat(fresh.model().name()).isEqualTo(GeckoEmbeddingsTest.FP32);
      expected = fresh.embedRequests(documents(), fresh.dimensions());
    }
    assertThat(after).hasSize(passages.size());
    for (int i = 0; i < passages.size(); i++) {
      String id = passages.get(i).id();
      // the same graph, tokenizer, requests and batches: the same vectors, bit for bit
      assertThat(after.get(id)).as(id).containsExactly(expected.get(i));
      assertThat(TestSpark.dot(after.get(id), before.get(id))).as("cosine of the old and new model's vectors, %s", id)
          .isLessThan(0.9);
    }
  }

  /**
   * The folder changes between {@code transform} (where the driver reads the model) and the action
   * (where the tasks open it): the tasks fail, naming the path, rather than embed with files the
   * driver never saw. The next {@code transform} sees the new files and embeds with them.
   */
  @Test
  void aModelFolderChangedAfterTransformFailsTheTasksNamingThePath(@TempDir Path dir) throws Exception {
    Path folder = dir.resolve("changed-" + System.nanoTime());
    writeModel(ModelPackage.builtIn(GeckoEmbeddingsTest.FP32), folder);
    Dataset<Row> in = TestSpark.passages(passages.subList(0, 2), 1);
    Dataset<Row> defined = embed(folder).transform(in); // the driver reads the fp32 model's files here

    writeModel(ModelPackage.builtIn(GeckoEmbedder.Builder.DEFAULT_MODEL), folder);
    assertThatThrownBy(defined::collectAsList).isInstanceOf(SparkException.class)
        .hasMessageContaining("ModelLoadException")
        .hasMessageContaining("the files of model " + folder + " on this node differ from what the driver saw");

    Map<String, float[]> again = GeckoEmbeddingsTest.vectors(embed(folder).transform(in), "embedding");
    Map<String, float[]> builtIn = GeckoEmbeddingsTest.vectors(new GeckoEmbeddings().setTitleCol("title")
        .setTaskType(TaskType.RETRIEVAL_DOCUMENT).transform(in), "embedding");
    // the default model's graph and tokenizer, in the same batches: its vectors, bit for bit
    assertThat(again).hasSize(2).allSatisfy((id, v) -> assertThat(v).as(id).containsExactly(builtIn.get(id)));
  }
}
