package dev.gecko.cli;

import java.io.PrintWriter;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code gecko} command: {@code embed}, {@code eval} and the other subcommands.
 *
 * <p>Exit codes: {@value #EXIT_OK} success, {@value #EXIT_FAILURE} failure (bad input file, model
 * that cannot load, I/O error), {@value #EXIT_USAGE} usage error (unknown option, bad value).
 *
 * <p>Not thread-safe: {@link #run(String[], PrintWriter, PrintWriter)} resets the JVM-wide {@code
 * java.util.logging} configuration, so run one command line at a time per JVM.
 */
@Command(
    name = "gecko",
    mixinStandardHelpOptions = true,
    versionProvider = GeckoCli.Version.class,
    description = "Compact text embeddings on the JVM.",
    subcommands = {EmbedCommand.class, IndexCommand.class, SearchCommand.class, GenerateCommand.class,
        TrainCommand.class, FinetuneCommand.class, EvalCommand.class, CommandLine.HelpCommand.class})
public final class GeckoCli implements Runnable {
  /** Success. */
  public static final int EXIT_OK = 0;
  /** A failure while running: bad input data, a model that cannot load, I/O. */
  public static final int EXIT_FAILURE = 1;
  /** A usage error: unknown option, missing or malformed argument. */
  public static final int EXIT_USAGE = 2;

  @Option(names = {"-v", "--verbose"}, scope = CommandLine.ScopeType.INHERIT,
      description = "Log library diagnostics (INFO, and stack traces of errors) to standard error.")
  boolean verbose;

  /** Whether -v was given to the command or any of its subcommands. */
  private static boolean verbose(CommandLine.ParseResult r) {
    for (CommandLine.ParseResult p = r; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("--verbose")) {
        return true;
      }
    }
    return false;
  }

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Runs the command line and exits with its code. */
  public static void main(String[] args) {
    // both UTF-8 whatever the locale: a cron job's LANG=C would turn an id or a file name in a
    // message into '?' (the terminal progress bar alone writes through System.err)
    System.exit(run(args, utf8(new java.io.FileOutputStream(java.io.FileDescriptor.out)),
        utf8(new java.io.FileOutputStream(java.io.FileDescriptor.err))));
  }

  /**
   * A writer of UTF-8 to {@code out}, flushed at each line: the command's output (JSON lines, ids,
   * titles) and its messages on standard error are UTF-8 whatever the locale, as its inputs are
   * read (System.out encodes in the locale's charset, so under {@code LANG=C} an id {@code naïve}
   * would come out {@code na?ve}).
   */
  static PrintWriter utf8(java.io.OutputStream out) {
    return new PrintWriter(new java.io.OutputStreamWriter(out, java.nio.charset.StandardCharsets.UTF_8), true);
  }

  /** Runs the command line with the given streams and returns the exit code (for tests). */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    configureLogging(false);
    CommandLine cli = new CommandLine(new GeckoCli());
    cli.setOut(out);
    cli.setErr(err);
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.registerConverter(dev.gecko.core.TaskType.class, TaskTypes::parse);
    // the other enum options read as task types do: principal-axes is PRINCIPAL_AXES
    cli.registerConverter(dev.gecko.train.adapter.Basis.class, TaskTypes.lenient(dev.gecko.train.adapter.Basis.class));
    cli.registerConverter(dev.gecko.train.adapter.Objective.class,
        TaskTypes.lenient(dev.gecko.train.adapter.Objective.class));
    cli.registerConverter(dev.gecko.train.adapter.UnsupervisedValidation.class,
        TaskTypes.lenient(dev.gecko.train.adapter.UnsupervisedValidation.class));
    cli.registerConverter(dev.gecko.core.adapter.Adapter.Kind.class,
        TaskTypes.lenient(dev.gecko.core.adapter.Adapter.Kind.class));
    // A usage error prints what is wrong and where to look, not the whole usage text.
    cli.setParameterExceptionHandler((e, args1) -> {
      CommandLine c = e.getCommandLine();
      c.getErr().println("gecko: usage error: " + e.getMessage());
      c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for more information.");
      c.getErr().flush();
      return EXIT_USAGE;
    });
    cli.setExitCodeExceptionMapper(e -> e instanceof CommandLine.ParameterException ? EXIT_USAGE : EXIT_FAILURE);
    // -v is inherited by every subcommand: logging is set up once the command line is parsed.
    cli.setExecutionStrategy(parseResult -> {
      if (verbose(parseResult)) {
        configureLogging(true);
      }
      // picocli hands only Exceptions to the handler below: an Error (out of memory, a stack
      // overflow, a native library that does not link) would leave with the JVM's own trace
      return reportingErrors(() -> new CommandLine.RunLast().execute(parseResult),
          parseResult.commandSpec().commandLine().getErr(), verbose(parseResult));
    });
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      report(e, commandLine.getErr(), verbose(parseResult));
      return e instanceof UsageException ? EXIT_USAGE : EXIT_FAILURE;
    });
    int code = cli.execute(args);
    out.flush();
    // PrintWriter swallows write errors: a closed pipe or a full disk under a command's output (a
    // table, a summary that is a contract) is seen only here, and is no success
    if (code == EXIT_OK && out.checkError()) {
      err.println("gecko: error: standard output closed or not writable; the output was not all written");
      code = EXIT_FAILURE;
    }
    err.flush();
    return code;
  }

  /** Runs a command, printing an {@link Error} it throws as {@link #errorLine} does and returning 1. */
  static int reportingErrors(java.util.function.IntSupplier command, PrintWriter err, boolean verbose) {
    try {
      return command.getAsInt();
    } catch (Error e) {
      report(e, err, verbose);
      return EXIT_FAILURE;
    }
  }

  /** Prints a failure's {@link #errorLine}, and with -v its stack trace. */
  private static void report(Throwable e, PrintWriter err, boolean verbose) {
    err.println(TerminalText.message(errorLine(e, verbose))); // messages quote texts, ids and server bodies
    if (verbose) { // the trace repeats the messages: as safe on a terminal
      java.io.StringWriter trace = new java.io.StringWriter();
      e.printStackTrace(new PrintWriter(trace));
      err.print(TerminalText.message(trace.toString()));
    }
    err.flush();
  }

  /** The line a failed command prints: the problem, or for a defect its type and a request to report it. */
  static String errorLine(Throwable e, boolean verbose) {
    if (isBug(e)) {
      return "gecko: error: internal error: " + e + (verbose ? "" : " (rerun with -v for the stack trace)")
          + "; please report it";
    }
    if (e instanceof OutOfMemoryError) {
      return "gecko: error: out of memory (" + e.getMessage() + "); give the JVM more (GECKO_JAVA_OPTS=-Xmx8g for"
          + " the gecko script) or the command less at once";
    }
    return "gecko: error: " + describe(e);
  }

  /**
   * Whether {@code e} is a defect of this program rather than a problem of the user's input or
   * machine: its message alone (an index, {@code null}) would say nothing a user can act on, so
   * the type is printed and a report asked for. The exceptions the commands and the library throw
   * for bad input are {@link IllegalArgumentException}s, {@link IllegalStateException}s, I/O
   * exceptions and {@link dev.gecko.core.GeckoException}s, none of them these.
   */
  static boolean isBug(Throwable e) {
    return e instanceof NullPointerException || e instanceof ClassCastException
        || e instanceof IndexOutOfBoundsException || e instanceof ArithmeticException
        || e instanceof ArrayStoreException || e instanceof NegativeArraySizeException
        || e instanceof java.util.ConcurrentModificationException
        || (e instanceof Error && !(e instanceof OutOfMemoryError));
  }

  /**
   * The message for an error: I/O exceptions whose message is a bare path get the reason (the
   * JDK's {@code NoSuchFileException} says only the path).
   */
  static String describe(Throwable e) {
    if (e instanceof java.nio.file.FileSystemException f && f.getReason() == null) {
      String reason = e instanceof java.nio.file.NoSuchFileException ? "file not found"
          : e instanceof java.nio.file.AccessDeniedException ? "permission denied"
          : e instanceof java.nio.file.NotDirectoryException ? "not a folder"
          : e instanceof java.nio.file.FileAlreadyExistsException ? "already exists"
          : e instanceof java.nio.file.DirectoryNotEmptyException ? "folder not empty" : "cannot access";
      return f.getFile() + (f.getOtherFile() != null ? " -> " + f.getOtherFile() : "") + ": " + reason;
    }
    if (e instanceof java.io.UncheckedIOException && e.getCause() != null && e.getMessage() != null
        && e.getMessage().equals(e.getCause().toString())) {
      return describe(e.getCause());
    }
    String message = e.getMessage();
    if (message == null || message.isBlank()) {
      return e.getClass().getSimpleName();
    }
    return message;
  }

  /** Library diagnostics go to standard error: warnings always, INFO only with --verbose. */
  private static void configureLogging(boolean verbose) {
    LogManager.getLogManager().reset();
    Logger root = Logger.getLogger("");
    java.util.logging.ConsoleHandler handler = new java.util.logging.ConsoleHandler();
    Level level = verbose ? Level.INFO : Level.WARNING;
    handler.setLevel(level);
    try {
      handler.setEncoding("UTF-8"); // as the command's own messages: library warnings name files and texts
    } catch (java.io.UnsupportedEncodingException impossible) {
      throw new AssertionError(impossible); // every JVM has UTF-8
    }
    handler.setFormatter(new LogLineFormatter());
    root.addHandler(handler);
    root.setLevel(level);
    // DJL probes for CUDA when it picks its native library and warns on machines without a GPU
    // driver; that is noise for an embedding CLI.
    DJL_CUDA.setLevel(verbose ? Level.INFO : Level.SEVERE);
  }

  /**
   * A library log record as one line: {@code gecko: <level>: <message>}, control characters shown
   * as {@code U+XXXX}. A number parameter reads as Java writes it: {@code MessageFormat} would
   * group it and use the default locale ("retry 1/5 in 1,000 ms", or "1.000 ms", one second, in
   * German). Thread-safe (stateless).
   */
  static final class LogLineFormatter extends java.util.logging.SimpleFormatter {
    /** A typed argument ({@code {0,number,#.#}}, {@code {1,choice,...}}) takes a number, not its text. */
    private static final java.util.regex.Pattern TYPED = java.util.regex.Pattern.compile("\\{\\s*\\d+\\s*,");

    @Override
    public String format(java.util.logging.LogRecord r) {
      java.util.logging.LogRecord shown = r;
      Object[] params = r.getParameters();
      if (params != null && r.getMessage() != null && !TYPED.matcher(r.getMessage()).find()) {
        Object[] plain = params.clone();
        for (int i = 0; i < plain.length; i++) {
          if (plain[i] instanceof Number n) {
            plain[i] = String.valueOf(n);
          }
        }
        shown = new java.util.logging.LogRecord(r.getLevel(), r.getMessage()); // the record itself is left as it is
        shown.setParameters(plain);
        shown.setResourceBundle(r.getResourceBundle());
        shown.setResourceBundleName(r.getResourceBundleName());
      }
      return "gecko: " + r.getLevel().getName().toLowerCase(java.util.Locale.ROOT) + ": "
          + TerminalText.message(formatMessage(shown)) + System.lineSeparator();
    }
  }

  /** Held strongly: java.util.logging keeps only weak references to configured loggers. */
  private static final Logger DJL_CUDA = Logger.getLogger("ai.djl.util.cuda");

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand (try 'gecko --help')");
  }

  /** Thrown by subcommands for invalid arguments found while running; exits with 2. */
  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }

    /** A usage error found by {@code cause}, whose details -v shows. */
    UsageException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** The version Maven wrote into {@code version.properties} when it built the CLI. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws java.io.IOException {
      java.util.Properties p = new java.util.Properties();
      try (java.io.InputStream in = GeckoCli.class.getResourceAsStream("version.properties")) {
        if (in != null) {
          p.load(in);
        }
      }
      return new String[] {"gecko " + p.getProperty("version", "(unknown version)"),
          "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
    }
  }
}
