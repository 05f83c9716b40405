package dev.gecko.core.io;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import java.util.zip.ZipException;

/**
 * Decompresses gzip data (RFC 1952): one member or several back to back, each checked against its
 * CRC-32 and length. Unlike {@link java.util.zip.GZIPInputStream}, which ends quietly where the
 * bytes after a member are not a well-formed gzip header (so a damaged second member reads as a
 * shorter file), every byte after a member must begin another member: anything else is a {@link
 * ZipException} saying where.
 *
 * <p>Not thread-safe. Owns {@code in}: {@link #close()} closes it and frees the inflater's native
 * memory.
 */
final class StrictGzipInputStream extends InputStream {
  private static final int FHCRC = 2;
  private static final int FEXTRA = 4;
  private static final int FNAME = 8;
  private static final int FCOMMENT = 16;
  private static final int RESERVED_FLAGS = 0xe0;

  private final InputStream in;
  private final Inflater inflater = new Inflater(true);
  private final CRC32 crc = new CRC32();
  private final byte[] buffer;
  private final byte[] one = new byte[1];
  private int position;
  private int limit;
  /** Compressed bytes read before {@link #buffer}'s content: with {@link #position}, where we are. */
  private long bufferStart;
  /** Members begun so far (1-based number of the current one). */
  private int member;
  private boolean end;
  private boolean closed;

  /**
   * Reads the first member's header.
   *
   * @throws ZipException if the data does not start with a gzip header
   * @throws EOFException if it ends inside the header
   * @throws IOException if reading fails
   */
  StrictGzipInputStream(InputStream in, int bufferSize) throws IOException {
    this.in = Objects.requireNonNull(in, "in is null");
    this.buffer = new byte[bufferSize];
    try {
      readHeader();
    } catch (IOException | RuntimeException e) {
      inflater.end();
      throw e;
    }
  }

  @Override
  public int read() throws IOException {
    int n;
    do {
      n = read(one, 0, 1);
    } while (n == 0);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (closed) {
      throw new IOException("stream closed");
    }
    if (end) {
      return -1;
    }
    if (len == 0) {
      return 0;
    }
    while (true) {
      int n;
      try {
        n = inflater.inflate(b, off, len);
      } catch (DataFormatException e) {
        ZipException z = new ZipException("invalid compressed data in gzip member " + member + ": " + e.getMessage());
        z.initCause(e);
        throw z;
      }
      if (n > 0) {
        crc.update(b, off, n);
        return n;
      }
      if (inflater.finished()) {
        position = limit - inflater.getRemaining(); // what the inflater did not use follows the member
        readTrailer();
        if (position == limit && !fill()) {
          end = true;
          return -1;
        }
        readHeader();
      } else if (inflater.needsDictionary()) {
        throw new ZipException("gzip member " + member + " needs a preset dictionary, which gzip does not have");
      } else if (inflater.needsInput()) {
        if (position == limit && !fill()) {
          throw new EOFException("the data ends inside gzip member " + member);
        }
        inflater.setInput(buffer, position, limit - position);
        position = limit;
      }
    }
  }

  /** Reads a member's header and readies the inflater for its data. */
  private void readHeader() throws IOException {
    long start = bufferStart + position;
    member++;
    crc.reset(); // the header's own CRC (FHCRC) covers its bytes
    int id1 = headerByte();
    int id2 = position == limit && !fill() ? -1 : headerByte();
    if (id1 != 0x1f || id2 != 0x8b) {
      throw new ZipException(member == 1 ? "not in gzip format"
          : "the data after gzip member " + (member - 1) + " (from byte " + start + ") is not another gzip member: it"
              + " starts with " + hex(id1) + " " + hex(id2) + ", not 1f 8b");
    }
    int method = headerByte();
    if (method != 8) {
      throw new ZipException("gzip member " + member + " uses compression method " + method + ", not deflate (8)");
    }
    int flags = headerByte();
    if ((flags & RESERVED_FLAGS) != 0) {
      throw new ZipException("gzip member " + member + " sets reserved header flags " + Integer.toHexString(flags));
    }
    for (int i = 0; i < 6; i++) { // modification time, extra flags, operating system
      headerByte();
    }
    if ((flags & FEXTRA) != 0) {
      int length = headerByte() | headerByte() << 8;
      for (int i = 0; i < length; i++) {
        headerByte();
      }
    }
    if ((flags & FNAME) != 0) {
      while (headerByte() != 0) {
        // the original file name
      }
    }
    if ((flags & FCOMMENT) != 0) {
      while (headerByte() != 0) {
        // a comment
      }
    }
    if ((flags & FHCRC) != 0) {
      int expected = (int) crc.getValue() & 0xffff;
      if ((nextByte(true) | nextByte(true) << 8) != expected) {
        throw new ZipException("corrupt header of gzip member " + member + " (header CRC mismatch)");
      }
    }
    crc.reset();
    inflater.reset();
  }

  /** Reads and checks a member's trailer: the CRC-32 and length (mod 2^32) of its data. */
  private void readTrailer() throws IOException {
    long storedCrc = uint32();
    long storedSize = uint32();
    if (storedCrc != crc.getValue()) {
      throw new ZipException("CRC mismatch in gzip member " + member + ": its data is damaged");
    }
    if (storedSize != (inflater.getBytesWritten() & 0xffffffffL)) {
      throw new ZipException("length mismatch in gzip member " + member + ": its data is damaged");
    }
  }

  private long uint32() throws IOException {
    return (nextByte(false) | nextByte(false) << 8 | nextByte(false) << 16 | (long) nextByte(false) << 24) & 0xffffffffL;
  }

  private int headerByte() throws IOException {
    int b = nextByte(true);
    crc.update(b);
    return b;
  }

  private int nextByte(boolean header) throws IOException {
    if (position == limit && !fill()) {
      throw new EOFException("the data ends inside " + (header ? "the header of " : "") + "gzip member " + member);
    }
    return buffer[position++] & 0xff;
  }

  private static String hex(int b) {
    return b < 0 ? "(end)" : (b < 0x10 ? "0" : "") + Integer.toHexString(b);
  }

  /** Refills the buffer; false at the end of the data. */
  private boolean fill() throws IOException {
    int n;
    do {
      n = in.read(buffer, 0, buffer.length);
    } while (n == 0);
    if (n < 0) {
      return false;
    }
    bufferStart += limit;
    position = 0;
    limit = n;
    return true;
  }

  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      inflater.end();
      in.close();
    }
  }
}
