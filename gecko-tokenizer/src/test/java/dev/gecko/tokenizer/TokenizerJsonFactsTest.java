package dev.gecko.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The streaming read of a tokenizer.json's padding and truncation, against the same rules applied
 * to Jackson's tree (how gecko read them before).
 */
class TokenizerJsonFactsTest {
  private static final ObjectMapper TREE = new ObjectMapper();

  @Test
  void agreesWithTheTreeOnAShippedTokenizer() throws Exception {
    String json;
    try (InputStream in = GeckoTokenizerTest.class.getClassLoader().getResourceAsStream("gecko-models/all-minilm-l6-v2-q-tokenizer.json")) {
      json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    TokenizerJsonFacts facts = TokenizerJsonFacts.read(json, "minilm");
    assertThat(facts.maxLength(512)).isEqualTo(treeMaxLength(json, 512)).isEqualTo(128);
    assertThat(facts.padId()).isEqualTo(treePadId(json)).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"model\": {\"vocab\": {\"a\": 1}}}",
      "{\"padding\": {\"pad_id\": 7, \"pad_token\": \"x\"}, \"model\": {\"vocab\": {\"[PAD]\": 3}}}",
      "{\"padding\": null, \"truncation\": null, \"model\": {\"vocab\": {\"<pad>\": 4, \"[PAD]\": 3}}}",
      "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"<pad>\": 4}, \"merges\": [[\"a\", \"b\"]]}}",
      "{\"added_tokens\": [{\"id\": 9, \"content\": \"<s>\"}, {\"content\": \"<pad>\", \"id\": 1}], \"model\": {}}",
      "{\"added_tokens\": [{\"id\": 2, \"content\": \"[PAD]\"}], \"model\": {\"vocab\": {\"[PAD]\": 3}}}",
      "{\"truncation\": {\"max_length\": 256, \"strategy\": \"LongestFirst\"}, \"model\": {}}",
      "{\"truncation\": {\"max_length\": 1}, \"model\": {}}",
      "{\"truncation\": {\"max_length\": 99999999999}, \"model\": {}}",
      "{\"truncation\": {\"max_length\": \"256\"}, \"model\": []}",
      "{\"padding\": {\"pad_id\": \"12\"}, \"model\": {\"vocab\": [[\"<pad>\", 0.0]]}}",
      "{\"padding\": {\"strategy\": {\"Fixed\": 128}}, \"model\": {\"vocab\": {\"[PAD]\": {\"odd\": 1}}}}",
      "{\"truncation\": [1, 2], \"padding\": [3], \"added_tokens\": {\"a\": 1}, \"model\": {\"vocab\": {\"[PAD]\": 5}}}",
      "{\"added_tokens\": [1, [2], {\"content\": \"[PAD]\", \"id\": 6}], \"model\": {}}",
  })
  void agreesWithTheTree(String json) throws Exception {
    TokenizerJsonFacts facts = TokenizerJsonFacts.read(json, "t.json");
    assertThat(facts.maxLength(512)).as("max length").isEqualTo(treeMaxLength(json, 512));
    assertThat(facts.padId()).as("pad id").isEqualTo(treePadId(json));
  }

  @Test
  void namesTheSourceOfABadFile() {
    assertThatThrownBy(() -> TokenizerJsonFacts.read("{\"model\": {", "broken.json"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("broken.json: not valid JSON");
    assertThatThrownBy(() -> TokenizerJsonFacts.read("{\"vocab\": {}}", "other.json"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("other.json: not a tokenizer.json (no \"model\" field)");
    assertThatThrownBy(() -> TokenizerJsonFacts.read("[1, 2]", "array.json"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no \"model\" field");
  }

  private static int treeMaxLength(String json, int fallback) throws Exception {
    JsonNode t = TREE.readTree(json).path("truncation").path("max_length");
    return t.isInt() && t.asInt() >= 2 ? t.asInt() : fallback;
  }

  private static long treePadId(String json) throws Exception {
    JsonNode root = TREE.readTree(json);
    JsonNode padding = root.path("padding");
    if (padding.has("pad_id")) {
      return padding.get("pad_id").asLong();
    }
    for (JsonNode added : root.path("added_tokens")) {
      String content = added.path("content").asText();
      if ("[PAD]".equals(content) || "<pad>".equals(content)) {
        return added.path("id").asLong();
      }
    }
    JsonNode vocab = root.path("model").path("vocab");
    for (String name : new String[] {"[PAD]", "<pad>"}) {
      if (vocab.has(name)) {
        return vocab.get(name).asLong();
      }
    }
    return 0;
  }
}
