package dev.gecko.core.internal.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Workspace#ensure}: buffers grown together, and a growth that runs out of direct memory
 * half-way leaves the workspace as it was, usable for every batch it was before and able to grow
 * later. Direct buffers come through the workspace's allocation seam, which here fails on a chosen
 * allocation.
 */
class WorkspaceTest {
  private static final int WIDTH = 8;
  private static final int SMALL = 16;
  private static final int LARGE = 1_000;
  /** A batch between the two sizes: it fits a workspace grown to {@link #LARGE}, not one of {@link #SMALL}. */
  private static final int BETWEEN = 500;

  /** Allocates direct buffers, but throws {@link #error} on the allocation numbered {@link #failAt} (from 1). */
  static final class FailingAllocator implements Workspace.Allocator {
    final OutOfMemoryError error = new OutOfMemoryError("injected: Cannot reserve direct buffer memory");
    int allocations;
    int failAt;

    @Override
    public ByteBuffer allocateDirect(int bytes) {
      if (++allocations == failAt) {
        throw error;
      }
      return ByteBuffer.allocateDirect(bytes);
    }
  }

  /** Fills each input buffer with {@code cells} values, as a batch's run does, and checks what it holds. */
  private static void assertHoldsInputs(Workspace ws, int cells) {
    for (LongBuffer target : new LongBuffer[] {ws.ids, ws.mask, ws.types}) {
      long[] values = LongStream.range(0, cells).map(v -> v * 7 + 3).toArray();
      LongBuffer filled = ws.fill(target, LongBuffer.wrap(values), cells);
      assertThat(filled.remaining()).isEqualTo(cells);
      long[] back = new long[cells];
      filled.get(back);
      assertThat(back).containsExactly(values);
    }
  }

  /** Writes {@code rows} output rows into the hidden buffer, as ONNX Runtime does. */
  private static void assertHoldsOutput(Workspace ws, int rows) {
    FloatBuffer hidden = ws.hidden.duplicate().clear().limit(rows * WIDTH);
    hidden.put(new float[rows * WIDTH]);
    assertThat(hidden.remaining()).isZero();
  }

  @Test
  void growsEveryBufferForTheBatch() {
    Workspace ws = new Workspace();
    ws.ensure(SMALL, SMALL, WIDTH, true);
    assertHoldsInputs(ws, SMALL);
    assertHoldsOutput(ws, SMALL);
    ws.ensure(LARGE, LARGE, WIDTH, true);
    assertHoldsInputs(ws, LARGE);
    assertHoldsOutput(ws, LARGE);
    assertThat(ws.hiddenHeap).hasSizeGreaterThanOrEqualTo(LARGE * WIDTH);
    assertThat(ws.maskHeap).hasSizeGreaterThanOrEqualTo(LARGE);
  }

  /**
   * The growth to {@link #LARGE} allocates ids, mask, types, then the output: each of them fails in
   * turn. Whichever fails, the input buffers keep one size (had ids been grown alone, a later batch
   * of {@link #BETWEEN} tokens would pass {@code ensure} on ids' capacity and overflow the mask).
   */
  @ParameterizedTest(name = "allocation {0} of the growth fails")
  @ValueSource(ints = {1, 2, 3, 4})
  void aGrowthThatRunsOutOfDirectMemoryLeavesTheWorkspaceUsable(int failing) {
    FailingAllocator allocator = new FailingAllocator();
    Workspace ws = new Workspace(allocator);
    ws.ensure(SMALL, SMALL, WIDTH, false);
    int before = allocator.allocations;
    assertThat(before).as("ids, mask, types and the output").isEqualTo(4);

    allocator.failAt = before + failing;
    assertThatThrownBy(() -> ws.ensure(LARGE, LARGE, WIDTH, false)).isSameAs(allocator.error);
    assertThat(ws.mask.capacity()).as("mask, the same size as ids").isEqualTo(ws.ids.capacity());
    assertThat(ws.types.capacity()).as("types, the same size as ids").isEqualTo(ws.ids.capacity());

    // every batch up to the old size still runs, and one in between grows what it needs
    ws.ensure(SMALL, SMALL, WIDTH, false);
    assertHoldsInputs(ws, SMALL);
    assertHoldsOutput(ws, SMALL);
    ws.ensure(BETWEEN, BETWEEN, WIDTH, false);
    assertHoldsInputs(ws, BETWEEN);
    assertHoldsOutput(ws, BETWEEN);

    // and once memory is there again, the workspace grows to the size that failed
    ws.ensure(LARGE, LARGE, WIDTH, false);
    assertHoldsInputs(ws, LARGE);
    assertHoldsOutput(ws, LARGE);
  }

  @Test
  void growthStopsAtWhatOneBufferHoldsAndSizesAreComputedWithoutOverflow() {
    assertThat(Workspace.grow(0, 10, 4)).isEqualTo(10);
    assertThat(Workspace.grow(100, 101, 4)).isEqualTo(150); // half again, for slowly growing batches
    long limit = Workspace.MAX_BYTES / 1536; // units of 384 floats
    assertThat(Workspace.grow((int) (limit - 10), (int) (limit - 5), 1536)).isEqualTo((int) limit); // not 1.5x past it
    assertThat(Workspace.grow(1_500_000_000, 1_500_000_001, 1)).isEqualTo((int) Workspace.MAX_BYTES); // no int overflow
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Workspace.grow(0, (int) limit + 1, 1536))
        .isInstanceOf(IllegalStateException.class);
    assertThat(Workspace.tooLarge(512L * 64, 64, 384, false, true)).isNull();
    assertThat(Workspace.tooLarge(2_000_000, 8192, 384, false, true)).contains("at width 384")
        .contains("at most 1398101 tokens per batch");
    // a graph that computes the first token only holds one row per text: only the inputs bound the budget
    assertThat(Workspace.tooLarge(2_000_000, 8192, 384, true, false)).isNull();
    assertThat(Workspace.tooLarge(300_000_000, 8192, 384, true, false)).contains("at most 268435454 tokens");
  }
}
