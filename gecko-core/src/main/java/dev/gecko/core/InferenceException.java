package dev.gecko.core;

/**
 * ONNX Runtime failed on an input batch (the message gives the batch's shape and ONNX Runtime's
 * reason). The embedder stays usable: other calls are not affected.
 *
 * <p>Safe to hand to another thread. When a batch that several calls share fails as a whole, each
 * call gets its own instance, with the shared one as its cause.
 */
public class InferenceException extends GeckoException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message and a cause. */
  public InferenceException(String message, Throwable cause) {
    super(message, cause);
  }
}
