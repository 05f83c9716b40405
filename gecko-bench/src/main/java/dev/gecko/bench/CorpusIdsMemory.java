package dev.gecko.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gecko.core.internal.io.CorpusIds;
import dev.gecko.core.io.JsonlReader;
import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The heap that the duplicate-id check of a corpus file holds per id: gecko-core's {@code
 * CorpusIds} (what {@code Corpus} and gecko-spark's {@code SparkCorpus} use) against the {@code
 * HashMap<String, Integer>} of id and line it replaced. Writes a corpus of {@code n} lines with ids
 * {@code doc-0} ... (once, at the path given), reads it through {@code JsonlReader} into one of the
 * two, and prints the heap retained after full collections, per id read. The map's figure includes
 * the id strings, which a streaming reader ({@code SparkCorpus}) holds only there and {@code
 * Corpus.read} keeps in its passages anyway.
 *
 * <pre>
 * java -Xmx8g -XX:+UseParallelGC -cp gecko-bench/target/benchmarks.jar dev.gecko.bench.CorpusIdsMemory ids.jsonl 5000000 map|ids
 * </pre>
 *
 * <p>Not thread-safe: a command-line tool. Prints to standard output.
 */
public final class CorpusIdsMemory {
  private CorpusIdsMemory() {}

  private static long usedAfterGc() throws InterruptedException {
    for (int i = 0; i < 4; i++) {
      System.gc();
      Thread.sleep(200);
    }
    Runtime r = Runtime.getRuntime();
    return r.totalMemory() - r.freeMemory();
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 3 || !(args[2].equals("map") || args[2].equals("ids"))) {
      System.err.println("usage: CorpusIdsMemory FILE LINES map|ids");
      System.exit(2);
    }
    Path file = Path.of(args[0]);
    int n = Integer.parseInt(args[1]);
    if (!Files.exists(file)) {
      try (BufferedWriter w = Files.newBufferedWriter(file)) {
        for (int i = 0; i < n; i++) {
          w.write("{\"_id\":\"doc-" + i + "\",\"text\":\"x\"}\n");
        }
      }
    }
    long before = usedAfterGc();
    Object held;
    int count;
    try (JsonlReader in = JsonlReader.open(file)) {
      ObjectNode o;
      if (args[2].equals("map")) {
        Map<String, Integer> firstLine = new HashMap<>();
        while ((o = in.next()) != null) {
          firstLine.putIfAbsent(o.get("_id").asText(), in.lineNumber());
        }
        held = firstLine;
        count = firstLine.size();
      } else {
        CorpusIds ids = new CorpusIds();
        while ((o = in.next()) != null) {
          ids.add(o.get("_id").asText(), in);
        }
        held = ids;
        count = ids.size();
      }
    }
    long after = usedAfterGc();
    // per id read (the file may be an earlier run's, of another size than asked)
    System.out.printf(Locale.ROOT, "%s: %d ids, %.1f bytes per id (%d MiB)%n", args[2], count,
        (after - before) / (double) count, (after - before) >> 20);
    System.out.println(held.getClass().getSimpleName() + " kept until here");
  }
}
