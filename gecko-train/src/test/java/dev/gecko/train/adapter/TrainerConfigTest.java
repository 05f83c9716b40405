package dev.gecko.train.adapter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerConfigTest {
  private static final TrainingData DATA = TrainingData.of(List.of(TrainingExample.text("a"), TrainingExample.text("b")));

  @TempDir
  Path tmp;

  private Trainer.Builder valid() {
    return Trainer.builder().baseModel("bge-small-en-v1.5-int8").data(DATA).output(tmp.resolve("out"));
  }

  /** The config with one component replaced, through the canonical constructor. */
  private static TrainerConfig with(TrainerConfig c, String name, Object value) throws Throwable {
    RecordComponent[] rc = TrainerConfig.class.getRecordComponents();
    Object[] args = new Object[rc.length];
    Class<?>[] types = new Class<?>[rc.length];
    for (int i = 0; i < rc.length; i++) {
      types[i] = rc[i].getType();
      args[i] = rc[i].getName().equals(name) ? value : rc[i].getAccessor().invoke(c);
    }
    Constructor<TrainerConfig> canonical = TrainerConfig.class.getDeclaredConstructor(types);
    try {
      return canonical.newInstance(args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  @Test
  void theRecordRefusesEveryBadSettingNamingIt() throws Throwable {
    TrainerConfig ok = valid().config();
    assertThat(with(ok, "epochs", 5).epochs()).isEqualTo(5);
    Map<String, Object> bad = new LinkedHashMap<>();
    bad.put("dims", List.of(384, 0));
    bad.put("dimWeights", Map.of(32, -1.0));
    bad.put("hiddenSize", -1);
    bad.put("epochs", 0);
    bad.put("batchSize", 1);
    bad.put("learningRate", Double.NaN);
    bad.put("weightDecay", Double.POSITIVE_INFINITY);
    bad.put("warmupFraction", 1.0);
    bad.put("validationFraction", 0.0);
    bad.put("patience", 0);
    bad.put("temperature", 0.0);
    bad.put("cosentScale", -20.0);
    bad.put("topK", -1);
    bad.put("pairWeight", -1.0);
    bad.put("reconstructionWeight", Double.NaN);
    bad.put("structureWeight", -0.5);
    bad.put("positiveThreshold", Double.NEGATIVE_INFINITY);
    bad.put("hardNegativeRank", -1);
    bad.put("maxValidation", 0);
    bad.put("outputName", " ");
    for (Map.Entry<String, Object> e : bad.entrySet()) {
      assertThatThrownBy(() -> with(ok, e.getKey(), e.getValue())).as(e.getKey())
          .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(e.getKey());
    }
    for (String required : List.of("baseModel", "data", "output", "dims", "dimWeights", "adapterKind", "basis",
        "unsupervisedValidation", "schedule")) {
      assertThatThrownBy(() -> with(ok, required, null)).isInstanceOf(NullPointerException.class)
          .hasMessage(required + " is null");
    }
  }

  /**
   * The embedder and the base model name one model: a base model that is another replaces the
   * embedder in the builder, and the record refuses a pair that disagree (by fingerprint), before
   * the output folder is checked against the wrong one.
   */
  @Test
  void anEmbedderAndABaseModelThatDisagreeAreRefused() throws Throwable {
    try (dev.gecko.core.GeckoEmbedder e = dev.gecko.core.GeckoEmbedder.builder().model("bge-small-en-v1.5").threads(1)
        .build()) {
      TrainerConfig c = valid().embedder(e).config();
      assertThat(c.embedder()).isSameAs(e);
      assertThat(c.baseModel()).isSameAs(e.model());
      TrainerConfig replaced = valid().embedder(e).baseModel("bge-small-en-v1.5-int8").config();
      assertThat(replaced.embedder()).isNull();
      assertThat(replaced.baseModel().name()).isEqualTo("bge-small-en-v1.5-int8");
      // the same model named again (another instance, equal fingerprint) keeps the embedder, and its settings
      TrainerConfig same = valid().embedder(e).baseModel("bge-small-en-v1.5").config();
      assertThat(same.embedder()).isSameAs(e);
      assertThat(with(c, "baseModel", dev.gecko.core.ModelPackage.resolve("bge-small-en-v1.5")).embedder()).isSameAs(e);
      assertThatThrownBy(() -> with(c, "baseModel", dev.gecko.core.ModelPackage.resolve("bge-small-en-v1.5-int8")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("the embedder runs bge-small-en-v1.5 but baseModel is bge-small-en-v1.5-int8: training would use "
              + "the embedder's model under the other's name");
    }
  }

  @Test
  void theBuilderChecksEachSettingAtOnceByTheSameRules() {
    assertThatThrownBy(() -> Trainer.builder().epochs(0)).hasMessage("epochs must be >= 1, was 0");
    assertThatThrownBy(() -> Trainer.builder().dims(384, 0)).hasMessage("dims: every width must be >= 1, was 0");
    assertThatThrownBy(() -> Trainer.builder().dimWeight(64, -2))
        .hasMessage("dimWeights: the weight of width 64 must be finite and >= 0, was -2.0");
    // stricter than the record, as before: an explicit hidden size is at least 1 (0 means "the model's width")
    assertThatThrownBy(() -> Trainer.builder().hiddenSize(0)).hasMessage("hiddenSize must be >= 1, was 0");
    assertThatThrownBy(() -> Trainer.builder().baseModel("bge-small-en-v1.5-int8").data(DATA).build())
        .isInstanceOf(IllegalStateException.class).hasMessage("baseModel, data and output are required; not set: output");
  }

  @Test
  void aConfigIsAnImmutableSnapshotOfTheBuilder() {
    Trainer.Builder b = valid().dims(384, 64).dimWeight(64, 2).epochs(7);
    TrainerConfig c = b.config();
    b.dims(32).dimWeight(64, 3).epochs(5);
    assertThat(c.dims()).containsExactly(384, 64);
    assertThat(c.dimWeights()).containsExactly(Map.entry(64, 2.0));
    assertThat(c.epochs()).isEqualTo(7);
    assertThatThrownBy(() -> c.dims().add(1)).isInstanceOf(UnsupportedOperationException.class);
    assertThat(b.build().config()).isEqualTo(b.config()).isNotEqualTo(c);
  }

  @Test
  void aTrainerRefusesAnUnusableOutputFolderBeforeTraining() throws Exception {
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    TrainerConfig c = valid().output(file).config();
    assertThatThrownBy(() -> new Trainer(c)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage(file + ": the output folder is a file");
    Path busy = Files.createDirectories(tmp.resolve("busy"));
    Files.writeString(busy.resolve("notes.txt"), "mine");
    assertThatThrownBy(() -> valid().output(busy).build()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the output folder is not empty");
  }
}
