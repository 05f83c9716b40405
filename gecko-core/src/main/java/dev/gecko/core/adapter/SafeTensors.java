package dev.gecko.core.adapter;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal reader and writer of the safetensors layout (little-endian u64 header length, JSON
 * header, raw little-endian data), for F32 tensors only. The reader holds files to the format's
 * rule that the tensors cover the data section exactly (no gap, no overlap, nothing after), so
 * what it reads and decodes is bounded by the file's size.
 */
final class SafeTensors {
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION) // two entries for one tensor: refused, not the last
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS) // the header is one JSON object, then padding
      .build();
  /** Headers larger than this are refused: an adapter header is a few hundred bytes. */
  private static final long MAX_HEADER = 1 << 20;

  record Tensor(int[] shape, float[] data) {}

  record Contents(Map<String, String> metadata, Map<String, Tensor> tensors) {}

  /** A tensor's header entry: where its bytes lie in the data section. */
  private record Entry(String name, int[] shape, long begin, long end) {}

  private SafeTensors() {}

  static Contents read(InputStream in, String source) throws IOException {
    byte[] lenBytes = in.readNBytes(8);
    if (lenBytes.length < 8) {
      throw new IllegalArgumentException(source + ": not a safetensors file (shorter than 8 bytes)");
    }
    long headerLen = ByteBuffer.wrap(lenBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (headerLen <= 0 || headerLen > MAX_HEADER) {
      throw new IllegalArgumentException(source + ": not a safetensors file (header length " + headerLen + ")");
    }
    byte[] header = in.readNBytes((int) headerLen);
    if (header.length < headerLen) {
      throw new IllegalArgumentException(source + ": truncated safetensors header");
    }
    JsonNode root;
    try {
      root = JSON.readTree(new String(header, StandardCharsets.UTF_8).trim());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(source + ": safetensors header is not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(source + ": safetensors header is not a JSON object");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    List<Entry> entries = new ArrayList<>();
    Iterator<Map.Entry<String, JsonNode>> it = root.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      String name = e.getKey();
      JsonNode t = e.getValue();
      if (name.equals("__metadata__")) {
        readMetadata(t, source, metadata);
        continue;
      }
      String dtype = t.path("dtype").asText("");
      if (!dtype.equals("F32")) {
        throw new IllegalArgumentException(source + ": tensor '" + name + "' has dtype '" + dtype + "'; only F32 is supported");
      }
      JsonNode shapeNode = t.path("shape");
      JsonNode offsets = t.path("data_offsets");
      if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
        throw new IllegalArgumentException(source + ": tensor '" + name + "' lacks shape or data_offsets");
      }
      int[] shape = new int[shapeNode.size()];
      long count = 1;
      for (int i = 0; i < shape.length; i++) {
        JsonNode d = shapeNode.get(i);
        shape[i] = d.canConvertToInt() && d.isIntegralNumber() ? d.asInt() : -1;
        if (shape[i] < 0 || (count *= shape[i]) > Integer.MAX_VALUE / 4) { // no wrap-around: refused before it grows past
          throw new IllegalArgumentException(source + ": tensor '" + name + "' has a bad or too large shape " + shapeNode);
        }
      }
      long begin = offset(offsets.get(0));
      long end = offset(offsets.get(1));
      if (begin < 0 || end < begin || end - begin != count * 4) {
        throw new IllegalArgumentException(source + ": tensor '" + name + "' has data_offsets " + offsets
            + " that do not match its shape " + shapeNode);
      }
      entries.add(new Entry(name, shape, begin, end));
    }
    return new Contents(metadata, readData(in, source, entries));
  }

  /**
   * Reads the data section. The format requires the tensors to cover it back to back, in offset
   * order, with no gap, no overlap and nothing after the last one: so the bytes read, and the floats
   * decoded, are exactly the file's data, whatever its header claims (a header whose tensors all
   * point at the same bytes would otherwise decode them once per tensor).
   */
  private static Map<String, Tensor> readData(InputStream in, String source, List<Entry> entries) throws IOException {
    entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    long at = 0;
    for (Entry e : entries) {
      if (e.begin() != at) {
        throw new IllegalArgumentException(source + ": tensor '" + e.name() + "' has data_offsets [" + e.begin() + ", "
            + e.end() + "], but the tensors must cover the data section back to back, without gap or overlap: "
            + "the next tensor must begin at byte " + at);
      }
      int length = (int) (e.end() - e.begin());
      byte[] bytes = in.readNBytes(length); // grows with what is read: a short file allocates no more than it holds
      if (bytes.length < length) {
        throw new IllegalArgumentException(source + ": truncated: tensor '" + e.name() + "' needs data bytes ["
            + e.begin() + ", " + e.end() + "), the file ends at data byte " + (e.begin() + bytes.length));
      }
      float[] values = new float[length / 4];
      ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
      tensors.put(e.name(), new Tensor(e.shape(), values));
      at = e.end();
    }
    if (in.read() != -1) {
      throw new IllegalArgumentException(source + ": data after the last tensor, which ends at data byte " + at
          + ": the header does not describe the whole file (a damaged or foreign file)");
    }
    return tensors;
  }

  private static void readMetadata(JsonNode node, String source, Map<String, String> metadata) {
    if (!node.isObject()) {
      throw new IllegalArgumentException(source + ": '__metadata__' must be an object of strings");
    }
    node.fields().forEachRemaining(m -> {
      if (!m.getValue().isTextual()) {
        throw new IllegalArgumentException(source + ": metadata '" + m.getKey() + "' must be a string, was "
            + m.getValue());
      }
      metadata.put(m.getKey(), m.getValue().asText());
    });
  }

  /** A data offset: a non-negative JSON integer; -1 for anything else. */
  private static long offset(JsonNode n) {
    return n.isIntegralNumber() && n.canConvertToLong() ? n.asLong() : -1;
  }

  static void write(OutputStream out, Map<String, String> metadata, Map<String, Tensor> tensors) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    ObjectNode meta = root.putObject("__metadata__");
    metadata.forEach(meta::put);
    long offset = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      ObjectNode t = root.putObject(e.getKey());
      t.put("dtype", "F32");
      var shape = t.putArray("shape");
      for (int s : e.getValue().shape()) {
        shape.add(s);
      }
      long bytes = 4L * e.getValue().data().length;
      t.putArray("data_offsets").add(offset).add(offset + bytes);
      offset += bytes;
    }
    byte[] header = JSON.writeValueAsBytes(root);
    int padded = (header.length + 7) / 8 * 8;
    ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    head.putLong(padded);
    head.put(header);
    while (head.hasRemaining()) {
      head.put((byte) ' ');
    }
    out.write(head.array());
    for (Tensor t : tensors.values()) {
      ByteBuffer buf = ByteBuffer.allocate(4 * t.data().length).order(ByteOrder.LITTLE_ENDIAN);
      buf.asFloatBuffer().put(t.data());
      out.write(buf.array());
    }
  }
}
