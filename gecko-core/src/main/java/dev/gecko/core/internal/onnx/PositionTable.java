package dev.gecko.core.internal.onnx;

import java.util.Locale;
import java.util.Optional;

/**
 * How many token positions a BERT-family graph can embed: the rows of its position-embedding
 * table, read from the graph's initializers (their shapes only, so weights in external files do
 * not matter). A longer input fails inside ONNX Runtime at run time, so a package whose maximum
 * tokens exceed this is refused when it opens.
 *
 * <p>The table is the data of a {@code Gather} (directly, or through a {@code DequantizeLinear} of
 * an int8 export), a rank-2 initializer, whose indices are the position ids: the table's name
 * contains {@code position} (transformers' exports: {@code embeddings.position_embeddings.weight},
 * or {@code ..._quantized}), or the indices are a graph input named {@code position_ids}, or a
 * {@code Slice} of a constant whose name contains {@code position}. Where the indices are a slice of
 * a constant ({@code position_ids[:, :seq]}), that constant's length bounds the positions too. A
 * graph with no such table, or with several that disagree, has none: then nothing is checked.
 *
 * <p>Immutable.
 */
public final class PositionTable {
  private final String name;
  private final long positions;

  private PositionTable(String name, long positions) {
    this.name = name;
    this.positions = positions;
  }

  /** Returns the table's initializer name. */
  public String name() {
    return name;
  }

  /** Returns how many positions the graph embeds: the table's rows, or fewer where its ids are a shorter constant. */
  public long positions() {
    return positions;
  }

  /**
   * Finds the position table of a serialised ONNX model.
   *
   * @throws IllegalArgumentException if the bytes are not a well-formed ONNX model
   */
  public static Optional<PositionTable> find(byte[] model) {
    try {
      return find(new Graph(model));
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("malformed ONNX graph: " + e, e);
    }
  }

  static Optional<PositionTable> find(Graph g) {
    PositionTable found = null;
    for (Graph.Node n : g.nodes) {
      if (!n.is("Gather") || n.inputs.size() < 2) {
        continue;
      }
      Graph.Tensor table = table(g, n.inputs.get(0));
      if (table == null) {
        continue;
      }
      String indices = n.inputs.get(1);
      Graph.Node slice = g.producerOf(indices);
      Graph.Tensor ids = slice != null && slice.is("Slice") && !slice.inputs.isEmpty() ? g.constant(slice.inputs.get(0)) : null;
      boolean positional = mentionsPosition(table.name)
          || (g.graphInputs.contains(indices) && indices.equals("position_ids"))
          || (ids != null && mentionsPosition(slice.inputs.get(0)));
      if (!positional) {
        continue;
      }
      long positions = table.dims[0];
      if (ids != null && ids.dims.length >= 1 && ids.dims[ids.dims.length - 1] > 0) {
        positions = Math.min(positions, ids.dims[ids.dims.length - 1]);
      }
      if (found != null && found.positions != positions) {
        return Optional.empty(); // two tables that disagree: not a graph this reading understands
      }
      found = new PositionTable(table.name, positions);
    }
    return Optional.ofNullable(found);
  }

  /** The rank-2 initializer that {@code value} is, or is dequantised from; null otherwise. */
  private static Graph.Tensor table(Graph g, String value) {
    Graph.Tensor t = g.initializers.get(value);
    if (t == null) {
      Graph.Node p = g.producerOf(value);
      if (p != null && p.is("DequantizeLinear") && !p.inputs.isEmpty()) {
        t = g.initializers.get(p.inputs.get(0));
      }
    }
    return t != null && t.dims.length == 2 && t.dims[0] > 0 ? t : null;
  }

  private static boolean mentionsPosition(String name) {
    return name != null && name.toLowerCase(Locale.ROOT).contains("position");
  }

  @Override
  public String toString() {
    return name + " (" + positions + " positions)";
  }
}
