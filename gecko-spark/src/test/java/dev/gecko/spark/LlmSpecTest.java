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

  @Test
  void aThinkingBudgetIsGeminisAndTravelsWithTheSpec() throws Exception {
    assertThatThrownBy(() -> LlmSpec.builder(LlmSpec.Provider.OPENAI, "m").thinkingBudget(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Gemini");
    assertThatThrownBy(() -> LlmSpec.builder(LlmSpec.Provider.GEMINI, "m").thinkingBudget(-1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("thinkingBudget must be >= 0");
    LlmSpec off = LlmSpec.builder(LlmSpec.Provider.GEMINI, "gemini-2.5-flash").thinkingBudget(0).build();
    LlmSpec plain = LlmSpec.builder(LlmSpec.Provider.GEMINI, "gemini-2.5-flash").build();
    assertThat(off).as("an executor's client stack is shared by equal specs only").isNotEqualTo(plain);
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
      out.writeObject(off);
    }
    try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
      assertThat(in.readObject()).isEqualTo(off).isNotEqualTo(plain);
    }
  }
}
