package dev.gecko.core.internal.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gecko.core.EmbedRequest;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class PythonStringsTest {
  /** Python 3's {@code [c for c in range(0x110000) if chr(c).isspace()]}. */
  private static final Set<Integer> PYTHON_SPACES = Set.of(0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85,
      0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028,
      0x2029, 0x202f, 0x205f, 0x3000);

  @Test
  void whitespaceIsPythonsToTheCodePoint() {
    Set<Integer> ours = IntStream.range(0, Character.MAX_CODE_POINT + 1).filter(PythonStrings::isSpace).boxed()
        .collect(Collectors.toSet());
    assertThat(ours).isEqualTo(PYTHON_SPACES);
  }

  @Test
  void stripsAsPythonDoesWhereJavaDoesNot() {
    String s = "\u00a0\u0085 a\u2007b \u202f\n";
    assertThat(s.strip()).as("Java keeps the no-break spaces and NEL").isNotEqualTo("a\u2007b");
    assertThat(PythonStrings.strip(s)).isEqualTo("a\u2007b");
    assertThat(PythonStrings.stripTrailing(s)).isEqualTo("\u00a0\u0085 a\u2007b");
    assertThat(PythonStrings.strip("")).isEmpty();
    assertThat(PythonStrings.strip("\u00a0 \u0085")).isEmpty();
    assertThat(PythonStrings.isBlank("\u00a0\u202f")).isTrue();
    assertThat(PythonStrings.isBlank(" x ")).isFalse();
    assertThat(PythonStrings.strip("x")).isEqualTo("x");
  }

  @Test
  void aTitleJoinsAsMtebJoinsIt() {
    // MTEB: (title + " " + text).strip(), Python's strip
    assertThat(PromptRenderer.render(null, EmbedRequest.document("body\u00a0").withTitle("\u00a0Title")))
        .isEqualTo("Title body");
    // a title Python sees as blank is no title
    assertThat(PromptRenderer.render(null, EmbedRequest.document(" body").withTitle("\u00a0"))).isEqualTo(" body");
  }
}
