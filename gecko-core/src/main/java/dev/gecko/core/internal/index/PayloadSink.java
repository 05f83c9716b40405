package dev.gecko.core.internal.index;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Little-endian payload writing with a running CRC-32C; with no stream it only computes the
 * checksum (the header, written first, holds it). Internal. Not thread-safe. Does not own the
 * stream: its caller ({@link FlatIndexFile}) closes it.
 */
public final class PayloadSink {
  private final OutputStream out;
  private final CRC32C crc = new CRC32C();
  private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

  /** Writes to {@code out}, or only checksums where it is null. */
  public PayloadSink(OutputStream out) {
    this.out = out;
  }

  /** Returns the CRC-32C of everything put so far. */
  public int crc() throws IOException {
    flush();
    return (int) crc.getValue();
  }

  void floats(float[] a, int n) throws IOException {
    for (int i = 0; i < n; i++) {
      if (buf.remaining() < 4) {
        flush();
      }
      buf.putFloat(a[i]);
    }
  }

  void longs(long[] a, int n) throws IOException {
    for (int i = 0; i < n; i++) {
      if (buf.remaining() < 8) {
        flush();
      }
      buf.putLong(a[i]);
    }
  }

  void bytes(byte[] a, int n) throws IOException {
    flush();
    crc.update(a, 0, n);
    if (out != null) {
      out.write(a, 0, n);
    }
  }

  /** Passes the buffered bytes on. */
  public void flush() throws IOException {
    buf.flip();
    crc.update(buf.duplicate());
    if (out != null && buf.hasRemaining()) {
      out.write(buf.array(), buf.arrayOffset() + buf.position(), buf.remaining());
    }
    buf.clear();
  }
}
