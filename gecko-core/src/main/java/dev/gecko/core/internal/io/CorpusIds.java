package dev.gecko.core.internal.io;

import dev.gecko.core.InvalidDataException;
import dev.gecko.core.io.JsonlReader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The ids of one corpus file, each with the line it was first read on, so that a repeated id is
 * refused naming both lines ({@link dev.gecko.core.io.Corpus}, and Spark's corpus reader, which
 * streams a file of any size through one task). An id is kept as the first 128 bits of the SHA-256
 * of its UTF-8 bytes, with its line: 20 bytes a slot in an open-addressing table filled to at most
 * 3/4, whatever the id's length. For 5 million ids {@code doc-0} ... this held 33.5 bytes per id
 * where the {@code HashMap<String, Integer>} it replaced held 110.6 (gecko-bench's {@code
 * CorpusIdsMemory}, JDK 17, 2026-12-07), the id strings included: a streaming reader (Spark's)
 * holds them only there, {@link dev.gecko.core.io.Corpus#read} keeps them in its passages anyway.
 * Two distinct ids sharing those 128 bits, which would be refused as one, is as likely as a
 * collision of a 128-bit cryptographic hash.
 *
 * <p>Internal: not part of the API. Not thread-safe: one instance per file read.
 */
public final class CorpusIds {
  private static final int MAX_CAPACITY = 1 << 30;
  private final MessageDigest sha256;
  private long[] high = new long[64];
  private long[] low = new long[64];
  private int[] lines = new int[64]; // 0: an empty slot (line numbers start at 1)
  private int size;

  public CorpusIds() {
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256, which every Java platform must have", e);
    }
  }

  /**
   * Records {@code id}, read on {@code in}'s current line.
   *
   * @throws InvalidDataException naming {@code in}'s file and line, and the line the id was first
   *     read on, if the id was recorded before
   */
  public void add(String id, JsonlReader in) {
    int line = in.lineNumber();
    if (line < 1) {
      throw new IllegalArgumentException("line number must be >= 1, was " + line);
    }
    byte[] d = sha256.digest(id.getBytes(StandardCharsets.UTF_8));
    long h = leLong(d, 0);
    long l = leLong(d, 8);
    int mask = lines.length - 1;
    for (int i = (int) l & mask; ; i = (i + 1) & mask) {
      if (lines[i] == 0) {
        high[i] = h;
        low[i] = l;
        lines[i] = line;
        if (++size > lines.length / 4 * 3) {
          grow();
        }
        return;
      }
      if (high[i] == h && low[i] == l) {
        throw in.invalid("duplicate id '" + id + "' (first on line " + lines[i] + ")"
            + (id.indexOf('\uFFFD') >= 0 ? "; half a surrogate pair reads as U+FFFD, so ids that differ only "
            + "there are one" : ""));
      }
    }
  }

  /** Returns how many ids were recorded. */
  public int size() {
    return size;
  }

  private void grow() {
    if (lines.length == MAX_CAPACITY) {
      throw new IllegalStateException("more than " + MAX_CAPACITY / 4 * 3 + " ids in one corpus file");
    }
    long[] oldHigh = high;
    long[] oldLow = low;
    int[] oldLines = lines;
    int capacity = oldLines.length * 2;
    long[] newHigh = new long[capacity];
    long[] newLow = new long[capacity];
    int[] newLines = new int[capacity];
    int mask = capacity - 1;
    for (int j = 0; j < oldLines.length; j++) {
      if (oldLines[j] != 0) {
        int i = (int) oldLow[j] & mask;
        while (newLines[i] != 0) {
          i = (i + 1) & mask;
        }
        newHigh[i] = oldHigh[j];
        newLow[i] = oldLow[j];
        newLines[i] = oldLines[j];
      }
    }
    high = newHigh; // assigned once all exist: an OutOfMemoryError above leaves the table as it was
    low = newLow;
    lines = newLines;
  }

  private static long leLong(byte[] b, int from) {
    long v = 0;
    for (int k = 7; k >= 0; k--) {
      v = (v << 8) | (b[from + k] & 0xFF);
    }
    return v;
  }
}
