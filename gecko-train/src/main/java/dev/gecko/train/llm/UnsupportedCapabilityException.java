package dev.gecko.train.llm;

/**
 * A request needed a {@link Capability} the client does not declare. Not retryable.
 *
 * <p>Thread-safety and ownership as for every {@link LlmException}: fields set once, no resources.
 */
public class UnsupportedCapabilityException extends LlmException {
  private static final long serialVersionUID = 1L;
  private final Capability capability;

  /**
   * Creates an exception.
   *
   * @param capability the missing capability
   * @param model the client's model
   */
  public UnsupportedCapabilityException(Capability capability, String model) {
    super("model '" + model + "' (as configured) does not support " + capability, null);
    this.capability = capability;
  }

  /** Returns the missing capability. */
  public Capability capability() {
    return capability;
  }
}
