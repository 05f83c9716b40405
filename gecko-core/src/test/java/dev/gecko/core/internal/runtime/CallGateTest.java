package dev.gecko.core.internal.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class CallGateTest {
  @Test
  void aCloseFromInsideACallReturnsAndTheLastCallOutReleases() {
    CallGate gate = new CallGate();
    AtomicInteger released = new AtomicInteger();
    gate.enterCall();
    gate.enter(); // another call inside (an asynchronous one, say)
    assertThat(gate.close(released::incrementAndGet)).isFalse();
    assertThat(gate.close(released::incrementAndGet)).isFalse();
    assertThatThrownBy(gate::enterCall).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    gate.exitCall();
    assertThat(released).hasValue(0); // the other call is still inside
    gate.exit();
    assertThat(released).hasValue(1);
    assertThat(gate.close(released::incrementAndGet)).isTrue(); // freed already: returns, frees nothing twice
    assertThat(released).hasValue(1);
  }

  @Test
  void aCloseFromAnotherThreadWaitsForTheCallAndReleasesOnce() throws Exception {
    CallGate gate = new CallGate();
    AtomicInteger released = new AtomicInteger();
    gate.enterCall();
    assertThat(gate.close(released::incrementAndGet)).isFalse();
    Thread other = new Thread(() -> gate.close(released::incrementAndGet));
    other.start();
    gate.exitCall();
    assertTimeoutPreemptively(Duration.ofMinutes(1), () -> other.join()); // a hang detector
    assertThat(released).hasValue(1);
  }
}
