package dev.gecko.core.internal.onnx;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Edits planned on one parsed {@link Graph} by one or more rewrites, then written out together:
 * nodes removed, nodes replaced, nodes inserted before a node, and input renames (a value read
 * under another name by every node but the exempt ones). Renames apply to original and
 * replacement nodes alike, so that rewrites planned on the same graph compose; inserted nodes
 * are written as given.
 */
final class GraphRewrite {
  static final String MS_DOMAIN = "com.microsoft";
  /** The ModelProto field number of the filler; ONNX defines no field with this number. */
  static final int FILLER_FIELD = 16_000;

  final Graph graph;
  final Set<Integer> removed = new HashSet<>();
  /** NodeProto bytes that take the place of node i. */
  final Map<Integer, byte[]> replacements = new HashMap<>();
  /** NodeProto bytes written just before node i (or its replacement). */
  final Map<Integer, List<byte[]>> insertedBefore = new HashMap<>();
  /** Input renames: every node that reads the key, except the exempt ones, reads the value. */
  final Map<String, String> renames = new HashMap<>();
  final Set<Integer> renameExempt = new HashSet<>();
  /** Values no node produces any more: their value_info entries are dropped. */
  final Set<String> deadValues = new HashSet<>();
  /** Whether a planned node is in the com.microsoft domain (its opset import is then added). */
  boolean usesMsDomain;

  GraphRewrite(Graph graph) {
    this.graph = graph;
  }

  boolean isEmpty() {
    return removed.isEmpty() && replacements.isEmpty() && insertedBefore.isEmpty() && renames.isEmpty();
  }

  /**
   * Writes the model with the edits, over the graph's array when every piece lands at or before
   * the bytes it comes from (pieces are copied in order with memmove semantics; the freed tail
   * becomes one unknown field {@value #FILLER_FIELD} that protobuf readers skip), else into a new
   * array. A filler left by an earlier rewrite is dropped first.
   */
  byte[] write() {
    Graph g = graph;
    byte[] buf = g.buf;
    // Constants that fed only removed nodes (the 2 of a layer norm's Pow, its eps) go too.
    for (Graph.Node n : g.nodes) {
      if (n.is("Constant") && !removed.contains(n.index) && n.outputs.size() == 1) {
        List<Integer> users = g.consumers.get(n.outputs.get(0));
        if (users != null && !g.graphOutputs.contains(n.outputs.get(0)) && removed.containsAll(users)) {
          removed.add(n.index);
          deadValues.add(n.outputs.get(0));
        }
      }
    }
    // pieces of the output, in order: Protobuf.Field (a raw range of buf) or byte[] (new bytes)
    List<Object> graphParts = new ArrayList<>();
    long graphLength = 0;
    int nodeIndex = 0;
    for (Protobuf.Field f : g.graphFields) {
      Object part = f;
      if (f.number == Graph.GRAPH_NODE && f.wireType == Protobuf.LEN) {
        int i = nodeIndex++;
        for (byte[] inserted : insertedBefore.getOrDefault(i, List.of())) {
          byte[] field = new Protobuf.Writer().bytes(Graph.GRAPH_NODE, inserted).toByteArray();
          graphParts.add(field);
          graphLength += field.length;
        }
        byte[] replacement = replacements.get(i);
        if (replacement != null) {
          byte[] renamed = renameExempt.contains(i) ? null : renamedInputs(replacement, 0, replacement.length);
          part = new Protobuf.Writer().bytes(Graph.GRAPH_NODE, renamed != null ? renamed : replacement).toByteArray();
        } else if (removed.contains(i)) {
          continue;
        } else if (!renameExempt.contains(i) && reads(g.nodes.get(i), renames.keySet())) {
          byte[] renamed = renamedInputs(buf, f.offset, f.length);
          part = new Protobuf.Writer().bytes(Graph.GRAPH_NODE, renamed).toByteArray();
        }
      } else if (f.number == Graph.GRAPH_VALUE_INFO && f.wireType == Protobuf.LEN
          && deadValues.contains(Graph.valueName(buf, f))) {
        continue;
      }
      graphParts.add(part);
      graphLength += length(part);
    }
    boolean hasMsOpset = false;
    for (Protobuf.Field f : g.modelFields) {
      if (f.number == Graph.MODEL_OPSET_IMPORT && f.wireType == Protobuf.LEN) {
        for (Protobuf.Field o : Protobuf.parse(buf, f.offset, f.length)) {
          if (o.number == 1 && o.wireType == Protobuf.LEN && o.string(buf).equals(MS_DOMAIN)) {
            hasMsOpset = true;
          }
        }
      }
    }
    List<Object> parts = new ArrayList<>();
    for (Protobuf.Field f : g.modelFields) {
      if (f == g.graphField) {
        parts.add(Protobuf.Writer.header(Graph.MODEL_GRAPH, graphLength));
        parts.addAll(graphParts);
      } else if (f.number != FILLER_FIELD) {
        parts.add(f);
      }
    }
    if (usesMsDomain && !hasMsOpset) {
      parts.add(new Protobuf.Writer()
          .message(Graph.MODEL_OPSET_IMPORT, new Protobuf.Writer().string(1, MS_DOMAIN).varint(2, 1)).toByteArray());
    }
    long total = 0;
    for (Object part : parts) {
      total += length(part);
    }
    byte[] filler = total < buf.length ? filler(buf.length - (int) total) : new byte[0];
    if (filler != null && total + filler.length == buf.length && fitsInPlace(parts)) {
      parts.add(filler);
      copy(parts, buf, buf);
      return buf;
    }
    if (total > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("the rewritten model would exceed 2 GB");
    }
    byte[] out = new byte[(int) total];
    copy(parts, buf, out);
    return out;
  }

