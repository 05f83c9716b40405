package dev.gecko.finetune;

import dev.gecko.core.ModelLoadException;

/**
 * A model graph the fine-tuner does not recognise (not a BERT-like encoder it can train, or an int8
 * graph, whose weights are quantised); the message names what was not recognised. Immutable.
 */
public final class UnsupportedModelException extends ModelLoadException {
  private static final long serialVersionUID = 1L;

  /** An exception with this message. */
  public UnsupportedModelException(String message) {
    super(message);
  }

  /** An exception with this message and the failure that showed what was not recognised. */
  public UnsupportedModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
