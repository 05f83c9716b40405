package dev.gecko.core.vector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import org.junit.jupiter.api.Test;

/**
 * The build runs the suite twice (gecko-core/pom.xml): with {@code --add-modules
 * jdk.incubator.vector} and {@code -Dgecko.expect.vectorization=panama}, and without the module
 * and {@code =scalar}. A silent fallback to scalar cannot pass for SIMD.
 */
class VectorizationProviderTest {
  private static final String EXPECTED = System.getProperty("gecko.expect.vectorization");

  @Test
  void theExpectedProviderRan() {
    assumeThat(EXPECTED).as("gecko.expect.vectorization is set by surefire").isNotNull();
    assertThat(VectorOps.implementationName()).isEqualTo(EXPECTED);
    if (EXPECTED.equals("panama")) {
      assertThat(VectorOps.vectorBitSize()).isGreaterThanOrEqualTo(128);
      assertThat(VectorizationProvider.incubatorModule()).isPresent();
    } else {
      assertThat(VectorOps.vectorBitSize()).isZero();
      assertThat(VectorizationProvider.incubatorModule()).isEmpty();
    }
  }
}
