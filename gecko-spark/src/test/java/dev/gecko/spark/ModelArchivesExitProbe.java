package dev.gecko.spark;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run by {@link ModelArchivesTest} in a JVM of its own: packs the folder it is given twice, as
 * {@link GeckoEmbeddings#shipModelFolder} does (under {@code java.io.tmpdir}), prints the archive's
 * path and whether it is there, and exits normally.
 */
public final class ModelArchivesExitProbe {
  private ModelArchivesExitProbe() {}

  public static void main(String[] args) {
    Path zip = ModelArchives.pack(Path.of(args[0]));
    if (!ModelArchives.pack(Path.of(args[0])).equals(zip)) {
      throw new AssertionError("the same content packed twice in one JVM gave two archives");
    }
    System.out.println(zip);
    System.out.println(Files.isRegularFile(zip));
  }
}
