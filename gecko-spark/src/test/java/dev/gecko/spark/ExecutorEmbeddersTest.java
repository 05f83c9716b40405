package dev.gecko.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelLoadException;
import dev.gecko.core.ModelPackage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExecutorEmbeddersTest {
  /**
   * A model shipped from a Windows driver is looked up by its file name, not its whole path; on
   * POSIX a backslash stays part of a name.
   */
  @Test
  void theShippedNameIsTheLastSegmentWhateverTheDriversSeparator() {
    assertThat(ExecutorEmbedders.lastSegment("D:\\models\\m.zip")).isEqualTo("m.zip");
    assertThat(ExecutorEmbedders.lastSegment("C:\\models\\m\\")).isEqualTo("m");
    assertThat(ExecutorEmbedders.lastSegment("\\\\host\\share\\m")).isEqualTo("m");
    assertThat(ExecutorEmbedders.lastSegment("hdfs://nn/models/m/")).isEqualTo("m");
    assertThat(ExecutorEmbedders.lastSegment("/data/models/a\\b")).isEqualTo("a\\b");
    assertThat(ExecutorEmbedders.lastSegment("m")).isEqualTo("m");
  }

  /**
   * Task threads share one embedder; were their calls coalesced, a partition's int8 vectors would
   * depend on the partitions that ran beside it, and a re-executed task would change them.
   */
  @Test
  void concurrentTasksNeverShareABatch() throws Exception {
    // options no other test uses, so this embedder sees only these calls
    String fingerprint = ExecutorEmbedders.driverFingerprint(GeckoEmbedder.Builder.DEFAULT_MODEL);
    GeckoEmbedder embedder = ExecutorEmbedders.get(GeckoEmbedder.Builder.DEFAULT_MODEL, 2, 777, fingerprint);
    assertThat(ExecutorEmbedders.get(GeckoEmbedder.Builder.DEFAULT_MODEL, 2, 777, fingerprint)).isSameAs(embedder);
    assertThat(ExecutorEmbedders.get(GeckoEmbedder.Builder.DEFAULT_MODEL, 2, 777, null)).isSameAs(embedder);
    int callers = 8;
    int calls = 40;
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < callers; c++) {
        int caller = c;
        done.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < calls; i++) {
            assertThat(embedder.embed("caller " + caller + " asks question number " + i)).hasSize(384);
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(embedder.metrics().calls()).isEqualTo((long) callers * calls);
    assertThat(embedder.metrics().coalescedBatches()).isZero();
  }

  /**
   * One embedder per version of a folder's files: the driver's fingerprint picks it; a version this
   * JVM has open stays open (a task may hold it) and is still given for its fingerprint; files that
   * differ from the driver's fail, naming the path; no fingerprint (a driver that does not find the
   * model) gets the first version opened.
   */
  @Test
  void embeddersAreKeyedByTheFilesTheDriverSaw(@TempDir Path dir) throws Exception {
    Path folder = dir.resolve("versions-" + System.nanoTime());
    GeckoEmbeddingsModelFilesTest.writeModel(ModelPackage.builtIn(GeckoEmbeddingsTest.FP32), folder);
    String model = folder.toString();
    String first = ExecutorEmbedders.driverFingerprint(model);
    GeckoEmbedder v1 = ExecutorEmbedders.get(model, 1, 512, first);
    assertThat(v1.model().name()).isEqualTo(GeckoEmbeddingsTest.FP32);

    GeckoEmbeddingsModelFilesTest.writeModel(ModelPackage.builtIn(GeckoEmbedder.Builder.DEFAULT_MODEL), folder);
    String second = ExecutorEmbedders.driverFingerprint(model);
    assertThat(second).isNotEqualTo(first);
    GeckoEmbedder v2 = ExecutorEmbedders.get(model, 1, 512, second);
    assertThat(v2).isNotSameAs(v1);
    assertThat(v2.model().name()).isEqualTo(GeckoEmbedder.Builder.DEFAULT_MODEL);
    assertThat(ExecutorEmbedders.get(model, 1, 512, second)).isSameAs(v2);
    assertThat(ExecutorEmbedders.get(model, 1, 512, first)).isSameAs(v1); // open here: the driver's version
    assertThat(ExecutorEmbedders.get(model, 1, 512, null)).isSameAs(v1);
    assertThat(v1.embed("still open")).hasSize(384);

    assertThatThrownBy(() -> ExecutorEmbedders.get(model, 2, 512, first)) // not open with these options: the files are read
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("the files of model " + model + " on this node differ from what the driver saw")
        .hasMessageContaining(second.substring(0, 12)).hasMessageContaining(first.substring(0, 12));
  }

  /**
   * An archive unpacked in the working folder, as a cluster's executors find {@code --archives
   * my-model.zip} (SparkFiles' root is the working folder there), that packed the folder itself:
   * its only sub-folder is the model. Before, only a path found through SparkFiles was looked into,
   * and the wrapper folder itself was opened as the model ("not a model package").
   */
  @Test
  void aFolderHoldingOnlyTheModelFolderResolvesToIt(@TempDir Path dir) throws Exception {
    Path wrapper = dir.resolve("my-model.zip");
    Path model = Files.createDirectories(wrapper.resolve("my-model"));
    Files.writeString(model.resolve("model.onnx"), "not really a graph");
    assertThat(ExecutorEmbedders.resolve(wrapper.toString())).isEqualTo(model.toString());
    assertThat(ExecutorEmbedders.resolve(model.toString())).as("the model folder itself").isEqualTo(model.toString());
    Path other = Files.createDirectories(dir.resolve("not-a-model"));
    assertThat(ExecutorEmbedders.resolve(other.toString())).as("no model inside: the folder, for the package to refuse")
        .isEqualTo(other.toString());
  }
}
