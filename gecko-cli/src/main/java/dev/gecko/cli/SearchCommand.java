package dev.gecko.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.TaskType;
import dev.gecko.core.index.SearchHit;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code gecko search}: embeds the query as a retrieval query with the index's model and width
 * and prints the top k documents, best first, on standard output: a readable list, or with
 * {@code --json} one JSON object per hit and line ({@code {"rank", "score", "id", "title",
 * "snippet"}}). The index folder is checked first ({@link IndexDirectory#read}), and the model it
 * names must be the one its vectors were made with ({@link IndexDirectory#checkModel}).
 */
@Command(
    name = "search",
    mixinStandardHelpOptions = true,
    description = {
      "Search an index folder written by 'gecko index' and print the best documents.",
      "Exact brute force over every vector; prints rank, score, id, title and a snippet of each hit",
      "(--json: one JSON object per hit and line)."
    })
final class SearchCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin ThreadOptions threads = new ThreadOptions();

  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = "--index", required = true, paramLabel = "DIR", description = "Index folder from 'gecko index'.")
  Path indexDir;

  @Option(names = "--k", paramLabel = "K", defaultValue = "10", description = "How many results. Default: ${DEFAULT-VALUE}.")
  int k;

  @Option(names = "--json", description = "Print one JSON object per hit and line: "
      + "{\"rank\", \"score\", \"id\", \"title\", \"snippet\"} (title \"\" when untitled).")
  boolean json;


  @Parameters(paramLabel = "QUERY", arity = "1..*", description = "The query (several words are joined by spaces).")
  List<String> query;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (k < 1) {
      throw new GeckoCli.UsageException("--k must be >= 1, was " + k);
    }
    CliFiles.readableFolder("--index", indexDir); // a missing input is a failure (1), as in every command
    String q = String.join(" ", query).strip();
    if (q.isEmpty()) {
      throw new GeckoCli.UsageException("the query is empty");
    }
    IndexDirectory dir = IndexDirectory.read(indexDir);
    ModelPackage pkg;
    try {
      pkg = ModelPackage.resolve(dir.model);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(dir.manifest + ": field \"model\": " + e.getMessage(), e);
    }
    dir.checkModel(pkg);
    List<SearchHit> hits;
    try (GeckoEmbedder embedder = threads.builder("index.json \"model\"", dir.model).build()) {
      float[] v = embedder.embed(new EmbedRequest(q, TaskType.RETRIEVAL_QUERY, null), dir.dims);
      hits = dir.index.search(v, k);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      for (int r = 0; r < hits.size(); r++) {
        SearchHit h = hits.get(r);
        IndexDirectory.Doc d = dir.docs.get(h.ordinal());
        Hit n = new Hit(r + 1, h.score(), d.id(), d.title(), d.snippet());
        out.println(JSON.writeValueAsString(n));
      }
      out.flush();
      return GeckoCli.EXIT_OK;
    }
    int idWidth = 2;
    for (SearchHit h : hits) {
      idWidth = Math.max(idWidth, dir.docs.get(h.ordinal()).id().length());
    }
    idWidth = Math.min(idWidth, 40);
    for (int r = 0; r < hits.size(); r++) {
      SearchHit h = hits.get(r);
      IndexDirectory.Doc d = dir.docs.get(h.ordinal());
      out.printf(Locale.ROOT, "%2d. %7.4f  %-" + idWidth + "s  %s%n", r + 1, h.score(), d.id(),
          d.title().isEmpty() ? "(untitled)" : d.title());
      out.printf("             %s%n", d.snippet());
    }
    out.flush();
    return GeckoCli.EXIT_OK;
  }

  /** One line of {@code gecko search --json} (a contract: keys and order are kept). */
  @JsonPropertyOrder({"rank", "score", "id", "title", "snippet"})
  record Hit(int rank, float score, String id, String title, String snippet) {
  }
}
