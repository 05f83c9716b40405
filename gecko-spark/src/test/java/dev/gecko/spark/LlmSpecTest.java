package dev.gecko.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LlmSpecTest {
  @Test
  void theBaseUrlIsShownWithoutItsUserInfoOrQuery() {
    LlmSpec spec = LlmSpec.builder(LlmSpec.Provider.OPENAI, "m")
        .baseUrl("http://user:s3cret@localhost:8000/v1?key=s3cret").build();
    assertThat(spec.toString()).contains("http://localhost:8000/v1").doesNotContain("s3cret");
    // malformed or not http(s): refused on the driver, and the message shows no secret either
    for (String bad : new String[] {"https://bob:s3cret#x@host/v1", "ftp://u:s3cret@host", "https://u:s3 cret@h/v1"}) {
      assertThatThrownBy(() -> LlmSpec.builder(LlmSpec.Provider.OPENAI, "m").baseUrl(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("baseUrl")
          .hasMessageNotContaining("s3cret").hasMessageNotContaining("s3 cret");
    }
  }
}
