package dev.gecko.core.adapter;

import dev.gecko.core.ModelSource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.vector.VectorOps;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdapterTest {
  private static final List<String> TEXTS = List.of("A plane is taking off.", "A man is playing a flute.",
      "Three dogs run through the snow.", "The stock market fell sharply on Monday.");

  @TempDir
  Path dir;

  private static float[][] randomMatrix(Random r, int rows, int cols, double scale) {
    float[][] m = new float[rows][cols];
    for (float[] row : m) {
      for (int i = 0; i < cols; i++) {
        row[i] = (float) (r.nextGaussian() * scale);
      }
    }
    return m;
  }

  private static float[] randomVector(Random r, int n, double scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextGaussian() * scale);
    }
    return v;
  }

  @Test
  void linearAndMlpRoundTripThroughSafetensors() throws IOException {
    Random r = new Random(1);
    Adapter lin = Adapter.linear(randomMatrix(r, 7, 7, 0.1), randomVector(r, 7, 0.1))
        .withMetadata(Map.of("trainedWith", "test"));
    Adapter mlp = Adapter.mlp(randomMatrix(r, 5, 7, 0.1), randomVector(r, 5, 0.1), randomMatrix(r, 7, 5, 0.1),
        randomVector(r, 7, 0.1));
    for (Adapter a : List.of(lin, mlp)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      a.write(out);
      byte[] bytes = out.toByteArray();
      // safetensors: u64 little-endian header length, 8-byte aligned header, then the data.
      long headerLen = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
      assertThat(headerLen % 8).isZero();
      String header = new String(bytes, 8, (int) headerLen, java.nio.charset.StandardCharsets.UTF_8);
      assertThat(header).contains("\"format\":\"gecko-adapter\"").contains("\"F32\"");
      Adapter back = Adapter.read(new ByteArrayInputStream(bytes), "mem");
      assertThat(back.kind()).isEqualTo(a.kind());
      assertThat(back.dimensions()).isEqualTo(7);
      assertThat(back.weight1()).isDeepEqualTo(a.weight1());
      assertThat(back.bias1()).containsExactly(a.bias1());
      float[] v = randomVector(r, 7, 1);
      assertThat(back.apply(v)).containsExactly(a.apply(v));
    }
    assertThat(Adapter.read(new ByteArrayInputStream(bytesOf(lin)), "x").metadata()).containsEntry("trainedWith", "test");
  }

  @Test
  void loadingAFolderNamesIt(@TempDir Path dir) {
    assertThatThrownBy(() -> Adapter.load(dir)).isInstanceOf(IOException.class)
        .hasMessageContaining(dir.toString()).hasMessageContaining("folder");
  }

  @Test
  void applyComputesTheResidualMapOnTheNormalisedVector() {
    Random r = new Random(2);
    float[][] w1 = randomMatrix(r, 3, 4, 0.5);
    float[] b1 = randomVector(r, 3, 0.5);
    float[][] w2 = randomMatrix(r, 4, 3, 0.5);
    float[] b2 = randomVector(r, 4, 0.5);
    float[] v = {3f, -1f, 2f, 0.5f};
    double n = Math.sqrt(9 + 1 + 4 + 0.25);
    double[] u = new double[4];
    for (int i = 0; i < 4; i++) {
      u[i] = v[i] / n;
    }
    double[] h = new double[3];
    for (int j = 0; j < 3; j++) {
      double s = b1[j];
      for (int i = 0; i < 4; i++) {
        s += w1[j][i] * u[i];
      }
      h[j] = Math.max(0, s);
    }
    float[] got = Adapter.mlp(w1, b1, w2, b2).apply(v);
    for (int i = 0; i < 4; i++) {
      double s = u[i] + b2[i];
      for (int j = 0; j < 3; j++) {
        s += w2[i][j] * h[j];
      }
      assertThat((double) got[i]).isCloseTo(s, within(1e-5));
    }
    assertThat(v).containsExactly(3f, -1f, 2f, 0.5f);
  }

  @Test
  void basisIsAppliedBeforeTheResidualAndRoundTripsAsVersion2() throws IOException {
    Random r = new Random(4);
    float[][] basis = randomMatrix(r, 4, 4, 0.7);
    float[][] w = randomMatrix(r, 4, 4, 0.3);
    float[] b = randomVector(r, 4, 0.3);
    Adapter a = Adapter.linear(w, b).withBasis(basis).withMetadata(Map.of("note", "x"));
    float[] x = {1f, -2f, 0.5f, 3f};
    double n = Math.sqrt(1 + 4 + 0.25 + 9);
    double[] v = new double[4];
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < 4; j++) {
        v[i] += basis[i][j] * x[j] / n;
      }
    }
    float[] got = a.apply(x);
    for (int i = 0; i < 4; i++) {
      double s = v[i] + b[i];
      for (int j = 0; j < 4; j++) {
        s += w[i][j] * v[j];
      }
      assertThat((double) got[i]).isCloseTo(s, within(1e-5));
    }
    byte[] bytes = bytesOf(a);
    String header = new String(bytes, 8, (int) java.nio.ByteBuffer.wrap(bytes, 0, 8)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(header).contains("\"version\":\"2\"").contains("\"basis\"");
    Adapter back = Adapter.read(new ByteArrayInputStream(bytes), "mem");
    assertThat(back.basis()).isDeepEqualTo(basis);
    assertThat(back.metadata()).containsEntry("note", "x");
    assertThat(back.apply(x)).containsExactly(got);
    assertThat(back.withBasis(null).basis()).isNull();
    assertThat(new String(bytesOf(back.withBasis(null)), java.nio.charset.StandardCharsets.UTF_8))
        .contains("\"version\":\"1\"").doesNotContain("basis");
    // A version-1 file that carries a basis would be misread by a version-1 reader: refused.
    byte[] forged = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1)
        .replace("\"version\":\"2\"", "\"version\":\"1\"").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    assertThatThrownBy(() -> Adapter.read(new ByteArrayInputStream(forged), "forged.safetensors"))
        .isInstanceOf(dev.gecko.core.InvalidDataException.class).hasMessageContaining("forged.safetensors")
        .hasMessageContaining("basis");
    assertThatThrownBy(() -> Adapter.identity(4).withBasis(new float[4][3]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("basis");
  }

  @Test
  void identityAdapterLeavesEmbeddingsUnchanged() throws IOException {
    Path file = dir.resolve("adapter.safetensors");
    Adapter.identity(384).save(file);
    ModelPackage base = ModelPackage.builtIn("bge-small-en-v1.5-int8");
    ModelPackage adapted = base.toBuilder().adapter(ModelSource.of(file)).build();
    try (GeckoEmbedder plain = GeckoEmbedder.builder().model(base).intraOpThreads(1).build();
        GeckoEmbedder withAdapter = GeckoEmbedder.builder().model(adapted).intraOpThreads(1).build()) {
      for (int dims : new int[] {384, 64}) {
        List<float[]> a = plain.embedAll(TEXTS, dims);
        List<float[]> b = withAdapter.embedAll(TEXTS, dims);
        for (int i = 0; i < TEXTS.size(); i++) {
          for (int k = 0; k < dims; k++) {
            assertThat(b.get(i)[k]).isCloseTo(a.get(i)[k], within(1e-6f));
          }
        }
      }
    }
  }

  @Test
  void embedderAppliesTheAdapterBeforeTruncationAndNormalisation() throws IOException {
    Random r = new Random(3);
    Adapter adapter = Adapter.linear(randomMatrix(r, 384, 384, 0.05), randomVector(r, 384, 0.01));
    Path model = dir.resolve("pkg");
    Files.createDirectories(model);
    adapter.save(model.resolve("adapter.safetensors"));
    ModelPackage base = ModelPackage.builtIn("bge-small-en-v1.5-int8");
    try (var in = base.model().open()) {
      Files.copy(in, model.resolve("model.onnx"));
    }
    try (var in = base.tokenizer().open()) {
      Files.copy(in, model.resolve("tokenizer.json"));
    }
    Files.writeString(model.resolve(ModelPackage.MANIFEST), "{\"name\":\"adapted\",\"pooling\":\"cls\",\"maxTokens\":512,"
        + "\"dimensions\":384,\"adapter\":\"adapter.safetensors\"}");
    try (GeckoEmbedder plain = GeckoEmbedder.builder().model(base).intraOpThreads(1).build();
        GeckoEmbedder adapted = GeckoEmbedder.builder().model(model.toString()).intraOpThreads(1).build()) {
      assertThat(adapted.model().adapter()).isPresent();
      List<float[]> fullBase = plain.embedAll(TEXTS, 384);
      List<float[]> got = adapted.embedAll(TEXTS, 64);
      for (int i = 0; i < TEXTS.size(); i++) {
        float[] expected = VectorOps.truncateAndNormalize(adapter.apply(fullBase.get(i)), 64);
        for (int k = 0; k < 64; k++) {
          assertThat(got.get(i)[k]).isCloseTo(expected[k], within(2e-5f));
        }
        assertThat(VectorOps.cosine(got.get(i), VectorOps.truncateAndNormalize(fullBase.get(i), 64))).isLessThan(0.9999f);
      }
    }
  }

  @Test
  void badFilesAreRejectedWithTheirName() throws IOException {
    assertThatThrownBy(() -> Adapter.read(new ByteArrayInputStream(new byte[] {1, 2}), "tiny.bin"))
        .isInstanceOf(dev.gecko.core.InvalidDataException.class).hasMessageContaining("tiny.bin");
    byte[] good = bytesOf(Adapter.identity(4));
    byte[] cut = java.util.Arrays.copyOf(good, good.length - 4);
    assertThatThrownBy(() -> Adapter.read(new ByteArrayInputStream(cut), "cut.safetensors"))
        .isInstanceOf(dev.gecko.core.InvalidDataException.class).hasMessageContaining("cut.safetensors")
        .hasMessageContaining("bias");
    assertThatThrownBy(() -> Adapter.linear(new float[3][4], new float[3]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("weight");
    assertThatThrownBy(() -> Adapter.identity(4).apply(new float[5]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expects 4");
    // an adapter that says it computes something else is refused, not applied as if it did not
    byte[] notResidual = new String(good, java.nio.charset.StandardCharsets.ISO_8859_1)
        .replace("\"residual\":\"true\"", "\"residual\":\"none\"").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    assertThatThrownBy(() -> Adapter.read(new ByteArrayInputStream(notResidual), "plain.safetensors"))
        .isInstanceOf(dev.gecko.core.InvalidDataException.class).hasMessageContaining("plain.safetensors")
        .hasMessageContaining("'residual' must be 'true'");
    // a shape whose element count wraps around a long (2^62 - 1 floats: x4 is -4), offsets reversed
    String header = "{\"__metadata__\":{\"format\":\"gecko-adapter\",\"version\":\"1\",\"kind\":\"linear\"},"
        + "\"weight\":{\"dtype\":\"F32\",\"shape\":[2147483647,3,715827883],\"data_offsets\":[4,0]}}";
    byte[] h = header.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    java.nio.ByteBuffer crafted = java.nio.ByteBuffer.allocate(8 + h.length + 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    crafted.putLong(h.length).put(h);
    assertThatThrownBy(() -> Adapter.read(new ByteArrayInputStream(crafted.array()), "crafted.safetensors"))
        .isInstanceOf(dev.gecko.core.InvalidDataException.class).hasMessageContaining("crafted.safetensors")
        .hasMessageContaining("shape");
    Path wrongWidth = dir.resolve("a.safetensors");
    Adapter.identity(8).save(wrongWidth);
    ModelPackage pkg = ModelPackage.builtIn("bge-small-en-v1.5-int8").toBuilder()
        .adapter(ModelSource.of(wrongWidth)).build();
    assertThatThrownBy(() -> GeckoEmbedder.builder().model(pkg).build())
        .isInstanceOf(dev.gecko.core.ModelLoadException.class).hasMessageContaining("a.safetensors").hasMessageContaining("8 dimensions");
  }

  private static final String LINEAR_METADATA =
      "\"__metadata__\":{\"format\":\"gecko-adapter\",\"version\":\"1\",\"kind\":\"linear\"}";

  /** A safetensors file: the header (padded to 8 bytes), then {@code data}. */
  private static byte[] safetensors(String header, byte[] data) {
    byte[] h = header.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    int padded = (h.length + 7) / 8 * 8;
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + padded + data.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.putLong(padded).put(h);
    while (b.position() < 8 + padded) {
      b.put((byte) ' ');
    }
    return b.put(data).array();
  }

  private static String f32(String name, String shape, long begin, long end) {
    return ",\"" + name + "\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
  }

  @Test
  void tensorsMustCoverTheDataBackToBackWithoutOverlapOrGap() throws IOException {
    // in any header order, tensors that tile the data section read
    byte[] tiled = safetensors("{" + LINEAR_METADATA + f32("bias", "[1]", 4, 8) + f32("weight", "[1,1]", 0, 4) + "}",
        new byte[8]);
    assertThat(Adapter.read(new ByteArrayInputStream(tiled), "tiled.safetensors").dimensions()).isEqualTo(1);
    // entries that share bytes: each would be decoded again, a small file growing without bound in memory
    StringBuilder shared = new StringBuilder("{" + LINEAR_METADATA + f32("weight", "[16,16]", 0, 1024)
        + f32("bias", "[16]", 0, 64));
    for (int i = 0; i < 50; i++) {
      shared.append(f32("copy" + i, "[256]", 0, 1024));
    }
    byte[] overlapping = safetensors(shared + "}", new byte[1024]);
    assertThatThrownBy(() -> Adapter.read(new ByteArrayInputStream(overlapping), "overlap.safetensors"))
        .isInstanceOf(dev.gecko.core.InvalidDataException.class).hasMessageStartingWith("overlap.safetensors: ")
        .hasMessageContaining("without gap or overlap");
    byte[] gap = safetensors("{" + LINEAR_METADATA + f32("weight", "[1,1]", 0, 4) + f32("bias", "[1]", 8, 12) + "}",
        new byte[12]);
    assertThatThrownBy(() -> Adapter.read(new ByteArrayInputStream(gap), "gap.safetensors"))
        .isInstanceOf(dev.gecko.core.InvalidDataException.class).hasMessageStartingWith("gap.safetensors: ")
        .hasMessageContaining("'bias'").hasMessageContaining("must begin at byte 4");
    byte[] textOffsets = safetensors("{" + LINEAR_METADATA + ",\"weight\":{\"dtype\":\"F32\",\"shape\":[1,1],"
        + "\"data_offsets\":[\"0\",\"4\"]}" + f32("bias", "[1]", 4, 8) + "}", new byte[8]);
    assertThatThrownBy(() -> Adapter.read(new ByteArrayInputStream(textOffsets), "text.safetensors"))
        .isInstanceOf(dev.gecko.core.InvalidDataException.class).hasMessageContaining("'weight'")
        .hasMessageContaining("data_offsets");
  }

  @Test
  void dataAfterTheLastTensorIsRefusedWithoutReadingOnToTheEnd() throws IOException {
    byte[] good = bytesOf(Adapter.identity(4));
    byte[] junk = java.util.Arrays.copyOf(good, good.length + 3);
    assertThatThrownBy(() -> Adapter.read(new ByteArrayInputStream(junk), "junk.safetensors"))
        .isInstanceOf(dev.gecko.core.InvalidDataException.class).hasMessageStartingWith("junk.safetensors: ")
        .hasMessageContaining("after the last tensor");
    // a stream that goes on (a device, a sparse file of gigabytes): read to the header's end plus one byte
    long length = good.length + (32L << 20);
    long[] served = new long[1];
    java.io.InputStream endless = new java.io.InputStream() {
      @Override
      public int read() {
        if (served[0] == length) {
          return -1;
        }
        int b = served[0] < good.length ? good[(int) served[0]] & 0xff : 0;
        served[0]++;
        return b;
      }
    };
    assertThatThrownBy(() -> Adapter.read(endless, "long")).isInstanceOf(dev.gecko.core.InvalidDataException.class)
        .hasMessageContaining("after the last tensor");
    assertThat(served[0]).isEqualTo(good.length + 1L);
  }

  @Test
  void formatMetadataKeysAreReservedAndNonStringMetadataIsRefused() throws IOException {
    // what write() would save (input l2-normalized-pooled) and what metadata() said must not differ
    for (String key : List.of("input", "residual", "format", "version", "kind")) {
      assertThatThrownBy(() -> Adapter.identity(2).withMetadata(Map.of(key, "raw")))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'" + key + "'").hasMessageContaining("reserved");
    }
    Adapter read = Adapter.read(new ByteArrayInputStream(bytesOf(Adapter.identity(2).withMetadata(Map.of("note", "n")))),
        "mem");
    assertThat(read.metadata()).containsExactly(Map.entry("note", "n"));
    byte[] numeric = safetensors("{\"__metadata__\":{\"format\":\"gecko-adapter\",\"version\":1,\"kind\":\"linear\"}"
        + f32("weight", "[1,1]", 0, 4) + f32("bias", "[1]", 4, 8) + "}", new byte[8]);
    assertThatThrownBy(() -> Adapter.read(new ByteArrayInputStream(numeric), "numeric.safetensors"))
        .isInstanceOf(dev.gecko.core.InvalidDataException.class).hasMessageContaining("'version' must be a string");
  }

  private static byte[] bytesOf(Adapter a) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    a.write(out);
    return out.toByteArray();
  }
}
