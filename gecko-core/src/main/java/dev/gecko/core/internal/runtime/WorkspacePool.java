package dev.gecko.core.internal.runtime;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.Supplier;

/**
 * Workspaces (reusable native buffers) kept between batches: a batch takes one and gives it back;
 * more concurrent batches than kept make their own. Internal. Thread-safe.
 */
final class WorkspacePool {
  /** Workspaces kept between batches. */
  private static final int KEPT = 2 * Math.max(2, Runtime.getRuntime().availableProcessors());

  private final ConcurrentLinkedDeque<Workspace> free = new ConcurrentLinkedDeque<>();
  /** Makes a workspace when none is kept. */
  private final Supplier<Workspace> factory;

  WorkspacePool() {
    this(Workspace::new);
  }

  /** For tests: a pool whose new workspaces come from {@code factory} (to make taking one fail). */
  WorkspacePool(Supplier<Workspace> factory) {
    this.factory = factory;
  }

  /** Returns a kept workspace, the most recently used first (its buffers are warm), or a new one. */
  Workspace take() {
    Workspace ws = free.pollFirst();
    return ws != null ? ws : factory.get();
  }

  /** Keeps {@code ws} for the next batch, unless enough are kept. */
  void giveBack(Workspace ws) {
    if (free.size() < KEPT) {
      free.offerFirst(ws);
    }
  }

  /** Drops the kept workspaces (their direct buffers are freed by the garbage collector). */
  void clear() {
    free.clear();
  }
}
