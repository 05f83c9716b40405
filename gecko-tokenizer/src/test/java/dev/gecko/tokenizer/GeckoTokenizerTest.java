package dev.gecko.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GeckoTokenizerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static GeckoTokenizer tokenizer;

  @BeforeAll
  static void load() throws IOException {
    tokenizer = load(256);
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  static GeckoTokenizer load(int maxLength) throws IOException {
    try (InputStream in = GeckoTokenizerTest.class.getResourceAsStream("/gecko-models/all-minilm-l6-v2-q-tokenizer.json")) {
      return GeckoTokenizer.builder().tokenizerJson(in, "all-minilm-l6-v2-q-tokenizer.json").maxLength(maxLength).build();
    }
  }

  static Path shared() {
    return Path.of(System.getProperty("gecko.shared.dir", "../../shared"));
  }

  @Test
  void tokenIdsEqualTheGoldenReferenceAtMaxLength256And128() throws IOException {
    for (String set : new String[] {"short", "passages"}) {
      assertGolden(tokenizer, shared().resolve("golden/all-MiniLM-L6-v2.fp32.max256." + set + ".jsonl"));
      try (GeckoTokenizer at128 = load(128)) {
        assertGolden(at128, shared().resolve("golden/all-MiniLM-L6-v2.fp32.max128." + set + ".jsonl"));
      }
    }
  }

  private static void assertGolden(GeckoTokenizer tok, Path golden) throws IOException {
    int rows = 0;
    int truncated = 0;
    try (BufferedReader reader = Files.newBufferedReader(golden)) {
      String line;
      while ((line = reader.readLine()) != null) {
        JsonNode row = JSON.readTree(line);
        long[] expected = new long[row.get("input_ids").size()];
        for (int i = 0; i < expected.length; i++) {
          expected[i] = row.get("input_ids").get(i).asLong();
        }
        Encoding e = tok.encode(row.get("text").asText());
        assertThat(e.ids()).as("%s: %s", golden.getFileName(), row.get("text").asText()).containsExactly(expected);
        if (e.truncated()) {
          truncated++;
          assertThat(e.length()).isEqualTo(tok.maxLength());
          assertThat(e.originalLength()).isGreaterThan(tok.maxLength());
        }
        rows++;
      }
    }
    assertThat(rows).isEqualTo(64);
    if (golden.toString().contains("max128.passages")) {
      assertThat(truncated).as("passages are longer than 128 tokens").isEqualTo(64);
    }
  }

  @Test
  void batchesArePaddedToTheLongestRowWithThePadId() {
    TokenizedBatch batch = tokenizer.encodeBatch(List.of("hello world", "a much longer sentence than the first one", ""));
    assertThat(batch.rows()).isEqualTo(3);
    int longest = tokenizer.encode("a much longer sentence than the first one").length();
    assertThat(batch.sequenceLength()).isEqualTo(longest);
    long[] ids = new long[batch.rows() * batch.sequenceLength()];
    batch.inputIds().get(ids);
    long[] mask = new long[ids.length];
    batch.attentionMask().get(mask);
    assertThat(batch.length(0)).isEqualTo(4);
    assertThat(Arrays.copyOfRange(ids, 0, 4)).containsExactly(101, 7592, 2088, 102);
    assertThat(Arrays.copyOfRange(ids, 4, longest)).containsOnly(tokenizer.padId());
    assertThat(Arrays.copyOfRange(mask, 0, longest)).containsExactly(expectedMask(4, longest));
    // the empty text is just [CLS] [SEP]
    assertThat(batch.length(2)).isEqualTo(2);
    assertThat(batch.tokenCount() + batch.paddingCount()).isEqualTo((long) 3 * longest);
    assertThat(tokenizer.padId()).isZero();
  }

  private static long[] expectedMask(int ones, int length) {
    long[] m = new long[length];
    Arrays.fill(m, 0, ones, 1L);
    return m;
  }

  @Test
  void strayPaddingAndTruncationInTokenizerJsonAreIgnored() {
    // this tokenizer.json asks for fixed padding to 128 and truncation at 128
    assertThat(tokenizer.encode("hi").length()).isEqualTo(3);
    String longText = "word ".repeat(300);
    Encoding e = tokenizer.encode(longText);
    assertThat(e.length()).isEqualTo(256);
    assertThat(e.truncated()).isTrue();
    assertThat(e.originalLength()).isEqualTo(302);
    assertThat(tokenizer.countTokens(longText)).isEqualTo(302);
    long[] ids = e.ids();
    assertThat(ids[0]).isEqualTo(101);
    assertThat(ids[255]).isEqualTo(102);
  }

  @Test
  void truncationKeepsTheFirstTokensEvenWhereTheFileTruncatesFromTheLeft() throws IOException {
    com.fasterxml.jackson.databind.node.ObjectNode json;
    try (InputStream in = GeckoTokenizerTest.class.getResourceAsStream("/gecko-models/all-minilm-l6-v2-q-tokenizer.json")) {
      json = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(in);
    }
    ((com.fasterxml.jackson.databind.node.ObjectNode) json.get("truncation")).put("direction", "Left");
    String text = "first words stay " + "word ".repeat(300) + "last words go";
    try (GeckoTokenizer left = GeckoTokenizer.builder().tokenizerJson(
        new java.io.ByteArrayInputStream(JSON.writeValueAsBytes(json)), "left-truncating-tokenizer.json").maxLength(16)
        .build()) {
      long[] expected = tokenizer.encode("first words stay " + "word ".repeat(12)).ids();
      Encoding e = left.encode(text);
      assertThat(e.truncated()).isTrue();
      assertThat(e.ids()).hasSize(16);
      assertThat(Arrays.copyOf(e.ids(), 15)).containsExactly(Arrays.copyOf(expected, 15)); // [CLS] first words ...
      assertThat(e.ids()[15]).isEqualTo(102); // [SEP]
      assertThat(left.encodeAll(List.of(text)).get(0).ids()).containsExactly(e.ids());
    }
  }

  @Test
  void loneSurrogateDoesNotCorruptAnEmojiBesideIt() {
    String emoji = "\uD83D\uDE00"; // U+1F600
    long[] clean = tokenizer.encode("smile " + emoji + " now").ids();
    long[] withLone = tokenizer.encode("smile " + emoji + " now \uD800").ids();
    long[] expectedPrefix = Arrays.copyOf(clean, clean.length - 1); // without [SEP]
    assertThat(Arrays.copyOf(withLone, expectedPrefix.length)).containsExactly(expectedPrefix);
    assertThat(GeckoTokenizer.sanitize("a\uDC00b\uD83D\uDE00")).isEqualTo("a\uFFFDb\uD83D\uDE00");
    String plain = "nothing to replace";
    assertThat(GeckoTokenizer.sanitize(plain)).isSameAs(plain);
    assertThat(GeckoTokenizer.sanitize("\uD83D")).isEqualTo("\uFFFD");
  }

  @Test
  void nulCharactersAreRemovedByTheNormaliserNotACrash() {
    assertThat(tokenizer.encode("hello\u0000world").ids()).isEqualTo(tokenizer.encode("helloworld").ids());
  }

  @Test
  void nullTextIsRejectedWithItsIndex() {
    List<String> texts = new ArrayList<>(List.of("a", "b"));
    texts.add(null);
    assertThatThrownBy(() -> tokenizer.encodeAll(texts))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("texts[2] is null");
    assertThatThrownBy(() -> tokenizer.encode(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> tokenizer.pad(List.of())).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void invalidTokenizerJsonNamesItsSource(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
    Path bad = dir.resolve("tokenizer.json");
    Files.writeString(bad, "{\"version\": \"1.0\"}");
    assertThatThrownBy(() -> GeckoTokenizer.fromFile(bad, 128))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(bad.toString());
    Files.writeString(bad, "{not json");
    assertThatThrownBy(() -> GeckoTokenizer.fromFile(bad, 128))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not valid JSON");
    Files.write(bad, new byte[] {'{', (byte) 0xff, '}'});
    assertThatThrownBy(() -> GeckoTokenizer.fromFile(bad, 128))
        .isInstanceOf(IOException.class)
        .hasMessage(bad + ": not UTF-8 text, as a tokenizer.json must be");
    // from a stream (as the embedder reads a model folder's or jar's file) the same: a Latin-1 "é"
    // decoded leniently would become U+FFFD, another vocabulary entry, and vectors would differ silently
    byte[] latin1 = "{\"model\": {\"vocab\": {\"caf\u00e9\": 0}}}".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    assertThatThrownBy(() -> GeckoTokenizer.builder().tokenizerJson(new java.io.ByteArrayInputStream(latin1), "model/tokenizer.json"))
        .isInstanceOf(IOException.class).hasMessage("model/tokenizer.json: not UTF-8 text, as a tokenizer.json must be");
    // a folder where the file should be: named (reading it failed with a bare "Is a directory")
    Path folder = bad.resolveSibling("a-folder");
    Files.createDirectories(folder);
    assertThatThrownBy(() -> GeckoTokenizer.fromFile(folder, 128))
        .isInstanceOf(IOException.class).hasMessage(folder + ": a folder, not a tokenizer.json file");
  }

  /** A tokenizer.json re-saved by an editor that writes a byte order mark reads as without one. */
  @Test
  void aByteOrderMarkIsNotPartOfTheJson() throws IOException {
    byte[] json;
    try (InputStream in = GeckoTokenizerTest.class.getResourceAsStream("/gecko-models/all-minilm-l6-v2-q-tokenizer.json")) {
      json = in.readAllBytes();
    }
    byte[] marked = new byte[json.length + 3];
    marked[0] = (byte) 0xEF;
    marked[1] = (byte) 0xBB;
    marked[2] = (byte) 0xBF;
    System.arraycopy(json, 0, marked, 3, json.length);
    try (GeckoTokenizer withMark = GeckoTokenizer.builder()
        .tokenizerJson(new java.io.ByteArrayInputStream(marked), "bom-tokenizer.json").maxLength(128).build()) {
      assertThat(withMark.encode("a short text about bees").ids()).containsExactly(tokenizer.encode("a short text about bees").ids());
    }
  }

  @Test
  void closedTokenizerRejectsCallsAndCloseIsIdempotent() throws IOException {
    GeckoTokenizer t = load(128);
    Encoding before = t.encode("a short text");
    t.close();
    t.close();
    // what the class comment says: the methods that use the native tokenizer throw
    assertThatThrownBy(() -> t.encode("x")).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    assertThatThrownBy(() -> t.encodeAll(List.of("x"))).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
    assertThatThrownBy(() -> t.encodeBatch(List.of("x"))).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
    assertThatThrownBy(() -> t.countTokens("x")).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
    // and those that need none keep working
    assertThat(t.maxLength()).isEqualTo(128);
    assertThat(t.padId()).isEqualTo(tokenizer.padId());
    assertThat(t.pad(List.of(before)).rows()).isEqualTo(1);
  }

  @Test
  void concurrentEncodesAgreeWithSequentialOnes() throws Exception {
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      texts.add("sentence number " + i + " with some words " + "x".repeat(i % 17));
    }
    List<Encoding> expected = tokenizer.encodeAll(texts);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<List<Encoding>>> futures = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        futures.add(pool.submit(() -> tokenizer.encodeAll(texts)));
      }
      for (Future<List<Encoding>> f : futures) {
        List<Encoding> got = f.get();
        for (int i = 0; i < texts.size(); i++) {
          assertThat(got.get(i).ids()).isEqualTo(expected.get(i).ids());
        }
      }
    } finally {
      pool.shutdown();
    }
  }
}
