package dev.gecko.finetune.internal;

import dev.gecko.core.ModelLoadException;

/** A model graph the fine-tuner does not recognise; the message names what was not recognised. Immutable. */
public final class UnsupportedModelException extends ModelLoadException {
  private static final long serialVersionUID = 1L;

  public UnsupportedModelException(String message) {
    super(message);
  }
}
