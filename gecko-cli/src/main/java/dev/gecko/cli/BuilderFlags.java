package dev.gecko.cli;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The options of a command that sets a library builder (gecko train's {@code Trainer.Builder},
 * gecko finetune's {@code FineTuner.Builder}), for the messages of the values the builder refuses:
 * those name the builder's settings ({@code batchSize must be >= 2}), a user knows the options
 * ({@code --batch-size must be >= 2}). The command turns what its builder throws into a usage
 * error (exit 2) with {@link #usageError(RuntimeException)}.
 *
 * <p>In a message, a setting spelled in camel case ({@code batchSize}, {@code reorderDims}) becomes
 * its option wherever it stands; a one-word setting ({@code epochs}, {@code basis}), which may be a
 * plain word of the sentence, only where it opens the message, a parenthesis or a clause after
 * {@code "; "} ({@code (epochs 1 there, 2 here; seed 42 there, 7 here)}), or a value in capitals
 * follows it ({@code basis PRINCIPAL_AXES}). A message that opens with one of the {@link #about} prefixes gets
 * that option in front. Immutable; thread-safe.
 */
final class BuilderFlags {
  private static final Pattern ENUM_VALUE = Pattern.compile(" [A-Z][A-Z0-9_]+\\b");

  private final Map<String, String> options;
  private final Map<String, String> prefixes;
  private final Pattern settings;

  private BuilderFlags(Map<String, String> options, Map<String, String> prefixes) {
    this.options = Map.copyOf(options);
    this.prefixes = new LinkedHashMap<>(prefixes);
    // the longest first, so that basisTask is not read as basis; never inside a word, an option or
    // a file name or path (basis.csv, out/epochs): not after '.', '/' or '\\', nor before '/', '\\'
    // or a '.' that a name goes on after (a sentence's full stop is fine)
    this.settings = Pattern.compile("(?<![\\w./\\\\-])(" + options.keySet().stream()
        .sorted(Comparator.comparingInt(String::length).reversed()).map(Pattern::quote)
        .collect(Collectors.joining("|")) + ")(?![\\w/\\\\-]|\\.\\w)");
  }

  /** Settings and their options, in pairs: {@code "batchSize", "--batch-size", ...}. */
  static BuilderFlags of(String... settingThenOption) {
    if (settingThenOption.length % 2 != 0) {
      throw new IllegalArgumentException("give settings and options in pairs");
    }
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < settingThenOption.length; i += 2) {
      m.put(settingThenOption[i], settingThenOption[i + 1]);
    }
    return new BuilderFlags(m, Map.of());
  }

  /** These flags, and {@code option: } in front of a message that opens with {@code prefix}. */
  BuilderFlags about(String prefix, String option) {
    Map<String, String> p = new LinkedHashMap<>(prefixes);
    p.put(prefix, option);
    return new BuilderFlags(options, p);
  }

  /** The message with the builder's settings spelled as the command's options. */
  String message(String message) {
    if (message == null) {
      return null;
    }
    for (Map.Entry<String, String> p : prefixes.entrySet()) {
      if (message.startsWith(p.getKey())) {
        return p.getValue() + ": " + message;
      }
    }
    Matcher m = settings.matcher(message);
    StringBuilder s = new StringBuilder();
    while (m.find()) {
      String setting = m.group(1);
      boolean camelCase = !setting.equals(setting.toLowerCase(Locale.ROOT));
      boolean replace = camelCase || opensClause(message, m.start())
          || ENUM_VALUE.matcher(message).region(m.end(), message.length()).lookingAt();
      m.appendReplacement(s, Matcher.quoteReplacement(replace ? options.get(setting) : setting));
    }
    m.appendTail(s);
    return s.toString();
  }

  /** Whether {@code at} opens the message, a parenthesis or a clause after "; ". */
  private static boolean opensClause(String message, int at) {
    return at == 0 || message.startsWith("(", at - 1) || at >= 2 && message.startsWith("; ", at - 2);
  }

  /**
   * A problem of the data that the built object found, worded with the options: the same source and
   * line, the reason's settings spelled as {@link #message} does, the original as the cause (-v).
   * Returns {@code e} itself where the reason names no setting.
   */
  dev.gecko.core.InvalidDataException reworded(dev.gecko.core.InvalidDataException e) {
    String where = e.source() + (e.line() > 0 ? ":" + e.line() : "") + ": ";
    String m = e.getMessage();
    if (m == null || !m.startsWith(where)) {
      return e;
    }
    String reason = m.substring(where.length());
    String worded = message(reason);
    return worded.equals(reason) ? e : new dev.gecko.core.InvalidDataException(e.source(), e.line(), worded, e);
  }

  /** A usage error (exit 2) for a value the builder refused; the builder's exception is its cause (-v). */
  GeckoCli.UsageException usageError(RuntimeException e) {
    return new GeckoCli.UsageException(message(e.getMessage()), e);
  }
}
