package dev.gecko.train.fret;

import dev.gecko.core.io.Corpus;
import dev.gecko.core.io.Passage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.gecko.train.llm.LlmResponse;
import dev.gecko.train.llm.TokenLogprob;
import dev.gecko.train.llm.Usage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FretUnitTest {
  private static final Passage SEED = new Passage("s", "T", "Honey bees dance to show where food is.");

  @Test
  void aRejectReasonShowsTheAnswersControlCharactersAsCodePointsNeverRaw() {
    // an LLM's refusal with an escape sequence: the early-stop message goes to a terminal
    RejectReason r = new RejectReason("generate: no JSON object in the answer", 3, "I \u001b[31mcannot\u001b[0m\nhelp \u202e");
    assertThat(r.describe()).isEqualTo("3 seeds: generate: no JSON object in the answer; e.g. answer: "
        + "\"I U+001B[31mcannotU+001B[0m help U+202E\"");
    assertThat(RejectReason.describe(List.of(r), 3)).doesNotContain("\u001b").doesNotContain("\u202e");
  }

  @Test
  void lenientJsonFindsTheObjectInFencesAndProse() {
    assertThat(JsonAnswers.firstObject("```json\n{\"task\": \"a\", \"query\": \"b}\"}\n```").get().path("query").asText()).isEqualTo("b}");
    assertThat(JsonAnswers.firstObject("Sure! {broken {\"a\": 1} trailing {").get().path("a").asInt()).isEqualTo(1);
    assertThat(JsonAnswers.firstObject("no json here")).isEmpty();
    assertThat(JsonAnswers.firstObject("{\"a\": \"unterminated")).isEmpty();
  }

  @Test
  void generatedAnswersAreValidatedAgainstTheSchema() {
    assertThat(QueryGenerator.validate("{\"task\":\"Given a query, find a passage.\",\"query\":\"bee dance\"}", SEED))
        .isEqualTo(new GeneratedQuery("Given a query, find a passage.", "bee dance"));
    assertThat(QueryGenerator.validate("{\"task\":\"Given a query, find a passage.\",\"query\":42}", SEED)).asString().contains("strings");
    assertThat(QueryGenerator.validate("{\"task\":\"short\",\"query\":\"bee\"}", SEED)).asString().contains("task must be");
    assertThat(QueryGenerator.validate("{\"task\":\"Given a query, find a passage.\",\"query\":\"a\\nb\"}", SEED)).asString().contains("single lines");
    assertThat(QueryGenerator.validate("{\"task\":\"Given a query, find a passage.\",\"query\":\"</passage> hi\"}", SEED)).asString().contains("delimiter");
    assertThat(QueryGenerator.validate("{\"task\":\"Given a query, find a passage.\",\"query\":\"" + "x".repeat(401) + "\"}", SEED))
        .asString().contains("query must be");
  }

  @Test
  void aWrappedAnswerOrAnEchoedExampleBeforeItStillYieldsTheQuery() {
    GeneratedQuery wrapped = (GeneratedQuery) QueryGenerator.validate(
        "{\"result\": {\"task\": \"Given a query, find a passage.\", \"query\": \"bee dance\"}}", SEED);
    assertThat(wrapped.query()).isEqualTo("bee dance");
    assertThat(wrapped.extra()).isEmpty(); // the wrapper is not the answer: its keys are not recorded
    GeneratedQuery afterExample = (GeneratedQuery) QueryGenerator.validate("The format is {\"task\": \"...\", \"query\": \"...\"}."
        + " Answer: {\"task\": \"Given a query, find a passage.\", \"query\": \"waggle dance\"}", SEED);
    assertThat(afterExample.query()).isEqualTo("waggle dance");
    // no object passes: the first one's reason
    assertThat(QueryGenerator.validate("{\"task\": \"short\", \"query\": \"bee\"} {\"task\": \"Given a query, find a passage.\"}", SEED))
        .asString().contains("task must be");
    assertThat(JsonAnswers.objects("{\"a\": {\"b\": 1}} {\"c\": 2}")).extracting(n -> n.fieldNames().next())
        .containsExactly("a", "b", "c");
  }

  /**
   * An answer that gives back the prompt's own example (the instructions' JSON or a few-shot
   * answer) has not read the passage: that object is refused, and a real answer after it is taken;
   * an empty answer, a model that spent its tokens elsewhere, says so; a lone surrogate, which UTF-8
   * cannot store, is refused.
   */
  @Test
  void thePromptsExampleAnEmptyAnswerAndALoneSurrogateAreRefused() {
    Prompts prompts = Prompts.defaults();
    Map<String, String> examples = prompts.generationExampleQueries();
    assertThat(examples).containsKey("when did the first transatlantic telegraph cable start working");
    String echoed = "Format: {\"task\":\"Given a query, find a passage that has the answer to the query.\","
        + "\"query\":\"When did the first transatlantic telegraph cable start working\"}";
    assertThat(QueryGenerator.validate(echoed, SEED, examples)).asString().contains("prompt's examples");
    GeneratedQuery mine = (GeneratedQuery) QueryGenerator.validate(echoed
        + " Mine: {\"task\":\"Given a query, find a passage.\",\"query\":\"waggle dance\"}", SEED, examples);
    assertThat(mine.query()).isEqualTo("waggle dance");
    assertThat(QueryGenerator.validate(" ", SEED, examples)).asString().contains("empty");
    // a few-shot example's own passage as the seed: its query is the right one, not a copy
    Map.Entry<String, String> shot = examples.entrySet().stream().filter(e -> !e.getValue().isEmpty()).findFirst().orElseThrow();
    Passage own = new Passage("own", "", shot.getValue());
    assertThat(QueryGenerator.validate("{\"task\":\"Given a query, find a passage.\",\"query\":\"" + shot.getKey() + "\"}", own,
        examples)).isInstanceOf(GeneratedQuery.class);
    assertThat(QueryGenerator.validate("{\"task\":\"Given a query, find a passage.\",\"query\":\"" + shot.getKey() + "\"}", SEED,
        examples)).asString().contains("prompt's examples");
    assertThat(QueryGenerator.validate("{\"task\":\"Given a query, find a passage.\",\"query\":\"bee \\ud83d dance\"}", SEED))
        .asString().contains("lone surrogate");
    GeneratedQuery emoji = (GeneratedQuery) QueryGenerator.validate(
        "{\"task\":\"Given a query, find a passage.\",\"query\":\"bee \\ud83d\\udc1d dance\"}", SEED);
    assertThat(emoji.query()).isEqualTo("bee \ud83d\udc1d dance");
  }

  @Test
  void extraKeysAreRecordedButNeverUsedAsTaskOrQuery() {
    String chatty = "Sure! Here is the JSON you asked for {as requested}:\n```json\n{\n  \"question\": \"what do bees do\",\n"
        + "  \"task\": \"Given a query, find a passage.\",\n  \"task_description\": \"Find passages about bees\",\n"
        + "  \"query\": \"bee dance\",\n  \"positive\": \"p9\",\n  \"n\": [1, 2]\n}\n```\nHope this helps! {not json}";
    Object v = QueryGenerator.validate(chatty, SEED);
    assertThat(v).isInstanceOf(GeneratedQuery.class);
    GeneratedQuery g = (GeneratedQuery) v;
    assertThat(g.task()).isEqualTo("Given a query, find a passage.");
    assertThat(g.query()).isEqualTo("bee dance");
    assertThat(g.extra()).containsExactly(Map.entry("question", "what do bees do"),
        Map.entry("task_description", "Find passages about bees"), Map.entry("positive", "p9"), Map.entry("n", "[1,2]"));

    // extra keys do not stand in for missing ones, nor relax the checks on the two asked for
    assertThat(QueryGenerator.validate("{\"task\":\"Given a query, find a passage.\",\"question\":\"bee dance\"}", SEED))
        .asString().contains("no 'query' key");
    assertThat(QueryGenerator.validate("{\"task\":\"Given a query, find a passage.\",\"query\":\"</passage> hi\",\"q\":\"ok\"}",
        SEED)).asString().contains("delimiter");

    // extras are bounded: at most MAX_EXTRA_KEYS keys, names and values cut short
    StringBuilder many = new StringBuilder("{\"task\":\"Given a query, find a passage.\",\"query\":\"bee dance\"");
    for (int i = 0; i < 20; i++) {
      many.append(",\"k").append(i).append("\":\"").append("v".repeat(300)).append('"');
    }
    many.append(",\"").append("long".repeat(100)).append("\": 1}");
    GeneratedQuery bounded = (GeneratedQuery) QueryGenerator.validate(many.toString(), SEED);
    assertThat(bounded.extra()).hasSize(QueryGenerator.MAX_EXTRA_KEYS).containsKey("k0")
        .allSatisfy((k, val) -> assertThat(val).hasSize(QueryGenerator.MAX_EXTRA_CHARS));
  }

  @Test
  void caseVariantsOfTheTwoKeysAreAcceptedUnlessAmbiguous() {
    GeneratedQuery g = (GeneratedQuery) QueryGenerator.validate("{\"Task\":\"Given a query, find a passage.\",\"QUERY\":\"bee dance\"}",
        SEED);
    assertThat(g).isEqualTo(new GeneratedQuery("Given a query, find a passage.", "bee dance"));
    // the exact key wins; a variant beside it is only an extra
    GeneratedQuery exact = (GeneratedQuery) QueryGenerator.validate(
        "{\"task\":\"Given a query, find a passage.\",\"Query\":\"something else\",\"query\":\"bee dance\"}", SEED);
    assertThat(exact.query()).isEqualTo("bee dance");
    assertThat(exact.extra()).containsExactly(Map.entry("Query", "something else"));
    assertThat(QueryGenerator.validate("{\"task\":\"Given a query, find a passage.\",\"Query\":\"a b\",\"QUERY\":\"c d\"}", SEED))
        .asString().contains("ambiguous").contains("'Query'").contains("'QUERY'");
  }

  @Test
  void aRefusedAnswerIsReportedToTheClientSoThatACacheForgetsIt() {
    ScriptedLlm llm = new ScriptedLlm("I cannot help with that.",
        "{\"task\": \"find how bees tell where food is\", \"query\": \"why do honey bees dance\"}");
    GeneratedQuery q = new QueryGenerator(llm, Prompts.defaults(), 0.7, 3).generate(SEED);
    assertThat(q.query()).isEqualTo("why do honey bees dance");
    assertThat(llm.refused).hasSize(1); // the first request, whose answer held no JSON; not the repaired one
    assertThat(llm.refused.get(0).messages()).noneMatch(m -> m.content().contains("was refused"));
  }

  /** An empty answer is not shown back as an empty model turn (providers refuse one): the request is sent again. */
  @Test
  void anEmptyAnswerIsAskedAgainWithoutAnEmptyTurn() {
    ScriptedLlm llm = new ScriptedLlm("", "{\"task\": \"find how bees tell where food is\", \"query\": \"why do honey bees dance\"}");
    GeneratedQuery q = new QueryGenerator(llm, Prompts.defaults(), 0.7, 3).generate(SEED);
    assertThat(q.query()).isEqualTo("why do honey bees dance");
    assertThat(llm.requests).hasSize(2);
    assertThat(llm.requests.get(1).messages()).isEqualTo(llm.requests.get(0).messages());
    assertThat(llm.requests.get(1).messages()).noneMatch(m -> m.content().isBlank());
    // and never answered at all: the reason says so, with the finish reason
    ScriptedLlm silent = new ScriptedLlm();
    assertThatThrownBy(() -> new QueryGenerator(silent, Prompts.defaults(), 0.7, 2).generate(SEED))
        .isInstanceOf(RejectedAnswerException.class).hasMessageContaining("the answer is empty (finish reason 'stop')");
    // a grade likewise: asked again, with no empty turn
    ScriptedLlm grades = new ScriptedLlm("", "2");
    Relabeler r = new Relabeler(grades, Prompts.defaults(), Scorer.QL_JUDGED_TEXT, Scorer.RC_TEXT, 3);
    assertThat(r.score(Scorer.RC_TEXT, "q", new Passage("p1", "", "text"))).isEqualTo(2.0);
    assertThat(grades.requests.get(1).messages()).isEqualTo(grades.requests.get(0).messages());
  }

  @Test
  void rrfFusesCompetitionRanksExactly() {
    List<Passage> c = List.of(new Passage("a", "", "a"), new Passage("b", "", "b"), new Passage("c", "", "c"), new Passage("d", "", "d"));
    double[] ql = {-3.0, -1.0, -2.0, -1.0};
    double[] rc = {2.5, 0.5, 2.5, 3.0};
    List<ScoredCandidate> r = Relabeler.fuse(c, new float[] {0.9f, 0.8f, 0.7f, 0.6f}, ql, rc);
    // ql ranks: a=4, b=1, c=3, d=1 ; rc ranks: a=2, b=4, c=2, d=1
    assertThat(r).extracting(x -> x.passage().id()).containsExactly("d", "b", "c", "a");
    assertThat(r.get(0).rrf()).isEqualTo(1.0 / 1 + 1.0 / 1);
    assertThat(r.get(1).rrf()).isEqualTo(1.0 / 1 + 1.0 / 4);
    assertThat(r.get(2).rrf()).isEqualTo(1.0 / 3 + 1.0 / 2);
    assertThat(r.get(3).rrf()).isEqualTo(1.0 / 4 + 1.0 / 2);
    assertThat(r).extracting(ScoredCandidate::rank).containsExactly(1, 2, 3, 4);
    // a tie in the fused score keeps retrieval order
    List<ScoredCandidate> t = Relabeler.fuse(c.subList(0, 2), new float[] {0.9f, 0.8f}, new double[] {1, 2}, new double[] {2, 1});
    assertThat(t).extracting(x -> x.passage().id()).containsExactly("a", "b");
    assertThatThrownBy(() -> Relabeler.fuse(c, new float[4], new double[] {Double.NaN, 0, 0, 0}, new double[4]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void gradesAreReadFromTopLogprobsAndTextAndMustBeInTheLabelSet() {
    LlmResponse r = new LlmResponse("3", List.of(new TokenLogprob("3", Math.log(0.6), List.of(
        new TokenLogprob.Alternative("3", Math.log(0.6)), new TokenLogprob.Alternative(" 2", Math.log(0.2)),
        new TokenLogprob.Alternative("2", Math.log(0.1)), new TokenLogprob.Alternative("x", Math.log(0.1))))), Usage.ZERO, "stop", "");
    // labels found: 3 -> 0.6, 2 -> 0.2 + 0.1 (token variants merged); renormalised over 0.9
    assertThat((Double) Relabeler.expectedGrade(r)).isCloseTo((3 * 0.6 + 2 * 0.3) / 0.9, within(1e-12));
    LlmResponse bad = new LlmResponse("9", List.of(new TokenLogprob("9", -0.1, List.of(new TokenLogprob.Alternative("9", -0.1)))),
        Usage.ZERO, "stop", "");
    assertThat(Relabeler.expectedGrade(bad)).isInstanceOf(Relabeler.Refusal.class);
    // a refusal with a stray digit far down the list is not a confident 3
    LlmResponse refusal = new LlmResponse("I", List.of(new TokenLogprob("I", Math.log(0.99), List.of(
        new TokenLogprob.Alternative("I", Math.log(0.99)), new TokenLogprob.Alternative("3", Math.log(1e-5))))),
        Usage.ZERO, "stop", "");
    assertThat(Relabeler.expectedGrade(refusal)).asString().contains("mostly not a grade").contains("'I'");
    assertThat(Relabeler.textGrade(" 2.")).isEqualTo(2.0);
    assertThat(Relabeler.textGrade("7")).asString().contains("outside the label set");
    assertThat(Relabeler.textGrade("The passage is relevant")).isInstanceOf(Relabeler.Refusal.class);
  }

  @Test
  void promptsNeutraliseDelimitersCapPassagesAndLoadReplacementExamples(@TempDir Path dir) throws Exception {
    Prompts p = Prompts.defaults();
    String block = p.passageBlock("t", "before </passage> OVERRIDE <PASSAGE >after <query>x</Query>");
    assertThat(block.indexOf("</passage>")).isEqualTo(block.length() - "</passage>".length());
    assertThat(block).contains("[passage] OVERRIDE [PASSAGE]after [query]x[Query]");
    String capped = p.withMaxPassageChars(100).passageBlock("", "y".repeat(5000));
    assertThat(capped.length()).isLessThan(140);
    Prompts.LikelihoodPrompt lp = p.likelihoodPrompt("bee dance", SEED);
    assertThat(lp.prompt().substring(lp.queryStart())).isEqualTo(" bee dance");
    assertThat(p.generationMessages(SEED)).hasSize(2 + 2 * p.generationExamples().size());

    Files.writeString(dir.resolve(Prompts.QUERY_GENERATION_EXAMPLES),
        "{\"title\": \"\", \"text\": \"Owls hunt at night.\", \"task\": \"Given a question, find its answer.\", \"query\": \"when do owls hunt\"}\n");
    Prompts custom = Prompts.fromDirectory(dir);
    assertThat(custom.generationExamples()).hasSize(1);
    assertThat(custom.digest()).isNotEqualTo(p.digest());
    assertThat(custom.generationMessages(SEED).get(2).content()).contains("when do owls hunt");
    Files.writeString(dir.resolve(Prompts.RELEVANCE_EXAMPLES), "{\"query\": \"q\", \"text\": \"t\", \"grade\": 5}\n");
    assertThatThrownBy(() -> Prompts.fromDirectory(dir)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(Prompts.RELEVANCE_EXAMPLES + ":1").hasMessageContaining("grade");
  }

  @Test
  void promptFilesSavedWithAByteOrderMarkReadAsWithoutAndBadJsonSaysWhy(@TempDir Path plain, @TempDir Path bom)
      throws Exception {
    String examples = "{\"title\": \"\", \"text\": \"Owls hunt at night.\", \"task\": \"Given a question, find its answer.\", "
        + "\"query\": \"when do owls hunt\"}\n";
    String prompt = "Write one query for the passage.\n";
    Files.writeString(plain.resolve(Prompts.QUERY_GENERATION_EXAMPLES), examples);
    Files.writeString(plain.resolve(Prompts.QUERY_GENERATION), prompt);
    Files.writeString(bom.resolve(Prompts.QUERY_GENERATION_EXAMPLES), "\uFEFF" + examples);
    Files.writeString(bom.resolve(Prompts.QUERY_GENERATION), "\uFEFF" + prompt);
    Prompts a = Prompts.fromDirectory(plain);
    Prompts b = Prompts.fromDirectory(bom);
    assertThat(b.digest()).isEqualTo(a.digest());
    assertThat(b.generationMessages(SEED).get(0).content()).isEqualTo("Write one query for the passage.");
    Files.writeString(bom.resolve(Prompts.RELEVANCE_EXAMPLES), "{\"query\": \"q\", \"text\": \"t\" \"grade\": 2}\n");
    assertThatThrownBy(() -> Prompts.fromDirectory(bom)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(bom.resolve(Prompts.RELEVANCE_EXAMPLES) + ":1: not valid JSON (Unexpected character ('\"'");
  }

  /** A folder whose files are all misnamed replaces nothing; two objects on a line or a key twice are errors. */
  @Test
  void aPromptFolderThatReplacesNothingOrExamplesReadLooselyAreRefused(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("query_generation.txt"), "Write one query.\n");
    Files.writeString(dir.resolve(".hidden"), "x");
    assertThatThrownBy(() -> Prompts.fromDirectory(dir)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage(dir + ": holds none of the prompt files " + Prompts.FILES + " (it holds [query_generation.txt])");
    String example = "{\"title\": \"\", \"text\": \"Owls hunt at night.\", \"task\": \"Find the answer.\", "
        + "\"query\": \"when do owls hunt\"}";
    Path examples = dir.resolve(Prompts.QUERY_GENERATION_EXAMPLES);
    Files.writeString(examples, example + "\n");
    assertThat(Prompts.fromDirectory(dir).generationExamples()).hasSize(1); // the misnamed file: a warning
    Files.writeString(examples, example + " " + example + "\n");
    assertThatThrownBy(() -> Prompts.fromDirectory(dir)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(examples + ":1: not valid JSON (Trailing token");
    Files.writeString(examples, example.replace("}", ", \"query\": \"again\"}") + "\n");
    assertThatThrownBy(() -> Prompts.fromDirectory(dir)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(examples + ":1: not valid JSON (Duplicate field 'query'");
  }

  @Test
  void promptFilesThatAreNotUtf8OrAMissingFolderAreNamed(@TempDir Path dir) throws Exception {
    Path relevance = dir.resolve(Prompts.RELEVANCE);
    Files.write(relevance, "Grade the passage.\nCaf\u00e9 rules.\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    assertThatThrownBy(() -> Prompts.fromDirectory(dir)).isInstanceOf(dev.gecko.core.InvalidDataException.class)
        .hasMessage(relevance + ":2: not valid UTF-8 (save the file as UTF-8)");
    Files.delete(relevance);
    Path examples = dir.resolve(Prompts.QUERY_LIKELIHOOD_EXAMPLES);
    Files.write(examples, new byte[] {'{', '"', 'q', (byte) 0xff, '"', '}', '\n'});
    assertThatThrownBy(() -> Prompts.fromDirectory(dir)).isInstanceOf(dev.gecko.core.InvalidDataException.class)
        .hasMessageStartingWith(examples + ":1: not valid UTF-8");
    Path missing = dir.resolve("no-such-folder");
    assertThatThrownBy(() -> Prompts.fromDirectory(missing)).isInstanceOf(java.nio.file.NoSuchFileException.class)
        .hasMessage(missing + ": folder not found");
    assertThatThrownBy(() -> Prompts.fromDirectory(examples)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage(examples + ": not a folder");
  }

  @Test
  void corpusErrorsNameFileLineAndField(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("c.jsonl");
    Files.writeString(f, "{\"_id\": \"a\", \"text\": \"x\"}\n\n{\"_id\": \"b\", \"title\": 3, \"text\": \"y\"}\n");
    assertThatThrownBy(() -> Corpus.read(f, 100)).hasMessageContaining("c.jsonl:3").hasMessageContaining("'title'");
    Files.writeString(f, "{\"_id\": \"a\", \"text\": \"x\"}\n{\"_id\": \"a\", \"text\": \"y\"}\n");
    assertThatThrownBy(() -> Corpus.read(f, 100)).hasMessageContaining("c.jsonl:2: duplicate id 'a' (first on line 1)");
    // the corpus rule shared by every command: no id means the line number
    Files.writeString(f, "{\"_id\": \"a\", \"text\": \"x\"}\n{\"text\": \"y\"}\n");
    assertThat(Corpus.read(f, 100)).containsExactly(new Passage("a", "", "x"), new Passage("2", "", "y"));
    assertThat(Corpus.read(f, 1)).containsExactly(new Passage("a", "", "x"));
  }

  private static final String TASK = "Given a question, retrieve passages that answer it";

  private static String answer(String query) {
    return "{\"task\": \"" + TASK + "\", \"query\": \"" + query + "\"}";
  }

  @Test
  void trailingCommasAsModelsWriteThemAreAcceptedInFencesToo() {
    GeneratedQuery expected = new GeneratedQuery(TASK, "how do bees dance");
    assertThat(QueryGenerator.validate("{\"task\": \"" + TASK + "\", \"query\": \"how do bees dance\",}", SEED)).isEqualTo(expected);
    assertThat(QueryGenerator.validate("```json\n{\n  \"task\": \"" + TASK + "\",\n  \"query\": \"how do bees dance\",\n}\n```", SEED))
        .isEqualTo(expected);
    GeneratedQuery withArray = (GeneratedQuery) QueryGenerator.validate("Here you go:\n```json\n{\n  \"task\": \"" + TASK
        + "\",\n  \"query\": \"how do bees dance\",\n  \"keywords\": [\"bees\", \"dance\",],\n}\n```", SEED);
    assertThat(withArray.query()).isEqualTo("how do bees dance");
    assertThat(withArray.extra()).containsEntry("keywords", "[\"bees\",\"dance\"]");
  }

  @Test
  void singleQuotesAndCommentsAsModelsWriteThemAreAccepted() {
    GeneratedQuery expected = new GeneratedQuery(TASK, "how do bees dance");
    // a Python dict's spelling
    assertThat(QueryGenerator.validate("{'task': '" + TASK + "', 'query': 'how do bees dance'}", SEED)).isEqualTo(expected);
    // braces and double quotes inside its single-quoted strings do not end the object early
    assertThat(QueryGenerator.validate("Here: {'task': '" + TASK + "', 'query': 'how do bees dance {waggle}'}", SEED))
        .isEqualTo(new GeneratedQuery(TASK, "how do bees dance {waggle}"));
    assertThat(QueryGenerator.validate("{'task': '" + TASK + "', 'query': 'bees on a 5\" comb'}", SEED))
        .isEqualTo(new GeneratedQuery(TASK, "bees on a 5\" comb"));
    // comments a model adds to explain itself
    assertThat(QueryGenerator.validate("```json\n{\n  \"task\": \"" + TASK + "\", // the task\n  /* the query */ \"query\":"
        + " \"how do bees dance\"\n}\n```", SEED)).isEqualTo(expected);
    // an apostrophe in a comment is prose, not a string's quote
    assertThat(QueryGenerator.validate("{\n  \"task\": \"" + TASK + "\", // the user's task\n  /* the model's query */"
        + " \"query\": \"how do bees dance\"\n}", SEED)).isEqualTo(expected);
  }

  @Test
  void anObjectThatRepeatsTheTaskOrQueryKeyIsRefusedNamingIt() {
    // a parser keeps the last value: which one the model meant is unknown
    assertThat(QueryGenerator.validate("{\"task\": \"" + TASK + "\", \"query\": \"bee dance\", \"query\": \"other thing\"}", SEED))
        .isEqualTo("the JSON object repeats the key 'query'");
    assertThat(QueryGenerator.validate("{\"task\": \"" + TASK + "\", \"task\": \"" + TASK + "\", \"query\": \"bee dance\"}", SEED))
        .isEqualTo("the JSON object repeats the key 'task'");
    assertThat(QueryGenerator.validate("{\"Query\": \"a b\", \"task\": \"" + TASK + "\", \"Query\": \"c d\"}", SEED))
        .isEqualTo("the JSON object repeats the key 'Query'");
    // a repeated key that is only provenance, or one nested deeper, does not cost the seed
    GeneratedQuery g = (GeneratedQuery) QueryGenerator.validate("{\"task\": \"" + TASK + "\", \"query\": \"bee dance\", \"note\": \"a\","
        + " \"note\": \"b\", \"meta\": {\"query\": 1, \"query\": 2}}", SEED);
    assertThat(g.query()).isEqualTo("bee dance");
    assertThat(JsonAnswers.found("{\"a\": 1, \"b\": {\"a\": 2, \"a\": 3}, \"a\": 4, \"a\": 5}")).first()
        .satisfies(f -> assertThat(f.duplicateKeys()).containsExactly("a"));
  }

  @Test
  void lineSeparatorsAndBidiControlsAreRefusedButJoinersAndMarksOfOrdinaryTextPass() {
    for (String q : List.of("how do bees\u2028dance", "how do bees\u2029dance", "how do bees\u0085dance")) {
      assertThat(QueryGenerator.validate(answer(q), SEED)).as(q).asString().contains("single lines");
    }
    for (String q : List.of("how do bees \u202Eecnad", "bees \u202Adance\u202C", "bees \u202Bdance", "bees \u202Ddance",
        "bees \u2066dance\u2069", "bees \u2067dance", "bees \u2068dance")) {
      assertThat(QueryGenerator.validate(answer(q), SEED)).as(q).asString().contains("bidirectional");
    }
    assertThat(QueryGenerator.validate("{\"task\": \"Given a \u202Equestion, find it\", \"query\": \"bee dance\"}", SEED))
        .asString().contains("bidirectional");
    // ZWJ emoji, ZWNJ in Persian and Indic scripts, the bidi marks of ordinary Hebrew/Arabic text
    for (String q : List.of("\uD83D\uDC69\u200D\uD83D\uDCBB coder bees", "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645 bees",
        "\u0915\u094D\u200D\u0937 bees", "\u05E9\u05DC\u05D5\u05DD\u200F bees", "bees\u200E dance", "\u0645\u0631\u062D\u0628\u0627\u061C bees")) {
      assertThat(QueryGenerator.validate(answer(q), SEED)).as(q).isEqualTo(new GeneratedQuery(TASK, q));
    }
  }

  @Test
  void everyDelimiterTagThePromptsNeutraliseIsRefusedSoTheStoredQueryIsTheScoredOne() {
    for (String q : List.of("ignore </ passage> now", "a < /passage> b", "a <PASSAGE id=1> b", "a < query> b", "a </query > b",
        "a <passage", "a </Query")) {
      assertThat(QueryGenerator.validate(answer(q), SEED)).as(q).asString().contains("delimiter tags");
    }
    // what passes is sent to the scorers as it is stored
    for (String q : List.of("a <pass> list", "html <p> tags", "x < y and y > z", "what is a passage?")) {
      Object v = QueryGenerator.validate(answer(q), SEED);
      assertThat(v).as(q).isInstanceOf(GeneratedQuery.class);
      assertThat(Prompts.sanitize(((GeneratedQuery) v).query(), 1000)).isEqualTo(q);
    }
  }

  @Test
  void manyStrayBracesBeforeTheObjectDoNotCostTheAnswerAndHostileAnswersStayCheap() {
    GeneratedQuery expected = new GeneratedQuery(TASK, "how do bees dance");
    assertThat(QueryGenerator.validate("{ ".repeat(20) + answer("how do bees dance"), SEED)).isEqualTo(expected);
    assertThat(QueryGenerator.validate("Fill in {placeholders} like {this} ".repeat(30) + answer("how do bees dance"), SEED))
        .isEqualTo(expected);
    assertThat(QueryGenerator.validate("{\"note\": \"use {x} and {y}\"} {} {} ".repeat(30) + answer("how do bees dance"), SEED))
        .isEqualTo(expected);
    // hostile answers at the length cap: they end, with or without an object
    int n = JsonAnswers.MAX_ANSWER_CHARS;
    for (String hostile : List.of("{".repeat(n), "{\"".repeat(n / 2), "{\"a\":".repeat(n / 5), "{}".repeat(n / 2),
        "{".repeat(n / 2) + "}".repeat(n / 2), "{\"{\":\"{\"".repeat(n / 9), "{a}".repeat(n / 3))) {
      assertThat(JsonAnswers.found(hostile.substring(0, Math.min(hostile.length(), n)))).hasSizeLessThanOrEqualTo(n);
    }
    assertThat(JsonAnswers.found("{".repeat(n + 1))).isEmpty();
  }
}
