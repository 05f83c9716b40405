package dev.gecko.train.fret;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.junit.jupiter.api.Test;

/** The run configuration's JSON is hashed into the digest a resumed run must match: its bytes are a format. */
class RunManifestTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void configurationJsonIsTheFormatOfEarlierVersions() throws Exception {
    RunManifest.Config c = new RunManifest.Config(new RunManifest.Llm("gpt"), new RunManifest.Scorers("ql:gpt", "rc:gpt"),
        new RunManifest.Embedder("bge-small-en-v1.5-int8", 384), new RunManifest.Parameters(20, "random", 42, 0.7, 3),
        JsonNodeFactory.instance.objectNode().put("queryGeneration", "p"), new RunManifest.Corpus(10, "abc"));
    // what the hand-built tree of the first release wrote, byte for byte
    String expected = "{\"llm\":{\"model\":\"gpt\"},\"scorers\":{\"ql\":\"ql:gpt\",\"rc\":\"rc:gpt\"},"
        + "\"embedder\":{\"model\":\"bge-small-en-v1.5-int8\",\"dimensions\":384},\"parameters\":{\"candidates\":20,"
        + "\"negatives\":\"random\",\"randomSeed\":42,\"generationTemperature\":0.7,\"attempts\":3},"
        + "\"prompts\":{\"queryGeneration\":\"p\"},\"corpus\":{\"passages\":10,\"digest\":\"abc\"}}";
    assertThat(JSON.writeValueAsString(c)).isEqualTo(expected);
    assertThat(JSON.readValue(expected, RunManifest.Config.class)).isEqualTo(c);
  }

  @Test
  void manifestLeavesOutWhatARunDidNotHaveAndReadsNewerKeys() throws Exception {
    RunManifest m = new RunManifest(OutputStore.FORMAT, "d", "t0", null, null, "complete", "t1",
        new RunManifest.Counts(3, 1, 4), null, null);
    String json = JSON.writeValueAsString(m);
    assertThat(json).isEqualTo("{\"format\":\"gecko-fret/1\",\"digest\":\"d\",\"created\":\"t0\",\"status\":\"complete\","
        + "\"updated\":\"t1\",\"counts\":{\"examples\":3,\"rejects\":1,\"seedsInLastRun\":4}}");
    RunManifest back = JSON.readValue(json.replace("{\"format\"", "{\"addedLater\":true,\"format\""), RunManifest.class);
    assertThat(back).isEqualTo(m);
  }
}
