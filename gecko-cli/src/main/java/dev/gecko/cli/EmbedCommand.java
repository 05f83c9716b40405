package dev.gecko.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.TaskType;
import dev.gecko.core.io.LineReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code gecko embed}: one JSON object per input text on standard output, in input order.
 *
 * <p>Output contract (stable): each line is {@code {"id": ..., "embedding": [floats]}}; {@code
 * id} appears only when the input gave one (JSONL input).
 */
@Command(
    name = "embed",
    mixinStandardHelpOptions = true,
    description = {
      "Embed texts and print one JSON object per line, in input order: {\"id\": ..., \"embedding\": [...]} "
          + "(\"id\" only where the input gave one).",
      "Texts come from the arguments, from --input (JSONL with \"text\" and optional \"id\", \"title\"), "
          + "or from standard input (no text, or '-'), one text per line (an empty line is an empty text: output "
          + "line n answers input line n)."
    })
final class EmbedCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin ModelOptions models = new ModelOptions();

  private static final ObjectMapper JSON = TerminalText.jsonMapper(); // corpus and LLM text inside
  private static final int CHUNK = 256;

  @Parameters(paramLabel = "TEXT", arity = "0..*", description = "Texts to embed; '-' alone: read standard input.")
  List<String> texts = new ArrayList<>();

  @Option(names = "--input", paramLabel = "FILE", description = "JSONL file (or .jsonl.gz): objects with \"text\" and optional \"id\" (or BEIR's \"_id\"), \"title\".")
  Path input;

  @Option(names = "--dims", paramLabel = "N", description = "Matryoshka width (1..model width). Default: full width.")
  Integer dims;

  @Option(names = "--task", paramLabel = "TASK", description = "Task type, any case: retrieval-query, retrieval-document, semantic-similarity, classification, "
      + "clustering, question-answering, fact-verification, code-retrieval-query. Default: the model's default prompt.")
  TaskType task;

  @Option(names = "--title", paramLabel = "TITLE", description = "Title for every text (documents; JSONL \"title\" wins).")
  String title;



  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (input != null && !texts.isEmpty()) { // '-' too: standard input and --input are two inputs
      throw new GeckoCli.UsageException("give texts as arguments (or '-' for standard input) or --input, not both");
    }
    if (texts.equals(List.of("-"))) {
      texts = List.of(); // the usual spelling of standard input, read below as with no text given
    }
    if (input != null) {
      CliFiles.readableFile("--input", input);
    }
    if (dims != null) {
      models.checkDims("--dims", List.of(dims), false); // before the model opens
    }
    PrintWriter out = spec.commandLine().getOut();
    try (GeckoEmbedder embedder = models.open()) {
      int width = dims == null ? embedder.dimensions() : dims;
      ModelOptions.checkDims("--dims", List.of(width), false, embedder.dimensions());
      Batcher batcher = new Batcher(embedder, width, out);
      if (!texts.isEmpty()) {
        for (String t : texts) {
          batcher.add(null, new EmbedRequest(t, task, title));
        }
      } else if (input != null) {
        JsonlTexts.read(input, e -> batcher.add(e.id(), new EmbedRequest(e.text(), task,
            e.title() != null ? e.title() : title)));
      } else {
        try (LineReader lines = LineReader.of(System.in, "standard input")) {
          String line;
          while ((line = lines.readLine()) != null) {
            batcher.add(null, new EmbedRequest(line, task, title));
          }
        }
      }
      batcher.flush();
    }
    return GeckoCli.EXIT_OK;
  }

  /** Embeds in chunks so output streams while input is read; keeps input order. */
  private static final class Batcher {
    private final GeckoEmbedder embedder;
    private final int dims;
    private final PrintWriter out;
    private final List<JsonNode> ids = new ArrayList<>();
    private final List<EmbedRequest> requests = new ArrayList<>();

    Batcher(GeckoEmbedder embedder, int dims, PrintWriter out) {
      this.embedder = embedder;
      this.dims = dims;
      this.out = out;
    }

    void add(JsonNode id, EmbedRequest request) {
      ids.add(id);
      requests.add(request);
      if (requests.size() >= CHUNK) {
        flush();
      }
    }

    void flush() {
      if (requests.isEmpty()) {
        return;
      }
      List<float[]> vectors = embedder.embedRequests(requests, dims);
      try {
        for (int i = 0; i < vectors.size(); i++) {
          out.println(line(ids.get(i), vectors.get(i)));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      out.flush();
      // PrintWriter swallows write errors: a closed pipe (gecko embed ... | head -1) is seen only
      // here, and there is no one left to write for
      if (out.checkError()) {
        throw new UncheckedIOException(new IOException("standard output closed; stopped embedding"));
      }
      ids.clear();
      requests.clear();
    }

    private static String line(JsonNode id, float[] vector) throws IOException {
      java.io.StringWriter sw = new java.io.StringWriter(vector.length * 12);
      try (JsonGenerator g = JSON.getFactory().createGenerator(sw)) {
        g.writeStartObject();
        if (id != null && !id.isNull()) {
          g.writeFieldName("id");
          g.writeTree(id);
        }
        g.writeFieldName("embedding");
        g.writeStartArray();
        for (float v : vector) {
          g.writeNumber(v);
        }
        g.writeEndArray();
        g.writeEndObject();
      }
      return sw.toString();
    }
  }
}
