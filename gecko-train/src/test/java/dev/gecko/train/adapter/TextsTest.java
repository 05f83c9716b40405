package dev.gecko.train.adapter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.TaskType;
import org.junit.jupiter.api.Test;

class TextsTest {
  private static final ModelPackage BGE = ModelPackage.builtIn("bge-small-en-v1.5-int8");

  @Test
  void aQueryAndADocumentThatRenderAlikeAreOneText() {
    // the same task type for both roles: the model sees one input, so the losses' masks must see one id
    Texts same = new Texts(TaskType.SEMANTIC_SIMILARITY, TaskType.SEMANTIC_SIMILARITY, BGE::render);
    assertThat(same.id("a cat", true)).isEqualTo(same.id("a cat", false));
    assertThat(same.requests()).hasSize(1);
    // bge's query prompt differs from its document rendering: two inputs, two ids
    Texts retrieval = new Texts(TaskType.RETRIEVAL_QUERY, TaskType.RETRIEVAL_DOCUMENT, BGE::render);
    int q = retrieval.id("a cat", true);
    int d = retrieval.id("a cat", false);
    assertThat(q).isNotEqualTo(d);
    assertThat(retrieval.requests()).extracting(EmbedRequest::taskType)
        .containsExactly(TaskType.RETRIEVAL_QUERY, TaskType.RETRIEVAL_DOCUMENT);
    assertThat(retrieval.id("a cat", true)).isEqualTo(q);
  }
}
