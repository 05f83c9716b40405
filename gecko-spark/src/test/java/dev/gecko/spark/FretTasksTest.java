package dev.gecko.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.gecko.train.llm.LlmException;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** {@link FretTasks#parallel}: the seeds of a FRet task worked on at once, and what a kill does to them. */
class FretTasksTest {
  /**
   * Spark kills a task by interrupting its thread, which waits in {@code parallel} for the seeds'
   * workers: the task fails as documented ({@code LlmException}, "task interrupted (killed)"), its
   * thread stays marked interrupted (Spark's executor reads the kill from it), and the workers are
   * interrupted too rather than left calling the LLM. No timing: the worker interrupts the task's
   * thread itself, then waits for nothing but its own interrupt.
   */
  @Test
  void aKilledTaskFailsStaysInterruptedAndInterruptsItsWorkers() throws Exception {
    Thread task = Thread.currentThread();
    CountDownLatch never = new CountDownLatch(1);
    CountDownLatch workerInterrupted = new CountDownLatch(1);
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    try {
      thrown.set(catchThrowable(() -> FretTasks.parallel(List.of("seed"), 1, seed -> {
        task.interrupt(); // Spark's kill, while this seed is being worked on
        try {
          never.await();
          return "answered";
        } catch (InterruptedException e) {
          workerInterrupted.countDown();
          throw new IllegalStateException("worker interrupted", e);
        }
      })));
    } finally {
      assertThat(Thread.interrupted()).as("the task's thread is still marked interrupted (and is cleared here)").isTrue();
    }
    assertThat(thrown.get()).isInstanceOf(LlmException.class).hasMessageContaining("task interrupted (killed)")
        .hasCauseInstanceOf(InterruptedException.class);
    assertThat(workerInterrupted.await(1, TimeUnit.MINUTES)).as("the seed's worker was interrupted").isTrue();
  }
}
