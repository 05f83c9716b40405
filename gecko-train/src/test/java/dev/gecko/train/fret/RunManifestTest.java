package dev.gecko.train.fret;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.junit.jupiter.api.Test;

/** The run configuration's JSON is hashed into the digest a resumed run must match: its bytes are a format. */
class RunManifestTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void configurationJsonIsItsFormat() throws Exception {
    RunManifest.Config c = new RunManifest.Config(new RunManifest.Llm("gpt"), new RunManifest.Scorers("ql:gpt", "rc:gpt"),
        new RunManifest.Embedder("bge-small-en-v1.5-int8", 384, "f00d"), new RunManifest.Parameters(20, "random", 42, 0.7, 3),
        JsonNodeFactory.instance.objectNode().put("queryGeneration", "p"), new RunManifest.Corpus(10, "abc"));
    // what the hand-built tree of the first release wrote, byte for byte, plus the embedder's
    // fingerprint (added after it: a run of an earlier version does not resume, see below)
    String expected = "{\"llm\":{\"model\":\"gpt\"},\"scorers\":{\"ql\":\"ql:gpt\",\"rc\":\"rc:gpt\"},"
        + "\"embedder\":{\"model\":\"bge-small-en-v1.5-int8\",\"dimensions\":384,\"fingerprint\":\"f00d\"},"
        + "\"parameters\":{\"candidates\":20,"
        + "\"negatives\":\"random\",\"randomSeed\":42,\"generationTemperature\":0.7,\"attempts\":3},"
        + "\"prompts\":{\"queryGeneration\":\"p\"},\"corpus\":{\"passages\":10,\"digest\":\"abc\"}}";
    assertThat(JSON.writeValueAsString(c)).isEqualTo(expected);
    assertThat(JSON.readValue(expected, RunManifest.Config.class)).isEqualTo(c);
    // a configuration of the first release (no fingerprint) reads back, and its difference is named
    String earlier = expected.replace(",\"fingerprint\":\"f00d\"", "");
    RunManifest.Config old = JSON.readValue(earlier, RunManifest.Config.class);
    assertThat(old.embedder().fingerprint()).isNull();
    assertThat(FretExamples.configDifferences(JSON.valueToTree(old), JSON.valueToTree(c)))
        .containsExactly("embedder.fingerprint (was (absent), now 'f00d')");
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
