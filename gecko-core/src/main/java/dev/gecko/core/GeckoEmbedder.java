package dev.gecko.core;

import dev.gecko.core.internal.runtime.EmbedderSettings;
import dev.gecko.core.internal.runtime.OnnxEmbedder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.Objects;

/**
 * Embeds text into L2-normalised vectors, in-process, on ONNX Runtime.
 *
 * <pre>{@code
 * try (GeckoEmbedder embedder = GeckoEmbedder.createDefault()) {
 *   float[] v = embedder.embed("The quick brown fox", 256);
 *   float[] q = embedder.embed(EmbedRequest.query("fast animals"), 256);
 * }
 * }</pre>
 *
 * <h2>Vectors</h2>
 * A vector is the model's pooled output (mean over the attention mask, or CLS; then the
 * package's adapter if it has one), cut to its first {@code dims} components, THEN L2-normalised.
 * {@code dims} may be any value from 1 to {@link #dimensions()}. Without a task type the model's
 * default prompt applies, so {@code embed(text)} equals sentence-transformers' {@code
 * encode(text, normalize_embeddings=True)} for the same model.
 *
 * <h2>Input</h2>
 * Texts longer than the model's maximum are truncated to it, unless {@link
 * Builder#failOnTruncation(boolean)} is set, in which case an {@link InputTooLongException} names
 * the first such text's index and token count. A null text throws {@link NullPointerException}
 * naming its index. Empty and blank texts embed (as the special tokens alone). Unpaired
 * surrogates are replaced with U+FFFD.
 *
 * <h2>Batching</h2>
 * Lists are tokenised, sorted by token count and cut into batches of at most {@link
 * Builder#maxBatchTokens(int)} padded tokens where cutting finds the least padding (docs/embedding.md);
 * each batch is padded only to its longest row, and results come back in the caller's order. Quantised (int8) models quantise activations with one
 * scale per tensor, so a vector depends slightly on the other texts of its batch; {@link
 * Builder#batchIndependent(boolean)} runs every text alone for bit-stable output.
 *
 * <h2>Many callers</h2>
 * Calls of up to {@link Builder#maxBatchSize(int)} texts from many threads (a web service's
 * requests, say) are coalesced: their texts wait in one queue and are cut into shared batches by
 * the same least-padding rule, at most {@code threads / intraOpThreads} batches running at a time,
 * and each call gets its own vectors at its own width. On an idle embedder a call's batch starts at
 * once, and a lone call never waits for company; while batches of other calls run, a batch not yet
 * full waits for company until its oldest text has waited {@link
 * Builder#coalescingWindow(Duration)} since it was queued. fp32 vectors equal a call's own batch's up to
 * float rounding (cosine >= 0.99999); int8 vectors show the documented batch effect; {@link
 * Builder#batchIndependent(boolean)} never coalesces. At most {@link
 * Builder#maxQueuedTokens(long)} tokens of coalesced calls wait: past it synchronous calls wait and
 * asynchronous ones are refused (or wait, {@link Builder#rejectAsyncWhenFull(boolean)}); calls
 * that are not coalesced (more than {@code maxBatchSize} texts, or coalescing off) are not
 * counted against it. The futures of asynchronous calls complete on daemon callback threads
 * ({@code gecko-callback-N}), never on a thread that runs batches, so a callback may call the
 * embedder again, or close it. {@link #metrics()} counts calls, batches, their fill, queue wait and
 * run time.
 *
 * <h2>Threads and resources</h2>
 * Thread-safe: share one instance across the application. It holds native memory (the ONNX Runtime
 * session and the tokenizer), which the code that built it owns and frees with {@link #close()}
 * (try-with-resources, or the application's shutdown). {@link #close()} waits for the calls it
 * accepted (synchronous and asynchronous, their futures completed), then frees it; later calls
 * throw {@link IllegalStateException} (asynchronous ones fail their future). {@code close()} is
 * idempotent; called from a progress listener of a call in flight, it returns at once and the last
 * call to finish frees. A larger call uses up to {@link Builder#threads(int)} threads: its batches
 * run in parallel on the caller's thread and on daemon helper threads that end after 30 s idle. Its
 * batches are formed before any runs, so its vectors do not depend on the number of threads or on
 * scheduling.
 */
public interface GeckoEmbedder extends AutoCloseable {

  /** Returns a new builder. */
  static Builder builder() {
    return new Builder();
  }

