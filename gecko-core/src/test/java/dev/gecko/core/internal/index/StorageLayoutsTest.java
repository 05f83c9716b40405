package dev.gecko.core.internal.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gecko.core.InvalidDataException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The two in-memory layouts of binary codes (groups of eight, words interleaved) and of int8 codes
 * (groups of four, 32-byte chunks interleaved), each against code after code, hold the same index:
 * same hits, same vectors, same payload bytes, and each reads the other's. Both layouts run on
 * every JVM here, whichever one {@link BinaryStorage#BinaryStorage(int)} and {@link
 * Int8Storage#Int8Storage(int)} pick.
 */
class StorageLayoutsTest {
  @TempDir Path dir;

  private static float[] random(Random r, int dims) {
    float[] v = new float[dims];
    for (int i = 0; i < dims; i++) {
      v[i] = r.nextFloat() * 2f - 1f;
    }
    return v;
  }

  private static VectorStorage storage(String precision, int dims, boolean grouped) {
    return precision.equals("binary") ? new BinaryStorage(dims, grouped) : new Int8Storage(dims, grouped);
  }

  private static byte[] payload(VectorStorage s) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PayloadSink sink = new PayloadSink(bytes);
    s.write(sink);
    sink.flush();
    return bytes.toByteArray();
  }

  private VectorStorage read(String precision, byte[] payload, int dims, int count, boolean grouped)
      throws IOException {
    Path file = Files.write(dir.resolve("payload-" + precision + "-" + grouped), payload);
    VectorStorage s = storage(precision, dims, grouped);
    try (FileChannel ch = FileChannel.open(file)) {
      PayloadSource in = new PayloadSource(ch, file.toString());
      s.read(in, count, file.toString());
      assertThat(ch.position()).as("payload read to its end").isEqualTo(payload.length);
    }
    s.checkValues(file.toString());
    return s;
  }

  private static Object hits(VectorStorage s, float[] q, int k) {
    TopK top = new TopK(k);
    s.search(q, top);
    return top.sorted();
  }

  @ParameterizedTest(name = "{0}, {1} dims, {2} vectors")
  @CsvSource({"binary, 70, 1", "binary, 70, 7", "binary, 64, 8", "binary, 128, 9", "binary, 384, 1030",
      "binary, 1024, 2049", "binary, 100, 3001",
      "int8, 70, 1", "int8, 7, 5", "int8, 32, 4", "int8, 384, 1030", "int8, 207, 2049", "int8, 1024, 3001"})
  void bothLayoutsHoldTheSameIndex(String precision, int dims, int count) throws IOException {
    Random r = new Random(dims * 31L + count);
    VectorStorage grouped = storage(precision, dims, true);
    VectorStorage plain = storage(precision, dims, false);
    for (int i = 0; i < count; i++) {
      float[] v = random(r, dims);
      grouped.add(v);
      plain.add(v);
    }
    byte[] bytes = payload(plain);
    assertThat((long) bytes.length).isEqualTo(plain.payloadBytes(count));
    assertThat(bytes).isEqualTo(payload(grouped));
    VectorStorage groupedBack = read(precision, bytes, dims, count, true);
    VectorStorage plainBack = read(precision, bytes, dims, count, false);
    for (int i : new int[] {0, count / 2, count - 1}) {
      assertThat(grouped.vector(i)).containsExactly(plain.vector(i));
      assertThat(groupedBack.vector(i)).containsExactly(plain.vector(i));
      assertThat(plainBack.vector(i)).containsExactly(plain.vector(i));
    }
    for (int q = 0; q < 5; q++) {
      float[] query = random(r, dims);
      int k = q == 0 ? count + 3 : 10; // every code once, and no unused code of the last group
      Object expected = hits(plain, query, k);
      assertThat(hits(grouped, query, k)).isEqualTo(expected);
      assertThat(hits(groupedBack, query, k)).isEqualTo(expected);
      assertThat(hits(plainBack, query, k)).isEqualTo(expected);
    }
    // a storage read back keeps growing, in its layout
    float[] more = random(r, dims);
    groupedBack.add(more);
    plain.add(more);
    assertThat(hits(groupedBack, more, 3)).isEqualTo(hits(plain, more, 3));
    assertThat(payload(groupedBack)).isEqualTo(payload(plain));
  }

  @ParameterizedTest(name = "grouped {0}")
  @CsvSource({"true", "false"})
  void paddingBitsAreFoundInEitherLayout(boolean grouped) throws IOException {
    ByteBuffer codes = ByteBuffer.allocate(10 * 2 * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 10; i++) {
      codes.putLong(i).putLong(i == 9 ? 1L << 20 : 1L); // 70 dimensions: bits 6..63 of word 1 are padding
    }
    assertThatThrownBy(() -> read("binary", codes.array(), 70, 10, grouped)).isInstanceOf(InvalidDataException.class)
        .hasMessageContaining("vector 9").hasMessageContaining("padding");
  }
}
