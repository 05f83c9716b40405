package dev.gecko.tokenizer;

import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A HuggingFace tokenizer loaded from a {@code tokenizer.json}, encoding texts for an embedding
 * model: token ids with special tokens, truncation at {@link #maxLength()} reported per row, and
 * batches padded to their longest row with the pad id that the tokenizer.json declares.
 *
 * <h2>Configuration</h2>
 * Padding settings stored in the tokenizer.json are ignored: padding is always to the longest row
 * of a batch. Of its truncation settings only the length is read, and only as a default: the
 * maximum length is the one given to {@link Builder#maxLength(int)}, else the tokenizer.json's
 * truncation {@code max_length} (at least 2), else 512; truncation always keeps the first tokens
 * (on the right, stride 0), whatever the file says (a {@code "direction": "Left"} included). Some
 * published files carry stray values (all-MiniLM-L6-v2's
 * pads every text to 128 tokens and cuts at 128 while the model is used at 256, so a builder
 * without {@code maxLength} cuts it at 128): give the model's own length where it is known.
 *
 * <h2>Input</h2>
 * A {@code null} text is rejected with a {@link NullPointerException} naming its index. Unpaired
 * UTF-16 surrogates are replaced by U+FFFD before the text reaches native code (the JNI layer
 * would otherwise decode the whole string lossily and corrupt valid characters beside them). Empty
 * texts encode to the special tokens alone; NUL characters are passed through, and BERT-style
 * normalisers remove them.
 *
 * <h2>No network</h2>
 * This class calls the native tokenizer directly and never goes through DJL's {@code
 * HuggingFaceTokenizer} factories, which contact an AWS metadata address and a telemetry URL
 * unless opted out. Loading it opens no connection and sets no system property. DJL's native
 * library is loaded by path from DJL's own cache folder, bypassing DJL's platform detection, so
 * that a start prints no SLF4J or CUDA warnings (where that cannot be done, DJL loads it).
 *
 * <h2>Threads and resources</h2>
 * Thread-safe: one instance may be shared by all threads. It holds native memory, which the code
 * that built it owns: {@link #close()} frees it, waiting for encodes in flight; afterwards the
 * methods that use the native tokenizer ({@link #encode}, {@link #encodeAll}, {@link #encodeBatch},
 * {@link #countTokens}) throw {@link IllegalStateException}, while those that need none ({@link
 * #maxLength()}, {@link #padId()}, {@link #pad(List)}) keep working. {@code close()} is idempotent.
 */
public final class GeckoTokenizer implements AutoCloseable {
  private static final int DEFAULT_MAX_LENGTH = 512;

  private final long fullHandle;
  private final long truncatingHandle;
  private final int maxLength;
  private final long padId;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private volatile boolean closed;

  private GeckoTokenizer(String json, int maxLength, long padId) {
    TokenizerNatives.ensureLoaded();
    TokenizersLibrary lib = TokenizersLibrary.LIB;
    long full = lib.createTokenizerFromString(json);
    long truncating = 0;
    try {
      lib.disablePadding(full);
      lib.disableTruncation(full);
      truncating = lib.createTokenizerFromString(json);
      lib.disablePadding(truncating);
      // cleared first: setTruncation keeps the file's other settings, and a file's "direction":
      // "Left" would cut a long text's first tokens (and its prompt) instead of its last
      lib.disableTruncation(truncating);
      lib.setTruncation(truncating, maxLength, "LONGEST_FIRST", 0);
    } catch (RuntimeException | Error e) {
      // both handles, whichever call failed: neither is reachable once the constructor throws
      if (truncating != 0) {
        try {
          lib.deleteTokenizer(truncating);
        } catch (RuntimeException | Error suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      try {
        lib.deleteTokenizer(full);
      } catch (RuntimeException | Error suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    this.fullHandle = full;
    this.truncatingHandle = truncating;
    this.maxLength = maxLength;
    this.padId = padId;
  }

  /** Returns a new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Loads a tokenizer from a {@code tokenizer.json} file with the given maximum length.
   *
   * @throws IOException if the file cannot be read
   * @throws IllegalArgumentException if the file is not a valid tokenizer.json
   */
  public static GeckoTokenizer fromFile(Path tokenizerJson, int maxLength) throws IOException {
    return builder().tokenizerJson(tokenizerJson).maxLength(maxLength).build();
  }

  /** Returns the maximum number of tokens per text, special tokens included; works after {@link #close()}. */
  public int maxLength() {
    return maxLength;
  }

  /** Returns the id used for padding; works after {@link #close()}. */
  public long padId() {
    return padId;
  }

  /**
   * Encodes one text, truncated to {@link #maxLength()}.
   *
   * @throws NullPointerException if {@code text} is null
   * @throws IllegalStateException if this tokenizer is closed
   */
  public Encoding encode(String text) {
    Objects.requireNonNull(text, "text is null");
    ReentrantReadWriteLock.ReadLock read = acquire();
    try {
      return encodeOpen(text);
    } finally {
      read.unlock();
    }
  }

  /**
   * Encodes each text, truncated to {@link #maxLength()}, in order.
   *
   * @throws NullPointerException if the list or any text is null (the message names the index)
   * @throws IllegalStateException if this tokenizer is closed
   */
  public List<Encoding> encodeAll(List<String> texts) {
    Objects.requireNonNull(texts, "texts is null");
    for (int i = 0; i < texts.size(); i++) {
      if (texts.get(i) == null) {
        throw new NullPointerException("texts[" + i + "] is null");
      }
    }
    List<Encoding> out = new ArrayList<>(texts.size());
    ReentrantReadWriteLock.ReadLock read = acquire();
    try {
      for (String text : texts) {
        out.add(encodeOpen(text));
      }
    } finally {
      read.unlock();
    }
    return out;
  }

  /**
   * Encodes the texts and pads them into one batch.
   *
   * @throws NullPointerException if the list or any text is null (the message names the index)
   * @throws IllegalArgumentException if the list is empty
   * @throws IllegalStateException if this tokenizer is closed
   */
  public TokenizedBatch encodeBatch(List<String> texts) {
    return pad(encodeAll(texts));
  }

  /**
   * Packs encodings into a batch padded to the longest of them with {@link #padId()}; uses no native
   * code, and works after {@link #close()}.
   *
   * @throws IllegalArgumentException if the list is empty
   */
  public TokenizedBatch pad(List<Encoding> encodings) {
    return pad(encodings, padId);
  }

  /**
   * Packs encodings into a batch padded to the longest of them with {@code padId}.
   *
   * @throws IllegalArgumentException if the list is empty
   */
  public static TokenizedBatch pad(List<Encoding> encodings, long padId) {
    Objects.requireNonNull(encodings, "encodings is null");
    if (encodings.isEmpty()) {
      throw new IllegalArgumentException("cannot pad an empty list of encodings");
    }
    int rows = encodings.size();
    int seq = 0;
    for (Encoding e : encodings) {
      seq = Math.max(seq, e.length());
    }
    long[] ids = new long[rows * seq];
    long[] mask = new long[rows * seq];
    long[] types = new long[rows * seq];
    int[] lengths = new int[rows];
    int[] originals = new int[rows];
    for (int r = 0; r < rows; r++) {
      Encoding e = encodings.get(r);
      int base = r * seq;
      int n = e.length();
      System.arraycopy(e.ids, 0, ids, base, n);
      System.arraycopy(e.typeIds, 0, types, base, n);
      java.util.Arrays.fill(mask, base, base + n, 1L);
      if (n < seq) {
        java.util.Arrays.fill(ids, base + n, base + seq, padId);
      }
      lengths[r] = n;
      originals[r] = e.originalLength();
    }
    return new TokenizedBatch(rows, seq, ids, mask, types, lengths, originals);
  }

  /**
   * Counts the tokens of a text without truncation, special tokens included.
   *
   * @throws NullPointerException if {@code text} is null
   * @throws IllegalStateException if this tokenizer is closed
   */
  public int countTokens(String text) {
    Objects.requireNonNull(text, "text is null");
    ReentrantReadWriteLock.ReadLock read = acquire();
    try {
      long enc = TokenizersLibrary.LIB.encode(fullHandle, sanitize(text), true);
      try {
        return TokenizersLibrary.LIB.getTokenIds(enc).length;
      } finally {
        TokenizersLibrary.LIB.deleteEncoding(enc);
      }
    } finally {
      read.unlock();
    }
  }

  /** Frees the native tokenizer after encodes in flight finish. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    lock.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      TokenizersLibrary.LIB.deleteTokenizer(fullHandle);
      TokenizersLibrary.LIB.deleteTokenizer(truncatingHandle);
    } finally {
      lock.writeLock().unlock();
    }
  }

  private ReentrantReadWriteLock.ReadLock acquire() {
    ReentrantReadWriteLock.ReadLock read = lock.readLock();
    read.lock();
    if (closed) {
      read.unlock();
      throw new IllegalStateException("tokenizer is closed");
    }
    return read;
  }

  private Encoding encodeOpen(String text) {
    String clean = sanitize(text);
    TokenizersLibrary lib = TokenizersLibrary.LIB;
    long enc = lib.encode(fullHandle, clean, true);
    long[] ids;
    long[] types;
    try {
      ids = lib.getTokenIds(enc);
      types = lib.getTypeIds(enc);
    } finally {
      lib.deleteEncoding(enc);
    }
    if (ids.length <= maxLength) {
      return new Encoding(ids, types, ids.length);
    }
    int original = ids.length;
    long cut = lib.encode(truncatingHandle, clean, true);
    try {
      return new Encoding(lib.getTokenIds(cut), lib.getTypeIds(cut), original);
    } finally {
      lib.deleteEncoding(cut);
    }
  }

  /**
   * Replaces unpaired UTF-16 surrogates by U+FFFD, as every encode does before the native
   * tokenizer sees the text (which cannot take them). Returns {@code text} itself when it has none.
   * Stateless and thread-safe.
   */
  public static String sanitize(String text) {
    int n = text.length();
    int i = 0;
    while (i < n) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
        i += 2;
      } else if (Character.isSurrogate(c)) {
        break;
      } else {
        i++;
      }
    }
    if (i == n) {
      return text;
    }
    StringBuilder sb = new StringBuilder(n).append(text, 0, i);
    while (i < n) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
        sb.append(c).append(text.charAt(i + 1));
        i += 2;
      } else {
        sb.append(Character.isSurrogate(c) ? '\uFFFD' : c);
        i++;
      }
    }
    return sb.toString();
  }

  /**
   * Builds a {@link GeckoTokenizer}. Reusable; not thread-safe. Each {@link #build()} returns a new
   * tokenizer, which the caller owns and closes.
   */
  public static final class Builder {
    private String json;
    private String source;
    private Integer maxLength;

    private Builder() {}

    /**
     * Reads the tokenizer from a {@code tokenizer.json} file, as {@link #tokenizerJson(InputStream,
     * String)} reads a stream named by the path.
     */
    public Builder tokenizerJson(Path path) throws IOException {
      Objects.requireNonNull(path, "path is null");
      if (Files.isDirectory(path)) { // opened without complaint on Linux, then "Is a directory" with no name
        throw new java.nio.file.FileSystemException(path.toString(), null, "a folder, not a tokenizer.json file");
      }
      try (InputStream in = Files.newInputStream(path)) {
        return tokenizerJson(in, path.toString());
      }
    }

    /**
     * Reads the tokenizer from a stream holding a {@code tokenizer.json}; does not close it.
     *
     * @throws IOException if the stream cannot be read, or holds bytes that are not UTF-8 (the
     *     message names {@code sourceName}): decoded leniently, a vocabulary entry saved in another
     *     encoding would become another token and vectors would differ silently. A leading byte
     *     order mark is dropped.
     */
    public Builder tokenizerJson(InputStream in, String sourceName) throws IOException {
      Objects.requireNonNull(in, "stream is null");
      String name = Objects.requireNonNullElse(sourceName, "stream");
      try {
        this.json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
            .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
            .decode(java.nio.ByteBuffer.wrap(in.readAllBytes())).toString();
        if (this.json.startsWith("\uFEFF")) { // a byte order mark (an editor on Windows): not JSON, as in every data file
          this.json = this.json.substring(1);
        }
      } catch (java.nio.charset.CharacterCodingException e) {
        throw new IOException(name + ": not UTF-8 text, as a tokenizer.json must be", e);
      }
      this.source = name;
      return this;
    }

    /**
     * Sets the maximum tokens per text, special tokens included. Default: the tokenizer.json's own
     * truncation length if it has one, else 512.
     *
     * @throws IllegalArgumentException if {@code maxLength < 2}
     */
    public Builder maxLength(int maxLength) {
      if (maxLength < 2) {
        throw new IllegalArgumentException("maxLength must be >= 2, was " + maxLength);
      }
      this.maxLength = maxLength;
      return this;
    }

    /**
     * Creates the tokenizer.
     *
     * @throws IllegalStateException if no tokenizer.json was given
     * @throws IllegalArgumentException if the tokenizer.json is not valid (the message names its
     *     source)
     * @throws UnsatisfiedLinkError (or the unchecked exception of DJL's library loader) if the native
     *     tokenizers library does not load on this platform, whatever the file
     */
    public GeckoTokenizer build() {
      if (json == null) {
        throw new IllegalStateException("no tokenizer.json given");
      }
      TokenizerJsonFacts facts = TokenizerJsonFacts.read(json, source);
      int max = maxLength != null ? maxLength : facts.maxLength(DEFAULT_MAX_LENGTH);
      // outside the catch below: a native library that does not load (another C library, another
      // CPU) is the machine's problem, not the file's, and is thrown as the loader threw it
      TokenizerNatives.ensureLoaded();
      try {
        return new GeckoTokenizer(json, max, facts.padId());
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(source + ": the native tokenizer rejected it: " + e.getMessage(), e);
      }
    }
  }
}
