package dev.gecko.train.adapter;

import dev.gecko.core.ModelSource;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Full-width, L2-normalised embeddings of the frozen base model, cached on disk. One file per
 * model ({@code model-<hash of the model's files>.vec}, see {@link #modelKey}), an append-only list of
 * records: 32-byte SHA-256 of the rendered text (prompt applied), then {@code dims} little-endian
 * floats. A torn last record (crash while appending) is ignored on load. Not thread-safe.
 */
final class EmbeddingCache {
  private static final int KEY = 32;

  private final Path file;
  private final int dims;
  private final Map<String, float[]> vectors = new HashMap<>();

  private EmbeddingCache(Path file, int dims) {
    this.file = file;
    this.dims = dims;
  }

  /**
   * The cache key of a model: a SHA-256 over the bytes of its ONNX graph and tokenizer.json, its
   * pooling and maximum tokens, so a copied model (a trained package's {@code model.onnx}) shares
   * the base model's cache and a changed file never reuses stale vectors.
   */
  static String modelKey(ModelPackage pkg) throws IOException {
    MessageDigest md = sha256();
    for (ModelSource s : List.of(pkg.model(), pkg.tokenizer())) {
      try (InputStream in = s.open()) {
        byte[] buf = new byte[1 << 16];
        int n;
        while ((n = in.read(buf)) > 0) {
          md.update(buf, 0, n);
        }
      }
      md.update((byte) 0);
    }
    md.update((pkg.pooling() + "|" + pkg.maxTokens()).getBytes(StandardCharsets.UTF_8));
    return "model-" + HexFormat.of().formatHex(md.digest()).substring(0, 24);
  }

  /** Opens (or creates) the cache of a model in {@code dir}; null dir means in memory only. */
  static EmbeddingCache open(Path dir, ModelPackage pkg, int dims) throws IOException {
    Path f = dir == null ? null : dir.resolve(modelKey(pkg) + ".vec");
    EmbeddingCache c = new EmbeddingCache(f, dims);
    if (f != null && Files.exists(f)) {
      int record = KEY + 4 * dims;
      try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(f), 1 << 16))) {
        byte[] buf = new byte[record];
        while (true) {
          int got = in.readNBytes(buf, 0, record);
          if (got < record) {
            break;
          }
          ByteBuffer bb = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
          byte[] key = new byte[KEY];
          bb.get(key);
          float[] v = new float[dims];
          bb.asFloatBuffer().get(v);
          c.vectors.put(HexFormat.of().formatHex(key), v);
        }
      }
    }
    return c;
  }

  int size() {
    return vectors.size();
  }

  /**
   * Returns the vectors of the requests, in order, embedding (and appending) the missing ones in
   * chunks; {@code progress} receives the number of requests done so far.
   */
  List<float[]> embed(GeckoEmbedder embedder, List<EmbedRequest> requests, IntConsumer progress) throws IOException {
    ModelPackage pkg = embedder.model();
    List<String> keys = new ArrayList<>(requests.size());
    Map<String, EmbedRequest> missing = new LinkedHashMap<>();
    for (EmbedRequest r : requests) {
      String k = sha256(pkg.render(r));
      keys.add(k);
      if (!vectors.containsKey(k)) {
        missing.putIfAbsent(k, r);
      }
    }
    int done = requests.size() - missing.size();
    progress.accept(done);
    List<String> missingKeys = new ArrayList<>(missing.keySet());
    int chunk = 256;
    for (int start = 0; start < missingKeys.size(); start += chunk) {
      List<String> ks = missingKeys.subList(start, Math.min(missingKeys.size(), start + chunk));
      List<EmbedRequest> rs = new ArrayList<>(ks.size());
      for (String k : ks) {
        rs.add(missing.get(k));
      }
      List<float[]> vs = embedder.embedRequests(rs, dims);
      append(ks, vs);
      for (int i = 0; i < ks.size(); i++) {
        vectors.put(ks.get(i), vs.get(i));
      }
      done += ks.size();
      progress.accept(done);
    }
    List<float[]> out = new ArrayList<>(requests.size());
    for (String k : keys) {
      out.add(vectors.get(k));
    }
    return out;
  }

  private void append(List<String> keys, List<float[]> vs) throws IOException {
    if (file == null) {
      return;
    }
    Files.createDirectories(file.getParent());
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND))) {
      ByteBuffer bb = ByteBuffer.allocate(KEY + 4 * dims).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < keys.size(); i++) {
        bb.clear();
        bb.put(HexFormat.of().parseHex(keys.get(i)));
        for (float f : vs.get(i)) {
          bb.putFloat(f);
        }
        out.write(bb.array());
      }
    }
  }

  static String sha256(String s) {
    return HexFormat.of().formatHex(sha256().digest(s.getBytes(StandardCharsets.UTF_8)));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
