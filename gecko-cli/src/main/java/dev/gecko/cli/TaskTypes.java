package dev.gecko.cli;

import dev.gecko.core.TaskType;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine;

/**
 * Parses task types, and the other enum options ({@code --basis}, {@code --kind}, ...), on the
 * command line: any case, with {@code -} or {@code _} between words, so {@code principal-axes}
 * reads as {@code PRINCIPAL_AXES} as {@code retrieval-query} reads as {@code RETRIEVAL_QUERY}.
 */
final class TaskTypes {
  private TaskTypes() {}

  /** The accepted values, as the help and errors list them. */
  static String names() {
    return Arrays.stream(TaskType.values()).map(t -> t.name().toLowerCase(Locale.ROOT).replace('_', '-'))
        .collect(Collectors.joining(", "));
  }

  /**
   * Parses {@code retrieval-query}, {@code RETRIEVAL_QUERY} and the like.
   *
   * @throws CommandLine.TypeConversionException naming the accepted values
   */
  static TaskType parse(String value) {
    TaskType t = find(TaskType.class, value);
    if (t == null) {
      throw new CommandLine.TypeConversionException("unknown task type '" + value + "'; expected one of " + names());
    }
    return t;
  }

  /** The constant of {@code type} that {@code value} names in any case, {@code -} or {@code _} between words; or null. */
  private static <E extends Enum<E>> E find(Class<E> type, String value) {
    String name = value.strip().toUpperCase(Locale.ROOT).replace('-', '_');
    for (E e : type.getEnumConstants()) {
      if (e.name().equals(name)) {
        return e;
      }
    }
    return null;
  }

  /**
   * A converter for an enum option that reads any case, with {@code -} or {@code _} between words.
   *
   * @throws CommandLine.TypeConversionException (from the converter) naming the accepted values
   */
  static <E extends Enum<E>> CommandLine.ITypeConverter<E> lenient(Class<E> type) {
    return value -> {
      E e = find(type, value);
      if (e == null) {
        throw new CommandLine.TypeConversionException("unknown value '" + value + "'; expected one of "
            + Arrays.stream(type.getEnumConstants()).map(Enum::name).collect(Collectors.joining(", ")));
      }
      return e;
    };
  }
}
