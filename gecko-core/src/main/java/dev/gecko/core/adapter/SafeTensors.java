package dev.gecko.core.adapter;

import com.fasterxml.jackson.core.StreamReadFeature;
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
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A minimal reader and writer of the safetensors layout (little-endian u64 header length, JSON
 * header, raw little-endian data), for F32 tensors only.
 */
final class SafeTensors {
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION) // two entries for one tensor: refused, not the last
      .build();
  /** Headers larger than this are refused: an adapter header is a few hundred bytes. */
  private static final long MAX_HEADER = 1 << 20;

  record Tensor(int[] shape, float[] data) {}

  record Contents(Map<String, String> metadata, Map<String, Tensor> tensors) {}

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
    byte[] data = in.readAllBytes();
    Map<String, String> metadata = new LinkedHashMap<>();
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = root.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      String name = e.getKey();
      JsonNode t = e.getValue();
      if (name.equals("__metadata__")) {
        t.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
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
      long begin = offsets.get(0).asLong(-1);
      long end = offsets.get(1).asLong(-1);
      if (begin < 0 || end < begin || end > data.length || end - begin != count * 4) {
        throw new IllegalArgumentException(source + ": tensor '" + name + "' has data_offsets " + offsets
            + " that do not match its shape " + shapeNode + " or the " + data.length + "-byte data section");
      }
      float[] values = new float[(int) count];
      ByteBuffer.wrap(data, (int) begin, (int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
      tensors.put(name, new Tensor(shape, values));
    }
    return new Contents(metadata, tensors);
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
