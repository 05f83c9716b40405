package dev.gecko.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path STS_DEV = Path.of(System.getProperty("gecko.shared.dir", "../../shared"),
      "data/sts/stsbenchmark/pairs.dev.tsv");

  @Test
  void trainsAnUnsupervisedAdapterThatEmbedLoads(@TempDir Path dir) throws Exception {
    List<String> lines = Files.readAllLines(STS_DEV).subList(0, 41);
    Path data = dir.resolve("sts.tsv");
    Files.write(data, lines);
    Path out = dir.resolve("model");
    EmbedCommandTest.Run r = EmbedCommandTest.gecko("train", "--model", "bge-small-en-v1.5-int8", "--data",
        data.toString(), "--out", out.toString(), "--unsupervised", "--dims", "384,64", "--epochs", "2",
        "--batch-size", "16", "--cache", dir.resolve("cache").toString(), "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode summary = JSON.readTree(r.out());
    assertThat(summary.get("model").asText()).isEqualTo(out.toString());
    assertThat(summary.get("curve")).hasSize(3);
    assertThat(r.err()).contains("embedding:").contains("epoch 1:").doesNotContain("\r");
    EmbedCommandTest.Run e = EmbedCommandTest.gecko("embed", "--model", out.toString(), "--dims", "64", "hello");
    assertThat(e.code()).as(e.err()).isZero();
    assertThat(JSON.readTree(e.out()).get("embedding")).hasSize(64);
  }

  @Test
  void usageErrorsExitWithTwo(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("texts.txt");
    Files.write(data, new ArrayList<>(List.of("one", "two")));
    assertThat(EmbedCommandTest.gecko("train", "--data", data.toString()).code()).isEqualTo(2);
    // data that does not fit the objective is bad input (1), as in gecko finetune, not a usage error
    EmbedCommandTest.Run r = EmbedCommandTest.gecko("train", "--model", "bge-small-en-v1.5-int8", "--data",
        data.toString(), "--out", dir.resolve("o").toString(), "--objective", "COSENT");
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.err()).contains("COSENT");
  }

  @Test
  void aBadOptionValueIsRefusedBeforeTheCacheFolderIsMadeOrTheModelOpens(@TempDir Path dir) throws Exception {
    Path data = Files.write(dir.resolve("sts.tsv"), Files.readAllLines(STS_DEV).subList(0, 21));
    // a model folder in name only: opened first, it would fail the run (1) before any option is read
    Path broken = Files.createDirectories(dir.resolve("broken-model"));
    Files.writeString(broken.resolve("gecko-model.json"), "{\"name\": \"broken\"}");
    for (String[] bad : List.of(new String[] {"--threads", "0"}, new String[] {"--epochs", "0"},
        new String[] {"--batch-size", "1"}, new String[] {"--lr", "-1"})) {
      Path cache = dir.resolve("cache-" + bad[0].substring(2));
      List<String> args = new ArrayList<>(List.of("train", "--model", broken.toString(), "--data", data.toString(),
          "--out", dir.resolve("model").toString(), "--unsupervised", "--cache", cache.toString()));
      args.addAll(List.of(bad));
      EmbedCommandTest.Run r = EmbedCommandTest.gecko(args.toArray(String[]::new));
      assertThat(r.code()).as(r.err()).isEqualTo(2);
      assertThat(r.err()).as(bad[0]).contains(bad[0]);
      assertThat(cache).as(bad[0]).doesNotExist();
      assertThat(dir.resolve("model")).doesNotExist();
    }
  }

  @Test
  void aCacheThatCannotBeWrittenCostsOnlySpeedAndNoCacheUsesNone(@TempDir Path dir) throws Exception {
    Path data = Files.write(dir.resolve("sts.tsv"), Files.readAllLines(STS_DEV).subList(0, 21));
    Path file = Files.writeString(dir.resolve("cache-is-a-file"), "mine");
    EmbedCommandTest.Run r = EmbedCommandTest.gecko("train", "--model", "bge-small-en-v1.5-int8", "--data",
        data.toString(), "--out", dir.resolve("model").toString(), "--unsupervised", "--dims", "384,64", "--epochs",
        "1", "--cache", file.toString(), "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err().lines().filter(l -> l.startsWith("gecko: warning: ")).filter(l -> !l.contains("vector")))
        .singleElement().asString().contains("cannot use the embedding cache").contains(file.toString())
        .contains("in memory");
    assertThat(Files.readString(file)).isEqualTo("mine");
    assertThat(JSON.readTree(r.out()).get("model").asText()).isEqualTo(dir.resolve("model").toString());
    // --no-cache, as in gecko eval: no cache is read or written, not even the one --cache names
    Path unused = dir.resolve("unused-cache");
    EmbedCommandTest.Run none = EmbedCommandTest.gecko("train", "--model", "bge-small-en-v1.5-int8", "--data",
        data.toString(), "--out", dir.resolve("model2").toString(), "--unsupervised", "--dims", "384,64", "--epochs",
        "1", "--no-cache", "--cache", unused.toString(), "--threads", "1");
    assertThat(none.code()).as(none.err()).isZero();
    assertThat(none.err()).doesNotContain("embedding cache");
    assertThat(unused).doesNotExist();
  }

  @Test
  void trainSpeaksOfItsOwnOptionsWhenTheValidationSplitIsEmpty(@TempDir Path dir) throws Exception {
    Path data = Files.write(dir.resolve("five.tsv"), Files.readAllLines(STS_DEV).subList(0, 5));
    EmbedCommandTest.Run r = EmbedCommandTest.gecko("train", "--model", "bge-small-en-v1.5-int8", "--data",
        data.toString(), "--out", dir.resolve("o").toString(), "--epochs", "1", "--no-cache", "--threads", "1");
    assertThat(r.code()).as(r.err()).isEqualTo(GeckoCli.EXIT_FAILURE);
    assertThat(r.err()).contains("validation data: 1 scored pair(s)")
        .contains("a larger --validation-fraction, or --validation)").doesNotContain("validationData");
    EmbedCommandTest.Run fraction = EmbedCommandTest.gecko("train", "--data", data.toString(), "--out",
        dir.resolve("o").toString(), "--validation-fraction", "1.5", "--no-cache");
    assertThat(fraction.code()).as(fraction.err()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(fraction.err()).contains("--validation-fraction");
    EmbedCommandTest.Run both = EmbedCommandTest.gecko("train", "--data", data.toString(), "--out",
        dir.resolve("o").toString(), "--validation-fraction", "0.5", "--validation", data.toString());
    assertThat(both.code()).isEqualTo(GeckoCli.EXIT_USAGE);
    assertThat(both.err()).contains("--validation-fraction splits --data when there is no --validation");
  }
}