  /**
   * Opens the default model, {@value Builder#DEFAULT_MODEL}, from its Maven artifact.
   *
   * @throws ModelLoadException if the model cannot be loaded
   */
  static GeckoEmbedder createDefault() {
    return builder().build();
  }

  /** Returns the model package this embedder runs. */
  ModelPackage model();

  /** Returns the full width of the vectors: the model's pooled width. */
  int dimensions();

  /**
   * Embeds one text with the model's default prompt, at full width.
   *
   * @throws NullPointerException if {@code text} is null
   * @throws IllegalStateException if this embedder is closed
   */
  default float[] embed(String text) {
    return embed(text, dimensions());
  }

  /**
   * Embeds one text with the model's default prompt, at width {@code dims}.
   *
   * @throws IllegalArgumentException if {@code dims} is not in {@code [1, dimensions()]}, or a
   *     text encodes to no tokens (an empty text, with a tokenizer that adds no special tokens; the
   *     message names its index)
   * @throws NullPointerException if {@code text} is null
   * @throws IllegalStateException if this embedder is closed
   */
  default float[] embed(String text, int dims) {
    return embed(EmbedRequest.of(Objects.requireNonNull(text, "text is null")), dims);
  }

  /**
   * Embeds one request (text, task type, title) at width {@code dims}.
   *
   * @throws IllegalArgumentException if {@code dims} is not in {@code [1, dimensions()]}, or a
   *     text encodes to no tokens (an empty text, with a tokenizer that adds no special tokens; the
   *     message names its index)
   * @throws IllegalStateException if this embedder is closed
   */
  default float[] embed(EmbedRequest request, int dims) {
    return embedRequests(List.of(Objects.requireNonNull(request, "request is null")), dims).get(0);
  }

  /**
   * Embeds texts with the model's default prompt, at width {@code dims}, in the given order.
   *
   * @throws IllegalArgumentException if {@code dims} is not in {@code [1, dimensions()]}, or a
   *     text encodes to no tokens (an empty text, with a tokenizer that adds no special tokens; the
   *     message names its index)
   * @throws NullPointerException if the list or a text is null (the message names its index)
   * @throws IllegalStateException if this embedder is closed
   */
  List<float[]> embedAll(List<String> texts, int dims);

  /**
   * Embeds requests at width {@code dims}, in the given order.
   *
   * @throws IllegalArgumentException if {@code dims} is not in {@code [1, dimensions()]}, or a
   *     text encodes to no tokens (an empty text, with a tokenizer that adds no special tokens; the
   *     message names its index)
   * @throws NullPointerException if the list or a request is null (the message names its index)
   * @throws IllegalStateException if this embedder is closed
   */
  default List<float[]> embedRequests(List<EmbedRequest> requests, int dims) {
    return embedRequests(requests, dims, ProgressListener.none());
  }

  /**
   * Embeds requests at width {@code dims}, in the given order, reporting progress to {@code
   * progress} (phase {@code "embedding"}, unit {@code "texts"}, metric {@code "tokens"}: the tokens
   * the model ran for the texts done so far, special tokens included, after truncation, padding
   * not counted): once before any work, then as each window of up to 512 texts is done, the last
   * report with {@code done == total}; a call that is coalesced with others (one of at most {@code
   * maxBatchSize} texts) reports only before and after its work. Reports come on the calling
   * thread. The listener may close this embedder: the call still completes (see {@link #close()}).
   *
   * @throws IllegalArgumentException if {@code dims} is not in {@code [1, dimensions()]}, or a
   *     text encodes to no tokens (an empty text, with a tokenizer that adds no special tokens; the
   *     message names its index)
   * @throws NullPointerException if the list, a request or the listener is null
   * @throws IllegalStateException if this embedder is closed
   */
  List<float[]> embedRequests(List<EmbedRequest> requests, int dims, ProgressListener progress);

