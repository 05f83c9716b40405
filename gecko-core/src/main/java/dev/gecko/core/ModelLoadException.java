package dev.gecko.core;

/**
 * A model that does not open: a graph ONNX Runtime refuses, a package whose files or settings do
 * not fit its graph (inputs, width, position table), a tokenizer that does not load, native
 * libraries that cannot be loaded. The message names the model and the file at fault.
 *
 * <p>Immutable once thrown; safe to hand to another thread.
 */
public class ModelLoadException extends GeckoException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message. */
  public ModelLoadException(String message) {
    super(message);
  }

  /** Creates an exception with a message and a cause. */
  public ModelLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
