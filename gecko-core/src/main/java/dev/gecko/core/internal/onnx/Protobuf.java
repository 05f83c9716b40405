package dev.gecko.core.internal.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The protocol-buffers wire format, as far as rewriting an ONNX graph needs: split a message into
 * its fields (keeping each field's raw bytes so that untouched fields are copied verbatim), and
 * write new fields. Not a general protobuf library: no schema, no groups.
 */
final class Protobuf {
  static final int VARINT = 0;
  static final int FIXED64 = 1;
  static final int LEN = 2;
  static final int FIXED32 = 5;

  private Protobuf() {}

  /** One field of a message: its number, wire type, value and where its raw bytes lie. */
  static final class Field {
    final int number;
    final int wireType;
    /** The value of a VARINT field. */
    final long varint;
    /** Payload offset and length (LEN: the bytes; FIXED32/64: the 4 or 8 bytes; VARINT: 0). */
    final int offset;
    final int length;
    /** The whole field, tag included. */
    final int start;
    final int end;

    Field(int number, int wireType, long varint, int offset, int length, int start, int end) {
      this.number = number;
      this.wireType = wireType;
      this.varint = varint;
      this.offset = offset;
      this.length = length;
      this.start = start;
      this.end = end;
    }

    String string(byte[] buf) {
      return new String(buf, offset, length, StandardCharsets.UTF_8);
    }

    float fixed32Float(byte[] buf) {
      return float32(buf, offset);
    }
  }

  /** The little-endian IEEE float at {@code buf[offset, offset + 4)}. */
  static float float32(byte[] buf, int offset) {
    return Float.intBitsToFloat((buf[offset] & 0xFF) | (buf[offset + 1] & 0xFF) << 8
        | (buf[offset + 2] & 0xFF) << 16 | (buf[offset + 3] & 0xFF) << 24);
  }

  /**
   * The values of a packed repeated varint field (the payload of a LEN field).
   *
   * @throws IllegalArgumentException if a varint runs past the payload
   */
  static List<Long> packedVarints(byte[] buf, Field packed) {
    List<Long> values = new ArrayList<>();
    int[] pos = {packed.offset};
    int end = packed.offset + packed.length;
    while (pos[0] < end) {
      values.add(readVarint(buf, pos, end));
    }
    return values;
  }

  /**
   * Splits {@code buf[offset, offset + length)} into fields.
   *
   * @throws IllegalArgumentException if the bytes are not a well-formed message
   */
  static List<Field> parse(byte[] buf, int offset, int length) {
    List<Field> fields = new ArrayList<>();
    int[] pos = {offset};
    int end = offset + length;
    while (pos[0] < end) {
      int start = pos[0];
      long tag = readVarint(buf, pos, end);
      int number = (int) (tag >>> 3);
      int wireType = (int) (tag & 7);
      if (number <= 0) {
        throw new IllegalArgumentException("bad field number " + number + " at byte " + start);
      }
      switch (wireType) {
        case VARINT: {
          long v = readVarint(buf, pos, end);
          fields.add(new Field(number, wireType, v, pos[0], 0, start, pos[0]));
          break;
        }
        case FIXED64:
        case FIXED32: {
          int size = wireType == FIXED64 ? 8 : 4;
          if (end - pos[0] < size) {
            throw new IllegalArgumentException("truncated fixed field " + number + " at byte " + start);
          }
          fields.add(new Field(number, wireType, 0, pos[0], size, start, pos[0] + size));
          pos[0] += size;
          break;
        }
        case LEN: {
          long len = readVarint(buf, pos, end);
          if (len < 0 || len > end - pos[0]) {
            throw new IllegalArgumentException("field " + number + " at byte " + start + " runs past its message");
          }
          fields.add(new Field(number, wireType, 0, pos[0], (int) len, start, pos[0] + (int) len));
          pos[0] += (int) len;
          break;
        }
        default:
          throw new IllegalArgumentException("unsupported wire type " + wireType + " at byte " + start);
      }
    }
    return fields;
  }

  private static long readVarint(byte[] buf, int[] pos, int end) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos[0] >= end) {
        throw new IllegalArgumentException("truncated varint at byte " + pos[0]);
      }
      byte b = buf[pos[0]++];
      v |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        return v;
      }
    }
    throw new IllegalArgumentException("varint longer than 10 bytes at byte " + pos[0]);
  }

  /** Builds a message from raw fields and new ones. */
  static final class Writer {
    private final ByteArrayOutputStream out;

    Writer() {
      this(64);
    }

    Writer(int capacity) {
      out = new ByteArrayOutputStream(capacity);
    }

    Writer varint(int number, long value) {
      tag(number, VARINT);
      writeVarint(value);
      return this;
    }

    Writer fixed32Float(int number, float value) {
      tag(number, FIXED32);
      int bits = Float.floatToIntBits(value);
      for (int i = 0; i < 4; i++) {
        out.write(bits >>> (8 * i) & 0xFF);
      }
      return this;
    }

    Writer string(int number, String value) {
      return bytes(number, value.getBytes(StandardCharsets.UTF_8));
    }

    Writer bytes(int number, byte[] value) {
      tag(number, LEN);
      writeVarint(value.length);
      out.write(value, 0, value.length);
      return this;
    }

    /** Appends bytes already in wire format (a whole field). */
    Writer raw(byte[] buf, int offset, int length) {
      out.write(buf, offset, length);
      return this;
    }

    Writer message(int number, Writer value) {
      return bytes(number, value.toByteArray());
    }

    /** The tag and length prefix of a LEN field of {@code length} bytes. */
    static byte[] header(int number, long length) {
      Writer w = new Writer(16);
      w.tag(number, LEN);
      w.writeVarint(length);
      return w.toByteArray();
    }

    private void tag(int number, int wireType) {
      writeVarint((long) number << 3 | wireType);
    }

    private void writeVarint(long v) {
      while ((v & ~0x7FL) != 0) {
        out.write((int) (v & 0x7F | 0x80));
        v >>>= 7;
      }
      out.write((int) v);
    }

    byte[] toByteArray() {
      return out.toByteArray();
    }
  }
}
