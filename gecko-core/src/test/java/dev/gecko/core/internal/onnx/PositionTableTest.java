package dev.gecko.core.internal.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gecko.core.ModelPackage;
import java.io.IOException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class PositionTableTest {
  @ParameterizedTest
  @CsvSource({
    "bge-small-en-v1.5, embeddings.position_embeddings.weight",
    "bge-small-en-v1.5-int8, embeddings.position_embeddings.weight_quantized",
    "all-MiniLM-L6-v2, embeddings.position_embeddings.weight",
    "all-MiniLM-L6-v2-int8, embeddings.position_embeddings.weight_quantized",
    "e5-small-v2, embeddings.position_embeddings.weight",
    "e5-small-v2-int8, embeddings.position_embeddings.weight_quantized"
  })
  void theShippedGraphsEmbed512Positions(String model, String table) throws IOException {
    byte[] bytes = ModelPackage.builtIn(model).model().readAllBytes();
    PositionTable found = PositionTable.find(bytes).orElseThrow();
    assertThat(found.name()).isEqualTo(table);
    assertThat(found.positions()).isEqualTo(512);
    // the rewriter reports the same table, read from the graph before it rewrote the bytes
    assertThat(ModelRewriter.rewrite(bytes, true, true).positionTable()).hasValueSatisfying(t -> {
      assertThat(t.name()).isEqualTo(table);
      assertThat(t.positions()).isEqualTo(512);
    });
  }

  private static Protobuf.Writer initializer(String name, long... dims) {
    Protobuf.Writer t = new Protobuf.Writer();
    for (long d : dims) {
      t.varint(Graph.TENSOR_DIMS, d);
    }
    // shapes are all the reading needs: the data may as well be in another file
    return t.varint(Graph.TENSOR_DATA_TYPE, Graph.TENSOR_FLOAT).string(Graph.TENSOR_NAME, name)
        .varint(Graph.TENSOR_DATA_LOCATION, Graph.TENSOR_LOCATION_EXTERNAL);
  }

  private static Protobuf.Writer node(String op, String out, String... in) {
    Protobuf.Writer n = new Protobuf.Writer();
    for (String i : in) {
      n.string(Graph.NODE_INPUT, i);
    }
    return n.string(Graph.NODE_OUTPUT, out).string(Graph.NODE_OP_TYPE, op);
  }

  private static byte[] model(Protobuf.Writer graph) {
    return new Protobuf.Writer().varint(1, 8).message(Graph.MODEL_GRAPH, graph).toByteArray();
  }

  /** An embedding layer as transformers' BERT exports spell it, with the names given. */
  private static byte[] embeddings(String table, long rows, String ids, long idsLength) {
    return model(new Protobuf.Writer()
        .message(Graph.GRAPH_NODE, node("Gather", "words", "word_table", "input_ids"))
        .message(Graph.GRAPH_NODE, node("Slice", "pos", ids, "zero", "seq"))
        .message(Graph.GRAPH_NODE, node("Gather", "positions", table, "pos"))
        .message(Graph.GRAPH_NODE, node("Add", "sum", "words", "positions"))
        .message(Graph.GRAPH_INITIALIZER, initializer("word_table", 30522, 8))
        .message(Graph.GRAPH_INITIALIZER, initializer(table, rows, 8))
        .message(Graph.GRAPH_INITIALIZER, initializer(ids, 1, idsLength))
        .message(Graph.GRAPH_INPUT, new Protobuf.Writer().string(1, "input_ids")));
  }

  @Test
  void aHandWrittenEmbeddingLayerIsRead() {
    assertThat(PositionTable.find(embeddings("pos_table", 40, "position_ids", 40))).hasValueSatisfying(t -> {
      assertThat(t.name()).isEqualTo("pos_table");
      assertThat(t.positions()).isEqualTo(40);
    });
    // the sliced ids bound the positions too
    assertThat(PositionTable.find(embeddings("position_embeddings", 40, "ids", 32)).orElseThrow().positions())
        .isEqualTo(32);
  }

  @Test
  void tablesThatAreNotPositionsAreNotTaken() {
    // a two-row token-type table fed from a sliced constant: nothing names positions
    assertThat(PositionTable.find(embeddings("token_type_table", 2, "token_type_ids_buffer", 512))).isEmpty();
    byte[] noEmbeddings = model(new Protobuf.Writer().message(Graph.GRAPH_NODE, node("Relu", "y", "x")));
    assertThat(PositionTable.find(noEmbeddings)).isEmpty();
    // a position ids input straight into a table
    byte[] input = model(new Protobuf.Writer()
        .message(Graph.GRAPH_NODE, node("Gather", "positions", "onnx::Gather_7", "position_ids"))
        .message(Graph.GRAPH_INITIALIZER, initializer("onnx::Gather_7", 128, 8))
        .message(Graph.GRAPH_INPUT, new Protobuf.Writer().string(1, "position_ids")));
    assertThat(PositionTable.find(input).orElseThrow().positions()).isEqualTo(128);
    assertThatThrownBy(() -> PositionTable.find(new byte[] {8, 1})).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no graph");
  }
}
