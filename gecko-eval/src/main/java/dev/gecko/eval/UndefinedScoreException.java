package dev.gecko.eval;

import dev.gecko.core.GeckoException;

/**
 * A score the data define but the model's vectors do not: {@link StsEvaluator} throws it when the
 * model gives every pair of a data set the same cosine at a width (a collapsed model: a rank
 * correlation with constant values is undefined). Unlike a malformed data set ({@link
 * dev.gecko.core.InvalidDataException}), the cause is the model, so a caller that scores a model in training can
 * score such a step as unusable and go on. Immutable; thread-safe.
 */
public final class UndefinedScoreException extends GeckoException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message that names the model, the data set and the width. */
  public UndefinedScoreException(String message) {
    super(message);
  }
}
