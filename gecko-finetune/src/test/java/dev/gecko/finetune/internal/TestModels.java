package dev.gecko.finetune.internal;

import dev.gecko.core.ModelPackage;
import dev.gecko.core.internal.onnx.OnnxModel;
import dev.gecko.tokenizer.GeckoTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Shared helpers of the fine-tuning tests: built-in graphs, tokenizers, the golden texts. */
public final class TestModels {
  private TestModels() {}

  public static Path shared() {
    return Path.of(System.getProperty("gecko.shared.dir", "../../shared"));
  }

  public static OnnxModel graph(ModelPackage pkg) {
    try {
      return OnnxModel.parse(pkg.model().readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static GeckoTokenizer tokenizer(ModelPackage pkg) {
    try (InputStream in = pkg.tokenizer().open()) {
      return GeckoTokenizer.builder().tokenizerJson(in, pkg.tokenizer().toString()).maxLength(pkg.maxTokens()).build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Four short texts of growing length (1 to 5 words), encoded: the tiny-model training tests' batch. */
  public static List<dev.gecko.tokenizer.Encoding> fourShortTexts(GeckoTokenizer tok) {
    List<dev.gecko.tokenizer.Encoding> texts = new ArrayList<>();
    for (String t : List.of("one", "two words", "three little words", "four words in a row")) {
      texts.add(tok.encode(t));
    }
    return texts;
  }

  /**
   * Collects the WARNING messages of {@link Loop}, formatted as System.Logger formats them, from
   * construction to {@link #close()}. System.Logger goes to java.util.logging in these tests (no
   * other backend is on the test class path).
   */
  public static final class LoopWarnings extends java.util.logging.Handler implements AutoCloseable {
    private final java.util.logging.Logger jul = java.util.logging.Logger.getLogger(Loop.class.getName());
    /** The messages so far, in order. */
    public final List<String> messages = new java.util.concurrent.CopyOnWriteArrayList<>();

    public LoopWarnings() {
      jul.addHandler(this);
    }

    @Override
    public void publish(java.util.logging.LogRecord r) {
      if (r.getLevel() == java.util.logging.Level.WARNING) {
        messages.add(r.getParameters() == null ? r.getMessage()
            : java.text.MessageFormat.format(r.getMessage(), r.getParameters()));
      }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {
      jul.removeHandler(this);
    }
  }

  /** The first {@code n} texts of a golden file (short.jsonl, passages.jsonl). */
  public static List<String> golden(String file, int n) {
    List<String> out = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(shared().resolve("golden").resolve(file))) {
        out.add(com.fasterxml.jackson.databind.json.JsonMapper.builder().build().readTree(line).get("text").asText());
        if (out.size() == n) {
          break;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }
}
