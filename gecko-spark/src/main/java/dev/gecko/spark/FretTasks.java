package dev.gecko.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.internal.io.AtomicFiles;
import dev.gecko.core.internal.io.Hashes;
import dev.gecko.core.io.Passage;
import dev.gecko.spark.FretSparkJob.Candidate;
import dev.gecko.spark.FretSparkJob.Counts;
import dev.gecko.spark.FretSparkJob.Generated;
import dev.gecko.spark.FretSparkJob.SeedText;
import dev.gecko.spark.FretSparkJob.Settings;
import dev.gecko.train.fret.FretExample;
import dev.gecko.train.fret.FretExamples;
import dev.gecko.train.fret.GeneratedQuery;
import dev.gecko.train.fret.QueryGenerator;
import dev.gecko.train.fret.RejectedAnswerException;
import dev.gecko.train.llm.BadRequestException;
import dev.gecko.train.fret.Relabeler;
import dev.gecko.train.fret.Retriever;
import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmException;
import dev.gecko.train.llm.UsageMeter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.PairFlatMapFunction;
import scala.Tuple2;

/** The tasks of {@link FretSparkJob}'s stages. Serializable: they carry settings, never clients or embedders. */
final class FretTasks {
  private static final ObjectMapper JSON = new ObjectMapper();

  private FretTasks() {}

  /** The task's place, read on the task's own thread (worker threads have no TaskContext). */
  private record Place(int partition, int attempt, long attemptId) {
    static Place current() {
      TaskContext tc = TaskContext.get();
      return tc == null ? new Place(-1, 0, -1) : new Place(tc.partitionId(), tc.attemptNumber(), tc.taskAttemptId());
    }
  }

