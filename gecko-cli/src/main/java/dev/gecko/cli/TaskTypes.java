package dev.gecko.cli;

import dev.gecko.core.TaskType;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine;

/** Parses task types on the command line: any case, with {@code -} or {@code _} between words. */
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
    String name = value.strip().toUpperCase(Locale.ROOT).replace('-', '_');
    for (TaskType t : TaskType.values()) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    throw new CommandLine.TypeConversionException("unknown task type '" + value + "'; expected one of " + names());
  }
}
