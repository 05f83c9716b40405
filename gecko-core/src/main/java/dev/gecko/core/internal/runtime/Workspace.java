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

  /** Grows the buffers for {@code cells} input tokens and {@code outputCells} output rows. */
  void ensure(int cells, int outputCells, int width, boolean meanPooling) {
    if (ids.capacity() < cells) {
      int grown = Math.max(cells, ids.capacity() + ids.capacity() / 2);
      LongBuffer newIds = longs(grown);
      LongBuffer newMask = longs(grown);
      LongBuffer newTypes = longs(grown);
      // assigned together once all three exist: an OutOfMemoryError between them would otherwise
      // leave ids grown and mask short, and every later batch of a size between would overflow
      ids = newIds;
      mask = newMask;
      types = newTypes;
    }
    int floats = ids.capacity() * width;
    if (hidden.capacity() < outputCells * width) {
      int grown = Math.max(outputCells, hidden.capacity() / width + hidden.capacity() / width / 2) * width;
      hidden = allocator.allocateDirect(grown * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
    if (meanPooling && hiddenHeap.length < cells * width) {
      long[] newMaskHeap = new long[ids.capacity()];
      hiddenHeap = new float[floats];
      maskHeap = newMaskHeap;
    }
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
