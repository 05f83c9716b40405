package dev.gecko.train.fret;

import dev.gecko.core.InvalidDataException;
import dev.gecko.core.io.JsonlReader;
import dev.gecko.core.internal.io.AtomicFiles;
import dev.gecko.train.llm.UsageMeter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;

/**
 * The run folder: {@code examples.jsonl}, {@code rejects.jsonl} (append, flush and fsync per line;
 * a torn last line from a crash is cut off on open) and {@code manifest.json} (written atomically).
 *
 * <p>One writer per folder: {@link #open} takes an exclusive lock on {@value #LOCK} (an OS file
 * lock, so another process is refused, and a process that dies releases it) before reading or
 * changing anything, and {@link #close()} releases it. Within one JVM a set of held folders refuses
 * a second store before it opens the lock file at all: on POSIX systems, closing any channel to a
 * file drops every lock the process holds on it, so the second store must not open and close one.
 * The lock file stays after the run and holds the owner's process id, for the refusal message.
 *
 * <p>Lines are written by the store's own thread, which nothing interrupts: an interrupt closes an
 * NIO channel under every thread that uses it, and a run stops its workers by interrupting them, so
 * a worker that was writing when the run stopped would otherwise lose the lines of every worker
 * after it. A writing thread that is interrupted waits for its line all the same, then keeps its
 * interrupt.
 * Thread-safe writes; the opener owns the store and closes it.
 */
