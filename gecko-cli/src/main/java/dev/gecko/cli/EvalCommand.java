package dev.gecko.cli;

import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.TaskType;
import dev.gecko.eval.BeirDataset;
import dev.gecko.eval.EmbeddingCache;
import dev.gecko.eval.EvalReport;
import dev.gecko.eval.RetrievalEvaluator;
import dev.gecko.eval.StsDataset;
import dev.gecko.eval.StsEvaluator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gecko eval}: scores a model on STS pairs or a BEIR retrieval set at one or more
 * Matryoshka widths, prints a table on stdout and optionally writes JSON ({@link
 * EvalReport#toJson()}, stable). Progress goes to stderr.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
    description = "Score a model on STS pairs or a BEIR retrieval set, as MTEB does.",
    subcommands = {EvalCommand.Sts.class, EvalCommand.Retrieval.class})
final class EvalCommand implements Runnable {
  @Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: sts or retrieval");
  }

  /** Options shared by both subcommands. */
  static final class Common {
    @Mixin
    ModelOptions models = new ModelOptions();

    @Option(names = "--dims", split = ",", paramLabel = "W",
        description = "Matryoshka widths to report, e.g. 384,256,128,64 (default: the model's full width).")
    List<Integer> dims = new ArrayList<>();

    @Option(names = "--json", paramLabel = "OUT", description = "Also write the scores as JSON to OUT.")
    Path json;

    @Option(names = "--cache", paramLabel = "DIR",
        description = "Embedding cache folder (default: embeddings/ in the gecko cache folder: -Dgecko.cache.dir, "
            + "$XDG_CACHE_HOME/gecko or ~/.cache/gecko). One that cannot be written: memory only, with a warning.")
    Path cache;

    @Option(names = "--no-cache", description = "Do not read or write the embedding cache.")
    boolean noCache;

    /**
     * Refuses a --json target that could not be written, before the evaluation rather than after
     * it (the rule of {@link CliFiles}: a folder exits 2, a file that cannot be written or created 1).
     */
    void checkJson() throws IOException {
      if (json != null) {
        CliFiles.writableFile("--json", json);
      }
    }

    /** Checks the options that cost nothing to check (--dims, --threads, --model's name) before any data is read. */
    void checkOptions() {
      models.builder();
      models.checkDims("--dims", dims, true);
    }

    GeckoEmbedder open() {
      GeckoEmbedder embedder = models.open();
      try {
        ModelOptions.checkDims("--dims", dims, true, embedder.dimensions());
      } catch (GeckoCli.UsageException e) {
        embedder.close();
        throw e;
      }
      return embedder;
    }

    /** The cache, or null with --no-cache; one that cannot be written is replaced by memory, with a warning. */
    EmbeddingCache openCache(PrintWriter err) {
      if (noCache) {
        return null;
      }
      return CliFiles.embeddingCache(cache, err);
    }
  }

  /** {@code gecko eval sts}. */
  @Command(name = "sts", mixinStandardHelpOptions = true,
      description = "Cosine Spearman x100 on sentence pairs (a pairs TSV or an STS Benchmark CSV).")
  static final class Sts implements Callable<Integer> {
    @Mixin
    Common common = new Common();

    @Option(names = "--data", required = true, paramLabel = "FILE",
        description = "Pairs TSV (subset, sentence1, sentence2, score) or sts-*.csv.")
    Path data;

    @Option(names = "--task", paramLabel = "TASK", defaultValue = "SEMANTIC_SIMILARITY",
        description = "Task type both sentences are embedded with (the model maps it to its prompt; any case, e.g. "
            + "semantic-similarity), or 'none' for the model's default prompt. Default: ${DEFAULT-VALUE}.")
    String task;

    @Spec
    CommandLine.Model.CommandSpec spec;

    private TaskType taskType() {
      if ("none".equalsIgnoreCase(task)) {
        return null;
      }
      try {
        return TaskTypes.parse(task);
      } catch (CommandLine.TypeConversionException e) {
        throw new GeckoCli.UsageException("--task: " + e.getMessage() + ", or none");
      }
    }

    @Override
    public Integer call() throws IOException {
      TaskType taskType = taskType();
      common.checkJson();
      common.checkOptions();
      StsDataset dataset = StsDataset.read(CliFiles.readableFile("--data", data));
      EvalReport report;
      EmbeddingCache cache = common.openCache(spec.commandLine().getErr());
      try (GeckoEmbedder embedder = common.open(); CliProgress progress = CliProgress.on(spec.commandLine().getErr())) {
        StsEvaluator.Builder b = StsEvaluator.builder(embedder).cache(cache).progress(progress)
            .taskType(taskType);
        if (!common.dims.isEmpty()) {
          b.dims(common.dims);
        }
        report = b.build().evaluate(dataset);
      }
      report = report.withData(data.toString());
      print(spec.commandLine().getOut(), report, List.of("cosine_spearman", "cosine_pearson"));
      if (common.json != null) {
        report.writeJson(common.json);
      }
      return 0;
    }
  }

  /** {@code gecko eval retrieval}. */
  @Command(name = "retrieval", mixinStandardHelpOptions = true,
      description = "nDCG/MAP/Recall/P/MRR@k x100 on a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv).")
  static final class Retrieval implements Callable<Integer> {
    @Mixin
    Common common = new Common();

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "BEIR folder; files may be .gz.")
    Path data;

    @Option(names = "--split", defaultValue = "test", description = "Qrels split (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--ignore-identical-ids", arity = "0..1", paramLabel = "BOOL",
        description = "Drop retrieved documents whose id equals the query id "
            + "(default: on for folders named like arguana or quora, as MTEB does).")
    Boolean ignoreIdenticalIds;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
      common.checkJson();
      common.checkOptions();
      BeirDataset dataset = BeirDataset.read(CliFiles.readableFolder("--data", data), split);
      String folder = dataset.name().toLowerCase(Locale.ROOT);
      boolean ignore = ignoreIdenticalIds != null ? ignoreIdenticalIds
          : folder.contains("arguana") || folder.contains("quora");
      EvalReport report;
      EmbeddingCache cache = common.openCache(spec.commandLine().getErr());
      try (GeckoEmbedder embedder = common.open(); CliProgress progress = CliProgress.on(spec.commandLine().getErr())) {
        RetrievalEvaluator.Builder b = RetrievalEvaluator.builder(embedder).cache(cache)
            .progress(progress).ignoreIdenticalIds(ignore);
        if (!common.dims.isEmpty()) {
          b.dims(common.dims);
        }
        report = b.build().evaluate(dataset);
      }
      report = report.withData(data.toString());
      PrintWriter out = spec.commandLine().getOut();
      out.println("ignore identical ids: " + ignore);
      print(out, report, List.of("ndcg_at_10", "map_at_10", "recall_at_10", "precision_at_10", "mrr_at_10",
          "ndcg_at_100", "recall_at_100", "recall_at_1000"));
      if (common.json != null) {
        report.writeJson(common.json);
      }
      return 0;
    }
  }

  static void print(PrintWriter out, EvalReport r, List<String> columns) {
    out.printf("model: %s   data: %s   %s%n", r.model(), r.data(), r.sizes());
    for (Map.Entry<String, String> p : r.prompts().entrySet()) {
      out.printf("prompt %s: \"%s\"%n", p.getKey(), p.getValue());
    }
    StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%6s", "width"));
    for (String c : columns) {
      head.append(String.format(Locale.ROOT, "  %15s", c));
    }
    out.println(head);
    for (Map.Entry<Integer, Map<String, Double>> e : r.metrics().entrySet()) {
      StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%6d", e.getKey()));
      for (String c : columns) {
        Double v = e.getValue().get(c);
        row.append(v == null ? String.format(Locale.ROOT, "  %15s", "-") : String.format(Locale.ROOT, "  %15.2f", v));
      }
      out.println(row);
    }
    out.printf(Locale.ROOT, "main score: %s x100; %.1f s%n", r.metric(), r.seconds());
    out.flush();
  }
}
