package dev.gecko.core.io;

import dev.gecko.core.InvalidDataException;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.EOFException;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.ZipException;

/**
 * Reads a text file line by line, the one way every data file of this project is read: UTF-8
 * decoded strictly, gzip-compressed files recognised by their first bytes (whatever their name),
 * a leading byte-order mark dropped, and every problem reported with the file and line.
 *
 * <ul>
 *   <li>A byte sequence that is not UTF-8 (Latin-1 text, say) is an {@link InvalidDataException}
 *       naming the file and line ({@code corpus.jsonl:12: not valid UTF-8 ...}), never a bare
 *       {@code Input length = 1}.
 *   <li>Corrupt or truncated gzip data is an {@link InvalidDataException} naming the file and the
 *       line being read when the data ended or broke. A file of several gzip members (as {@code
 *       cat a.gz b.gz} makes) reads as their texts in order; bytes after a member that do not
 *       begin another (a damaged member header, trailing junk) are such an error too, not ignored.
 *   <li>A file that does not exist or cannot be read is an {@link IOException} naming the file.
 * </ul>
 *
 * <p>Lines end at {@code \n} (a {@code \r} before it is dropped); a lone {@code \r} is not a line
 * end.
 *
 * <p>Not thread-safe: one reader per thread. Owns its stream: {@link #close()} closes it.
 */
public final class LineReader implements Closeable {
  private static final int GZIP_MAGIC_1 = 0x1f;
  private static final int GZIP_MAGIC_2 = 0x8b;
  private static final int BUFFER = 1 << 16;

