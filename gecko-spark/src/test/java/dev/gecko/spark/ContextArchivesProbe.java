package dev.gecko.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;

/**
 * Run by {@link ModelArchivesTest} in a JVM of its own, as a driver that starts and stops Spark
 * contexts: twice, starts a local context, ships the folder it is given ({@code args[0]}), prints
 * {@code probe: <archive> <there>}, stops the context and prints {@code probe: <there>}. Spark's
 * local folders go under {@code args[1]}, so that the temporary folder holds only the archives.
 */
public final class ContextArchivesProbe {
  private ContextArchivesProbe() {}

  public static void main(String[] args) throws IOException {
    Path folder = Path.of(args[0]);
    SparkConf conf = new SparkConf().setMaster("local[1]").setAppName("gecko-context-archives-probe")
        .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.ui.enabled", "false").set("spark.local.dir", args[1]);
    for (int round = 0; round < 2; round++) {
      SparkContext sc = new SparkContext(conf);
      String name = GeckoEmbeddings.shipModelFolder(sc, folder);
      Path zip;
      try (Stream<Path> files = Files.walk(Path.of(System.getProperty("java.io.tmpdir")))) {
        // ours, not the copy Spark makes in a spark-* folder of its own
        zip = files.filter(f -> f.getFileName().toString().equals(name)
            && f.getParent().getFileName().toString().startsWith("gecko-model-")).findFirst().orElseThrow();
      }
      System.out.println("probe: " + zip + " " + Files.isRegularFile(zip));
      sc.stop();
      System.out.println("probe: " + Files.exists(zip));
    }
  }
}
