package dev.gecko.cli;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.Progress;
import dev.gecko.core.TaskType;
import dev.gecko.core.index.FlatIndex;
import dev.gecko.core.io.Corpus;
import dev.gecko.core.io.Passage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gecko index}: embeds a JSONL corpus as retrieval documents and writes an exact flat
 * index folder (see {@link IndexDirectory}) for {@code gecko search}.
 */
@Command(
    name = "index",
    mixinStandardHelpOptions = true,
    description = {
      "Embed a corpus as retrieval documents into an exact index folder for 'gecko search'.",
      "The corpus is JSON Lines (.jsonl or .jsonl.gz): \"text\", an id (\"_id\" or \"id\"; default: the line",
      "number) and an optional \"title\". The index is exact (brute force over every vector)."
    })
final class IndexCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin ModelOptions models = new ModelOptions();

  @Option(names = "--corpus", required = true, paramLabel = "FILE", description = "JSONL corpus (.jsonl or .jsonl.gz): \"_id\" or \"id\", \"text\", optional \"title\".")
  Path corpus;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Index folder to write: new, empty, or an index to replace (a folder of other files is refused).")
  Path out;


  @Option(names = "--dims", paramLabel = "N", description = "Matryoshka width (1..model width). Default: full width.")
  Integer dims;

  @Option(names = "--precision", paramLabel = "P", defaultValue = "float32",
      description = "Vector storage: float32, int8 or binary (sign bits, Hamming). Default: ${DEFAULT-VALUE}.")
  String precision;


  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    FlatIndex.Precision p;
    try {
      p = FlatIndex.Precision.parse(precision);
    } catch (IllegalArgumentException e) {
      throw new GeckoCli.UsageException("--precision: " + e.getMessage());
    }
    // checked before the corpus is read and embedded, as train and finetune check theirs
    CliFiles.writableFolder("--out", out);
    CliFiles.readableFile("--corpus", corpus);
    IndexDirectory.checkOutput(out, corpus);
    GeckoEmbedder.Builder model = models.builder(); // --model and --threads: usage errors before the corpus is read
    if (dims != null) {
      models.checkDims("--dims", List.of(dims), false);
    }
    List<EmbedRequest> requests = new ArrayList<>();
    List<IndexDirectory.Doc> docs = new ArrayList<>();
    for (Passage passage : Corpus.read(corpus)) {
      String title = passage.hasTitle() ? passage.title() : null;
      requests.add(new EmbedRequest(passage.text(), TaskType.RETRIEVAL_DOCUMENT, title));
      docs.add(new IndexDirectory.Doc(passage.id(), passage.title(), IndexDirectory.snippet(passage.text())));
    }
    if (docs.isEmpty()) { // an index of nothing would answer every search with nothing
      throw new dev.gecko.core.InvalidDataException(corpus.toString(), 0, "holds no passages");
    }
    PrintWriter err = spec.commandLine().getErr();
    try (GeckoEmbedder embedder = model.build()) {
      int width = dims == null ? embedder.dimensions() : dims;
      ModelOptions.checkDims("--dims", List.of(width), false, embedder.dimensions());
      FlatIndex index = FlatIndex.builder(width).precision(p).build();
      try (CliProgress progress = CliProgress.on(err)) {
        for (float[] v : embedder.embedRequests(requests, width,
            e -> progress.onProgress(new Progress("indexing", "docs", e.done(), e.total(), e.metrics())))) {
          index.add(v);
        }
      }
      // a model folder is recorded as an absolute path, so that gecko search finds it from any folder
      String modelName = models.name();
      if (!dev.gecko.core.ModelPackage.builtInNames().contains(modelName)) {
        modelName = java.nio.file.Path.of(modelName).toAbsolutePath().normalize().toString();
      }
      IndexDirectory.write(out, modelName, embedder.model(), index, docs);
      err.printf(java.util.Locale.ROOT, "gecko: wrote %s: %d documents, %d dims, %s, model %s%n", out, index.size(), width,
          index.precision().name().toLowerCase(java.util.Locale.ROOT), modelName);
      err.flush();
    }
    return GeckoCli.EXIT_OK;
  }
}
