package dev.gecko.train.llm;

import java.util.Set;

/** Adds each response's usage to a {@link UsageMeter}. */
final class MeteredClient implements LlmClient {
  private final LlmClient inner;
  private final UsageMeter meter;

  MeteredClient(LlmClient inner, UsageMeter meter) {
    this.inner = inner;
    this.meter = meter;
  }

  @Override
  public String model() {
    return inner.model();
  }

  @Override
  public Set<Capability> capabilities() {
    return inner.capabilities();
  }

  @Override
  public LlmResponse generate(LlmRequest request) {
    try {
      LlmResponse r = inner.generate(request);
      meter.recordCall(r.usage());
      return r;
    } catch (LlmException e) {
      meter.recordFailure();
      throw e;
    }
  }

  @Override
  public PromptLogprobs promptLogprobs(String prompt) {
    try {
      PromptLogprobs r = inner.promptLogprobs(prompt);
      meter.recordCall(r.usage());
      return r;
    } catch (LlmException e) {
      meter.recordFailure();
      throw e;
    }
  }

  @Override
  public String toString() {
    return "Metered[" + inner + "]";
  }
}
