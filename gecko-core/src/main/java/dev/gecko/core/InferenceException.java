package dev.gecko.core;

/**
 * ONNX Runtime failed on an input batch (the message gives the batch's shape and ONNX Runtime's
 * reason). The embedder stays usable: other calls are not affected.
 *
 * <p>Immutable once thrown; safe to hand to another thread.
 */
public class InferenceException extends GeckoException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message and a cause. */
  public InferenceException(String message, Throwable cause) {
    super(message, cause);
  }
}
