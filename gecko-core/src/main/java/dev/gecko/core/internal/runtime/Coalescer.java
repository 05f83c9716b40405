package dev.gecko.core.internal.runtime;

import dev.gecko.core.InferenceException;
import dev.gecko.core.adapter.Adapter;
import dev.gecko.core.vector.VectorOps;
import dev.gecko.tokenizer.Encoding;
import dev.gecko.tokenizer.GeckoTokenizer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Gathers the texts of concurrent small calls into shared batches (dynamic batching, as Text
 * Embeddings Inference does in its server).
 *
 * <p>Calls put their tokenised texts in one queue. At most {@code runners} batches run at a time:
 * on an idle embedder the caller runs its own batch (no hand-off to another thread); while it is
 * busy, helper threads drain the queue and callers wait for their vectors. A free runner takes the
 * oldest queued text and
 * the texts cut into one batch with it (the queue's texts sorted by length and cut by {@link
 * BatchCutter}, least padding under the token budget), runs it and hands each text's vector to
 * its call, truncated to that call's width. On an idle embedder a call's batch starts at once, and
 * so do the further batches of a lone call; while batches of other calls run, a free runner with a
 * batch not yet full (in texts or tokens) waits for more texts, until the oldest queued text has
 * waited {@code window} since it was let in. Each text's vector is computed exactly as in a batch
 * of its own call (prompts applied before tokenising, width applied after pooling); only the
 * batch's shape differs.
 *
 * <p>Failures stay with their call: inputs are checked before they are queued, and a batch of
 * several calls that ONNX Runtime refuses is run again call by call, so that only the call at
 * fault fails; a failure that several calls do share reaches each as its own exception instance
 * ({@link Futures#forCaller}), except an {@link Error}, which reaches each as the same object. A
 * call's future cancelled before its texts start is removed from the queue at once, freeing its
 * room.
 *
 * <p>Back-pressure: at most {@code maxQueuedTokens} tokens wait in the queue (a call larger than
 * that alone is let in when the queue is empty); beyond it synchronous calls wait and
 * asynchronous ones are refused ({@link RejectedExecutionException}) or wait, as configured.
 *
 * <p>Thread-safe. Internal: {@link OnnxEmbedder} owns it; it owns nothing native (the session, the
 * tokenizer and the workspaces are the embedder's).
 */
final class Coalescer {
  private static final System.Logger LOG = System.getLogger(Coalescer.class.getName());
  /** Queued texts looked at when a batch is cut: the oldest text's batch is among them. */
  private static final int LOOKAHEAD_BATCHES = 4;

  private final GeckoTokenizer tokenizer;
  private final InferenceSession session;
  private final Adapter adapter;
  private final int width;
  private final int maxBatchTokens;
  /** Admission tickets of calls that wait for room in the queue: handed out, and let in. Under the lock. */
  private long nextTicket;
  private long nextAdmitted;
  private final int maxBatchSize;
  private final int runners;
  private final long windowNanos;
  private final long maxQueuedTokens;
  private final boolean rejectAsyncWhenFull;
  private final Executor helperThreads;
  private final CallGate gate;
  private final WorkspacePool workspaces;
  private final Stats stats;

  private final ReentrantLock lock = new ReentrantLock();
  /** Signalled when a batch ends, a runner leaves, or texts are queued or dropped. */
  private final Condition changed = lock.newCondition();
  private final ArrayDeque<Item> queue = new ArrayDeque<>(); // guarded by lock
  private long queuedTokens; // guarded by lock
  private int activeRunners; // guarded by lock
  /** The batches taken and not yet finished. Guarded by lock. */
  private final List<List<Item>> running = new ArrayList<>();

  Coalescer(GeckoTokenizer tokenizer, InferenceSession session, Adapter adapter, EmbedderSettings s,
      Executor helperThreads, CallGate gate, WorkspacePool workspaces, Stats stats) {
    this.tokenizer = tokenizer;
    this.session = session;
    this.adapter = adapter;
    this.width = session.width();
    this.maxBatchTokens = s.maxBatchTokens();
    this.maxBatchSize = s.maxBatchSize();
    this.runners = Math.max(1, s.threads() / s.intraOpThreads());
    this.windowNanos = s.coalescingWindow().toNanos();
    this.maxQueuedTokens = s.maxQueuedTokens();
    this.rejectAsyncWhenFull = s.rejectAsyncWhenFull();
    this.helperThreads = helperThreads;
    this.gate = gate;
    this.workspaces = workspaces;
    this.stats = stats;
  }

  /** One call's texts and where their vectors go. */
  final class Job {
    final int dims;
    final float[][] out;
    final CompletableFuture<List<float[]>> future = new CompletableFuture<>();
    final AtomicInteger remaining;
    final long tokens;
    final List<Item> items = new ArrayList<>();
    /** When its texts were let into the queue (after any wait for room); the window counts from it. Under the lock. */
    long admittedNanos;

    Job(List<Encoding> encodings, int dims) {
      this.dims = dims;
      this.out = new float[encodings.size()][];
      this.remaining = new AtomicInteger(encodings.size());
      long t = 0;
      long now = System.nanoTime();
      for (int i = 0; i < encodings.size(); i++) {
        items.add(new Item(this, i, encodings.get(i), now));
        t += encodings.get(i).length();
      }
      this.tokens = t;
      if (encodings.isEmpty()) {
        future.complete(List.of());
      }
    }
  }

  /** One text of a call. */
  record Item(Job job, int index, Encoding encoding, long enqueuedNanos) {
    int length() {
      return encoding.length();
    }
  }

  /**
   * Embeds a synchronous call's texts and returns its vectors in order. On an idle embedder the
   * caller runs the batch itself (no hand-off); otherwise its texts join the queue that the runners
   * drain, and it waits for its vectors.
   *
   * @throws InferenceException if ONNX Runtime fails on the call's texts
   */
  List<float[]> embed(List<Encoding> encodings, int dims) {
    Job job = new Job(encodings, dims);
    if (job.items.isEmpty()) {
      return List.of();
    }
    enqueue(job, true);
    boolean inline = false;
    lock.lock();
    try {
      if (activeRunners == 0) {
        activeRunners++;
        inline = true;
        startHelpersFor(job, 1); // a call of several batches: its other batches beside the caller
      } else if (activeRunners < runners) {
        tryStartHelper(); // without one, the runners at work serve this call too
      }
    } finally {
      lock.unlock();
    }
    if (inline) {
      boolean counted = true;
      try {
        boolean own = true;
        while (counted) {
          while ((!own || !job.future.isDone()) && runOneBatch()) {
            // its own batch (and any that came before it); once it stays, what is queued
          }
          own = false;
          counted = false; // leave uncounts this runner first, and counts it again if it stays
          counted = leave(true);
        }
      } finally {
        if (counted) {
          leave(false);
        }
      }
    }
    return awaitUninterruptibly(job.future);
  }

  /**
   * A runner leaves (uncounted), starting a helper for texts queued meanwhile (they do not wait for
   * the next call). Where {@code mayStay} (it is not leaving for a failure), the queue holds texts,
   * no other runner is at work and no helper could be started ("unable to create native thread"),
   * it stays instead, counted again, and runs them itself, so that no call waits forever for a
   * runner. If it throws, the runner has left.
   *
   * @return whether it stays
   */
  private boolean leave(boolean mayStay) {
    lock.lock();
    try {
      activeRunners--;
      changed.signalAll();
      if (!queue.isEmpty() && activeRunners < runners && !tryStartHelper() && mayStay && activeRunners == 0) {
        activeRunners++; // stays: nobody else would run the queue
        return true;
      }
      return false;
    } finally {
      lock.unlock();
    }
  }

  private static <T> T awaitUninterruptibly(CompletableFuture<T> future) {
    try {
      return Futures.getUninterruptibly(future);
    } catch (java.util.concurrent.ExecutionException e) {
      throw Futures.unchecked(e, "embedding");
    }
  }

  /**
   * Queues an asynchronous call's texts and returns its future; helper threads run the batches.
   * A full queue refuses the call (its future fails with {@link RejectedExecutionException}) or,
   * where so configured, makes the caller wait.
   */
  CompletableFuture<List<float[]>> submit(List<Encoding> encodings, int dims) {
    Job job = new Job(encodings, dims);
    if (job.items.isEmpty()) {
      return job.future;
    }
    if (!enqueue(job, !rejectAsyncWhenFull)) {
      stats.rejected.increment();
      job.future.completeExceptionally(new RejectedExecutionException("the embedder's queue is full: "
          + queuedTokens() + " tokens wait, the limit is " + maxQueuedTokens + " (maxQueuedTokens); retry later"));
      return job.future;
    }
    job.future.whenComplete((v, e) -> {
      if (job.future.isCancelled()) {
        dropQueued(job); // its room is free now, not at the next batch
      }
    });
    lock.lock();
    try {
      startHelpersFor(job, 0); // helpers run it all: one per batch while runners are free
      if (activeRunners == 0) { // no thread could be started, and none is at work to run it
        removeQueued(i -> i.job() == job);
        job.future.completeExceptionally(new RejectedExecutionException(
            "no helper thread could be started to run the call (see the logged error)"));
      }
    } finally {
      lock.unlock();
    }
    return job.future;
  }

  /**
   * Starts helpers, while runners are free, for the batches of {@code job} beyond the {@code
   * covered} ones already given a runner (counted by its tokens over the batch budget), so that a
   * single call of many texts uses the cores as a larger call does. Under the lock.
   */
  private void startHelpersFor(Job job, int covered) {
    for (long more = job.tokens / maxBatchTokens + 1 - covered; more > 0 && activeRunners < runners; more--) {
      if (!tryStartHelper()) {
        return;
      }
    }
  }

  private long queuedTokens() {
    lock.lock();
    try {
      return queuedTokens;
    } finally {
      lock.unlock();
    }
  }

  /** Puts a job's texts in the queue; false if it is full and {@code wait} is false. */
  private boolean enqueue(Job job, boolean wait) {
    lock.lock();
    try {
      if (!wait) { // refused while the queue is full or others wait for room (they came first)
        if (nextTicket != nextAdmitted || (queuedTokens > 0 && queuedTokens + job.tokens > maxQueuedTokens)) {
          return false;
        }
      } else {
        // first come, first admitted: small calls do not overtake a large one that waits for room
        Long ticket = nextTicket++; // boxed before the wait: withdrawing it after an Error allocates less
        boolean admitted = false;
        try {
          while (ticket != nextAdmitted || (queuedTokens > 0 && queuedTokens + job.tokens > maxQueuedTokens)) {
            changed.awaitUninterruptibly();
          }
          admitted = true;
        } finally {
          if (!admitted) { // an Error while waiting (out of memory): the ticket must not hold the line up for good
            withdraw(ticket);
          }
        }
        passTurn();
      }
      job.admittedNanos = System.nanoTime();
      queue.addAll(job.items);
      queuedTokens += job.tokens;
      changed.signalAll();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Tickets given up while waiting for room, to be skipped when their turn comes. Under the lock. */
  private final Set<Long> withdrawn = new java.util.HashSet<>();

  /**
   * Gives up {@code ticket} (its caller failed while waiting): its turn passes to the next one at
   * once if it has come, else when it comes. Under the lock.
   */
  private void withdraw(Long ticket) {
    if (ticket == nextAdmitted) {
      passTurn();
    } else {
      withdrawn.add(ticket);
    }
    changed.signalAll();
  }

  /** Passes the turn to admit on from the ticket whose turn it is, over those withdrawn. Under the lock. */
  private void passTurn() {
    nextAdmitted++;
    while (withdrawn.remove(nextAdmitted)) {
      nextAdmitted++;
    }
  }

  /**
   * Starts a helper runner; the caller holds the lock and has checked there is room. A thread that
   * cannot be started (an {@link Error}: "unable to create native thread") is logged, not thrown:
   * the runners at work, or the calling thread running its own batches, carry on without it.
   *
   * @return false if no thread could be started
   */
  private boolean tryStartHelper() {
    activeRunners++;
    try {
      helperThreads.execute(this::helperLoop);
      return true;
    } catch (RejectedExecutionException e) {
      activeRunners--; // the embedder is closing: its callers hold the queue's work
      return false;
    } catch (Error e) {
      activeRunners--; // no thread could be started: no runner counted that will never leave
      LOG.log(System.Logger.Level.ERROR, "could not start a helper thread for coalesced batches", e);
      return false;
    }
  }

  /**
   * A helper runner: batches until the queue is empty. It runs inside the embedder's call gate,
   * so that close waits for its batch even when every call in it was cancelled; once the embedder
   * is closed (no call inside) it runs nothing.
   */
  private void helperLoop() {
    boolean entered = gate.tryEnterForCallsInside();
    boolean counted = true;
    try {
      while (entered && counted) {
        while (runOneBatch()) {
          // next batch
        }
        counted = false; // leave uncounts this runner first, and counts it again if it stays
        counted = leave(true);
      }
    } finally {
      if (entered) {
        gate.exit();
      }
      if (counted) {
        leave(false);
      }
    }
  }

  /** Takes one batch from the queue and runs it; false if the queue was empty. */
  private boolean runOneBatch() {
    List<Item> batch = take();
    if (batch.isEmpty()) {
      return false;
    }
    try {
      Workspace ws = workspaces.take();
      try {
        run(batch, ws);
      } finally {
        workspaces.giveBack(ws);
      }
    } catch (RuntimeException | Error e) {
      // outside run()'s own handling (taking or giving back a workspace: out of memory, say): the
      // texts have left the queue, so their calls fail here rather than wait forever (and hold the
      // embedder's gate); fail() allocates nothing of its own for an Error, which may be that the
      // heap is full. A failure no call is left to receive is logged, not lost
      if (!fail(batch, e)) {
        LOG.log(System.Logger.Level.ERROR, "a coalesced batch failed after its calls were answered or cancelled", e);
      }
    } finally {
      lock.lock();
      try {
        for (int b = 0; b < running.size(); b++) { // by identity, allocating nothing (after an OOM too)
          if (running.get(b) == batch) {
            running.remove(b);
            break;
          }
        }
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    }
    return true;
  }

  /**
   * Removes and returns the batch of the oldest live text: up to {@value #LOOKAHEAD_BATCHES}
   * batches' worth of the oldest texts, sorted by length, cut by the least-padding rule; the piece
   * holding the oldest text. While batches of other calls than the oldest text's run and the queue
   * would not fill a batch, waits for more texts until the oldest has waited the window since it
   * was let in. Drops texts of cancelled calls.
   */
  private List<Item> take() {
    lock.lock();
    try {
      dropCancelled();
      if (queue.isEmpty()) {
        return List.of();
      }
      if (windowNanos > 0 && !batchFull() && othersRunning(queue.peekFirst().job())) {
        long deadline = queue.peekFirst().job().admittedNanos + windowNanos;
        long left;
        while (!batchFull() && (left = deadline - System.nanoTime()) > 0) {
          try {
            changed.awaitNanos(left);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            break;
          }
        }
        dropCancelled();
        if (queue.isEmpty()) {
          return List.of();
        }
      }
      List<Item> candidates = new ArrayList<>();
      Iterator<Item> it = queue.iterator();
      while (it.hasNext() && candidates.size() < (long) LOOKAHEAD_BATCHES * maxBatchSize) {
        candidates.add(it.next());
      }
      Item oldest = candidates.get(0);
      candidates.sort((a, b) -> Integer.compare(a.length(), b.length()));
      int[] lengths = new int[candidates.size()];
      for (int i = 0; i < lengths.length; i++) {
        lengths[i] = candidates.get(i).length();
      }
      int start = 0;
      List<Item> chosen = null;
      for (int end : BatchCutter.cut(lengths, maxBatchTokens, maxBatchSize)) {
        List<Item> piece = candidates.subList(start, end);
        if (piece.contains(oldest)) {
          chosen = new ArrayList<>(piece);
          break;
        }
        start = end;
      }
      // Everything that can allocate comes before the chosen texts leave the queue: an Error there
      // (out of memory) leaves the queue and the counts as they were, where after it the texts would
      // have left the queue unreturned and their callers would wait forever. Then only unlinking and
      // arithmetic are left.
      Set<Item> taken = new LinkedHashSet<>(chosen);
      long takenTokens = 0;
      for (Item i : chosen) {
        takenTokens += i.length();
      }
      Iterator<Item> unlink = queue.iterator();
      // room in the queue: signalled before the texts leave it (signalling may allocate), which no
      // waiter can tell apart, as none runs before the lock is released
      changed.signalAll();
      running.add(chosen); // the last allocation (the list may grow): nothing changed if it fails
      for (int left = taken.size(); left > 0 && unlink.hasNext(); ) {
        if (taken.contains(unlink.next())) {
          unlink.remove();
          left--;
        }
      }
      queuedTokens -= takenTokens;
      return chosen;
    } finally {
      lock.unlock();
    }
  }

  /** Whether the queue holds a full batch's texts or tokens. Under the lock. */
  private boolean batchFull() {
    return queue.size() >= maxBatchSize || queuedTokens >= maxBatchTokens;
  }

  /**
   * Whether a batch that holds another call's texts than {@code job}'s is running: then the cores
   * are busy and waiting for company costs little; a lone call's own batches never make it wait.
   * Under the lock.
   */
  private boolean othersRunning(Job job) {
    for (List<Item> batch : running) {
      for (Item i : batch) {
        if (i.job() != job) {
          return true;
        }
      }
    }
    return false;
  }

  /** Removes a cancelled call's texts still queued, so that its room is free at once. */
  private void dropQueued(Job job) {
    lock.lock();
    try {
      removeQueued(i -> i.job() == job);
    } finally {
      lock.unlock();
    }
  }

  /** Removes texts of calls whose futures are done (cancelled, or failed elsewhere). Under the lock. */
  private void dropCancelled() {
    removeQueued(i -> i.job().future.isDone());
  }

  /** Removes the queued texts {@code which} picks, freeing their tokens, and wakes those waiting for room. Under the lock. */
  private void removeQueued(java.util.function.Predicate<Item> which) {
    boolean removed = false;
    for (Iterator<Item> it = queue.iterator(); it.hasNext(); ) {
      Item i = it.next();
      if (which.test(i)) {
        it.remove();
        queuedTokens -= i.length();
        removed = true;
      }
    }
    if (removed) {
      changed.signalAll();
    }
  }

  /** Runs a batch and delivers its vectors; on an ONNX Runtime failure, retries call by call. */
  private void run(List<Item> batch, Workspace ws) {
    long start = System.nanoTime();
    Set<Job> jobs = new LinkedHashSet<>();
    for (Item i : batch) {
      jobs.add(i.job());
      stats.queueWait(start - i.enqueuedNanos());
    }
    try {
      float[] pooled = runBatch(batch, ws);
      long elapsed = System.nanoTime() - start;
      stats.runTime(elapsed);
      deliver(batch, pooled);
      if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
        int longest = batch.stream().mapToInt(Item::length).max().orElse(0);
        long real = batch.stream().mapToLong(Item::length).sum();
        LOG.log(System.Logger.Level.DEBUG, String.format(java.util.Locale.ROOT, "batch of %d texts from %d calls, %d tokens (%d padded),"
            + " ran %.2f ms", batch.size(), jobs.size(), real, (long) batch.size() * longest, elapsed / 1e6));
      }
    } catch (InferenceException e) {
      if (jobs.size() == 1) {
        fail(batch, e);
        return;
      }
      for (Job job : jobs) { // only the call at fault fails
        if (job.future.isDone()) {
          continue; // cancelled meanwhile
        }
        List<Item> own = new ArrayList<>();
        for (Item i : batch) {
          if (i.job() == job) {
            own.add(i);
          }
        }
        long again = System.nanoTime();
        try {
          float[] pooled = runBatch(own, ws);
          long ran = System.nanoTime() - again;
          stats.runTime(ran);
          deliver(own, pooled);
          if (LOG.isLoggable(System.Logger.Level.DEBUG)) { // a batch like any other: one line each
            LOG.log(System.Logger.Level.DEBUG, String.format(java.util.Locale.ROOT, "batch of %d texts from 1 call, run again alone after a"
                + " shared batch failed, ran %.2f ms", own.size(), ran / 1e6));
          }
        } catch (RuntimeException | Error failure) {
          job.future.completeExceptionally(failure);
        }
      }
    } catch (RuntimeException | Error e) {
      fail(batch, e);
    }
  }

  private float[] runBatch(List<Item> batch, Workspace ws) {
    List<Encoding> rows = new ArrayList<>(batch.size());
    long real = 0;
    int longest = 0;
    Job first = batch.get(0).job();
    boolean coalesced = false;
    for (Item i : batch) {
      rows.add(i.encoding());
      real += i.length();
      longest = Math.max(longest, i.length());
      coalesced |= i.job() != first;
    }
    float[] pooled = session.run(GeckoTokenizer.pad(rows, tokenizer.padId()), ws);
    stats.batch(batch.size(), real, (long) batch.size() * longest, coalesced);
    return pooled;
  }

  private void deliver(List<Item> batch, float[] pooled) {
    for (int r = 0; r < batch.size(); r++) {
      Item i = batch.get(r);
      Job job = i.job();
      float[] vector;
      if (adapter != null) {
        vector = VectorOps.truncateAndNormalize(adapter.apply(Arrays.copyOfRange(pooled, r * width, r * width + width)),
            job.dims);
      } else {
        vector = VectorOps.truncateAndNormalize(pooled, r * width, width, job.dims);
      }
      job.out[i.index()] = vector;
      if (job.remaining.decrementAndGet() == 0) {
        job.future.complete(Arrays.asList(job.out));
      }
    }
  }

  /**
   * Fails the calls of a batch, each with its own exception instance when there are several (an
   * {@link Error} as is); returns whether any of them took it (was not done already). Allocates
   * nothing but what completing a future takes and, for an exception that several calls share,
   * each caller's instance: it runs after an {@link OutOfMemoryError} too, and a call it leaves
   * out would wait forever.
   */
  private static boolean fail(List<Item> batch, Throwable e) {
    // indexed loops, no iterator; a call's several texts are told apart by its future being done
    Job first = batch.get(0).job();
    boolean several = false;
    for (int i = 1; i < batch.size() && !several; i++) {
      several = batch.get(i).job() != first;
    }
    boolean reached = false;
    for (int i = 0; i < batch.size(); i++) {
      CompletableFuture<List<float[]>> future = batch.get(i).job().future;
      if (!future.isDone()) { // else failed already for an earlier text of its call, or cancelled
        Throwable own = e;
        if (several && !(e instanceof Error)) {
          try {
            own = Futures.forCaller(e);
          } catch (Throwable noRoom) { // out of memory making the caller's copy: the shared one, not a caller left waiting
            own = e;
          }
        }
        reached |= future.completeExceptionally(own);
      }
    }
    return reached;
  }
}
