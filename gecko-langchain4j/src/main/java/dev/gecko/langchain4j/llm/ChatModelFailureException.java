package dev.gecko.langchain4j.llm;

import dev.gecko.train.llm.LlmException;

/**
 * A LangChain4j chat model failed with an exception that is neither one of LangChain4j's own nor
 * an I/O failure (a bug or an unexpected error in the provider's client). Not retryable: the same
 * request would most likely fail the same way, so a FRet run stops and names it.
 *
 * <p>Thread-safety and ownership as for every {@link LlmException}: fields set once, no resources.
 * Its message never carries what looks like an API key.
 */
public class ChatModelFailureException extends LlmException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message what failed
   * @param cause what stands for the chat model's exception: its class name, message (redacted of
   *     anything that looks like a key) and stack trace
   */
  public ChatModelFailureException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Returns {@code false}. */
  @Override
  public boolean retryable() {
    return false;
  }
}
