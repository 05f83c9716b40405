package dev.gecko.core.internal.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gecko.core.InferenceException;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.Test;

/** A failure that several callers share reaches each as its own instance. */
class FuturesTest {
  @Test
  void eachCallerGetsItsOwnInstanceOfTheSameKindWithTheSharedOneAsCause() {
    InferenceException shared = new InferenceException("ONNX Runtime failed on [3, 12]: out of memory", null);
    RuntimeException a = Futures.forCaller(shared);
    RuntimeException b = Futures.forCaller(shared);
    assertThat(a).isNotSameAs(b).isNotSameAs(shared).isInstanceOf(InferenceException.class)
        .hasMessage(shared.getMessage()).hasCause(shared);
    assertThat(b).isInstanceOf(InferenceException.class).hasCause(shared);
    a.addSuppressed(new IllegalStateException("one caller's cleanup"));
    assertThat(b.getSuppressed()).as("one caller's additions stay its own").isEmpty();
    assertThat(shared.getSuppressed()).isEmpty();
    assertThat(Futures.forCaller(new RejectedExecutionException("full"))).isInstanceOf(RejectedExecutionException.class)
        .hasMessage("full");
    assertThat(Futures.forCaller(new IllegalStateException("embedder is closed"))).isInstanceOf(IllegalStateException.class)
        .hasMessage("embedder is closed");
    assertThat(Futures.forCaller(new IllegalArgumentException("text 2 encodes to no tokens")))
        .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage("text 2 encodes to no tokens");
    assertThat(Futures.forCaller(new NullPointerException())).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("NullPointerException");
  }
}
