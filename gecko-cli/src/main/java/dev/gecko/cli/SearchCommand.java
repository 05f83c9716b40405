package dev.gecko.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.TaskType;
import dev.gecko.core.InvalidDataException;
import dev.gecko.core.index.SearchHit;
import dev.gecko.core.io.Corpus;
import dev.gecko.core.io.Passage;
import dev.gecko.core.Progress;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * "snippet"}}). With {@code --queries FILE} it searches every query of a JSONL file (the corpus
 * format, BEIR's {@code queries.jsonl}) in one batched embedding and one scan
 * ({@link dev.gecko.core.index.FlatIndex#searchAll}); each readable list then starts with a
 * {@code query <id>: <text>} line (the text as a snippet), and each JSON line starts with {@code
 * "query": <id>}. The index
 * folder is checked first ({@link IndexDirectory#read}), and the model it names must be the one
 * its vectors were made with ({@link IndexDirectory#checkModel}).
 */
@Command(
    name = "search",
    mixinStandardHelpOptions = true,
    description = {
      "Search an index folder written by 'gecko index' and print the best documents.",
      "Exact brute force over every vector; prints rank, score, id, title and a snippet of each hit",
      "(--json: one JSON object per hit and line). Give one QUERY, or --queries FILE for many."
    })
final class SearchCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin ThreadOptions threads = new ThreadOptions();

  private static final ObjectMapper JSON = TerminalText.jsonMapper(); // corpus and LLM text inside

  @Option(names = "--index", required = true, paramLabel = "DIR", description = "Index folder from 'gecko index'.")
  Path indexDir;

  @Option(names = "--k", paramLabel = "K", defaultValue = "10", description = "How many results. Default: ${DEFAULT-VALUE}.")
  int k;

  @Option(names = "--json", description = "Print one JSON object per hit and line: "
      + "{\"rank\", \"score\", \"id\", \"title\", \"snippet\"} (title \"\" when untitled).")
  boolean json;


  @Option(names = "--queries", paramLabel = "FILE",
      description = "JSONL queries (.jsonl or .jsonl.gz, the corpus format: \"_id\" or \"id\", \"text\"), "
          + "searched in one batch instead of QUERY; each result names its query.")
  Path queriesFile;

  @Parameters(paramLabel = "QUERY", arity = "0..*", description = "The query (several words are joined by spaces).")
  List<String> query;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (k < 1) {
      throw new GeckoCli.UsageException("--k must be >= 1, was " + k);
    }
    boolean hasQuery = query != null && !query.isEmpty();
    if (hasQuery == (queriesFile != null)) {
      throw new GeckoCli.UsageException(hasQuery
          ? "give either a QUERY or --queries, not both"
          : "give a QUERY, or --queries FILE");
    }
    String q = hasQuery ? String.join(" ", query).strip() : null;
    if (hasQuery && q.isEmpty()) {
      throw new GeckoCli.UsageException("the query is empty");
    }
    threads.check(); // the usage errors first, before the index's vectors are read
    CliFiles.readableFolder("--index", indexDir); // a missing input is a failure (1), as in every command
    if (queriesFile != null) {
      CliFiles.readableFile("--queries", queriesFile);
    }
    IndexDirectory dir = IndexDirectory.read(indexDir);
    ModelPackage pkg;
    try {
      pkg = ModelPackage.resolve(dir.model);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(dir.manifest + ": field \"model\": " + e.getMessage(), e);
    }
    dir.checkModel(pkg);
    List<Passage> queries = hasQuery ? null : Corpus.read(queriesFile);
    if (queries != null && queries.isEmpty()) {
      throw new InvalidDataException(queriesFile.toString(), 0, "holds no queries");
    }
    PrintWriter out = spec.commandLine().getOut();
    try (GeckoEmbedder embedder = threads.builder("index.json \"model\"", dir.model).build()) {
      if (hasQuery) {
        float[] v = embedder.embed(new EmbedRequest(q, TaskType.RETRIEVAL_QUERY, null), dir.dims);
        print(out, dir, null, dir.index.search(v, k));
      } else {
        List<EmbedRequest> requests = new ArrayList<>(queries.size());
        for (Passage p : queries) {
          requests.add(new EmbedRequest(p.text(), TaskType.RETRIEVAL_QUERY, null)); // a query has no title
        }
        List<float[]> vectors;
        try (CliProgress progress = CliProgress.on(spec.commandLine().getErr())) {
          vectors = embedder.embedRequests(requests, dir.dims,
              e -> progress.onProgress(new Progress("embedding queries", "queries", e.done(), e.total(), e.metrics())));
        }
        List<List<SearchHit>> hits = dir.index.searchAll(vectors, k);
        for (int i = 0; i < queries.size(); i++) {
          if (i > 0 && !json) {
            out.println();
          }
          print(out, dir, queries.get(i), hits.get(i));
        }
      }
    }
    out.flush();
    // PrintWriter swallows write errors: a closed pipe or a full disk is seen only here (as in gecko embed)
    if (out.checkError()) {
      throw new IOException("standard output closed or not writable; the results were not all written");
    }
    return GeckoCli.EXIT_OK;
  }

  /** Prints one query's hits; {@code query} is null for the single QUERY, whose output has no query key. */
  private void print(PrintWriter out, IndexDirectory dir, Passage query, List<SearchHit> hits) throws IOException {
    if (json) {
      for (int r = 0; r < hits.size(); r++) {
        SearchHit h = hits.get(r);
        IndexDirectory.Doc d = dir.docs.get(h.ordinal());
        Hit n = new Hit(r + 1, h.score(), d.id(), d.title(), d.snippet());
        out.println(JSON.writeValueAsString(query == null ? n : new QueryHit(query.id(), n)));
      }
      return;
    }
    // corpus text on its way to a terminal: control characters (an escape sequence that would
    // rewrite the screen or the clipboard) are shown as U+XXXX, never sent to it
    if (query != null) {
      out.printf("query %s: %s%n", TerminalText.line(query.id()),
          TerminalText.line(IndexDirectory.snippet(query.text())));
    }
    int idWidth = 2;
    for (SearchHit h : hits) {
      idWidth = Math.max(idWidth, TerminalText.line(dir.docs.get(h.ordinal()).id()).length());
    }
    idWidth = Math.min(idWidth, 40);
    for (int r = 0; r < hits.size(); r++) {
      SearchHit h = hits.get(r);
      IndexDirectory.Doc d = dir.docs.get(h.ordinal());
      out.printf(Locale.ROOT, "%2d. %7.4f  %-" + idWidth + "s  %s%n", r + 1, h.score(), TerminalText.line(d.id()),
          d.title().isBlank() ? "(untitled)" : TerminalText.line(d.title()));
      out.printf("             %s%n", TerminalText.line(d.snippet()));
    }
  }

  /** One line of {@code gecko search --json} (a contract: keys and order are kept). */
  @JsonPropertyOrder({"rank", "score", "id", "title", "snippet"})
  record Hit(int rank, float score, String id, String title, String snippet) {
  }

  /** One line of {@code gecko search --queries FILE --json}: the query's id, then a {@link Hit}'s keys. */
  @JsonPropertyOrder({"query", "rank", "score", "id", "title", "snippet"})
  record QueryHit(String query, @JsonUnwrapped Hit hit) {
  }
}
