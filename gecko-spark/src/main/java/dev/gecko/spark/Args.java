package dev.gecko.spark;

/** The argument checks that this module's builders and setters share. Stateless. */
final class Args {
  private Args() {}

  /**
   * Returns {@code v} when it is at least 1: the check of a count (shards, threads, batch tokens,
   * ...).
   *
   * @param what the setting's name, which starts the message
   * @throws IllegalArgumentException ({@code "<what> must be >= 1, was <v>"}) if {@code v} is below 1
   */
  static int positive(int v, String what) {
    if (v < 1) {
      throw new IllegalArgumentException(what + " must be >= 1, was " + v);
    }
    return v;
  }
}
