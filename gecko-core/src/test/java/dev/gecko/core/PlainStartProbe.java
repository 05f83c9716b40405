package dev.gecko.core;

/** A plain application: embeds one text with the default model. Run by {@link PlainStartTest}. */
public final class PlainStartProbe {
  private PlainStartProbe() {}

  public static void main(String[] args) {
    try (GeckoEmbedder e = GeckoEmbedder.builder().threads(1).build()) {
      System.out.println("vector " + e.embed("hello", 8).length);
    }
  }
}
