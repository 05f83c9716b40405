package dev.gecko.core.adapter;

import dev.gecko.core.InvalidDataException;
import dev.gecko.core.vector.VectorOps;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A residual adapter over a frozen embedding model: {@code e' = v + f(v)} with {@code v = B u},
 * where {@code u} is the model's pooled vector L2-normalised at full width, {@code B} an optional
 * {@code [d, d]} basis (absent: {@code v = u}) and {@code f} a linear layer or a small MLP. The
 * embedder then truncates {@code e'} to the requested Matryoshka width and L2-normalises it, so an
 * adapter trained for several widths serves all of them.
 *
 * <p>The basis is how a trainer reorders the coordinates so that the leading ones carry the most
 * (for example the principal axes of a corpus's vectors, rows sorted by explained energy). An
 * orthogonal basis with {@code f = 0} leaves every full-width cosine similarity unchanged and only
 * changes what truncation keeps.
 *
 * <ul>
 *   <li>{@link Kind#LINEAR}: {@code f(u) = W u + b}, {@code W} is {@code [d, d]}, {@code b} is
 *       {@code [d]}.
 *   <li>{@link Kind#MLP}: {@code f(u) = W2 relu(W1 u + b1) + b2}, {@code W1} is {@code [h, d]},
 *       {@code b1} {@code [h]}, {@code W2} {@code [d, h]}, {@code b2} {@code [d]}.
 * </ul>
 *
 * <p>With {@code W = 0, b = 0} (or {@code W2 = 0, b2 = 0}) and no basis the adapter is the
 * identity up to the positive scale factor that normalisation removes, so vectors equal the base
 * model's.
 *
 * <h2>File format</h2>
 * A <a href="https://huggingface.co/docs/safetensors">safetensors</a> file (8-byte little-endian
 * header length, JSON header, little-endian data) with F32 tensors named {@code weight} and
 * {@code bias} (linear) or {@code fc1.weight}, {@code fc1.bias}, {@code fc2.weight}, {@code
 * fc2.bias} (MLP), weights row-major {@code [out, in]} as in PyTorch's {@code nn.Linear}, and
 * string metadata {@code "format": "gecko-adapter"}, {@code "version": "1"}, {@code "kind":
 * "linear" | "mlp"}, {@code "input": "l2-normalized-pooled"}, {@code "residual": "true"}. An
 * adapter with a basis adds the F32 tensor {@code basis} ({@code [d, d]}, row {@code r} gives
 * {@code v[r] = basis[r] . u}) and is written as {@code "version": "2"}, so that a reader that
 * knows only version 1 refuses it instead of ignoring the basis; a version 1 file must not hold
 * one. Other metadata keys are kept and ignored. As the safetensors format requires, the tensors
 * cover the data section back to back (in any header order): a file whose tensors overlap, leave a
 * gap or are followed by more bytes is refused, so reading never decodes more than the file holds.
 * A model package names the file in its manifest field {@code "adapter"}.
 *
 * <p>Immutable and thread-safe; holds no native resources. Accessors return copies.
 */
public final class Adapter {
  /** The metadata value of {@code "format"}. */
  public static final String FORMAT = "gecko-adapter";
  /** The metadata keys {@link #write} sets itself. */
  private static final List<String> RESERVED_METADATA = List.of("format", "version", "kind", "input", "residual");

  /** The shape of the residual function {@code f}. Immutable and thread-safe. */
  public enum Kind {
    /** {@code f(u) = W u + b}. */
    LINEAR,
    /** {@code f(u) = W2 relu(W1 u + b1) + b2}. */
    MLP
  }

  private final Kind kind;
  private final int dims;
  private final float[][] w1;
  private final float[] b1;
  private final float[][] w2;
  private final float[] b2;
  private final float[][] basis;
  private final Map<String, String> metadata;

  private Adapter(Kind kind, float[][] w1, float[] b1, float[][] w2, float[] b2, float[][] basis,
      Map<String, String> metadata) {
    this.kind = kind;
    this.dims = w1[0].length;
    this.w1 = w1;
    this.b1 = b1;
    this.w2 = w2;
    this.b2 = b2;
    this.basis = basis;
    this.metadata = Map.copyOf(metadata);
  }

  /**
   * A linear adapter {@code f(u) = W u + b}.
   *
   * @param weight {@code [d][d]}, row-major {@code [out][in]}; copied
   * @param bias {@code [d]}; copied
   * @throws IllegalArgumentException if the shapes do not match or a value is not finite
   */
  public static Adapter linear(float[][] weight, float[] bias) {
    int d = checkMatrix(weight, "weight", -1, -1);
    checkMatrix(weight, "weight", d, d);
    checkVector(bias, "bias", d);
    return new Adapter(Kind.LINEAR, deepCopy(weight), bias.clone(), null, null, null, Map.of());
  }

  /**
   * An MLP adapter {@code f(u) = W2 relu(W1 u + b1) + b2}.
   *
   * @param w1 {@code [h][d]}; copied
   * @param b1 {@code [h]}; copied
   * @param w2 {@code [d][h]}; copied
   * @param b2 {@code [d]}; copied
   * @throws IllegalArgumentException if the shapes do not match or a value is not finite
   */
  public static Adapter mlp(float[][] w1, float[] b1, float[][] w2, float[] b2) {
    int h = checkMatrix(w1, "fc1.weight", -1, -1);
    int d = w1[0].length;
    checkMatrix(w1, "fc1.weight", h, d);
    checkVector(b1, "fc1.bias", h);
    checkMatrix(w2, "fc2.weight", d, h);
    checkVector(b2, "fc2.bias", d);
    return new Adapter(Kind.MLP, deepCopy(w1), b1.clone(), deepCopy(w2), b2.clone(), null, Map.of());
  }

  /** The identity adapter of width {@code dims}: a linear adapter with zero weight and bias. */
  public static Adapter identity(int dims) {
    if (dims < 1) {
      throw new IllegalArgumentException("dims must be >= 1, was " + dims);
    }
    return linear(new float[dims][dims], new float[dims]);
  }

  /**
   * Returns a copy of this adapter carrying extra string metadata (for example the training
   * command), added to what it carries. The format keys {@code format}, {@code version}, {@code
   * kind}, {@code input} and {@code residual} are reserved: {@link #write} sets them from what this
   * adapter computes.
   *
   * @throws IllegalArgumentException if {@code extra} holds a reserved key
   * @throws NullPointerException if {@code extra}, a key or a value is null
   */
  public Adapter withMetadata(Map<String, String> extra) {
    Objects.requireNonNull(extra, "metadata is null");
    for (String key : extra.keySet()) {
      if (RESERVED_METADATA.contains(key)) {
        throw new IllegalArgumentException("metadata key '" + key + "' is reserved: the adapter file's " + RESERVED_METADATA
            + " are written from what the adapter computes");
      }
    }
    Map<String, String> m = new LinkedHashMap<>(metadata);
    m.putAll(extra);
    return new Adapter(kind, w1, b1, w2, b2, basis, m);
  }

  /**
   * Returns a copy of this adapter that first maps the normalised input {@code u} to {@code v = B
   * u}, then applies its residual function to {@code v}.
   *
   * @param basis {@code [d][d]}, row-major {@code [out][in]}; copied; null removes the basis
   * @throws IllegalArgumentException if the shape is not {@code [d][d]} or a value is not finite
   */
  public Adapter withBasis(float[][] basis) {
    if (basis == null) {
      return new Adapter(kind, w1, b1, w2, b2, null, metadata);
    }
    checkMatrix(basis, "basis", dims, dims);
    return new Adapter(kind, w1, b1, w2, b2, deepCopy(basis), metadata);
  }

  /**
   * Reads an adapter in the format described above. Does not close the stream.
   *
   * @param source a name for error messages (a path or resource name)
   * @throws IOException if reading fails
   * @throws InvalidDataException if the content is not a valid adapter (the message names the
   *     source and the tensor or field at fault)
   */
  public static Adapter read(InputStream in, String source) throws IOException {
    try {
      return readValid(in, source);
    } catch (IllegalArgumentException e) {
      String m = e.getMessage() == null ? e.toString() : e.getMessage();
      throw new InvalidDataException(source, 0, m.startsWith(source + ": ") ? m.substring(source.length() + 2) : m, e);
    }
  }

  private static Adapter readValid(InputStream in, String source) throws IOException {
    SafeTensors.Contents c = SafeTensors.read(in, source);
    String format = c.metadata().get("format");
    if (!FORMAT.equals(format)) {
      throw new IllegalArgumentException(source + ": metadata 'format' must be '" + FORMAT + "', was '" + format + "'");
    }
    String version = c.metadata().get("version");
    if (!"1".equals(version) && !"2".equals(version)) {
      throw new IllegalArgumentException(source + ": unsupported adapter version '" + version + "'");
    }
    if ("1".equals(version) && c.tensors().containsKey("basis")) {
      throw new IllegalArgumentException(source + ": tensor 'basis' needs metadata 'version' '2', was '1'");
    }
    // what the file says it computes must be what this class computes, else its vectors would be wrong
    String input = c.metadata().getOrDefault("input", "l2-normalized-pooled");
    if (!input.equals("l2-normalized-pooled")) {
      throw new IllegalArgumentException(source + ": metadata 'input' must be 'l2-normalized-pooled', was '" + input + "'");
    }
    String residual = c.metadata().getOrDefault("residual", "true");
    if (!residual.equals("true")) {
      throw new IllegalArgumentException(source + ": metadata 'residual' must be 'true', was '" + residual + "'");
    }
    String kindName = c.metadata().getOrDefault("kind", "");
    Map<String, String> extra = new LinkedHashMap<>(c.metadata());
    extra.keySet().removeAll(RESERVED_METADATA); // checked above; written again from what the adapter is
    Adapter a;
    try {
      switch (kindName.toLowerCase(Locale.ROOT)) {
        case "linear":
          a = linear(matrix(c, "weight", source), vector(c, "bias", source));
          break;
        case "mlp":
          a = mlp(matrix(c, "fc1.weight", source), vector(c, "fc1.bias", source),
              matrix(c, "fc2.weight", source), vector(c, "fc2.bias", source));
          break;
        default:
          throw new IllegalArgumentException("metadata 'kind' must be 'linear' or 'mlp', was '" + kindName + "'");
      }
      if (c.tensors().containsKey("basis")) {
        a = a.withBasis(matrix(c, "basis", source));
      }
    } catch (IllegalArgumentException e) {
      if (e.getMessage() != null && e.getMessage().startsWith(source)) {
        throw e;
      }
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
    return a.withMetadata(extra);
  }

  /**
   * Loads an adapter file.
   *
   * @throws IOException if the file cannot be read
   * @throws InvalidDataException if it is not a valid adapter
   */
  public static Adapter load(Path file) throws IOException {
    if (Files.isDirectory(file)) { // opens on Linux, and the first read fails without a name
      throw new IOException(file + ": is a folder, not an adapter file");
    }
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
      return read(in, file.toString());
    }
  }

  /** Writes this adapter in the format described above. Does not close the stream. */
  public void write(OutputStream out) throws IOException {
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", FORMAT);
    meta.put("version", basis == null ? "1" : "2");
    meta.put("kind", kind.name().toLowerCase(Locale.ROOT));
    meta.put("input", "l2-normalized-pooled");
    meta.put("residual", "true");
    metadata.forEach(meta::putIfAbsent);
    Map<String, SafeTensors.Tensor> t = new LinkedHashMap<>();
    if (basis != null) {
      t.put("basis", tensor(basis));
    }
    if (kind == Kind.LINEAR) {
      t.put("weight", tensor(w1));
      t.put("bias", new SafeTensors.Tensor(new int[] {b1.length}, b1));
    } else {
      t.put("fc1.weight", tensor(w1));
      t.put("fc1.bias", new SafeTensors.Tensor(new int[] {b1.length}, b1));
      t.put("fc2.weight", tensor(w2));
      t.put("fc2.bias", new SafeTensors.Tensor(new int[] {b2.length}, b2));
    }
    SafeTensors.write(out, meta, t);
  }

  /** Writes this adapter to a file, replacing it. */
  public void save(Path file) throws IOException {
    dev.gecko.core.internal.io.AtomicFiles.write(file, this::write); // old file or new, never half of one
  }

  /** Returns the kind of the residual function. */
  public Kind kind() {
    return kind;
  }

  /** Returns the width of the vectors this adapter maps. */
  public int dimensions() {
    return dims;
  }

  /** Returns the MLP's hidden width, or the model width for a linear adapter. */
  public int hiddenSize() {
    return w1.length;
  }

  /** Returns the string metadata read from or to be written to the file (format keys excluded). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** Returns a copy of the first layer's weight ({@code W} or {@code W1}), {@code [out][in]}. */
  public float[][] weight1() {
    return deepCopy(w1);
  }

  /** Returns a copy of the first layer's bias ({@code b} or {@code b1}). */
  public float[] bias1() {
    return b1.clone();
  }

  /** Returns a copy of {@code W2}, or null for a linear adapter. */
  public float[][] weight2() {
    return w2 == null ? null : deepCopy(w2);
  }

  /** Returns a copy of {@code b2}, or null for a linear adapter. */
  public float[] bias2() {
    return b2 == null ? null : b2.clone();
  }

  /** Returns a copy of the basis {@code B}, {@code [out][in]}, or null if this adapter has none. */
  public float[][] basis() {
    return basis == null ? null : deepCopy(basis);
  }

  /**
   * Maps a pooled vector: L2-normalises a copy to {@code u}, applies the basis ({@code v = B u},
   * or {@code v = u} without one) and returns {@code v + f(v)} (not normalised; the caller
   * truncates and normalises). The argument is not modified.
   *
   * @throws IllegalArgumentException if its length is not {@link #dimensions()}
   */
  public float[] apply(float[] pooled) {
    Objects.requireNonNull(pooled, "vector is null");
    if (pooled.length != dims) {
      throw new IllegalArgumentException("adapter expects " + dims + " dimensions, vector has " + pooled.length);
    }
    float[] u = VectorOps.normalize(pooled.clone());
    if (basis != null) {
      float[] v = new float[dims];
      for (int r = 0; r < dims; r++) {
        v[r] = VectorOps.dot(basis[r], u);
      }
      u = v;
    }
    float[] out = u.clone();
    if (kind == Kind.LINEAR) {
      for (int r = 0; r < dims; r++) {
        out[r] += VectorOps.dot(w1[r], u) + b1[r];
      }
      return out;
    }
    float[] hidden = new float[w1.length];
    for (int r = 0; r < hidden.length; r++) {
      hidden[r] = Math.max(0f, VectorOps.dot(w1[r], u) + b1[r]);
    }
    for (int r = 0; r < dims; r++) {
      out[r] += VectorOps.dot(w2[r], hidden) + b2[r];
    }
    return out;
  }

  @Override
  public String toString() {
    return "Adapter[" + kind.name().toLowerCase(Locale.ROOT) + ", " + dims + " dims"
        + (kind == Kind.MLP ? ", hidden " + w1.length : "") + (basis != null ? ", with basis" : "") + "]";
  }

  private static SafeTensors.Tensor tensor(float[][] m) {
    int rows = m.length;
    int cols = m[0].length;
    float[] flat = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(m[r], 0, flat, r * cols, cols);
    }
    return new SafeTensors.Tensor(new int[] {rows, cols}, flat);
  }

  private static float[][] matrix(SafeTensors.Contents c, String name, String source) {
    SafeTensors.Tensor t = c.tensors().get(name);
    if (t == null) {
      throw new IllegalArgumentException(source + ": tensor '" + name + "' is missing");
    }
    if (t.shape().length != 2 || t.shape()[0] < 1 || t.shape()[1] < 1) {
      throw new IllegalArgumentException(source + ": tensor '" + name + "' must be 2-D, has shape "
          + Arrays.toString(t.shape()));
    }
    int rows = t.shape()[0];
    int cols = t.shape()[1];
    float[][] m = new float[rows][];
    for (int r = 0; r < rows; r++) {
      m[r] = Arrays.copyOfRange(t.data(), r * cols, r * cols + cols);
    }
    return m;
  }

  private static float[] vector(SafeTensors.Contents c, String name, String source) {
    SafeTensors.Tensor t = c.tensors().get(name);
    if (t == null) {
      throw new IllegalArgumentException(source + ": tensor '" + name + "' is missing");
    }
    if (t.shape().length != 1) {
      throw new IllegalArgumentException(source + ": tensor '" + name + "' must be 1-D, has shape "
          + Arrays.toString(t.shape()));
    }
    return t.data();
  }

  /** Checks a matrix; with rows/cols = -1 only checks that it is non-empty; returns its rows. */
  private static int checkMatrix(float[][] m, String name, int rows, int cols) {
    Objects.requireNonNull(m, name + " is null");
    if (m.length == 0 || m[0] == null || m[0].length == 0) {
      throw new IllegalArgumentException(name + " is empty");
    }
    if (rows < 0) {
      return m.length;
    }
    if (m.length != rows) {
      throw new IllegalArgumentException(name + " has " + m.length + " rows, expected " + rows);
    }
    for (int r = 0; r < rows; r++) {
      if (m[r] == null || m[r].length != cols) {
        throw new IllegalArgumentException(name + " row " + r + " has " + (m[r] == null ? "null" : m[r].length)
            + " columns, expected " + cols);
      }
      for (float v : m[r]) {
        if (!Float.isFinite(v)) {
          throw new IllegalArgumentException(name + " row " + r + " holds a non-finite value " + v);
        }
      }
    }
    return rows;
  }

  private static void checkVector(float[] v, String name, int length) {
    Objects.requireNonNull(v, name + " is null");
    if (v.length != length) {
      throw new IllegalArgumentException(name + " has " + v.length + " entries, expected " + length);
    }
    for (float x : v) {
      if (!Float.isFinite(x)) {
        throw new IllegalArgumentException(name + " holds a non-finite value " + x);
      }
    }
  }

  private static float[][] deepCopy(float[][] m) {
    float[][] c = new float[m.length][];
    for (int r = 0; r < m.length; r++) {
      c[r] = m[r].clone();
    }
    return c;
  }
}
