package dev.gecko.core.internal.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;

/**
 * Native (direct) buffers for one call's tensors, grown to the largest batch seen and reused:
 * ONNX Runtime reads inputs from and writes the output into them without copies. Used by one
 * thread at a time.
 */
final class Workspace {
  /**
   * Allocates a direct buffer of {@code bytes} bytes: {@link ByteBuffer#allocateDirect}, but in
   * tests one that can fail (out of direct memory) half-way through a growth.
   */
  @FunctionalInterface
  interface Allocator {
    ByteBuffer allocateDirect(int bytes);
  }

  private final Allocator allocator;
  LongBuffer ids = LongBuffer.allocate(0);
  LongBuffer mask = LongBuffer.allocate(0);
  LongBuffer types = LongBuffer.allocate(0);
  FloatBuffer hidden = FloatBuffer.allocate(0);
  /** Heap copies of the output and the mask for mean pooling (unused for CLS pooling). */
  float[] hiddenHeap = new float[0];
  long[] maskHeap = new long[0];

  Workspace() {
    this(ByteBuffer::allocateDirect);
  }

  /** For tests: a workspace whose direct buffers come from {@code allocator} (to make one fail). */
  Workspace(Allocator allocator) {
    this.allocator = allocator;
  }

  /** The most bytes one buffer or array here may hold: a Java array's limit, just under 2 GiB. */
  static final long MAX_BYTES = Integer.MAX_VALUE - 8;

  /**
   * Returns why batches of up to {@code maxCells} tokens (rows times padded length) and {@code
   * maxRows} rows at {@code width} cannot run, or null where they can: each buffer {@link #ensure}
   * makes must fit (the inputs; the hidden states, of every token or, for a graph that computes
   * the first token only, of each row; the heap copy mean pooling reads).
   */
  static String tooLarge(long maxCells, long maxRows, int width, boolean firstTokenOnly, boolean meanPooling) {
    long floatsPerToken = (long) width * Float.BYTES;
    long hiddenBytes = (firstTokenOnly ? maxRows : maxCells) * floatsPerToken;
    long heapBytes = meanPooling ? maxCells * floatsPerToken : 0;
    if (maxCells * Long.BYTES <= MAX_BYTES && hiddenBytes <= MAX_BYTES && heapBytes <= MAX_BYTES) {
      return null;
    }
    long most = firstTokenOnly && !meanPooling ? MAX_BYTES / Long.BYTES : MAX_BYTES / floatsPerToken;
    return "a batch of up to " + maxCells + " tokens (" + maxRows + " texts) at width " + width + " needs more than"
        + " one buffer holds (" + MAX_BYTES + " bytes); at most " + most + " tokens per batch";
  }

  /** Grows the buffers for {@code cells} input tokens and {@code outputCells} output rows. */
  void ensure(int cells, int outputCells, int width, boolean meanPooling) {
    if (ids.capacity() < cells) {
      int grown = grow(ids.capacity(), cells, Long.BYTES);
      LongBuffer newIds = longs(grown);
      LongBuffer newMask = longs(grown);
      LongBuffer newTypes = longs(grown);
      // assigned together once all three exist: an OutOfMemoryError between them would otherwise
      // leave ids grown and mask short, and every later batch of a size between would overflow
      ids = newIds;
      mask = newMask;
      types = newTypes;
    }
    if (hidden.capacity() < (long) outputCells * width) {
      int rows = grow(hidden.capacity() / width, outputCells, (long) width * Float.BYTES);
      hidden = allocator.allocateDirect(rows * width * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
    if (meanPooling && (maskHeap.length < cells || hiddenHeap.length < (long) cells * width)) {
      int heapCells = grow(maskHeap.length, cells, (long) width * Float.BYTES);
      long[] newMaskHeap = new long[heapCells];
      hiddenHeap = new float[heapCells * width];
      maskHeap = newMaskHeap;
    }
  }

  /**
   * A new capacity, in units of {@code unitBytes}, for at least {@code needed}: half again the
   * current one (so that slowly growing batches do not reallocate every time), or just {@code
   * needed} where that would pass {@link #MAX_BYTES}.
   *
   * @throws IllegalStateException if {@code needed} units pass it (the embedder's settings are
   *     checked against {@link #tooLarge} when it opens, so no batch asks for that)
   */
  static int grow(int current, int needed, long unitBytes) {
    long limit = MAX_BYTES / unitBytes;
    if (needed > limit) {
      throw new IllegalStateException(needed + " units of " + unitBytes + " bytes pass one buffer's " + MAX_BYTES);
    }
    return (int) Math.min(limit, Math.max(needed, current + (long) current / 2));
  }

  LongBuffer fill(LongBuffer target, LongBuffer source, int cells) {
    LongBuffer view = target.duplicate().clear();
    view.put(source);
    return view.flip().limit(cells);
  }

  private LongBuffer longs(int n) {
    return allocator.allocateDirect(n * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
  }
}
