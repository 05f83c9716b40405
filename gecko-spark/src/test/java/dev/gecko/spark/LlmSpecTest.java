package dev.gecko.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LlmSpecTest {
  @Test
  void aBaseUrlThatCouldHoldASecretIsRefusedWithoutShowingIt() {
    LlmSpec spec = LlmSpec.builder(LlmSpec.Provider.OPENAI, "m").baseUrl("http://localhost:8000/v1").build();
    assertThat(spec.toString()).contains("http://localhost:8000/v1");
    // the spec travels to every executor: user info, a query or a fragment are refused on the driver,
    // and so is a malformed or non-http(s) URL; no message shows the secret
    for (String bad : new String[] {"http://user:s3cret@localhost:8000/v1", "http://localhost:8000/v1?key=s3cret",
        "http://localhost:8000/v1#s3cret", "https://bob:s3cret#x@host/v1", "ftp://u:s3cret@host", "https://u:s3 cret@h/v1"}) {
      assertThatThrownBy(() -> LlmSpec.builder(LlmSpec.Provider.OPENAI, "m").baseUrl(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("baseUrl")
          .hasMessageNotContaining("s3cret").hasMessageNotContaining("s3 cret");
    }
  }
}
