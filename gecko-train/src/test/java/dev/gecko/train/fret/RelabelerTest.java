package dev.gecko.train.fret;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gecko.core.io.Passage;
import dev.gecko.train.llm.Message;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Text grades as real chat models word them: wrapped digits are read, ambiguous or out-of-range ones refused. */
class RelabelerTest {

  @Test
  void aGradeDigitWrappedInMarkdownOrALabelIsRead() {
    List<String> twos = List.of("2", " 2.", "**2**", "__2__", "`2`", "Grade: 2", "**Grade:** 2", "Grade: **2**",
        "2 - somewhat relevant", "2 – somewhat relevant", "Relevance (0-3): 2", "Grade 2: somewhat relevant", "[2]",
        "Answer = 2\n", "2, somewhat relevant", "I would grade it 2.");
    for (String a : twos) {
      assertThat(Relabeler.textGrade(a)).as(a).isEqualTo(2.0);
    }
    assertThat(Relabeler.textGrade("**0**")).isEqualTo(0.0);
    assertThat(Relabeler.textGrade("Score: 3 (highly relevant)")).isEqualTo(3.0);
  }

  @Test
  void ambiguousOrOutOfRangeGradesAreStillRefused() {
    for (String a : List.of("2 or 3", "2/3", "Grade: 2-3", "**2** or **3**", "1, 2", "Relevance (0-3): 2 or 3", "3 out of 3")) {
      assertThat(Relabeler.textGrade(a)).as(a).asString().contains("ambiguous");
    }
    for (String a : List.of("7", "**9**", "Grade: 10", "-1", "Grade: -1", "2.5", "99999999999999999999")) {
      assertThat(Relabeler.textGrade(a)).as(a).asString().contains("outside the label set");
    }
    for (String a : List.of("", "The passage is relevant", "two", "2nd", "v2", "Grade:")) {
      assertThat(Relabeler.textGrade(a)).as(a).isInstanceOf(Relabeler.Refusal.class);
    }
    assertThat(Relabeler.textGrade(null)).isInstanceOf(Relabeler.Refusal.class);
  }

  @Test
  void aTextScorerAcceptsAWrappedGradeWithoutARepairTurn() {
    ScriptedLlm llm = new ScriptedLlm("**Grade:** 2", "Relevance: 3 - highly relevant");
    Relabeler r = new Relabeler(llm, Prompts.defaults(), Scorer.QL_JUDGED_TEXT, Scorer.RC_TEXT, 3);
    Passage p = new Passage("p1", "Bees", "Honey bees dance to show where food is.");
    assertThat(r.score(Scorer.QL_JUDGED_TEXT, "honey bees dance", p)).isEqualTo(2.0);
    assertThat(r.score(Scorer.RC_TEXT, "honey bees dance", p)).isEqualTo(3.0);
    assertThat(llm.requests).hasSize(2);
    assertThat(llm.requests).allSatisfy(q -> assertThat(q.messages()).extracting(Message::content)
        .noneMatch(c -> c.contains("That answer was refused")));
  }

  /**
   * A server that gives no usable echo at all (after the client's retries) does not support the
   * prompt-logprobs scorer: that stops the run, not one grade after another.
   */
  @Test
  void aServerWithoutUsableEchoLogprobsIsNotOneRefusedGrade() {
    dev.gecko.train.llm.LlmClient noEcho = echoOnly("no-echo", prompt -> {
      throw new dev.gecko.train.llm.MalformedResponseException("completion has no usable echo logprobs", 200, "{}", "",
          dev.gecko.train.llm.Usage.ZERO);
    });
    Relabeler r = new Relabeler(noEcho, Prompts.defaults(), Scorer.QL_PROMPT_LOGPROBS, Scorer.RC_TEXT, 3);
    assertThatThrownBy(() -> r.score(Scorer.QL_PROMPT_LOGPROBS, "q", new Passage("p1", "", "text")))
        .isInstanceOf(dev.gecko.train.llm.LlmException.class).isNotInstanceOf(RejectedAnswerException.class)
        .hasMessageContaining("no usable echo").hasMessageContaining("--prompt-logprobs")
        .satisfies(e -> assertThat(((dev.gecko.train.llm.LlmException) e).retryable()).isFalse());
  }

