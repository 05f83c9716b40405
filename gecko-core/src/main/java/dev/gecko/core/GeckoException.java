package dev.gecko.core;

/**
 * The root of this library's exceptions: unchecked, so that embedding, evaluation and training
 * calls stay plain method calls. Subtypes say what went wrong: {@link ModelLoadException} (a model
 * that does not open), {@link InferenceException} (ONNX Runtime failed on an input), {@link
 * InvalidDataException} (a file or answer whose content is malformed, naming where), and, in
 * gecko-train, the LLM client exceptions.
 *
 * <p>Conventions across the API: failures to read or write a file are {@link java.io.IOException}s
 * (checked, declared by every method that touches files); content that cannot be used is an {@link
 * InvalidDataException}; a bad argument is {@link IllegalArgumentException}; using a closed object
 * is {@link IllegalStateException}.
 *
 * <p>Immutable once thrown; safe to hand to another thread.
 */
public class GeckoException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message. */
  public GeckoException(String message) {
    super(message);
  }

  /** Creates an exception with a message and a cause. */
  public GeckoException(String message, Throwable cause) {
    super(message, cause);
  }
}
