package dev.gecko.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.gecko.core.vector.VectorOps;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The benchmark inputs are what the benchmarks claim to measure. */
class BenchDataTest {
  @Test
  void goldenTextsAreReadInPlace() {
    List<String> shortTexts = BenchData.goldenTexts("short.jsonl");
    List<String> passages = BenchData.goldenTexts("passages.jsonl");
    assertThat(shortTexts).hasSize(512).allSatisfy(t -> assertThat(t).isNotBlank());
    assertThat(passages).hasSize(256);
    assertThat(passages.stream().mapToInt(String::length).average().orElseThrow())
        .isGreaterThan(shortTexts.stream().mapToInt(String::length).average().orElseThrow() * 3);
  }

  @Test
  void randomUnitVectorsHaveUnitNorm() {
    Random r = new Random(3);
    for (int i = 0; i < 20; i++) {
      assertThat(VectorOps.norm(BenchData.randomUnit(r, 384))).isCloseTo(1f, within(1e-5f));
    }
  }

  @Test
  void selectingTheProviderThatRunsSucceedsAndAnotherFailsLoudly() {
    // surefire starts this JVM without the incubator module, so the scalar provider runs here
    Impl running = Impl.valueOf(VectorOps.implementationName().toUpperCase(java.util.Locale.ROOT));
    running.select();
    Impl other = running == Impl.SCALAR ? Impl.PANAMA : Impl.SCALAR;
    org.assertj.core.api.Assertions.assertThatThrownBy(other::select).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("requested " + other);
  }
}
