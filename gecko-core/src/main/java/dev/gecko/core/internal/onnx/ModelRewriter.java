package dev.gecko.core.internal.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Enumeration;
import java.util.Optional;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * Applies gecko's graph rewrites to a serialised ONNX {@code ModelProto} in one pass, <b>in
 * place</b> where the layout allows (see {@link SkipLayerNormFusion#apply}): residual blocks fused
 * into {@code SkipLayerNormalization} ({@link SkipLayerNormFusion}), and, for models read at the
 * first token, the last layer computed for that token only ({@link ClsTokenPruning}).
 *
 * <p>Thread-safe: stateless (but {@link #rewrite} rewrites its argument).
 */
public final class ModelRewriter {
  private ModelRewriter() {}

  private static final class Fingerprint {
    static final Optional<String> VALUE = compute();
  }

  /**
   * Returns an identifier of the rewriting code (a CRC-32 over the class files of this package),
   * for caches of rewritten graphs: it changes whenever the code that decides a rewrite's output
   * does. Empty where the class files cannot be read (classes not loaded from a directory or a
   * jar file).
   */
  public static Optional<String> codeFingerprint() {
    return Fingerprint.VALUE;
  }

  private static Optional<String> compute() {
    try {
      CodeSource source = ModelRewriter.class.getProtectionDomain().getCodeSource();
      if (source == null || source.getLocation() == null || !"file".equals(source.getLocation().getProtocol())) {
        return Optional.empty();
      }
      return fingerprintOf(Path.of(source.getLocation().toURI()));
    } catch (URISyntaxException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * The fingerprint of this package's class files under {@code location}: a classes folder or a
   * jar; empty where they cannot be read or ModelRewriter's own class is not there.
   */
  static Optional<String> fingerprintOf(Path location) {
    String pkg = ModelRewriter.class.getPackageName().replace('.', '/') + "/";
    TreeMap<String, byte[]> classes = new TreeMap<>();
    try {
      if (Files.isDirectory(location)) {
        try (Stream<Path> files = Files.list(location.resolve(pkg))) {
          for (Path f : (Iterable<Path>) files::iterator) {
            if (f.getFileName().toString().endsWith(".class")) {
              classes.put(f.getFileName().toString(), Files.readAllBytes(f));
            }
          }
        }
      } else {
        try (JarFile jar = new JarFile(location.toFile())) {
          for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
            JarEntry entry = e.nextElement();
            String name = entry.getName();
            if (name.startsWith(pkg) && name.endsWith(".class") && name.indexOf('/', pkg.length()) < 0) {
              try (InputStream in = jar.getInputStream(entry)) {
                classes.put(name.substring(pkg.length()), in.readAllBytes());
              }
            }
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
    if (!classes.containsKey(ModelRewriter.class.getSimpleName() + ".class")) {
      return Optional.empty();
    }
    CRC32 crc = new CRC32();
    classes.forEach((name, bytes) -> {
      crc.update(name.getBytes(StandardCharsets.UTF_8));
      crc.update(bytes);
    });
    return Optional.of(String.format(java.util.Locale.ROOT, "%08x", crc.getValue()));
  }

  /** The rewritten model and what was done to it. */
  public static final class Result {
    private final byte[] model;
    private final int fusedBlocks;
    private final boolean firstTokenOnly;
    private final PositionTable positionTable;

    Result(byte[] model, int fusedBlocks, boolean firstTokenOnly, PositionTable positionTable) {
      this.model = model;
      this.fusedBlocks = fusedBlocks;
      this.firstTokenOnly = firstTokenOnly;
      this.positionTable = positionTable;
    }

    /**
     * Returns the model to load: the argument of {@link #rewrite} (rewritten in place, or
     * untouched when nothing applied), or a new array when the rewrite could not be done in place.
     */
    public byte[] model() {
      return model;
    }

    /** Returns the number of residual blocks fused into {@code SkipLayerNormalization}. */
    public int fusedBlocks() {
      return fusedBlocks;
    }

    /**
     * Returns whether the last layer now computes the first token only: the output is then
     * {@code [batch, 1, width]} instead of {@code [batch, tokens, width]}.
     */
    public boolean firstTokenOnly() {
      return firstTokenOnly;
    }

    /**
     * Returns the graph's position-embedding table, read while the graph was parsed for the
     * rewrite (see {@link PositionTable}); empty where none was found.
     */
    public Optional<PositionTable> positionTable() {
      return Optional.ofNullable(positionTable);
    }

    /** Returns whether anything was rewritten. */
    public boolean changed() {
      return fusedBlocks > 0 || firstTokenOnly;
    }
  }

  /**
   * Rewrites {@code model}, and reads its position table on the way ({@link
   * Result#positionTable()}). Graphs with external weight files or subgraphs are returned
   * untouched.
   *
   * @param fuseLayerNorm fuse residual blocks into {@code SkipLayerNormalization}
   * @param firstTokenOnly compute the last layer for the first token only (only for models whose
   *     vectors are read from that token; the caller must check the output shape before use)
   * @throws IllegalArgumentException if the bytes are not a well-formed ONNX model (the argument
   *     is then untouched)
   */
  public static Result rewrite(byte[] model, boolean fuseLayerNorm, boolean firstTokenOnly) {
    try {
      Graph g = new Graph(model);
      PositionTable positions = PositionTable.find(g).orElse(null); // before the bytes are rewritten
      if (g.hasExternalData || g.hasSubgraphs) {
        return new Result(model, 0, false, positions);
      }
      GraphRewrite rewrite = new GraphRewrite(g);
      int fused = fuseLayerNorm ? SkipLayerNormFusion.plan(rewrite) : 0;
      boolean pruned = firstTokenOnly && ClsTokenPruning.plan(rewrite);
      return rewrite.isEmpty() ? new Result(model, 0, false, positions)
          : new Result(rewrite.write(), fused, pruned, positions);
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("malformed ONNX graph: " + e, e);
    }
  }
}