  /**
   * Embeds one request asynchronously. Concurrent small calls (synchronous or not) share batches
   * (see "Many callers" in the class comment). The future fails, alone, with the exception the
   * synchronous call would throw (a null or too long text, a closed embedder) or with {@link
   * java.util.concurrent.RejectedExecutionException} when the queue is full ({@link
   * Builder#rejectAsyncWhenFull(boolean)}). Cancelling it before its batch starts, or completing it
   * any other way ({@code orTimeout}, {@code completeExceptionally}), removes its text from the queue.
   */
  default CompletableFuture<float[]> embedAsync(EmbedRequest request, int dims) {
    if (request == null) {
      return CompletableFuture.failedFuture(new NullPointerException("request is null"));
    }
    CompletableFuture<List<float[]>> all = embedRequestsAsync(List.of(request), dims);
    CompletableFuture<float[]> one = new CompletableFuture<>();
    all.whenComplete((l, e) -> { // not thenApply, which would wrap the failure in a CompletionException
      if (e != null) {
        one.completeExceptionally(e);
      } else {
        one.complete(l.get(0));
      }
    });
    one.whenComplete((v, e) -> {
      if (!all.isDone()) {
        all.cancel(false); // cancelled, timed out or completed by the caller: the text leaves the queue
      }
    });
    return one;
  }

  /**
   * Embeds requests asynchronously, in the given order; see {@link #embedAsync}. Validation
   * failures fail the future rather than being thrown.
   */
  CompletableFuture<List<float[]>> embedRequestsAsync(List<EmbedRequest> requests, int dims);

  /**
   * Returns a snapshot of what this embedder has done: calls, texts, tokens, batches and their
   * fill, queue wait and run time histograms.
   */
  EmbedderMetrics metrics();

  /**
   * Returns the number of tokens the model would see for a request (prompt and special tokens
   * included, before truncation).
   */
  int countTokens(EmbedRequest request);

  /**
   * Refuses later calls, waits for the calls in flight (their asynchronous futures completed, and
   * the dependent stages that run on the embedder's callback thread returned: a callback that
   * blocks holds close up), then frees native memory. Idempotent: a second close returns once the first has freed. A callback
   * of an asynchronous call may close the embedder; there close waits for the calls in flight but
   * for no callback thread (it would wait for itself), so another call's future may complete, and
   * its dependent stages run, just after close returns. So may the {@link ProgressListener} of a
   * synchronous call: there close returns at once without waiting (it would wait for the call it
   * runs in), the call goes on to return its vectors, and the last call in flight to finish frees
   * the native memory.
   */
  @Override
  void close();

  /**
   * Builds a {@link GeckoEmbedder}. Each setter validates its argument at once. Reusable; not
   * thread-safe. Each {@link #build()} opens a new embedder, which the caller owns and closes.
   */
  final class Builder {
    /** The model used when none is set. */
    public static final String DEFAULT_MODEL = "bge-small-en-v1.5-int8";
    /** The default {@link #maxBatchTokens(int)}. */
    public static final int DEFAULT_MAX_BATCH_TOKENS = 512;
    /** The default {@link #maxBatchSize(int)}. */
    public static final int DEFAULT_MAX_BATCH_SIZE = 64;
    /**
     * The default {@link #coalescingWindow(Duration)}, in microseconds: the best of 25, 100, 250,
     * 500 and 1,000 µs under gecko-bench's LoadBenchmark at 4, 16 and 64 callers
     * (docs/performance.md, "Many callers").
     */
    public static final int DEFAULT_COALESCING_WINDOW_MICROS = 100;
    /** The default {@link #coalescingWindow(Duration)}. */
    public static final Duration DEFAULT_COALESCING_WINDOW = Duration.ofNanos(DEFAULT_COALESCING_WINDOW_MICROS * 1000L);
    /** The default {@link #maxQueuedTokens(long)}. */
    public static final long DEFAULT_MAX_QUEUED_TOKENS = 65_536;

    ModelPackage model;
    int threads = Runtime.getRuntime().availableProcessors();
    int intraOpThreads = 1;
    int maxBatchTokens = DEFAULT_MAX_BATCH_TOKENS;
    int maxBatchSize = DEFAULT_MAX_BATCH_SIZE;
    boolean failOnTruncation;
    boolean batchIndependent;
    boolean fuseLayerNorm = true;
    boolean firstTokenOnly = true;
    Duration coalescingWindow = DEFAULT_COALESCING_WINDOW;
    long maxQueuedTokens = DEFAULT_MAX_QUEUED_TOKENS;
    boolean rejectAsyncWhenFull = true;

    Builder() {}

    /** Sets the model package to run. Default: {@value #DEFAULT_MODEL}. */
    public Builder model(ModelPackage model) {
      this.model = Objects.requireNonNull(model, "model is null");
      return this;
    }

