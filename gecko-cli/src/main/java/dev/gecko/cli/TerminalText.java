package dev.gecko.cli;

import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.gecko.train.llm.LlmException;
import java.util.Locale;

/**
 * Untrusted text (corpus ids, titles and passages, LLM answers, server error bodies) on its way to
 * a terminal: a control character or a bidirectional override in it would be obeyed by the
 * terminal (clear the screen, set the clipboard, reorder what is shown), so it is written as a
 * code point instead. Stateless and thread-safe.
 */
final class TerminalText {
  private TerminalText() {}

  /** Whether {@code c} is one a terminal acts on or that reorders text ({@link LlmException#terminalControl}). */
  static boolean unsafe(int c) {
    return LlmException.terminalControl(c);
  }

  /**
   * Text for one line of readable output: runs of white space as one space, other {@linkplain
   * #unsafe unsafe} characters as {@code U+XXXX} ({@link LlmException#oneLine}).
   */
  static String line(String text) {
    return LlmException.oneLine(text);
  }

  /**
   * A message for standard error: line breaks and tabs kept (a message may span lines), every
   * other {@linkplain #unsafe unsafe} character as {@code U+XXXX}.
   */
  static String message(String text) {
    if (text == null || text.chars().noneMatch(c -> c != '\n' && c != '\t' && unsafe(c))) {
      return text;
    }
    StringBuilder b = new StringBuilder(text.length() + 16);
    text.chars().forEach(c -> {
      if (c != '\n' && c != '\t' && unsafe(c)) {
        b.append(String.format(Locale.ROOT, "U+%04X", c));
      } else {
        b.append((char) c);
      }
    });
    return b.toString();
  }

  /**
   * A mapper for JSON written to standard output: besides what JSON must escape (C0), DEL, C1, the
   * line separators and the bidi controls are written as {@code \}{@code uXXXX}, so JSON lines
   * shown on a terminal ({@code gecko search --json} without a pipe) are safe too. The JSON is the
   * same text to any reader.
   */
  static ObjectMapper jsonMapper() {
    return JsonMapper.builder(new JsonFactoryBuilder().characterEscapes(new CharacterEscapes() {
      private static final long serialVersionUID = 1L;
      private final int[] ascii = ascii();

      private int[] ascii() {
        int[] esc = CharacterEscapes.standardAsciiEscapesForJSON();
        esc[0x7F] = CharacterEscapes.ESCAPE_STANDARD;
        return esc;
      }

      @Override
      public int[] getEscapeCodesForAscii() {
        return ascii;
      }

      @Override
      public SerializableString getEscapeSequence(int ch) {
        return unsafe(ch) ? new SerializedString(String.format(Locale.ROOT, "\\u%04X", ch)) : null;
      }
    }).build()).build();
  }
}