final class OutputStore implements Closeable {
  static final String EXAMPLES = "examples.jsonl";
  static final String REJECTS = "rejects.jsonl";
  static final String MANIFEST = "manifest.json";
  static final String LOCK = "run.lock";
  /** Lock files held by stores of this JVM (real paths). */
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();
  static final String FORMAT = "gecko-fret/1";
  private static final System.Logger LOG = System.getLogger(OutputStore.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final RunManifest manifest; // format, digest, created and config; writeManifest adds the rest
  private final Clock clock;
  private final Set<String> done = new HashSet<>();
  private Path lockFile;
  private FileChannel lock;
  private FileChannel examples;
  private FileChannel rejects;
  private int exampleCount;
  private int rejectCount;
  /** Writes the run files' lines (its thread starts with the first line). */
  private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "gecko-fret-output");
    t.setDaemon(true);
    return t;
  });

  private OutputStore(Path dir, RunManifest manifest, Clock clock) {
    this.dir = dir;
    this.manifest = manifest;
    this.clock = clock;
  }

  /**
   * Opens (creating, resuming or, with {@code newRun}, archiving) the run folder.
   *
   * @throws RunFolderInUseException if another store, in this process or another, has the folder open
   * @throws ResumeConflictException if the folder holds another configuration's run
   */
  static OutputStore open(Path dir, RunManifest.Config config, String digest, boolean newRun, Clock clock) throws IOException {
    return open(dir, config, null, digest, newRun, clock, APPEND);
  }

  /** Opens a run file for appending lines. */
  @FunctionalInterface
  interface Appender {
    FileChannel open(Path file) throws IOException;
  }

  /** The appender of a run: {@link FileChannel#open} with {@code CREATE, WRITE, APPEND}. */
  static final Appender APPEND = f -> FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);

  /**
   * As {@link #open(Path, RunManifest.Config, String, boolean, Clock)}, with the LLM's {@code
   * endpoint} to record in the manifest (null for none) and the files' appender (tests give one
   * that fails).
   */
  static OutputStore open(Path dir, RunManifest.Config config, String endpoint, String digest, boolean newRun, Clock clock,
      Appender appender)
      throws IOException {
    Files.createDirectories(dir);
    Path lockFile = dir.toRealPath().resolve(LOCK);
    FileChannel lock = lock(dir, lockFile);
    try {
      return open(dir, config, endpoint, digest, newRun, clock, lockFile, lock, appender);
    } catch (IOException | RuntimeException | Error e) {
      unlock(lockFile, lock);
      throw e;
    }
  }

  /** Takes the folder's lock, or refuses at once naming the folder and, when known, the holder. */
  private static FileChannel lock(Path dir, Path lockFile) throws IOException {
    if (!HELD.add(lockFile)) {
      throw new RunFolderInUseException(dir + " is in use by another run in this process (it holds " + lockFile
          + "): one writer per run folder. Wait for that run to end, or use another output folder.");
    }
    FileChannel ch = null;
    try {
      ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock held = ch.tryLock();
      if (held == null) {
        String holder = holder(ch);
        throw new RunFolderInUseException(dir + " is in use by another run (" + (holder.isEmpty() ? "another process" : holder)
            + " holds the lock on " + lockFile + "): one writer per run folder. Wait for that run to end, or use another output "
            + "folder.");
      }
      ch.truncate(0);
      ch.write(ByteBuffer.wrap(("process " + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
      return ch;
    } catch (IOException | RuntimeException | Error e) {
      unlock(lockFile, ch);
      throw e;
    }
  }

  /** The holder named in a lock file ("process 1234"), or empty if unreadable (a mandatory lock, say). */
  private static String holder(FileChannel ch) {
    try {
      ByteBuffer buf = ByteBuffer.allocate(64);
      ch.read(buf, 0);
      String s = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).strip();
      return s.matches("process [0-9]+") ? s : "";
    } catch (IOException e) {
      return "";
    }
  }

  private static boolean nonEmpty(Path file) throws IOException {
    return Files.exists(file) && Files.size(file) > 0;
  }

  /** Releases the lock (closing its channel releases it) and forgets the folder. */
  private static void unlock(Path lockFile, FileChannel ch) {
    try {
      if (ch != null) {
        ch.close();
      }
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot close {0}: {1}", lockFile, e.getMessage());
    } finally {
      HELD.remove(lockFile);
    }
  }

  private static OutputStore open(Path dir, RunManifest.Config config, String endpoint, String digest, boolean newRun,
      Clock clock, Path lockFile, FileChannel lock, Appender appender) throws IOException {
    Path manifestFile = dir.resolve(MANIFEST);
    Path examplesFile = dir.resolve(EXAMPLES);
    // empty files are what a run killed before its first manifest leaves: nothing to protect
    boolean hasData = nonEmpty(examplesFile) || nonEmpty(dir.resolve(REJECTS));
    String created = clock.instant().toString();
    List<String> endpoints = new ArrayList<>(); // the servers of the runs this one goes on from
    if (Files.exists(manifestFile) || hasData) {
      String conflict = null;
      RunManifest old = null;
      if (!Files.exists(manifestFile)) {
        conflict = dir + " has " + EXAMPLES + " or " + REJECTS + " but no " + MANIFEST + ", so its configuration is unknown";
      } else {
        try {
          // lenient at every depth: a newer writer's added key (in counts, say) must not read as "not a manifest"
          old = JSON.readerFor(RunManifest.class)
              .without(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
              .readValue(manifestFile.toFile());
        } catch (IOException e) {
          conflict = manifestFile + " is not a run manifest (" + e.getMessage().lines().findFirst().orElse("") + ")";
        }
        if (old != null && !digest.equals(old.digest())) {
          List<String> diffs = FretExamples.configDifferences(JSON.valueToTree(old.config()), JSON.valueToTree(config));
          String was = old.digest() == null ? "none" : abbrev(old.digest());
          conflict = dir + " holds a run with a different configuration (digest " + was
              + ", now " + abbrev(digest) + "); differs in: " + (diffs.isEmpty() ? "format" : String.join(", ", diffs));
        }
      }
      if (conflict != null && old != null && !hasData && !newRun) {
        // a run that stopped before writing a line (a mistyped model name, Ctrl-C while embedding
        // the corpus): there is no dataset to protect, so its corrected rerun starts here afresh
        LOG.log(System.Logger.Level.INFO, "{0}; that run wrote nothing, so this one starts afresh there", conflict);
      } else if (conflict != null) {
        if (!newRun) {
          throw new ResumeConflictException(conflict + ". Refusing to mix datasets: use a new output folder, restore the "
              + "old settings, or ask for a new run (--new-run / newRun(true)) to archive the old files and start over.");
        }
        archive(dir, clock);
      } else if (newRun) {
        archive(dir, clock);
      } else if (old != null) {
        created = old.created() != null ? old.created() : created;
        if (old.llmEndpoints() != null) {
          endpoints.addAll(old.llmEndpoints());
        }
      }
    }
    List<String> all = FretExamples.endpointsWith(dir, endpoints, endpoint);
    RunManifest m = new RunManifest(FORMAT, digest, created, config, all.isEmpty() ? null : all,
        null, null, null, null, null);
    OutputStore s = new OutputStore(dir, m, clock);
    s.lockFile = lockFile;
    s.lock = lock;
    s.exampleCount = s.recover(examplesFile, true);
    s.rejectCount = s.recover(dir.resolve(REJECTS), true);
    s.examples = appender.open(examplesFile);
    try {
      s.rejects = appender.open(dir.resolve(REJECTS));
    } catch (IOException | RuntimeException e) {
      s.examples.close();
      throw e;
    }
    return s;
  }

  private static String abbrev(String d) {
    return d.length() > 12 ? d.substring(0, 12) : d;
  }

  private static void archive(Path dir, Clock clock) throws IOException {
    Path to = dir.resolve("archive-" + clock.instant().toString().replace(':', '-'));
    // the manifest first: from then on the folder holds no run that a plain rerun would resume, so
    // a kill part-way leaves at worst files that a second --new-run archives beside the first
    Path manifest = dir.resolve(MANIFEST);
    Files.createDirectories(to);
    if (Files.exists(manifest)) {
      Files.move(manifest, to.resolve(MANIFEST));
    }
    for (String f : List.of(EXAMPLES, REJECTS)) {
      if (Files.exists(dir.resolve(f))) {
        Files.move(dir.resolve(f), to.resolve(f));
      }
    }
    LOG.log(System.Logger.Level.WARNING, "new run: archived the previous run''s files to {0}", to);
  }

  /** Cuts a torn last line, reads the seed ids, and returns the number of lines. */
  private int recover(Path file, boolean collect) throws IOException {
    if (!Files.exists(file)) {
      return 0;
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = ch.size();
      long keep = size;
      ByteBuffer one = ByteBuffer.allocate(1);
      while (keep > 0) {
        one.clear();
        ch.read(one, keep - 1);
        if (one.get(0) == '\n') {
          break;
        }
        keep--;
      }
      if (keep < size) {
        if (size - keep <= MAX_RECORD_BYTES && wholeRecord(readTail(ch, keep, (int) (size - keep)))) {
          // a whole record without its newline (a hand edit that dropped the last one, or a write
          // cut just before it): kept, and its line ended
          LOG.log(System.Logger.Level.INFO, "{0}: the last line had no newline; added it", file);
          ch.write(ByteBuffer.wrap(new byte[] {'\n'}), size);
        } else {
          LOG.log(System.Logger.Level.WARNING, "{0}: cut a torn last line ({1} bytes) left by an interrupted run", file,
              size - keep);
          ch.truncate(keep);
        }
        ch.force(true);
      }
    }
    int lines = 0;
    try (JsonlReader in = JsonlReader.open(file)) {
      ObjectNode o;
      while (true) {
        try {
          o = in.next();
        } catch (InvalidDataException e) {
          throw new InvalidDataException(file.toString(), e.line(), "corrupt line in the middle of the file ("
              + e.getMessage().substring(e.getMessage().indexOf(": ", file.toString().length()) + 2)
              + "); repair or remove it to resume", e);
        }
        if (o == null) {
          break;
        }
        String id = o.path("seed_id").asText("");
        if (id.isEmpty()) {
          throw in.invalid("line has no seed_id");
        }
        if (collect && !done.add(id)) {
          LOG.log(System.Logger.Level.WARNING, "{0}:{1}: seed {2} appears twice", file, in.lineNumber(), id);
        }
        lines++;
      }
    }
    return lines;
  }

  /** The longest last line without a newline that is read to tell a whole record from a torn one. */
  private static final int MAX_RECORD_BYTES = 16 << 20;

  private static byte[] readTail(FileChannel ch, long from, int length) throws IOException {
    ByteBuffer tail = ByteBuffer.allocate(length);
    while (tail.hasRemaining() && ch.read(tail, from + tail.position()) >= 0) {
      // a read may return fewer bytes than asked
    }
    return tail.array();
  }

  /** Whether {@code bytes} hold one whole JSON object with a seed id, as a line of a run file does. */
  private static boolean wholeRecord(byte[] bytes) {
    try (com.fasterxml.jackson.core.JsonParser p = JSON.createParser(bytes)) {
      JsonNode n = JSON.readTree(p);
      return n instanceof ObjectNode o && !o.path("seed_id").asText("").isEmpty() && p.nextToken() == null;
    } catch (IOException e) {
      return false;
    }
  }

  Set<String> done() {
    return done;
  }

  synchronized void writeExample(FretExample example) {
    onWriter(EXAMPLES, () -> append(examples, EXAMPLES, example));
    exampleCount++;
  }

  synchronized void writeReject(FretReject reject) {
    onWriter(REJECTS, () -> append(rejects, REJECTS, reject));
    rejectCount++;
  }

  /** Runs {@code write} on the writer thread and waits for it, through interrupts. */
  private void onWriter(String name, Runnable write) {
    Future<?> done;
    try {
      done = writer.submit(write);
    } catch (RejectedExecutionException e) {
      throw new UncheckedIOException("cannot append to " + name + ": the run's output is closed",
          new java.nio.channels.ClosedChannelException());
    }
    boolean interrupted = false;
    try {
      while (true) {
        try {
          done.get();
          return;
        } catch (InterruptedException e) {
          interrupted = true; // the line is on its way: wait for it, then keep the interrupt
        } catch (ExecutionException e) {
          if (e.getCause() instanceof RuntimeException r) {
            throw r;
          }
          if (e.getCause() instanceof Error err) {
            throw err;
          }
          throw new IllegalStateException(e.getCause());
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  synchronized int exampleCount() {
    return exampleCount;
  }

  synchronized int rejectCount() {
    return rejectCount;
  }

  /**
   * Appends one line and forces it to disk. If that fails, the file is cut back to its size before
   * the write, so that no torn fragment stays in the middle of the file (the next line would be
   * appended after it), and the failure is thrown.
   *
   * @throws UncheckedIOException if the line cannot be written
   */
  static void append(FileChannel ch, String name, Object line) {
    ByteBuffer buf = ByteBuffer.wrap((FretExamples.write(line) + "\n").getBytes(StandardCharsets.UTF_8));
    long before;
    try {
      before = ch.size();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to " + name + ": " + e.getMessage(), e);
    }
    try {
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(false);
    } catch (IOException e) {
      try {
        if (ch.size() > before) {
          ch.truncate(before);
          ch.force(false);
        }
      } catch (IOException cut) {
        e.addSuppressed(cut);
        LOG.log(System.Logger.Level.WARNING, "cannot cut a partly written line from the run output: {0}", cut.getMessage());
      }
      throw new UncheckedIOException("cannot append to " + name + ": " + e.getMessage(), e);
    }
  }

  /** Rewrites the manifest with the current counts and status. */
  synchronized void writeManifest(String status, String error, UsageMeter.Snapshot usage, int seeds) {
    RunManifest m = new RunManifest(manifest.format(), manifest.digest(), manifest.created(), manifest.config(),
        manifest.llmEndpoints(), status,
        clock.instant().toString(), new RunManifest.Counts(exampleCount, rejectCount, seeds), usage, error);
    Path file = dir.resolve(MANIFEST);
    try {
      AtomicFiles.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** Closes the files and releases the folder's lock, also when closing a file fails. Idempotent. */
  @Override
  public synchronized void close() throws IOException {
    writer.shutdown(); // idle: each write waits for its line, under this store's lock
    try {
      if (examples != null) {
        examples.close();
      }
    } finally {
      try {
        if (rejects != null) {
          rejects.close();
        }
      } finally {
        if (lock != null) {
          unlock(lockFile, lock);
          lock = null;
        }
      }
    }
  }

}
