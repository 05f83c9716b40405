package dev.gecko.train.fret;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.junit.jupiter.api.Test;

class FretSettingsTest {
  @Test
  void defaultsAreThePapersAndABuilderStartsFromThem() {
    FretSettings d = FretSettings.defaults();
    assertThat(d.candidates()).isEqualTo(20);
    assertThat(d.negatives()).isEqualTo(NegativeSelection.LAST);
    assertThat(d.attempts()).isEqualTo(3);
    assertThat(d.concurrency()).isEqualTo(4);
    assertThat(d.limit()).isEqualTo(Integer.MAX_VALUE);
    assertThat(d.earlyStop()).isEqualTo(FretSettings.DEFAULT_EARLY_STOP);
    assertThat(d.generationTemperature()).isEqualTo(0.7);
    assertThat(d.qlScorer()).isNull();
    assertThat(d.rcScorer()).isNull();
    assertThat(FretSettings.builder().build()).isEqualTo(d).hasSameHashCodeAs(d);
  }

  @Test
  void toBuilderCopiesEverySettingAndTheOriginalStaysAsItWas() {
    FretSettings a = FretSettings.builder().candidates(7).negatives(NegativeSelection.RANDOM).randomSeed(9)
        .generationTemperature(1.1).attempts(5).concurrency(3).limit(40).earlyStop(0)
        .scorers(Scorer.QL_PROMPT_LOGPROBS, Scorer.RC_TEXT).build();
    FretSettings b = a.toBuilder().build();
    assertThat(b).isEqualTo(a).hasSameHashCodeAs(a);
    FretSettings c = a.toBuilder().limit(41).build();
    assertThat(c).isNotEqualTo(a);
    assertThat(a.limit()).isEqualTo(40);
    assertThat(c.candidates()).isEqualTo(7);
    assertThat(c.rcScorer()).isEqualTo(Scorer.RC_TEXT);
    assertThat(a.toString()).contains("candidates=7", "limit=40", "scorers=");
  }

  @Test
  void settersRefuseBadValuesNamingTheSetting() {
    assertThatThrownBy(() -> FretSettings.builder().candidates(1)).hasMessage("candidates must be >= 2, was 1");
    assertThatThrownBy(() -> FretSettings.builder().attempts(0)).hasMessage("attempts must be >= 1, was 0");
    assertThatThrownBy(() -> FretSettings.builder().concurrency(0)).hasMessage("concurrency must be >= 1, was 0");
    assertThatThrownBy(() -> FretSettings.builder().limit(0)).hasMessage("limit must be >= 1, was 0");
    assertThatThrownBy(() -> FretSettings.builder().earlyStop(-1)).hasMessageContaining("earlyStop must be >= 0");
    assertThatThrownBy(() -> FretSettings.builder().generationTemperature(2.5)).hasMessage("temperature must be in [0, 2], was 2.5");
    assertThatThrownBy(() -> FretSettings.builder().generationTemperature(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> FretSettings.builder().scorers(Scorer.RC_TEXT, Scorer.RC_TEXT))
        .hasMessageContaining("need a query likelihood scorer and a relevance scorer");
    assertThatThrownBy(() -> FretSettings.builder().prompts(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("prompts is null");
  }

  @Test
  void survivesJavaSerializationAsDistributedRunnersShipIt() throws Exception {
    FretSettings a = FretSettings.builder().candidates(11).limit(5).scorers(Scorer.QL_PROMPT_LOGPROBS, Scorer.RC_TOP_LOGPROBS).build();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(a);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      assertThat(in.readObject()).isEqualTo(a);
    }
  }
}