  /**
   * Runs {@code work} on each item with up to {@code threads} at once, results in item order. When
   * the task's thread is interrupted (Spark killed the task) the workers are interrupted too and
   * the task fails; an item's unchecked exception fails the task.
   */
  static <T, R> List<R> parallel(List<T> items, int threads, Function<T, R> work) {
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(threads, items.size())), r -> {
      Thread t = new Thread(r, "gecko-fret-task");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<R>> futures = new ArrayList<>(items.size());
      for (T item : items) {
        futures.add(pool.submit(() -> work.apply(item)));
      }
      List<R> out = new ArrayList<>(items.size());
      for (Future<R> f : futures) {
        out.add(f.get());
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LlmException("task interrupted (killed)", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err; // as it came: Spark treats an OutOfMemoryError as fatal to the executor
      }
      throw new IllegalStateException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  /** The file of a committed stage-1 folder. */
  static final String GENERATED_FILE = "generated.jsonl";

  /** A task's folder name: its first seed's ordinal and a digest of its seed ids. */
  static String name(String prefix, long firstOrdinal, List<String> ids) {
    return String.format(Locale.ROOT, "%s-%016x-%s", prefix, firstOrdinal, Hashes.sha256Hex(String.join("\n", ids)).substring(0, 16));
  }

  private static Path cache(Settings s) {
    return s.cacheDir() == null ? null : Path.of(s.cacheDir());
  }

  /** The task's LLM client; a cache folder it cannot create is a failure of the job's files ({@link RunFileException}). */
  private static LlmClient llm(Settings s, UsageMeter meter) throws IOException {
    try {
      return ExecutorLlms.forTask(s.llm(), s.fret().concurrency(), meter, cache(s));
    } catch (UncheckedIOException e) {
      throw RunFileException.of(e);
    }
  }

  /**
   * Stage 1: a task and query per seed, or the seed's reject line, written once per run: the
   * first attempt of a task to finish commits its answers to {@code DIR/_generated/<name>} (a
   * folder renamed into place, as a relabel task commits its part), and every later computation of
   * the same seeds (a lost cached partition Spark recomputes, a retry, a speculative copy) reads
   * them back instead of asking the LLM again. So a seed's query never changes between the search
   * that finds its candidates and the relabelling that pairs them with it, cache or no cache.
   */
  static final class GenerateTask implements PairFlatMapFunction<Iterator<Tuple2<Integer, SeedText>>, Integer, Generated> {
    private static final long serialVersionUID = 1L;
    private final Settings s;
    private final Counts counts;

    GenerateTask(Settings s, Counts counts) {
      this.s = s;
      this.counts = counts;
    }

    /** Runs the task; an I/O failure here is one of the run folder's or the cache's ({@link RunFileException}). */
    @Override
    public Iterator<Tuple2<Integer, Generated>> call(Iterator<Tuple2<Integer, SeedText>> it) throws IOException {
      try {
        return generate(it);
      } catch (IOException e) { // the work itself throws no checked exception: only the files do
        throw RunFileException.of(e);
      }
    }

    private Iterator<Tuple2<Integer, Generated>> generate(Iterator<Tuple2<Integer, SeedText>> it) throws IOException {
      Place place = Place.current();
      List<Tuple2<Integer, SeedText>> seeds = new ArrayList<>();
      it.forEachRemaining(seeds::add);
      if (seeds.isEmpty()) {
        return List.<Tuple2<Integer, Generated>>of().iterator();
      }
      seeds.sort((a, b) -> Integer.compare(a._1(), b._1()));
      List<String> ids = new ArrayList<>();
      for (Tuple2<Integer, SeedText> seed : seeds) {
        ids.add(seed._2().id);
      }
      Path dir = Path.of(s.output()).resolve(FretSparkJob.GENERATED);
      Path target = dir.resolve(name("gen", seeds.get(0)._2().ordinal, ids));
      if (Files.isDirectory(target)) {
        return read(target, seeds).iterator(); // generated before: the same queries, no LLM call
      }
      UsageMeter meter = new UsageMeter(s.llm().prices());
      LlmClient llm = llm(s, meter);
      QueryGenerator generator = s.fret().queryGenerator(llm);
      AtomicInteger done = new AtomicInteger();
      List<Tuple2<Integer, Generated>> out;
      try {
        out = parallel(seeds, s.fret().concurrency(), seed -> {
          Generated g;
          try {
            GeneratedQuery q = generator.generate(seed._2().passage());
            g = new Generated(seed._2(), q.task(), q.query(), q.extra(), null);
          } catch (RejectedAnswerException e) {
            g = new Generated(seed._2(), null, null, null, FretExamples.jsonLine(FretExamples.reject(seed._2().id, e)));
          } catch (BadRequestException e) { // this seed's request (its passage, say): the next seed's may pass
            g = new Generated(seed._2(), null, null, null,
                FretExamples.jsonLine(FretExamples.reject(seed._2().id, FretExamples.requestRefused(e))));
          }
          if (s.hook() != null) {
            s.hook().afterSeed(0, place.partition(), place.attempt(), place.attemptId(), done.incrementAndGet());
          }
          return new Tuple2<>(seed._1(), g);
        });
      } finally {
        counts.add(meter.snapshot());
      }
      StringBuilder lines = new StringBuilder();
      for (Tuple2<Integer, Generated> t : out) {
        lines.append(toJson(t._1(), t._2())).append('\n');
      }
      Path attempt = dir.resolve(target.getFileName() + ".attempt-" + place.attemptId());
      FretSparkJob.deleteTree(attempt);
      AtomicFiles.write(attempt.resolve(GENERATED_FILE), lines.toString().getBytes(StandardCharsets.UTF_8));
      try {
        Files.move(attempt, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        if (!Files.isDirectory(target)) {
          FretSparkJob.deleteTree(attempt);
          throw e;
        }
        FretSparkJob.deleteTree(attempt); // another attempt committed first: its queries are the seeds' queries
        return read(target, seeds).iterator();
      }
      return out.iterator();
    }

    private static ObjectNode toJson(int index, Generated g) {
      ObjectNode o = JSON.createObjectNode().put("index", index).put("id", g.seed.id);
      if (g.reject != null) {
        o.put("reject", g.reject);
      } else {
        o.put("task", g.task).put("query", g.query);
        if (g.extra != null) {
          ObjectNode extra = o.putObject("extra");
          g.extra.forEach(extra::put);
        }
      }
      return o;
    }

    /** The committed answers of {@code seeds}, checked against them seed by seed. */
    static List<Tuple2<Integer, Generated>> read(Path target, List<Tuple2<Integer, SeedText>> seeds) throws IOException {
      Path file = target.resolve(GENERATED_FILE);
      Map<Integer, JsonNode> byIndex = new HashMap<>();
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        if (!line.isBlank()) {
          JsonNode n = JSON.readTree(line);
          byIndex.put(n.path("index").asInt(), n);
        }
      }
      List<Tuple2<Integer, Generated>> out = new ArrayList<>(seeds.size());
      for (Tuple2<Integer, SeedText> seed : seeds) {
        JsonNode n = byIndex.get(seed._1());
        if (n == null || !seed._2().id.equals(n.path("id").asText()) || byIndex.size() != seeds.size()) {
          throw new IOException(file + " does not hold the answers of its seeds (seed " + seed._2().id
              + "): the run folder was changed while the job ran");
        }
        if (n.hasNonNull("reject")) {
          out.add(new Tuple2<>(seed._1(), new Generated(seed._2(), null, null, null, n.get("reject").asText())));
        } else {
          Map<String, String> extra = new LinkedHashMap<>();
          if (n.hasNonNull("extra")) {
            for (Map.Entry<String, JsonNode> e : n.get("extra").properties()) {
              extra.put(e.getKey(), e.getValue().asText());
            }
          }
          out.add(new Tuple2<>(seed._1(), new Generated(seed._2(), n.path("task").asText(), n.path("query").asText(),
              extra, null)));
        }
      }
      return out;
    }
  }

  /** Stage 2's input: each query embedded alone, in the embedder's query format, as the single-JVM retriever embeds it. */
  static final class EmbedQueries implements FlatMapFunction<Iterator<Tuple2<Integer, Generated>>, TopKParts.Query> {
    private static final long serialVersionUID = 1L;
    private final Settings s;

    EmbedQueries(Settings s) {
      this.s = s;
    }

    @Override
    public Iterator<TopKParts.Query> call(Iterator<Tuple2<Integer, Generated>> it) {
      GeckoEmbedder embedder = ExecutorEmbedders.get(s.model(), s.threads(), s.maxBatchTokens(), s.modelFingerprint());
      List<TopKParts.Query> out = new ArrayList<>();
      while (it.hasNext()) {
        Tuple2<Integer, Generated> t = it.next();
        float[] v = embedder.embed(Retriever.queryRequest(embedder.model(), t._2().task, t._2().query), embedder.dimensions());
        out.add(new TopKParts.Query(t._1(), t._2().seed.id, v));
      }
      return out.iterator();
    }
  }

  /**
   * Stage 3: relabel each seed's candidates, write the task's lines into a folder of its attempt,
   * and rename that folder into {@code parts/} unless another attempt did first. Returns the part's
   * name.
   */
  static final class RelabelTask
      implements FlatMapFunction<Iterator<Tuple2<Integer, Tuple2<Iterable<Generated>, Iterable<Candidate>>>>, String> {
    private static final long serialVersionUID = 1L;
    private final Settings s;
    private final Counts counts;

    RelabelTask(Settings s, Counts counts) {
      this.s = s;
      this.counts = counts;
    }

    private record Seed(int index, Generated generated, List<Candidate> candidates) {}

    /** Runs the task; an I/O failure here is one of the run folder's or the cache's ({@link RunFileException}). */
    @Override
    public Iterator<String> call(Iterator<Tuple2<Integer, Tuple2<Iterable<Generated>, Iterable<Candidate>>>> it)
        throws IOException {
      try {
        return relabel(it);
      } catch (IOException e) { // the work itself throws no checked exception: only the files do
        throw RunFileException.of(e);
      }
    }

    private Iterator<String> relabel(Iterator<Tuple2<Integer, Tuple2<Iterable<Generated>, Iterable<Candidate>>>> it)
        throws IOException {
      Place place = Place.current();
      List<Seed> seeds = new ArrayList<>();
      while (it.hasNext()) {
        Tuple2<Integer, Tuple2<Iterable<Generated>, Iterable<Candidate>>> t = it.next();
        Iterator<Generated> g = t._2()._1().iterator();
        if (!g.hasNext()) {
          continue; // candidates of a seed of another wave cannot be here; nothing to write without step 1
        }
        List<Candidate> c = new ArrayList<>();
        t._2()._2().forEach(c::add);
        c.sort((a, b) -> Integer.compare(a.rank, b.rank));
        seeds.add(new Seed(t._1(), g.next(), c));
      }
      if (seeds.isEmpty()) {
        return List.<String>of().iterator();
      }
      seeds.sort((a, b) -> Integer.compare(a.index(), b.index()));
      List<String> ids = new ArrayList<>();
      for (Seed seed : seeds) {
        ids.add(seed.generated().seed.id);
      }
      String name = name("part", seeds.get(0).generated().seed.ordinal, ids);
      Path out = Path.of(s.output());
      Path target = out.resolve(FretSparkJob.PARTS).resolve(name);
      if (Files.exists(target)) {
        return List.of(name).iterator(); // another attempt of this task committed first
      }
      UsageMeter meter = new UsageMeter(s.llm().prices());
      LlmClient llm = llm(s, meter);
      Relabeler relabeler = s.fret().relabeler(llm);
      AtomicInteger done = new AtomicInteger();
      List<String[]> lines;
      try {
        lines = parallel(seeds, s.fret().concurrency(), seed -> {
          String[] line = line(seed, relabeler);
          if (s.hook() != null) {
            s.hook().afterSeed(1, place.partition(), place.attempt(), place.attemptId(), done.incrementAndGet());
          }
          return line;
        });
      } finally {
        counts.add(meter.snapshot());
      }
      commit(out, name, target, place, ids, lines);
      return List.of(name).iterator();
    }

    /** The seed's line: {@code {"example", json}} or {@code {"reject", json}}. */
    private String[] line(Seed seed, Relabeler relabeler) {
      Generated g = seed.generated();
      if (g.reject != null) {
        return new String[] {"reject", g.reject};
      }
      Passage p = g.seed.passage();
      List<Passage> cands = new ArrayList<>(seed.candidates().size());
      float[] scores = new float[seed.candidates().size()];
      for (int i = 0; i < scores.length; i++) {
        cands.add(seed.candidates().get(i).passage.passage());
        scores[i] = seed.candidates().get(i).score;
      }
      try {
        FretExample ex = FretExamples.example(p, new GeneratedQuery(g.task, g.query, g.extra), cands, scores, relabeler,
            s.fret().negatives(), s.fret().randomSeed());
        return new String[] {"example", FretExamples.jsonLine(ex)};
      } catch (RejectedAnswerException e) {
        return new String[] {"reject", FretExamples.jsonLine(FretExamples.reject(p.id(), e))};
      } catch (BadRequestException e) {
        return new String[] {"reject", FretExamples.jsonLine(FretExamples.reject(p.id(), FretExamples.requestRefused(e)))};
      }
    }

    private void commit(Path out, String name, Path target, Place place, List<String> ids, List<String[]> lines)
        throws IOException {
      StringBuilder examples = new StringBuilder();
      StringBuilder rejects = new StringBuilder();
      int nExamples = 0;
      int nRejects = 0;
      for (String[] l : lines) {
        if (l[0].equals("example")) {
          examples.append(l[1]).append('\n');
          nExamples++;
        } else {
          rejects.append(l[1]).append('\n');
          nRejects++;
        }
      }
      Path attempt = out.resolve(FretSparkJob.ATTEMPTS).resolve(name + ".attempt-" + place.attemptId());
      FretSparkJob.deleteTree(attempt);
      AtomicFiles.write(attempt.resolve("examples.jsonl"), examples.toString().getBytes(StandardCharsets.UTF_8));
      AtomicFiles.write(attempt.resolve("rejects.jsonl"), rejects.toString().getBytes(StandardCharsets.UTF_8));
      AtomicFiles.write(attempt.resolve("seeds.txt"), (String.join("\n", ids) + "\n").getBytes(StandardCharsets.UTF_8));
      ObjectNode part = JSON.createObjectNode().put("seeds", ids.size()).put("examples", nExamples).put("rejects", nRejects)
          .put("partition", place.partition()).put("attempt", place.attempt());
      AtomicFiles.write(attempt.resolve("part.json"), (part + "\n").getBytes(StandardCharsets.UTF_8));
      TaskContext tc = TaskContext.get();
      if (Thread.currentThread().isInterrupted() || (tc != null && tc.isInterrupted())) {
        FretSparkJob.deleteTree(attempt);
        throw new LlmException("task killed before its part was committed", null);
      }
      Files.createDirectories(target.getParent());
      try {
        Files.move(attempt, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        if (!Files.exists(target)) {
          throw e;
        }
        FretSparkJob.deleteTree(attempt); // another attempt of this task committed first: its part stands
      }
    }
  }

}
