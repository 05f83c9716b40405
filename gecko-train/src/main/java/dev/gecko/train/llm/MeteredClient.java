package dev.gecko.train.llm;

import java.util.function.Supplier;

/** Adds each successful call's usage to a {@link UsageMeter}, and counts each failed call. Thread-safe. */
final class MeteredClient extends ForwardingLlmClient {
  private final UsageMeter meter;

  MeteredClient(LlmClient inner, UsageMeter meter) {
    super("Metered", inner);
    this.meter = meter;
  }

  @Override
  <T extends CallResult> T call(Supplier<T> call) {
    T r;
    try {
      r = call.get();
    } catch (LlmException e) {
      meter.recordFailure();
      throw e;
    }
    meter.recordCall(r.usage());
    return r;
  }
}
