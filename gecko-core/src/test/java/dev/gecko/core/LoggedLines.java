package dev.gecko.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The records one java.util.logging logger publishes at {@code level} or above, from construction
 * until {@link #close()}, which restores the logger (System.Logger goes to java.util.logging in
 * these tests: no other backend is on the test class path). Thread-safe.
 */
public final class LoggedLines implements AutoCloseable {
  private final Logger jul;
  private final Level before;
  private final List<LogRecord> records = Collections.synchronizedList(new ArrayList<>());
  private final Handler handler = new Handler() {
    @Override
    public void publish(LogRecord r) {
      records.add(r);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  public LoggedLines(String logger, Level level) {
    this.jul = Logger.getLogger(logger);
    this.before = jul.getLevel();
    jul.setLevel(level);
    jul.addHandler(handler);
  }

  /** The messages so far, in order. */
  public List<String> messages() {
    synchronized (records) {
      return records.stream().map(LogRecord::getMessage).toList();
    }
  }

  /** The records so far, as {@code "<level> <message>"}. */
  public List<String> levelsAndMessages() {
    synchronized (records) {
      return records.stream().map(r -> r.getLevel() + " " + r.getMessage()).toList();
    }
  }

  @Override
  public void close() {
    jul.removeHandler(handler);
    jul.setLevel(before);
  }
}
