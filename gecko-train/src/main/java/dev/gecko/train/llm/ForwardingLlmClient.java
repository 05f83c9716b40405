package dev.gecko.train.llm;

import java.util.Set;
import java.util.function.Supplier;

/**
 * The base of the decorators: forwards {@link #model()}, {@link #capabilities()} and {@link
 * #endpoint()} to the inner client, runs each call to it through one hook, {@link #call(Supplier)}, and names itself {@code
 * Name[inner]}. A decorator that treats every kind of call alike (retrying, limiting concurrency,
 * metering) overrides only the hook; one that does not (caching) overrides the calls themselves.
 *
 * <p>Thread-safe when the subclass's hook is. A decorator does not own its inner client (clients
 * hold nothing to close) and may share it with other decorators.
 */
abstract class ForwardingLlmClient implements LlmClient {
  private final String name;
  final LlmClient inner;

  /** Creates a decorator named {@code name} over {@code inner} (not null: the factories check). */
  ForwardingLlmClient(String name, LlmClient inner) {
    this.name = name;
    this.inner = inner;
  }

  @Override
  public final String model() {
    return inner.model();
  }

  @Override
  public final Set<Capability> capabilities() {
    return inner.capabilities();
  }

  @Override
  public final String endpoint() {
    return inner.endpoint();
  }

  @Override
  public LlmResponse generate(LlmRequest request) {
    return call(() -> inner.generate(request));
  }

  @Override
  public PromptLogprobs promptLogprobs(String prompt) {
    return call(() -> inner.promptLogprobs(prompt));
  }

  @Override
  public void refused(LlmRequest request) {
    inner.refused(request);
  }

  /**
   * Runs one call to the inner client ({@code generate} or {@code promptLogprobs}) and returns its
   * result; the decorator's behaviour goes around it. This one only runs it.
   *
   * @throws LlmException as the call, or the decorator, fails
   */
  <T extends CallResult> T call(Supplier<T> call) {
    return call.get();
  }

  @Override
  public String toString() {
    return name + "[" + inner + "]";
  }
}