  /** Bytes of the stream, split into lines here so that a decoding error knows its line. */
  private final InputStream bytes;
  /** Or decoded text, for {@link #of(Reader, String)}. */
  private final BufferedReader chars;
  private final String source;
  private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT)
      .onUnmappableCharacter(CodingErrorAction.REPORT);
  private final byte[] buffer;
  private int position;
  private int limit;
  private byte[] lineBytes = new byte[256];
  /** The line being read on the decoded-text path. */
  private final StringBuilder lineChars = new StringBuilder();
  private int line;
  private boolean closed;
  /** The longest line read: far beyond any text a model reads, short of what an array can hold. */
  static final int MAX_LINE_BYTES = 256 << 20;

  private LineReader(InputStream bytes, BufferedReader chars, String source) {
    this.bytes = bytes;
    this.chars = chars;
    this.source = source;
    this.buffer = bytes == null ? null : new byte[BUFFER];
  }

  /**
   * Opens a file: plain or gzip-compressed UTF-8 text.
   *
   * @throws java.nio.file.NoSuchFileException if it does not exist (the message says so)
   * @throws IOException if it cannot be read (the message names the file)
   * @throws InvalidDataException if it starts like gzip but its header is corrupt
   */
  public static LineReader open(Path file) throws IOException {
    Objects.requireNonNull(file, "file is null");
    InputStream in;
    try {
      in = streamOf(file);
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(file.toString(), null, "file not found");
    } catch (IOException e) {
      throw new IOException(file + ": cannot read: " + e.getMessage(), e);
    }
    try {
      return of(in, file.toString());
    } catch (RuntimeException e) {
      in.close();
      throw e;
    } catch (IOException e) { // a folder opens on Linux and fails at the first read
      in.close();
      throw new IOException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  /**
   * Opens {@code file}'s bytes. A pipe or device of the default file system ({@code /dev/stdin},
   * a FIFO, a shell's {@code <(...)}) opens as a {@link FileInputStream}: the stream of {@link
   * Files#newInputStream} answers {@code available()}, which the text decoder asks, by seeking,
   * and a pipe fails that with "Illegal seek".
   */
  private static InputStream streamOf(Path file) throws IOException {
    if (file.getFileSystem() == FileSystems.getDefault() && Files.exists(file) && !Files.isRegularFile(file)
        && !Files.isDirectory(file)) {
      return new FileInputStream(file.toFile());
    }
    return Files.newInputStream(file);
  }

  /**
   * Reads a stream (plain or gzip-compressed UTF-8 text), naming {@code source} in errors. The
   * reader owns the stream.
   */
  public static LineReader of(InputStream in, String source) throws IOException {
    Objects.requireNonNull(in, "in is null");
    Objects.requireNonNull(source, "source is null");
    BufferedInputStream buffered = new BufferedInputStream(in, 2);
    buffered.mark(2);
    int b1 = buffered.read();
    int b2 = buffered.read();
    buffered.reset();
    InputStream body = buffered;
    if (b1 == GZIP_MAGIC_1 && b2 == GZIP_MAGIC_2) {
      try {
        body = new StrictGzipInputStream(buffered, BUFFER);
      } catch (EOFException e) {
        throw new InvalidDataException(source, 0, "truncated gzip header: " + e.getMessage(), e);
      } catch (ZipException e) {
        throw new InvalidDataException(source, 0, "corrupt gzip header: " + e.getMessage(), e);
      }
    }
    return new LineReader(body, null, source);
  }

  /**
   * Reads already-decoded text (a string, say), naming {@code source} in errors. The reader owns
   * {@code reader}.
   */
  public static LineReader of(Reader reader, String source) {
    Objects.requireNonNull(reader, "reader is null");
    return new LineReader(null, reader instanceof BufferedReader b ? b : new BufferedReader(reader, BUFFER),
        Objects.requireNonNull(source, "source is null"));
  }

  /**
   * Returns the next line without its terminator ({@code \n} or {@code \r\n}; a lone {@code \r}
   * ends no line), or null at the end.
   *
   * @throws InvalidDataException if the line is not UTF-8 or the gzip data is corrupt or
   *     truncated (the message names the file and line)
   * @throws IOException if reading fails
   * @throws IllegalStateException if the reader is closed
   */
  public String readLine() throws IOException {
    if (closed) { // the buffer may still hold lines: a read after close must not seem to work
      throw new IllegalStateException(source + ": the reader is closed");
    }
    String s;
    if (chars != null) {
      try {
        s = readLineChars();
      } catch (IOException e) {
        throw new IOException(source + ": cannot read line " + (line + 1) + ": " + e.getMessage(), e);
      }
    } else {
      int n;
      try {
        n = readLineBytes();
      } catch (EOFException e) {
        throw new InvalidDataException(source, line + 1, "truncated gzip data: the file ends in the middle of its"
            + " compressed stream (" + e.getMessage() + ")", e);
      } catch (ZipException e) {
        throw new InvalidDataException(source, line + 1, "corrupt gzip data: " + e.getMessage(), e);
      } catch (InvalidDataException e) {
        throw e;
      } catch (IOException e) { // a folder given as a file, a read error: name the file
        throw new IOException(source + ": cannot read line " + (line + 1) + ": " + e.getMessage(), e);
      }
      if (n < 0) {
        return null;
      }
      try {
        s = decoder.decode(ByteBuffer.wrap(lineBytes, 0, n)).toString();
      } catch (CharacterCodingException e) {
        throw new InvalidDataException(source, line + 1, "not valid UTF-8 (save the file as UTF-8)", e);
      }
    }
    if (s == null) {
      return null;
    }
    line++;
    if (line == 1 && !s.isEmpty() && s.charAt(0) == '\uFEFF') {
      s = s.substring(1);
    }
    return s;
  }

  /** Reads the next line's bytes into {@link #lineBytes}; returns their count, or -1 at the end. */
  private int readLineBytes() throws IOException {
    int n = 0;
    boolean any = false;
    while (true) {
      if (position == limit) {
        limit = bytes.read(buffer, 0, buffer.length);
        position = 0;
        if (limit <= 0) {
          limit = 0;
          return any ? stripCr(n) : -1;
        }
      }
      any = true;
      int start = position;
      int end = start;
      while (end < limit && buffer[end] != '\n') {
        end++;
      }
      int chunk = end - start;
      if ((long) n + chunk > MAX_LINE_BYTES) {
        throw new InvalidDataException(source, line + 1, "a line longer than " + (MAX_LINE_BYTES >> 20) + " MiB: "
            + "line-based files need one record per line (a JSON array written on one line is not JSON Lines; "
            + "a lone \\r does not end a line)");
      }
      if (n + chunk > lineBytes.length) {
        lineBytes = Arrays.copyOf(lineBytes, (int) Math.min(MAX_LINE_BYTES, Math.max(n + chunk, 2L * lineBytes.length)));
      }
      System.arraycopy(buffer, start, lineBytes, n, chunk);
      n += chunk;
      if (end < limit) {
        position = end + 1; // past the newline
        return stripCr(n);
      }
      position = limit;
    }
  }

  /**
   * The next line of decoded text, ended as the byte path ends it: at {@code \n}, a {@code \r}
   * before it dropped, a lone {@code \r} kept (so line numbers agree whichever way a file is read).
   */
  private String readLineChars() throws IOException {
    lineChars.setLength(0);
    int c = chars.read();
    if (c < 0) {
      return null;
    }
    while (c >= 0 && c != '\n') {
      if (lineChars.length() >= MAX_LINE_BYTES) {
        throw new InvalidDataException(source, line + 1, "a line longer than " + (MAX_LINE_BYTES >> 20)
            + " Mi characters: line-based files need one record per line");
      }
      lineChars.append((char) c);
      c = chars.read();
    }
    int n = lineChars.length();
    if (n > 0 && lineChars.charAt(n - 1) == '\r') {
      lineChars.setLength(n - 1);
    }
    return lineChars.toString();
  }

  private int stripCr(int n) {
    return n > 0 && lineBytes[n - 1] == '\r' ? n - 1 : n;
  }

  /** Returns the number of the line last returned (1-based); 0 before the first. */
  public int lineNumber() {
    return line;
  }

  /** Returns the name used in errors: the file's path, or the name given. */
  public String source() {
    return source;
  }

  /** Returns an {@link InvalidDataException} for the line last returned. */
  public InvalidDataException invalid(String reason) {
    return new InvalidDataException(source, line, reason);
  }

  /** Returns an {@link InvalidDataException} for the line last returned, with the failure that found it. */
  public InvalidDataException invalid(String reason, Throwable cause) {
    return new InvalidDataException(source, line, reason, cause);
  }

  @Override
  public void close() throws IOException {
    closed = true;
    if (bytes != null) {
      bytes.close();
    } else {
      chars.close();
    }
  }
}
