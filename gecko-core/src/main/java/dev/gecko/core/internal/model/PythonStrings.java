package dev.gecko.core.internal.model;

/**
 * Whitespace as Python's {@code str.strip()} and {@code str.isspace()} see it, for texts that must
 * equal what MTEB (Python) embeds: Java's {@link String#strip()} and {@link String#isBlank()} leave
 * four characters that Python strips, U+0085 (next line) and the no-break spaces U+00A0, U+2007
 * and U+202F; every other character is whitespace to both or to neither.
 *
 * <p>Stateless and thread-safe.
 */
public final class PythonStrings {
  private PythonStrings() {}

  /** Whether Python's {@code isspace()} holds for the code point. */
  public static boolean isSpace(int codePoint) {
    return Character.isWhitespace(codePoint) || codePoint == 0x85 || codePoint == 0xA0 || codePoint == 0x2007
        || codePoint == 0x202F;
  }

  /** Python's {@code s.strip()}: {@code s} without leading and trailing whitespace. */
  public static String strip(String s) {
    int end = trailingEnd(s);
    int start = 0;
    while (start < end && isSpace(s.charAt(start))) { // every such character is in the BMP
      start++;
    }
    return s.substring(start, end);
  }

  /** Python's {@code s.rstrip()}: {@code s} without trailing whitespace. */
  public static String stripTrailing(String s) {
    return s.substring(0, trailingEnd(s));
  }

  /** Whether Python's {@code s.strip()} is empty. */
  public static boolean isBlank(String s) {
    return trailingEnd(s) == 0;
  }

  private static int trailingEnd(String s) {
    int end = s.length();
    while (end > 0 && isSpace(s.charAt(end - 1))) {
      end--;
    }
    return end;
  }
}