  private static boolean reads(Graph.Node n, Set<String> values) {
    for (String in : n.inputs) {
      if (values.contains(in)) {
        return true;
      }
    }
    return false;
  }

  /** The NodeProto in {@code buf[offset, offset + length)} with its inputs renamed, or null if none is. */
  private byte[] renamedInputs(byte[] buf, int offset, int length) {
    Protobuf.Writer w = new Protobuf.Writer(length + 32);
    boolean changed = false;
    for (Protobuf.Field f : Protobuf.parse(buf, offset, length)) {
      String to = f.number == Graph.NODE_INPUT && f.wireType == Protobuf.LEN ? renames.get(f.string(buf)) : null;
      if (to != null) {
        w.string(Graph.NODE_INPUT, to);
        changed = true;
      } else {
        w.raw(buf, f.start, f.end - f.start);
      }
    }
    return changed ? w.toByteArray() : null;
  }

  private static long length(Object part) {
    return part instanceof byte[] ? ((byte[]) part).length : ((Protobuf.Field) part).end - ((Protobuf.Field) part).start;
  }

  /** Whether writing the pieces in order over their source never overwrites a byte not yet read. */
  private static boolean fitsInPlace(List<Object> parts) {
    long out = 0;
    for (int i = 0; i < parts.size(); i++) {
      Object part = parts.get(i);
      if (part instanceof Protobuf.Field) {
        if (out > ((Protobuf.Field) part).start) {
          return false;
        }
      } else {
        long nextUnread = Long.MAX_VALUE;
        for (int j = i + 1; j < parts.size(); j++) {
          if (parts.get(j) instanceof Protobuf.Field) {
            nextUnread = ((Protobuf.Field) parts.get(j)).start;
            break;
          }
        }
        if (out + length(part) > nextUnread) {
          return false;
        }
      }
      out += length(part);
    }
    return true;
  }

  private static void copy(List<Object> parts, byte[] from, byte[] to) {
    int pos = 0;
    for (Object part : parts) {
      if (part instanceof byte[]) {
        byte[] b = (byte[]) part;
        System.arraycopy(b, 0, to, pos, b.length);
        pos += b.length;
      } else {
        Protobuf.Field f = (Protobuf.Field) part;
        System.arraycopy(from, f.start, to, pos, f.end - f.start); // memmove when from == to
        pos += f.end - f.start;
      }
    }
  }

  /**
   * Fields of the unknown number {@link #FILLER_FIELD} that take exactly {@code size} bytes: one
   * LEN field of zeros, or, where no length prefix fits exactly (at varint boundaries), a 4-byte
   * VARINT field first. Null for sizes below 4.
   */
  static byte[] filler(int size) {
    byte[] one = singleFiller(size);
    if (one != null) {
      return one;
    }
    byte[] rest = size >= 8 ? singleFiller(size - 4) : null;
    if (size == 4 || rest != null) {
      Protobuf.Writer w = new Protobuf.Writer(size).varint(FILLER_FIELD, 0);
      byte[] head = w.toByteArray();
      byte[] out = new byte[size];
      System.arraycopy(head, 0, out, 0, head.length);
      if (rest != null) {
        System.arraycopy(rest, 0, out, head.length, rest.length);
      }
      return head.length + (rest == null ? 0 : rest.length) == size ? out : null;
    }
    return null;
  }

  private static byte[] singleFiller(int size) {
    int tag = Protobuf.Writer.header(FILLER_FIELD, 0).length - 1;
    for (int lenBytes = 1; lenBytes <= 5; lenBytes++) {
      long payload = (long) size - tag - lenBytes;
      if (payload >= 0 && Protobuf.Writer.header(FILLER_FIELD, payload).length == tag + lenBytes) {
        byte[] header = Protobuf.Writer.header(FILLER_FIELD, payload);
        byte[] out = new byte[size];
        System.arraycopy(header, 0, out, 0, header.length);
        return out;
      }
    }
    return null;
  }

}
