package dev.gecko.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;

/**
 * Run by {@link ModelArchivesTest} in a JVM of its own, as a driver that starts and stops Spark
 * contexts: twice, starts a local context, ships the folder it is given ({@code args[0]}), prints
 * {@code probe: <archive> <there>}, stops the context and prints {@code probe: <there>}; then
 * prints {@code probe: <refused>}, whether shipping to the stopped context is refused. Spark's
 * local folders go under {@code args[1]}.
 */
public final class ContextArchivesProbe {
  private ContextArchivesProbe() {}

  public static void main(String[] args) {
    Path folder = Path.of(args[0]);
    SparkConf conf = new SparkConf().setMaster("local[1]").setAppName("gecko-context-archives-probe")
        .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.ui.enabled", "false").set("spark.local.dir", args[1]);
    SparkContext sc = null;
    for (int round = 0; round < 2; round++) {
      sc = new SparkContext(conf);
      Path zip = ModelArchives.ship(sc, folder);
      if (!GeckoEmbeddings.shipModelFolder(sc, folder).equals(zip.getFileName().toString())) {
        throw new AssertionError("the same content shipped twice to one context gave two names");
      }
      System.out.println("probe: " + zip + " " + Files.isRegularFile(zip));
      sc.stop();
      System.out.println("probe: " + Files.exists(zip));
    }
    try {
      GeckoEmbeddings.shipModelFolder(sc, folder);
      System.out.println("probe: false");
    } catch (IllegalStateException e) {
      System.out.println("probe: " + e.getMessage().contains("stopped"));
    }
  }
}
