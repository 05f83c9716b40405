package dev.gecko.core.internal.index;

import dev.gecko.core.InvalidDataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/**
 * Little-endian payload reading with a running CRC-32C. Internal. Not thread-safe. Does not own the
 * channel: {@link FlatIndexFile} opens and closes it.
 */
public final class PayloadSource {
  private final FileChannel ch;
  private final String file;
  private final CRC32C crc = new CRC32C();
  private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

  PayloadSource(FileChannel ch, String file) {
    this.ch = ch;
    this.file = file;
  }

  /** Returns the CRC-32C of everything read so far. */
  int crc() {
    return (int) crc.getValue();
  }

  float[] floats(int n) throws IOException {
    float[] out = new float[n];
    for (int i = 0; i < n; ) {
      fill(Math.min(buf.capacity(), (long) (n - i) * 4));
      int got = buf.remaining() / 4;
      buf.asFloatBuffer().get(out, i, got);
      i += got;
    }
    return out;
  }

  long[] longs(int n) throws IOException {
    return longs(n, n);
  }

  /** Reads {@code n} longs into a new array of {@code length >= n} (the rest zero). */
  long[] longs(int n, int length) throws IOException {
    long[] out = new long[length];
    for (int i = 0; i < n; ) {
      fill(Math.min(buf.capacity(), (long) (n - i) * 8));
      int got = buf.remaining() / 8;
      buf.asLongBuffer().get(out, i, got);
      i += got;
    }
    return out;
  }

  byte[] bytes(int n) throws IOException {
    byte[] out = new byte[n];
    bytes(out, 0, n);
    return out;
  }

  /** Reads {@code n} bytes into {@code out[offset, offset + n)}. */
  void bytes(byte[] out, int offset, int n) throws IOException {
    readFully(ByteBuffer.wrap(out, offset, n));
    crc.update(out, offset, n);
  }

  private void fill(long bytes) throws IOException {
    buf.clear();
    buf.limit((int) bytes);
    readFully(buf);
    buf.flip();
    crc.update(buf.duplicate());
  }

  private void readFully(ByteBuffer target) throws IOException {
    while (target.hasRemaining()) {
      if (ch.read(target) < 0) {
        throw new InvalidDataException(file, 0, "unexpected end of file");
      }
    }
  }
}