    /**
     * Sets the model by built-in name or folder path (see {@link ModelPackage#resolve(String)}).
     * A folder is read now.
     *
     * @throws NullPointerException if {@code nameOrPath} is null
     * @throws IllegalArgumentException if it is neither, or blank
     * @throws InvalidDataException if the folder is not a model package or a file of it is
     *     malformed (naming the file and field at fault)
     * @throws java.io.UncheckedIOException if the folder's files cannot be read
     */
    public Builder model(String nameOrPath) {
      this.model = ModelPackage.resolve(nameOrPath);
      return this;
    }

    /**
     * Sets how many CPU threads one call may use. Default: the number of available processors.
     * A call's batches run {@code threads / intraOpThreads} at a time, each on its own thread
     * (the caller's and helper threads), so with the default of one intra-op thread every core
     * runs its own batch: measured faster than ONNX Runtime's operator parallelism on one batch,
     * whose threads synchronise after every operator (docs/performance.md). A call with a single
     * batch (one text, say) runs on one thread unless {@link #intraOpThreads(int)} is raised.
     *
     * @throws IllegalArgumentException if {@code threads < 1}
     */
    public Builder threads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("threads must be >= 1, was " + threads);
      }
      this.threads = threads;
      return this;
    }

    /**
     * Sets ONNX Runtime's intra-op threads: how many threads work on one batch. Default 1. Raise
     * it (up to {@link #threads(int)}) to cut the latency of single long texts at some cost in
     * throughput; {@code threads / intraOpThreads} batches then run at a time. Above {@code threads}
     * (or the cores, where {@code threads} is left at its default), one batch runs at a time, on
     * this many threads: a call then uses more threads than {@code threads}.
     *
     * @throws IllegalArgumentException if {@code intraOpThreads < 1}
     */
    public Builder intraOpThreads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("intraOpThreads must be >= 1, was " + threads);
      }
      this.intraOpThreads = threads;
      return this;
    }

    /**
     * Sets the most padded tokens ({@code rows * longest row}) in one inference batch. Default
     * {@value #DEFAULT_MAX_BATCH_TOKENS} (measured: with one batch per core and batches cut by
     * least padding, 512 was as fast as 1024 on short sentences and faster on mixed lengths and
     * passages, and larger batches grow ONNX Runtime's arena; docs/performance.md).
     *
     * @throws IllegalArgumentException if {@code tokens < 1}
     */
    public Builder maxBatchTokens(int tokens) {
      if (tokens < 1) {
        throw new IllegalArgumentException("maxBatchTokens must be >= 1, was " + tokens);
      }
      this.maxBatchTokens = tokens;
      return this;
    }

    /**
     * Sets the most texts in one inference batch. Default 64.
     *
     * @throws IllegalArgumentException if {@code size < 1}
     */
    public Builder maxBatchSize(int size) {
      if (size < 1) {
        throw new IllegalArgumentException("maxBatchSize must be >= 1, was " + size);
      }
      this.maxBatchSize = size;
      return this;
    }

    /**
     * When true, a text longer than the model's maximum throws {@link InputTooLongException}
     * instead of being truncated. Default false.
     */
    public Builder failOnTruncation(boolean fail) {
      this.failOnTruncation = fail;
      return this;
    }

    /**
     * When true, every text is run alone (batch of one, no padding), so its vector does not
     * depend on the other texts of a call; slower. Matters for int8 models, whose activation
     * quantisation scale is per batch. Default false.
     */
    public Builder batchIndependent(boolean independent) {
      this.batchIndependent = independent;
      return this;
    }

    /**
     * When true (the default), the graph's residual blocks ({@code MatMul -> Add(bias) ->
     * Add(residual) -> layer norm}) are rewritten into ONNX Runtime's fused {@code
     * SkipLayerNormalization} before the session is created ({@code
     * SkipLayerNormFusion}); a graph without that pattern, with weights in
     * external files, or one that ONNX Runtime refuses once rewritten, loads as shipped. The
     * rewrite reads the model file into the Java heap once (built-in models are read so anyway).
     * Same arithmetic, different rounding: fp32 vectors agree with the unfused graph to about
     * 1e-6, int8 vectors move within their quantisation noise (docs/performance.md). False loads
     * every graph as shipped.
     */
    public Builder fuseLayerNorm(boolean fuse) {
      this.fuseLayerNorm = fuse;
      return this;
    }

    /**
     * When true (the default) and the model's vectors are its first token's hidden state ({@link
     * Pooling#CLS}, as in the bge models), the graph's last layer is rewritten to compute that
     * token only ({@code dev.gecko.core.internal.onnx.ClsTokenPruning}): every other token's query,
     * attention, projection and feed-forward rows in the last layer are work whose result is never
     * read. Keys and values still see every token, so the vector is the same up to rounding (fp32
     * within about 1e-6; int8 within its quantisation noise, since the last layer's activation
     * scales are then taken over the first tokens only). About a twelfth less work on a 12-layer
     * model. The rewritten graph is checked on a small input when the session opens; a graph
     * without the pattern, or one that fails the check, runs whole. No effect on mean-pooled
     * models. Like {@link #fuseLayerNorm}, it needs the model in the Java heap once.
     */
    public Builder firstTokenOnly(boolean firstTokenOnly) {
      this.firstTokenOnly = firstTokenOnly;
      return this;
    }

    /**
     * Sets how long a queued text may wait for other calls' texts while batches of other calls run,
     * counted from when it was let into the queue (see "Many callers" in {@link GeckoEmbedder}). A
     * call on an idle embedder, and a lone call's further batches, never wait.
     * Default {@value #DEFAULT_COALESCING_WINDOW_MICROS} µs; {@link Duration#ZERO} turns coalescing
     * off: every call runs its own batches, as with {@link #batchIndependent(boolean)}.
     *
     * @throws IllegalArgumentException if negative or longer than 1 s
     */
    public Builder coalescingWindow(Duration window) {
      Objects.requireNonNull(window, "window is null");
      if (window.isNegative() || window.compareTo(Duration.ofSeconds(1)) > 0) {
        throw new IllegalArgumentException("coalescingWindow must be in [0, 1 s], was " + window);
      }
      this.coalescingWindow = window;
      return this;
    }

    /**
     * Sets the most tokens that wait to be coalesced (a call larger than that alone is let in when
     * nothing waits). Past it synchronous calls wait, and asynchronous ones are refused or wait
     * ({@link #rejectAsyncWhenFull(boolean)}); calls that wait are let in in the order they came
     * (small calls do not overtake a large one), and an asynchronous call that would be refused
     * when full is refused too while others wait. Default {@value #DEFAULT_MAX_QUEUED_TOKENS}.
     *
     * @throws IllegalArgumentException if {@code tokens < 1}
     */
    public Builder maxQueuedTokens(long tokens) {
      if (tokens < 1) {
        throw new IllegalArgumentException("maxQueuedTokens must be >= 1, was " + tokens);
      }
      this.maxQueuedTokens = tokens;
      return this;
    }

    /**
     * When true (the default), an asynchronous call that finds the queue full fails its future with
     * {@link java.util.concurrent.RejectedExecutionException} at once; when false, the caller waits
     * for room, as synchronous calls do.
     */
    public Builder rejectAsyncWhenFull(boolean reject) {
      this.rejectAsyncWhenFull = reject;
      return this;
    }

    /**
     * Opens the model and returns the embedder. A built-in model's rewritten graph and ONNX
     * Runtime's native libraries are kept as files in {@code ~/.cache/gecko} on the first open
     * and loaded by path afterwards, checked by size and CRC-32 each time ({@code
     * -Dgecko.cache.dir} moves them, {@code -Dgecko.cache=false} keeps nothing; a cache that
     * cannot be written only costs speed). See docs/embedding.md, "Opening fast".
     *
     * @throws ModelLoadException if the model cannot be loaded (the message names the file)
     * @throws InvalidDataException if the package's adapter file is not a valid adapter (the
     *     message names the file and the tensor or field at fault)
     * @throws IllegalArgumentException if no model is set and the default model's artifact is not
     *     on the classpath, or if {@link #maxBatchTokens} and {@link #maxBatchSize} allow batches
     *     whose hidden states (tokens times the model's width, as floats) pass one buffer's 2 GiB
     * @throws IllegalStateException if the JVM is shutting down
     */
    public GeckoEmbedder build() {
      ModelPackage pkg = model != null ? model : ModelPackage.builtIn(DEFAULT_MODEL);
      return OnnxEmbedder.open(pkg, new EmbedderSettings(threads, intraOpThreads, maxBatchTokens, maxBatchSize,
          failOnTruncation, batchIndependent, fuseLayerNorm, firstTokenOnly, coalescingWindow, maxQueuedTokens,
          rejectAsyncWhenFull));
    }
  }
}
