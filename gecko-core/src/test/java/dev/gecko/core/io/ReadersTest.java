package dev.gecko.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gecko.core.InvalidDataException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one way data files are read: lines, JSON Lines and corpora, with every error naming file and line. */
class ReadersTest {
  @TempDir Path dir;

  private Path write(String name, byte[] bytes) throws IOException {
    Path f = dir.resolve(name);
    Files.write(f, bytes);
    return f;
  }

  private Path write(String name, String text) throws IOException {
    return write(name, text.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] gzip(String text) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(b)) {
      z.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return b.toByteArray();
  }

  private static List<String> lines(Path f) throws IOException {
    List<String> out = new ArrayList<>();
    try (LineReader r = LineReader.open(f)) {
      String l;
      while ((l = r.readLine()) != null) {
        out.add(l);
      }
    }
    return out;
  }

  @Test
  void readsPlainAndGzipAlikeWhateverTheName() throws IOException {
    String text = "\uFEFFfirst\nsecond é\n\nlast";
    assertThat(lines(write("a.txt", text))).containsExactly("first", "second é", "", "last");
    assertThat(lines(write("b.txt.gz", gzip(text)))).containsExactly("first", "second é", "", "last");
    assertThat(lines(write("c.txt", gzip(text)))).containsExactly("first", "second é", "", "last");
  }

  /** Lines still in the buffer are not handed out after close (bytes and decoded text alike). */
  @Test
  void aClosedReaderSaysSo() throws IOException {
    Path f = write("closed.jsonl", "{\"text\": \"a\"}\n{\"text\": \"b\"}\n");
    JsonlReader json = JsonlReader.open(f);
    assertThat(json.next()).isNotNull();
    json.close();
    json.close(); // twice is fine
    assertThatThrownBy(json::next).isInstanceOf(IllegalStateException.class).hasMessage(f + ": the reader is closed");
    LineReader chars = LineReader.of(new java.io.StringReader("a\nb\n"), "text");
    assertThat(chars.readLine()).isEqualTo("a");
    chars.close();
    assertThatThrownBy(chars::readLine).isInstanceOf(IllegalStateException.class).hasMessage("text: the reader is closed");
  }

