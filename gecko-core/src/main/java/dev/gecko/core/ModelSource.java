package dev.gecko.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a file of a {@link ModelPackage} comes from: a path on disk or a classpath resource (the
 * built-in models' graphs and tokenizers live in jars).
 *
 * <p>Immutable and thread-safe. Holds no open resources: each {@link #open()} returns a stream the
 * caller closes.
 */
public final class ModelSource {
  private final Path path;
  private final String resource;
  private final ClassLoader loader;

  private ModelSource(Path path, String resource, ClassLoader loader) {
    this.path = path;
    this.resource = resource;
    this.loader = loader;
  }

  /** A file on disk. */
  public static ModelSource of(Path path) {
    return new ModelSource(Objects.requireNonNull(path, "path is null"), null, null);
  }

  /** A classpath resource (absolute name, without a leading slash) of the given loader. */
  public static ModelSource ofResource(String resource, ClassLoader loader) {
    return new ModelSource(null, Objects.requireNonNull(resource, "resource is null"),
        Objects.requireNonNull(loader, "loader is null"));
  }

  /** Returns the path on disk, if this source is a file. */
  public Optional<Path> path() {
    return Optional.ofNullable(path);
  }

  /** Returns whether the source exists. */
  public boolean exists() {
    return path != null ? Files.isRegularFile(path) : loader.getResource(resource) != null;
  }

  /**
   * Opens the source for reading. The caller closes the stream.
   *
   * @throws IOException if it cannot be opened (the message names the source)
   */
  public InputStream open() throws IOException {
    if (path != null) {
      return Files.newInputStream(path);
    }
    InputStream in = loader.getResourceAsStream(resource);
    if (in == null) {
      throw new IOException("classpath resource not found: " + resource);
    }
    return in;
  }

  /**
   * Reads the whole source into one array of its exact size when the size is known (files, and
   * jar entries that record it), so that reading a large model leaves no second copy of garbage
   * behind (InputStream.readAllBytes gathers chunks and copies them).
   *
   * @throws IOException if it cannot be read, or changes size while being read (the message names
   *     the source)
   */
  public byte[] readAllBytes() throws IOException {
    if (path != null) {
      return Files.readAllBytes(path);
    }
    java.net.URL url = loader.getResource(resource);
    if (url == null) {
      throw new IOException("classpath resource not found: " + resource);
    }
    java.net.URLConnection connection = url.openConnection();
    connection.setUseCaches(false); // a jar opened for this read is closed with the stream
    long size = connection.getContentLengthLong();
    try (InputStream in = connection.getInputStream()) {
      if (size < 0 || size > Integer.MAX_VALUE - 8) {
        return in.readAllBytes();
      }
      byte[] bytes = new byte[(int) size];
      int read = in.readNBytes(bytes, 0, bytes.length);
      if (read != bytes.length || in.read() != -1) {
        throw new IOException(this + ": expected " + size + " bytes, read " + (read != bytes.length ? read : "more"));
      }
      return bytes;
    }
  }

  /** Returns whether this source is the resource {@code name} of {@code loader}. */
  public boolean isResource(String name, ClassLoader loader) {
    return resource != null && resource.equals(name) && this.loader == loader;
  }

  /** Returns where the resource is, if this source is a classpath resource that exists. */
  public Optional<java.net.URL> resourceUrl() {
    return resource == null ? Optional.empty() : Optional.ofNullable(loader.getResource(resource));
  }

  @Override
  public String toString() {
    return path != null ? path.toString() : "classpath:" + resource;
  }
}
