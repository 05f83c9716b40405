package dev.gecko.train.fret;

import dev.gecko.core.internal.io.Hashes;
import dev.gecko.core.io.Passage;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gecko.train.llm.Message;
import dev.gecko.core.InvalidDataException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The three FRet prompts (query generation P_QG, query likelihood P_QL, relevance classification
 * P_RC) with their few-shot examples, plus the judged query-likelihood prompt used when the server
 * cannot score prompt tokens. The defaults are resources under {@code
 * dev/gecko/train/fret/prompts/}; {@link #fromDirectory(Path)} replaces any of them with a file of
 * the same name, and the {@code with...} methods replace them in code.
 *
 * <p>Passages and queries are untrusted: they are rendered between {@code <passage>}/{@code
 * </passage>} (and {@code <query>}/{@code </query>}) delimiters, any delimiter-like tag inside them
 * is neutralised, and passages are cut to {@link #maxPassageChars()}.
 *
 * <p>Immutable and thread-safe. Serializable, so that distributed runners (gecko-spark) can ship
 * one to their workers.
 */
public final class Prompts implements java.io.Serializable {
  private static final long serialVersionUID = 1L;
  /** Instruction of the query generation prompt. */
  public static final String QUERY_GENERATION = "query-generation.txt";
  /** Few-shot examples of the query generation prompt: {@code title, text, task, query}. */
  public static final String QUERY_GENERATION_EXAMPLES = "query-generation-examples.jsonl";
  /** Instruction of the relevance classification prompt. */
  public static final String RELEVANCE = "relevance.txt";
  /** Few-shot examples of the relevance prompt: {@code query, title, text, grade (0-3)}. */
  public static final String RELEVANCE_EXAMPLES = "relevance-examples.jsonl";
  /** Header of the query likelihood (prompt log-probabilities) prompt. */
  public static final String QUERY_LIKELIHOOD = "query-likelihood.txt";
  /** Instruction of the judged query likelihood prompt (fallback). */
  public static final String QUERY_LIKELIHOOD_JUDGED = "query-likelihood-judged.txt";
  /** Few-shot examples of both query likelihood prompts: {@code title, text, query}. */
  public static final String QUERY_LIKELIHOOD_EXAMPLES = "query-likelihood-examples.jsonl";
  /** Files {@link #fromDirectory(Path)} looks for. */
  public static final List<String> FILES = List.of(QUERY_GENERATION, QUERY_GENERATION_EXAMPLES, RELEVANCE,
      RELEVANCE_EXAMPLES, QUERY_LIKELIHOOD, QUERY_LIKELIHOOD_JUDGED, QUERY_LIKELIHOOD_EXAMPLES);
  /** Default cap on passage characters in a prompt. */
  public static final int DEFAULT_MAX_PASSAGE_CHARS = 3000;

  private static final ObjectMapper JSON = new ObjectMapper();
  /** Reads example lines as JsonlReader reads data: a second object on a line, or a key twice, is an error. */
  private static final ObjectMapper STRICT = com.fasterxml.jackson.databind.json.JsonMapper.builder()
      .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build();
  private static final System.Logger LOG = System.getLogger(Prompts.class.getName());
  private static final Pattern TAG = Pattern.compile("(?i)<\\s*/?\\s*(passage|query)\\b[^>]*>");

  /**
   * A query generation example. Immutable and thread-safe.
   *
   * @param title passage title (may be empty)
   * @param text passage text
   * @param task the task description
   * @param query the query
   */
  public record GenerationExample(String title, String text, String task, String query) implements java.io.Serializable {}

  /**
   * A relevance example. Immutable and thread-safe.
   *
   * @param query the query
   * @param title passage title (may be empty)
   * @param text passage text
   * @param grade 0 (not relevant) to 3 (highly relevant)
   */
  public record RelevanceExample(String query, String title, String text, int grade) implements java.io.Serializable {}

  /**
   * A query likelihood example: a passage and a query written from it. Immutable and thread-safe.
   *
   * @param title passage title (may be empty)
   * @param text passage text
   * @param query the query
   */
  public record LikelihoodExample(String title, String text, String query) implements java.io.Serializable {}

  private final String generation;
  private final List<GenerationExample> generationExamples;
  private final String relevance;
  private final List<RelevanceExample> relevanceExamples;
  private final String likelihood;
  private final String likelihoodJudged;
  private final List<LikelihoodExample> likelihoodExamples;
  private final int maxPassageChars;

  private Prompts(String generation, List<GenerationExample> generationExamples, String relevance,
      List<RelevanceExample> relevanceExamples, String likelihood, String likelihoodJudged,
      List<LikelihoodExample> likelihoodExamples, int maxPassageChars) {
    this.generation = nonBlank(generation, QUERY_GENERATION);
    this.generationExamples = List.copyOf(generationExamples);
    this.relevance = nonBlank(relevance, RELEVANCE);
    this.relevanceExamples = List.copyOf(relevanceExamples);
    this.likelihood = nonBlank(likelihood, QUERY_LIKELIHOOD);
    this.likelihoodJudged = nonBlank(likelihoodJudged, QUERY_LIKELIHOOD_JUDGED);
    this.likelihoodExamples = List.copyOf(likelihoodExamples);
    if (maxPassageChars < 100) {
      throw new IllegalArgumentException("maxPassageChars must be >= 100, was " + maxPassageChars);
    }
    this.maxPassageChars = maxPassageChars;
  }

  /** The built-in prompts and examples. */
  public static Prompts defaults() {
    try {
      return new Prompts(resource(QUERY_GENERATION), generationExamples(parseLines(resource(QUERY_GENERATION_EXAMPLES), QUERY_GENERATION_EXAMPLES)),
          resource(RELEVANCE), relevanceExamples(parseLines(resource(RELEVANCE_EXAMPLES), RELEVANCE_EXAMPLES)),
          resource(QUERY_LIKELIHOOD), resource(QUERY_LIKELIHOOD_JUDGED),
          likelihoodExamples(parseLines(resource(QUERY_LIKELIHOOD_EXAMPLES), QUERY_LIKELIHOOD_EXAMPLES)),
          DEFAULT_MAX_PASSAGE_CHARS);
    } catch (IOException e) {
      throw new UncheckedIOException("built-in prompt resources are missing", e);
    }
  }

  /**
   * The defaults, with every file of {@link #FILES} found in {@code dir} replacing its default.
   *
   * @throws java.nio.file.NoSuchFileException if {@code dir} does not exist ("folder not found")
   * @throws IOException if a file cannot be read
   * @throws IllegalArgumentException if {@code dir} is not a folder, holds none of {@link #FILES}
   *     (a warning names each other file, which is ignored), or a file is malformed (the message
   *     names file, line, field)
   * @throws InvalidDataException if a file is not valid UTF-8 (the message names file and line)
   */
  public static Prompts fromDirectory(Path dir) throws IOException {
    Prompts p = defaults();
    if (!Files.exists(dir)) {
      throw new NoSuchFileException(dir.toString(), null, "folder not found");
    }
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(dir + ": not a folder");
    }
    // a file under a name this does not look for would be ignored, and the run (paid for) made with
    // the default it meant to replace: say so, and refuse a folder that replaces nothing
    // (found as the files are read below: by Files.exists, which ignores case where the file system does)
    List<Path> found = new ArrayList<>();
    for (String name : FILES) {
      if (Files.exists(dir.resolve(name))) {
        found.add(dir.resolve(name));
      }
    }
    List<String> others = new ArrayList<>();
    try (java.util.stream.Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files.sorted()::iterator) {
        String name = f.getFileName().toString();
        if (!name.startsWith(".") && Files.isRegularFile(f) && !isOneOf(f, found)) {
          others.add(name);
        }
      }
    }
    if (found.isEmpty()) {
      throw new IllegalArgumentException(dir + ": holds none of the prompt files " + FILES
          + (others.isEmpty() ? "" : " (it holds " + others + ")"));
    }
    for (String name : others) {
      LOG.log(System.Logger.Level.WARNING, "{0}: ignored: not one of the prompt files {1}", dir.resolve(name), FILES);
    }
    String gen = read(dir, QUERY_GENERATION, p.generation);
    String rel = read(dir, RELEVANCE, p.relevance);
    String ql = read(dir, QUERY_LIKELIHOOD, p.likelihood);
    String qlj = read(dir, QUERY_LIKELIHOOD_JUDGED, p.likelihoodJudged);
    Path f;
    List<GenerationExample> ge = Files.exists(f = dir.resolve(QUERY_GENERATION_EXAMPLES))
        ? generationExamples(parseLines(readUtf8(f), f.toString())) : p.generationExamples;
    List<RelevanceExample> re = Files.exists(f = dir.resolve(RELEVANCE_EXAMPLES))
        ? relevanceExamples(parseLines(readUtf8(f), f.toString())) : p.relevanceExamples;
    List<LikelihoodExample> le = Files.exists(f = dir.resolve(QUERY_LIKELIHOOD_EXAMPLES))
        ? likelihoodExamples(parseLines(readUtf8(f), f.toString())) : p.likelihoodExamples;
    return new Prompts(gen, ge, rel, re, ql, qlj, le, p.maxPassageChars);
  }

  /** Returns a copy with other query generation examples. */
  public Prompts withGenerationExamples(List<GenerationExample> examples) {
    return new Prompts(generation, examples, relevance, relevanceExamples, likelihood, likelihoodJudged, likelihoodExamples, maxPassageChars);
  }

  /** Returns a copy with other relevance examples. */
  public Prompts withRelevanceExamples(List<RelevanceExample> examples) {
    return new Prompts(generation, generationExamples, relevance, examples, likelihood, likelihoodJudged, likelihoodExamples, maxPassageChars);
  }

  /** Returns a copy with other query likelihood examples. */
  public Prompts withLikelihoodExamples(List<LikelihoodExample> examples) {
    return new Prompts(generation, generationExamples, relevance, relevanceExamples, likelihood, likelihoodJudged, examples, maxPassageChars);
  }

  /** Returns a copy with another query generation instruction. */
  public Prompts withGenerationInstruction(String text) {
    return new Prompts(text, generationExamples, relevance, relevanceExamples, likelihood, likelihoodJudged, likelihoodExamples, maxPassageChars);
  }

  /**
   * Returns a copy with another passage cap.
   *
   * @throws IllegalArgumentException if {@code chars < 100}
   */
  public Prompts withMaxPassageChars(int chars) {
    return new Prompts(generation, generationExamples, relevance, relevanceExamples, likelihood, likelihoodJudged, likelihoodExamples, chars);
  }

  /** Returns the most passage characters put in a prompt. */
  public int maxPassageChars() {
    return maxPassageChars;
  }

  /** Returns the query generation examples. */
  public List<GenerationExample> generationExamples() {
    return generationExamples;
  }

  // ---- rendering ----

  /**
   * Whether {@code s} holds a delimiter tag as {@link #sanitize} finds them: {@code <passage>},
   * {@code </ Query x>}, any case, white space after {@code <} and {@code /}, attributes.
   */
  static boolean hasDelimiterTag(String s) {
    return TAG.matcher(s).find();
  }

  /** Neutralises delimiter tags and cuts to {@code max} chars. */
  static String sanitize(String s, int max) {
    String t = TAG.matcher(s).replaceAll("[$1]");
    if (t.length() > max) {
      int cut = max;
      if (Character.isHighSurrogate(t.charAt(cut - 1))) {
        cut--;
      }
      t = t.substring(0, cut) + " ...";
    }
    return t.strip();
  }

  String passageBlock(String title, String text) {
    String body = sanitize(text, maxPassageChars);
    String t = title == null || title.isBlank() ? "" : "Title: " + sanitize(title, 300) + "\n";
    return "<passage>\n" + t + body + "\n</passage>";
  }

  String queryBlock(String query) {
    return "<query>" + sanitize(query, 1000) + "</query>";
  }

  static String answerJson(String task, String query) {
    ObjectNode n = JSON.createObjectNode();
    n.put("task", task).put("query", query);
    return n.toString();
  }

  /**
   * The queries the generation prompt shows (its few-shot answers, and the JSON objects in its
   * instructions), stripped and in lower case, each with the text of the passage it was written for
   * (stripped; empty for the instructions' own): an answer that gives one back for another passage
   * has copied the prompt, not read the passage.
   */
  Map<String, String> generationExampleQueries() {
    Map<String, String> queries = new HashMap<>();
    for (JsonNode o : JsonAnswers.objects(generation)) {
      JsonNode q = o.get("query");
      if (q != null && q.isTextual()) {
        queries.put(q.asText().strip().toLowerCase(Locale.ROOT), "");
      }
    }
    for (GenerationExample e : generationExamples) {
      queries.put(e.query().strip().toLowerCase(Locale.ROOT), e.text().strip());
    }
    return Map.copyOf(queries);
  }

  List<Message> generationMessages(Passage seed) {
    List<Message> m = new ArrayList<>();
    m.add(Message.system(generation.strip()));
    for (GenerationExample e : generationExamples) {
      m.add(Message.user(passageBlock(e.title(), e.text())));
      m.add(Message.assistant(answerJson(e.task(), e.query())));
    }
    m.add(Message.user(passageBlock(seed.title(), seed.text())));
    return m;
  }

  List<Message> relevanceMessages(String query, Passage p) {
    List<Message> m = new ArrayList<>();
    m.add(Message.system(relevance.strip()));
    for (RelevanceExample e : relevanceExamples) {
      m.add(Message.user(queryBlock(e.query()) + "\n" + passageBlock(e.title(), e.text())));
      m.add(Message.assistant(Integer.toString(e.grade())));
    }
    m.add(Message.user(queryBlock(query) + "\n" + passageBlock(p.title(), p.text())));
    return m;
  }

  List<Message> likelihoodJudgedMessages(String query, Passage p) {
    List<Message> m = new ArrayList<>();
    m.add(Message.system(likelihoodJudged.strip()));
    int n = likelihoodExamples.size();
    for (int i = 0; i < n; i++) {
      LikelihoodExample e = likelihoodExamples.get(i);
      m.add(Message.user(passageBlock(e.title(), e.text()) + "\n" + queryBlock(e.query())));
      m.add(Message.assistant("3"));
      if (n > 1) { // the same passage with another example's query: very unlikely
        m.add(Message.user(passageBlock(e.title(), e.text()) + "\n" + queryBlock(likelihoodExamples.get((i + 1) % n).query())));
        m.add(Message.assistant("0"));
      }
    }
    m.add(Message.user(passageBlock(p.title(), p.text()) + "\n" + queryBlock(query)));
    return m;
  }

  /**
   * The teacher-forced query likelihood prompt.
   *
   * @param prompt the full prompt text, ending with the query
   * @param queryStart the offset where the query starts
   */
  record LikelihoodPrompt(String prompt, int queryStart) {}

  LikelihoodPrompt likelihoodPrompt(String query, Passage p) {
    StringBuilder b = new StringBuilder(likelihood.strip()).append("\n\n");
    for (LikelihoodExample e : likelihoodExamples) {
      b.append(passageBlock(e.title(), e.text())).append("\nQuery: ").append(sanitize(e.query(), 1000)).append("\n\n");
    }
    b.append(passageBlock(p.title(), p.text())).append("\nQuery:");
    String q = sanitize(query, 1000);
    // the space belongs to the query's first token in BPE vocabularies (" how"), so it is scored with it
    int start = b.length();
    b.append(' ').append(q);
    return new LikelihoodPrompt(b.toString(), start);
  }

  // ---- provenance ----

  /** Returns every prompt and example as JSON (for the run manifest). */
  public JsonNode toJson() {
    ObjectNode n = JSON.createObjectNode();
    n.put(QUERY_GENERATION, generation);
    n.set(QUERY_GENERATION_EXAMPLES, JSON.valueToTree(generationExamples));
    n.put(RELEVANCE, relevance);
    n.set(RELEVANCE_EXAMPLES, JSON.valueToTree(relevanceExamples));
    n.put(QUERY_LIKELIHOOD, likelihood);
    n.put(QUERY_LIKELIHOOD_JUDGED, likelihoodJudged);
    n.set(QUERY_LIKELIHOOD_EXAMPLES, JSON.valueToTree(likelihoodExamples));
    n.put("maxPassageChars", maxPassageChars);
    return n;
  }

  /** Returns the SHA-256 of {@link #toJson()}, hex. */
  public String digest() {
    return Hashes.sha256Hex(toJson().toString());
  }

  // ---- loading ----

  private static String resource(String name) throws IOException {
    try (InputStream in = Prompts.class.getResourceAsStream("prompts/" + name)) {
      if (in == null) {
        throw new IOException("missing resource dev/gecko/train/fret/prompts/" + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static boolean isOneOf(Path f, List<Path> files) throws IOException {
    for (Path g : files) {
      if (Files.isSameFile(f, g)) {
        return true;
      }
    }
    return false;
  }

  private static String read(Path dir, String name, String fallback) throws IOException {
    Path f = dir.resolve(name);
    return Files.exists(f) ? readUtf8(f) : fallback;
  }

  /**
   * Reads a prompt file as strict UTF-8, without a leading byte order mark.
   *
   * @throws InvalidDataException naming the file and the line of the first byte that is not UTF-8
   */
  private static String readUtf8(Path f) throws IOException {
    byte[] bytes = Files.readAllBytes(f);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    try {
      String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(in).toString();
      // a byte order mark (editors on Windows write one): not part of the prompt, as in every other data file
      return text.startsWith("\uFEFF") ? text.substring(1) : text;
    } catch (CharacterCodingException e) {
      int line = 1;
      for (int i = 0; i < in.position() && i < bytes.length; i++) {
        if (bytes[i] == '\n') {
          line++;
        }
      }
      throw new InvalidDataException(f.toString(), line, "not valid UTF-8 (save the file as UTF-8)", e);
    }
  }

  private static List<JsonNode> parseLines(String content, String source) {
    List<JsonNode> out = new ArrayList<>();
    int n = 0;
    for (String line : content.split("\n", -1)) {
      n++;
      if (line.isBlank()) {
        continue;
      }
      try {
        JsonNode o = STRICT.readTree(line);
        if (!o.isObject()) {
          throw new IllegalArgumentException(source + ":" + n + ": not a JSON object");
        }
        o = ((ObjectNode) o).put("__line", source + ":" + n);
        out.add(o);
      } catch (IOException e) {
        String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        throw new IllegalArgumentException(source + ":" + n + ": not valid JSON (" + why + ")", e);
      }
    }
    return out;
  }

  private static String str(JsonNode o, String field, boolean required) {
    JsonNode v = o.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw new IllegalArgumentException(o.get("__line").asText() + ": field '" + field + "' is missing");
      }
      return "";
    }
    if (!v.isTextual() || (required && v.asText().isBlank())) {
      throw new IllegalArgumentException(o.get("__line").asText() + ": field '" + field + "' must be a non-empty string");
    }
    return v.asText();
  }

  private static List<GenerationExample> generationExamples(List<JsonNode> lines) {
    List<GenerationExample> out = new ArrayList<>();
    for (JsonNode o : lines) {
      out.add(new GenerationExample(str(o, "title", false), str(o, "text", true), str(o, "task", true), str(o, "query", true)));
    }
    return out;
  }

  private static List<RelevanceExample> relevanceExamples(List<JsonNode> lines) {
    List<RelevanceExample> out = new ArrayList<>();
    for (JsonNode o : lines) {
      JsonNode g = o.get("grade");
      if (g == null || !g.isInt() || g.asInt() < 0 || g.asInt() > 3) {
        throw new IllegalArgumentException(o.get("__line").asText() + ": field 'grade' must be an integer 0-3");
      }
      out.add(new RelevanceExample(str(o, "query", true), str(o, "title", false), str(o, "text", true), g.asInt()));
    }
    return out;
  }

  private static List<LikelihoodExample> likelihoodExamples(List<JsonNode> lines) {
    List<LikelihoodExample> out = new ArrayList<>();
    for (JsonNode o : lines) {
      out.add(new LikelihoodExample(str(o, "title", false), str(o, "text", true), str(o, "query", true)));
    }
    return out;
  }

  private static String nonBlank(String s, String name) {
    Objects.requireNonNull(s, name + " is null");
    if (s.isBlank()) {
      throw new IllegalArgumentException(name + " is blank");
    }
    return s;
  }

}