  @Test
  void decodedTextEndsLinesAsBytesDo() throws IOException {
    String text = "\uFEFFa\rb\nc\r\n\nlast";
    List<String> fromChars = new ArrayList<>();
    List<String> fromBytes = new ArrayList<>();
    try (LineReader chars = LineReader.of(new java.io.StringReader(text), "text");
        LineReader bytes = LineReader.of(new java.io.ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), "bytes")) {
      for (String l; (l = chars.readLine()) != null; ) {
        fromChars.add(l);
      }
      for (String l; (l = bytes.readLine()) != null; ) {
        fromBytes.add(l);
      }
    }
    assertThat(fromChars).containsExactly("a\rb", "c", "", "last").isEqualTo(fromBytes);
  }

  @Test
  void latin1BytesNameFileAndLine() throws IOException {
    byte[] latin1 = "{\"text\": \"ok\"}\n{\"text\": \"caf\u00e9\"}\n".getBytes(StandardCharsets.ISO_8859_1);
    Path f = write("latin1.jsonl", latin1);
    assertThatThrownBy(() -> Corpus.read(f)).isInstanceOf(InvalidDataException.class)
        .hasMessage(f + ":2: not valid UTF-8 (save the file as UTF-8)")
        .satisfies(e -> assertThat(((InvalidDataException) e).line()).isEqualTo(2));
  }

  @Test
  void corruptAndTruncatedGzipNameFileAndLine() throws IOException {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 2000; i++) {
      b.append("{\"_id\": \"").append(i).append("\", \"text\": \"passage number ").append(i).append(" with words\"}\n");
    }
    byte[] gz = gzip(b.toString());
    Path truncated = write("truncated.jsonl.gz", Arrays.copyOf(gz, gz.length / 2));
    assertThatThrownBy(() -> Corpus.read(truncated)).isInstanceOf(InvalidDataException.class)
        .hasMessageStartingWith(truncated + ":")
        .hasMessageContaining("truncated gzip data");
    byte[] corrupt = gz.clone();
    for (int i = 40; i < 80; i++) {
      corrupt[i] ^= 0x5a;
    }
    Path broken = write("corrupt.jsonl.gz", corrupt);
    assertThatThrownBy(() -> Corpus.read(broken)).isInstanceOf(InvalidDataException.class)
        .hasMessageStartingWith(broken + ":")
        .hasMessageContaining("gzip");
    Path header = write("header.jsonl.gz", new byte[] {0x1f, (byte) 0x8b, 1});
    assertThatThrownBy(() -> Corpus.read(header)).isInstanceOf(InvalidDataException.class)
        .hasMessageStartingWith(header + ": corrupt gzip header");
  }

  @Test
  void gzipMembersReadInOrderAndBytesAfterAMemberThatAreNoneAreAnError() throws IOException {
    byte[] first = gzip("{\"_id\": \"a\", \"text\": \"x\"}\n");
    byte[] second = gzip("{\"_id\": \"b\", \"text\": \"y\"}\n{\"_id\": \"c\", \"text\": \"z\"}\n");
    byte[] both = Arrays.copyOf(first, first.length + second.length);
    System.arraycopy(second, 0, both, first.length, second.length);
    assertThat(Corpus.read(write("two.jsonl.gz", both))).extracting(Passage::id).containsExactly("a", "b", "c");
    // the second member's header damaged: not a one-passage file
    byte[] damaged = both.clone();
    damaged[first.length] = 0;
    Path bad = write("damaged.jsonl.gz", damaged);
    assertThatThrownBy(() -> Corpus.read(bad)).isInstanceOf(InvalidDataException.class)
        .hasMessageStartingWith(bad + ":2: corrupt gzip data: ")
        .hasMessageContaining("after gzip member 1 (from byte " + first.length + ") is not another gzip member");
    // a few bytes of junk after the last member, too few to be a header
    Path junk = write("junk.jsonl.gz", Arrays.copyOf(first, first.length + 1));
    assertThatThrownBy(() -> Corpus.read(junk)).isInstanceOf(InvalidDataException.class)
        .hasMessageStartingWith(junk + ":").hasMessageContaining("not another gzip member");
    // a member's data damaged: its checksum says so
    byte[] flipped = both.clone();
    flipped[first.length - 9] ^= 1; // the last byte of the first member's compressed data
    Path crc = write("crc.jsonl.gz", flipped);
    assertThatThrownBy(() -> Corpus.read(crc)).isInstanceOf(InvalidDataException.class)
        .hasMessageStartingWith(crc + ":").hasMessageContaining("gzip");
  }

  @Test
  void aFileOfTheGzipMagicAloneSaysItsHeaderIsCut() throws IOException {
    Path magic = write("magic.jsonl.gz", new byte[] {0x1f, (byte) 0x8b});
    assertThatThrownBy(() -> Corpus.read(magic)).isInstanceOf(InvalidDataException.class)
        .hasMessage(magic + ": truncated gzip header: the data ends inside the header of gzip member 1");
  }

  @Test
  void aKeyTwiceInOneObjectIsAnErrorNotTheLastValue() throws IOException {
    Path f = write("dup.jsonl", "{\"_id\": \"a\", \"text\": \"x\"}\n{\"_id\": \"b\", \"text\": \"y\", \"_id\": \"c\"}\n");
    assertThatThrownBy(() -> Corpus.read(f)).isInstanceOf(InvalidDataException.class)
        .hasMessageStartingWith(f + ":2:").hasMessageContaining("_id");
  }

  @Test
  void halfASurrogatePairBecomesTheReplacementCharacterAsTheTokenizerReadsIt() throws IOException {
    // JSON's \\u escapes can spell half a pair, which UTF-8 cannot write back: a seed id or text
    // written out as '?' would not be the one read; a whole pair is kept
    Path f = write("half.jsonl", "{\"id\": \"ok\", \"text\": \"a whole pair \\ud83d\\ude00\"}\n"
        + "{\"id\": \"s\\ud800\", \"title\": \"\\udc00t\", \"text\": \"cut at \\ud83d\"}\n"
        + "{\"id\": \"s\\ud801\", \"text\": \"b\"}\n");
    assertThatThrownBy(() -> Corpus.read(f)).isInstanceOf(InvalidDataException.class)
        .hasMessage(f + ":3: duplicate id 's\uFFFD' (first on line 2); half a surrogate pair reads as U+FFFD, so ids "
            + "that differ only there are one");
    List<Passage> two = Corpus.read(f, 2);
    assertThat(two.get(0).text()).isEqualTo("a whole pair \uD83D\uDE00");
    assertThat(two.get(1)).isEqualTo(new Passage("s\uFFFD", "\uFFFDt", "cut at \uFFFD"));
    assertThat(new String(two.get(1).id().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8))
        .isEqualTo(two.get(1).id());
  }

  @Test
  void contentAfterTheObjectIsAnErrorNotDropped() throws IOException {
    Path f = write("two.jsonl", "{\"id\": 1, \"text\": \"a\"} {\"id\": 2, \"text\": \"b\"}\n");
    assertThatThrownBy(() -> Corpus.read(f)).isInstanceOf(InvalidDataException.class)
        .hasMessage(f + ":1: more content after the JSON object (one object per line)");
  }

  @Test
  void notJsonAndNotObjectsNameTheLine() throws IOException {
    Path f = write("bad.jsonl", "{\"text\": \"a\"}\n\n{oops\n");
    assertThatThrownBy(() -> Corpus.read(f)).hasMessageStartingWith(f + ":3: not valid JSON: ");
    // an object cut short: Jackson's own location (its "line" is always 1 here) becomes the column
    Path cut = write("cut.jsonl", "{\"text\": \"a\"}\n{\"text\": \"b\"\n");
    assertThatThrownBy(() -> Corpus.read(cut)).hasMessageStartingWith(cut + ":2: not valid JSON: ")
        .hasMessageEndingWith("(start marker at column 1)").hasMessageNotContaining("Source");
    Path g = write("array.jsonl", "[1, 2]\n");
    assertThatThrownBy(() -> Corpus.read(g)).hasMessage(g + ":1: expected a JSON object, found array");
  }

  @Test
  void oneIdRuleForEveryCorpus() throws IOException {
    Path f = write("corpus.jsonl", String.join("\n",
        "{\"_id\": \"a\", \"title\": \"T\", \"text\": \"one\"}",
        "{\"id\": 7, \"text\": \"two\"}",
        "{\"_id\": \"c\", \"id\": \"c\", \"title\": null, \"text\": \"three\", \"metadata\": {}}",
        "",
        "{\"text\": \"no id: the line number\"}"));
    assertThat(Corpus.read(f)).containsExactly(
        new Passage("a", "T", "one"), new Passage("7", "", "two"), new Passage("c", "", "three"),
        new Passage("5", "", "no id: the line number"));
    assertThat(Corpus.read(f, 2)).hasSize(2);
  }

  /**
   * Many ids (the id table grows several times) are all distinct, and an id repeated after them
   * is named with the line it was first read on; an id and the line number another line takes as
   * its id ("3") are one id, as they are one key downstream.
   */
  @Test
  void aRepeatedIdIsFoundAmongManyWithItsFirstLine() throws IOException {
    StringBuilder lines = new StringBuilder();
    for (int i = 1; i <= 5000; i++) {
      lines.append("{\"_id\": \"id-").append(i).append("\", \"text\": \"x\"}\n");
    }
    Path many = write("many.jsonl", lines.toString());
    assertThat(Corpus.read(many)).hasSize(5000).extracting(Passage::id).doesNotHaveDuplicates();
    Path repeated = write("repeated.jsonl", lines + "{\"_id\": \"id-17\", \"text\": \"y\"}\n");
    assertThatThrownBy(() -> Corpus.read(repeated))
        .hasMessage(repeated + ":5001: duplicate id 'id-17' (first on line 17)");
    Path lineNumber = write("line.jsonl", "{\"_id\": \"3\", \"text\": \"x\"}\n{\"text\": \"y\"}\n{\"text\": \"z\"}\n");
    assertThatThrownBy(() -> Corpus.read(lineNumber)).hasMessage(lineNumber + ":3: duplicate id '3' (first on line 1)");
  }

  @Test
  void idAndFieldErrorsNameTheLine() throws IOException {
    Path disagree = write("d.jsonl", "{\"_id\": \"a\", \"id\": \"b\", \"text\": \"x\"}\n");
    assertThatThrownBy(() -> Corpus.read(disagree)).hasMessage(disagree + ":1: fields '_id' (a) and 'id' (b) disagree");
    Path duplicate = write("dup.jsonl", "{\"_id\": \"a\", \"text\": \"x\"}\n{\"id\": \"a\", \"text\": \"y\"}\n");
    assertThatThrownBy(() -> Corpus.read(duplicate)).hasMessage(duplicate + ":2: duplicate id 'a' (first on line 1)");
    Path noText = write("t.jsonl", "{\"_id\": \"a\", \"title\": \"x\"}\n");
    assertThatThrownBy(() -> Corpus.read(noText)).hasMessage(noText + ":1: field 'text' must be a string (missing)");
    Path floatId = write("f.jsonl", "{\"_id\": 1.5, \"text\": \"x\"}\n");
    assertThatThrownBy(() -> Corpus.read(floatId))
        .hasMessage(floatId + ":1: field '_id' must be a non-empty string or an integer");
    Path badTitle = write("b.jsonl", "{\"_id\": \"a\", \"title\": 3, \"text\": \"x\"}\n");
    assertThatThrownBy(() -> Corpus.read(badTitle)).hasMessage(badTitle + ":1: field 'title' must be a string");
  }

  @Test
  void aMissingFileSaysSo() {
    Path missing = dir.resolve("nope.jsonl");
    assertThatThrownBy(() -> Corpus.read(missing)).isInstanceOf(NoSuchFileException.class)
        .hasMessage(missing + ": file not found");
    // a folder opens on Linux and fails at the first read: the message still names it
    assertThatThrownBy(() -> Corpus.read(dir)).isInstanceOf(java.io.IOException.class)
        .hasMessageContaining(dir.toString());
  }

  record Row(String name, int count) {
    Row {
      if (count < 0) {
        throw new IllegalArgumentException("count must be >= 0");
      }
    }
  }

  @Test
  void bindsLinesToRecordsNamingTheField() throws IOException {
    Path f = write("rows.jsonl", "{\"name\": \"a\", \"count\": 2, \"extra\": true}\n{\"name\": \"b\", \"count\": \"many\"}\n");
    try (JsonlReader in = JsonlReader.open(f)) {
      assertThat(in.next(Row.class)).isEqualTo(new Row("a", 2));
      assertThatThrownBy(() -> in.next(Row.class)).isInstanceOf(InvalidDataException.class)
          .hasMessageStartingWith(f + ":2: field 'count': ");
    }
    Path g = write("neg.jsonl", "{\"name\": \"a\", \"count\": -1}\n");
    try (JsonlReader in = JsonlReader.open(g)) {
      assertThatThrownBy(() -> in.next(Row.class)).hasMessage(g + ":1: count must be >= 0")
          .hasCauseInstanceOf(IllegalArgumentException.class);
    }
    // a nested record that refuses a value: the field is named, and the refusal is the cause
    Path h = write("nested.jsonl", "{\"id\": \"x\", \"row\": {\"name\": \"a\", \"count\": -1}}\n");
    try (JsonlReader in = JsonlReader.open(h)) {
      assertThatThrownBy(() -> in.next(Holder.class)).hasMessage(h + ":1: field 'row': count must be >= 0")
          .hasCauseInstanceOf(IllegalArgumentException.class);
    }
  }

  record Holder(String id, Row row) {}

  /** A pipe ({@code /dev/stdin}, a shell's {@code <(...)}) reads as a file does: it failed with "Illegal seek". */
  @Test
  void aPipeReadsAsAFileDoes() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(System.getProperty("os.name").startsWith("Linux"), "mkfifo");
    Path fifo = dir.resolve("corpus.fifo");
    Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
    assertThat(mk.waitFor()).isZero();
    Thread writer = new Thread(() -> {
      try {
        Files.writeString(fifo, "{\"_id\":\"a\",\"text\":\"first\"}\n{\"_id\":\"b\",\"text\":\"second\"}\n");
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    writer.start();
    List<Passage> passages = Corpus.read(fifo);
    writer.join();
    assertThat(passages).extracting(Passage::id).containsExactly("a", "b");
    assertThat(passages).extracting(Passage::text).containsExactly("first", "second");
  }
}
