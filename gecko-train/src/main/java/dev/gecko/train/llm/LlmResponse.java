package dev.gecko.train.llm;

import java.util.List;
import java.util.Objects;

/**
 * A generation's result. Immutable and thread-safe: it holds its own unmodifiable copy of the
 * log-probabilities; the caller may keep it (the cache stores a copy on disk, not the object).
 *
 * @param text the generated text (never null; empty when the model returned nothing)
 * @param logprobs per generated token, when requested and supported; else empty
 * @param usage token counts
 * @param finishReason why generation stopped, as the server says it (e.g. {@code stop}, {@code
 *     length}, {@code STOP}), or empty
 * @param requestId the server's request id, or empty
 */
public record LlmResponse(String text, List<TokenLogprob> logprobs, Usage usage, String finishReason, String requestId)
    implements CallResult {
  /** Validates and copies the fields. */
  public LlmResponse {
    Objects.requireNonNull(text, "text is null");
    logprobs = List.copyOf(logprobs == null ? List.of() : logprobs);
    usage = usage == null ? Usage.ZERO : usage;
    finishReason = finishReason == null ? "" : finishReason;
    requestId = requestId == null ? "" : requestId;
  }
}
