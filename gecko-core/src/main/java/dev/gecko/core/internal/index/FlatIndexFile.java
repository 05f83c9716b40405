package dev.gecko.core.internal.index;

import dev.gecko.core.InvalidDataException;
import dev.gecko.core.internal.io.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.CRC32C;

/**
 * The flat index file format, version 2, all little-endian: a 32-byte header of the magic {@code
 * "GKFX"} (4 ASCII bytes), then int32 fields version (2), precision (0 float32, 1 int8, 2 binary),
 * metric (0 dot, 1 cosine, 2 hamming), dimensions, count, the CRC-32C of the payload and the
 * CRC-32C of the header's first 28 bytes; then the payload, as {@link VectorStorage} writes it.
 * Reading verifies both checksums once, so a damaged file (a flipped bit anywhere) is refused
 * instead of searched. Version 1 files (a 24-byte header, no checksums) are refused with a message
 * to re-create the index. Internal: {@code FlatIndex.save} and {@code load} are the API.
 *
 * <p>Stateless and thread-safe.
 */
public final class FlatIndexFile {
  static final byte[] MAGIC = "GKFX".getBytes(StandardCharsets.US_ASCII);
  /** The format version written and read. */
  public static final int VERSION = 2;
  /** The header's length. */
  public static final int HEADER_BYTES = 32;
  /** The header bytes its own checksum covers: all but that checksum. */
  private static final int HEADER_CHECKED_BYTES = HEADER_BYTES - 4;

  private FlatIndexFile() {}

  /**
   * What a header says.
   *
   * @param precision the precision's ordinal
   * @param metric the metric's ordinal
   * @param dimensions the width
   * @param count the number of vectors
   */
  public record Header(int precision, int metric, int dimensions, int count) {}

  /**
   * Writes a storage's vectors under a header, atomically where the file system allows.
   *
   * @throws IOException if writing fails
   */
  public static void write(Path file, int precision, int metric, VectorStorage storage) throws IOException {
    PayloadSink checksum = new PayloadSink(null);
    storage.write(checksum);
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    header.put(MAGIC).putInt(VERSION).putInt(precision).putInt(metric).putInt(storage.dimensions)
        .putInt(storage.size()).putInt(checksum.crc());
    header.putInt(headerCrc(header.array()));
    AtomicFiles.write(file, out -> {
      out.write(header.array());
      PayloadSink payload = new PayloadSink(out);
      storage.write(payload);
      payload.flush();
    });
  }

  /**
   * Reads a file: its header, then its payload into the storage {@code storageFor} makes for that
   * header (which checks precision, metric and width and throws {@link IllegalArgumentException}
   * for a combination that cannot be).
   *
   * @throws NoSuchFileException if it does not exist
   * @throws InvalidDataException naming the file if it is not a flat index of this version, its
   *     length does not match its header, a checksum does not match, or it holds NaN or an
   *     infinity
   * @throws IOException if reading fails
   */
  public static <S extends VectorStorage> S read(Path file, java.util.function.Function<Header, S> storageFor)
      throws IOException {
    String name = file.toString();
    if (Files.isDirectory(file)) { // opens on Linux, and the first read fails without a name
      throw new IOException(name + ": is a folder, not a flat index file");
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long length = ch.size();
      if (length < HEADER_BYTES) {
        throw new InvalidDataException(name, 0, "not a Gecko flat index (only " + length + " bytes)");
      }
      ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      while (header.hasRemaining() && ch.read(header) >= 0) {
        // read the whole header
      }
      header.flip();
      byte[] magic = new byte[4];
      header.get(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new InvalidDataException(name, 0, "not a Gecko flat index (magic is not GKFX)");
      }
      int version = header.getInt();
      // the checksum covers the version too: a version 2 header that fails it is damaged, and an
      // unknown version that fails it may be a damaged version 2 (a version 1 header has none)
      int storedHeaderCrc = header.getInt(HEADER_CHECKED_BYTES);
      int computedHeaderCrc = headerCrc(header.array());
      boolean intact = storedHeaderCrc == computedHeaderCrc;
      if (version == VERSION && !intact) {
        throw new InvalidDataException(name, 0, "header checksum mismatch (CRC-32C stored " + hex(storedHeaderCrc)
            + ", computed " + hex(computedHeaderCrc) + "): the file is damaged; re-create the index");
      }
      if (version == 1) {
        throw new InvalidDataException(name, 0, "flat index format version 1 has no checksums, so damage in it cannot"
            + " be told from data, and this build no longer reads it; re-create the index (gecko index, or add the"
            + " vectors to a new FlatIndex and save it)");
      }
      if (version != VERSION) {
        throw new InvalidDataException(name, 0, "flat index format version " + version + ", this build reads "
            + VERSION + (intact ? "" : "; or the file is damaged (its header checksum does not match as version "
            + VERSION + "'s)"));
      }
      int p = header.getInt();
      int m = header.getInt();
      int dims = header.getInt();
      int count = header.getInt();
      int payloadCrc = header.getInt();
      if (dims < 1 || count < 0) {
        throw new InvalidDataException(name, 0, "corrupt header (dimensions " + dims + ", count " + count + ")");
      }
      S storage;
      try {
        storage = storageFor.apply(new Header(p, m, dims, count));
      } catch (IllegalArgumentException e) {
        throw new InvalidDataException(name, 0, "corrupt header: " + e.getMessage(), e);
      }
      long payload = storage.payloadBytes(count);
      if (payload > Long.MAX_VALUE - HEADER_BYTES || length != HEADER_BYTES + payload) {
        throw new InvalidDataException(name, 0, length + " bytes, but the header (" + storage.getClass().getSimpleName()
            .replace("Storage", "").toLowerCase(Locale.ROOT) + ", " + dims + " dimensions, " + count
            + " vectors) needs " + (payload > Long.MAX_VALUE - HEADER_BYTES ? "more than " + Long.MAX_VALUE
                : String.valueOf(HEADER_BYTES + payload)));
      }
      PayloadSource source = new PayloadSource(ch, name);
      storage.read(source, count, name);
      if (source.crc() != payloadCrc) {
        throw new InvalidDataException(name, 0, "payload checksum mismatch (CRC-32C stored " + hex(payloadCrc)
            + ", computed " + hex(source.crc()) + "): the vectors are damaged; re-create the index");
      }
      storage.checkValues(name);
      return storage;
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(name, null, "file not found");
    }
  }

  private static int headerCrc(byte[] header) {
    CRC32C crc = new CRC32C();
    crc.update(header, 0, HEADER_CHECKED_BYTES);
    return (int) crc.getValue();
  }

  private static String hex(int crc) {
    return String.format(Locale.ROOT, "%08x", crc);
  }
}