  /**
   * Once most candidates cannot get a valid grade, the seed is lost whatever the rest would get:
   * they are not graded (each grade is a paid call, and a model that never grades would pay for
   * them all). Refusals of different answers share their reason, so that a run's summary counts
   * such seeds together.
   */
  @Test
  void aSeedThatMostCandidatesCannotGradeStopsBeingGradedOnceItIsLost() {
    ScriptedLlm llm = new ScriptedLlm(); // answers nothing a grade can be read from
    Relabeler r = new Relabeler(llm, Prompts.defaults(), Scorer.QL_JUDGED_TEXT, Scorer.RC_TEXT, 1);
    List<Passage> candidates = new java.util.ArrayList<>();
    for (int i = 0; i < 10; i++) {
      candidates.add(new Passage("p" + i, "", "passage " + i));
    }
    assertThatThrownBy(() -> r.relabel("q", candidates, new float[10]))
        .isInstanceOfSatisfying(RejectedAnswerException.class, e -> assertThat(e.reason())
            .isEqualTo("most candidates got no valid grade; last: the answer is not a single grade digit (after 1 attempts)"))
        .hasMessageContaining("(6 QL, 6 RC of 10 invalid, the last 4 not graded)");
    assertThat(llm.requests).as("a QL and an RC grade for each of the first 6 candidates").hasSize(12);

    Relabeler.Refusal seven = (Relabeler.Refusal) Relabeler.textGrade("7");
    Relabeler.Refusal nine = (Relabeler.Refusal) Relabeler.textGrade("Grade: 9");
    assertThat(seven.reason()).isEqualTo(nine.reason()).isEqualTo("the grade is outside the label set 0-3");
    assertThat(seven.detail()).isEqualTo("grade 7");
    assertThat(nine).hasToString("the grade is outside the label set 0-3 (grade 9)");
    // the refused answer's own detail stays in the seed's message, which rejects.jsonl records
    ScriptedLlm sevens = new ScriptedLlm("7", "7", "7", "7");
    Relabeler strict = new Relabeler(sevens, Prompts.defaults(), Scorer.QL_JUDGED_TEXT, Scorer.RC_TEXT, 1);
    assertThatThrownBy(() -> strict.relabel("q", candidates.subList(0, 2), new float[2]))
        .isInstanceOfSatisfying(RejectedAnswerException.class, e -> assertThat(e.reason())
            .isEqualTo("most candidates got no valid grade; last: the grade is outside the label set 0-3 (after 1 attempts)"))
        .hasMessageEndingWith("(2 QL, 2 RC of 2 invalid) (grade 7)");
  }

  @Test
  void anAmbiguousGradeIsSentBackWithItsReason() {
    ScriptedLlm llm = new ScriptedLlm("2 or 3", "2");
    Relabeler r = new Relabeler(llm, Prompts.defaults(), Scorer.QL_JUDGED_TEXT, Scorer.RC_TEXT, 3);
    assertThat(r.score(Scorer.RC_TEXT, "q", new Passage("p1", "", "text"))).isEqualTo(2.0);
    assertThat(llm.requests).hasSize(2);
    assertThat(llm.requests.get(1).messages().get(llm.requests.get(1).messages().size() - 1).content())
        .contains("That answer was refused").contains("ambiguous");
  }

  @Test
  void anEchoThatDoesNotAlignWithThePromptRejectsTheGradeNotTheRun() {
    // a character the tokenizer splits comes back as U+FFFD pieces: the echo no longer spells the prompt
    dev.gecko.train.llm.LlmClient echoing = echoOnly("echoing", prompt -> new dev.gecko.train.llm.PromptLogprobs(prompt,
        List.of("\uFFFD", "\uFFFD"), List.of(-1.0, -2.0), List.of(0, 1), dev.gecko.train.llm.Usage.ZERO));
    Relabeler r = new Relabeler(echoing, Prompts.defaults(), Scorer.QL_PROMPT_LOGPROBS, Scorer.RC_TEXT, 3);
    assertThatThrownBy(() -> r.score(Scorer.QL_PROMPT_LOGPROBS, "bees \uD83D\uDC1D dance", new Passage("p1", "", "text")))
        .isInstanceOfSatisfying(RejectedAnswerException.class, e -> assertThat(e.stage()).isEqualTo("ql"))
        .hasMessageContaining("align");
  }

  /** A client that gives prompt log-probabilities only, from {@code echo}; asked to generate, it fails the test. */
  private static dev.gecko.train.llm.LlmClient echoOnly(String name,
      java.util.function.Function<String, dev.gecko.train.llm.PromptLogprobs> echo) {
    return new dev.gecko.train.llm.LlmClient() {
      @Override
      public String model() {
        return name;
      }

      @Override
      public java.util.Set<dev.gecko.train.llm.Capability> capabilities() {
        return java.util.EnumSet.of(dev.gecko.train.llm.Capability.PROMPT_LOGPROBS);
      }

      @Override
      public dev.gecko.train.llm.LlmResponse generate(dev.gecko.train.llm.LlmRequest request) {
        throw new AssertionError("not called");
      }

      @Override
      public dev.gecko.train.llm.PromptLogprobs promptLogprobs(String prompt) {
        return echo.apply(prompt);
      }
    };
  }
}
