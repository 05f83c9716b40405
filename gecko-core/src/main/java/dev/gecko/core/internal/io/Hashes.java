package dev.gecko.core.internal.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 as lowercase hex: the one implementation of content digests in the project (cache keys,
 * run and data digests, model fingerprints). Internal: not part of the API.
 *
 * <p>Thread-safe (stateless).
 */
public final class Hashes {
  private Hashes() {}

  /** Returns a new SHA-256 digest (every JVM has one). */
  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** Returns the SHA-256 of {@code text}'s UTF-8 bytes, as 64 hex digits. */
  public static String sha256Hex(String text) {
    return hex(sha256().digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  /** Returns the SHA-256 of {@code bytes}, as 64 hex digits. */
  public static String sha256Hex(byte[] bytes) {
    return hex(sha256().digest(bytes));
  }

  /** Feeds a stream into {@code digest} to its end; the caller closes the stream. */
  public static void update(MessageDigest digest, InputStream in) throws IOException {
    byte[] buf = new byte[1 << 16];
    for (int n; (n = in.read(buf)) > 0; ) {
      digest.update(buf, 0, n);
    }
  }

  /** Returns {@code digest}'s value as lowercase hex. */
  public static String hex(MessageDigest digest) {
    return hex(digest.digest());
  }

  /** Returns bytes as lowercase hex. */
  public static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }
}
