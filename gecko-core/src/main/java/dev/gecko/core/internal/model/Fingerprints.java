package dev.gecko.core.internal.model;

import dev.gecko.core.ModelPackage;
import dev.gecko.core.ModelSource;
import dev.gecko.core.TaskType;
import dev.gecko.core.internal.cache.ResourceCache;
import dev.gecko.core.internal.io.Hashes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Optional;

/**
 * Computes {@link ModelPackage#fingerprint()}: SHA-256 over the package's settings and the
 * identity of its files (a file's whole content; a class-path resource's CRC-32 and size, as its
 * jar records them or computed from its bytes). Internal. Stateless and thread-safe.
 */
public final class Fingerprints {
  private Fingerprints() {}

  /** Returns the fingerprint of {@code pkg}. */
  public static String of(ModelPackage pkg) throws IOException {
    MessageDigest d = Hashes.sha256();
    StringBuilder settings = new StringBuilder();
    settings.append("pooling=").append(pkg.pooling()).append("\nmaxTokens=").append(pkg.maxTokens())
        .append("\ndimensions=").append(pkg.dimensions()).append("\ndefaultPrompt=")
        .append(pkg.defaultPrompt().orElse("")).append('\n');
    for (Map.Entry<TaskType, String> e : pkg.prompts().entrySet()) {
      settings.append("prompt.").append(e.getKey()).append('=').append(e.getValue()).append('\n');
    }
    d.update(settings.toString().getBytes(StandardCharsets.UTF_8));
    file(d, "model", pkg.model());
    file(d, "tokenizer", pkg.tokenizer());
    Optional<ModelSource> adapter = pkg.adapter();
    if (adapter.isPresent()) {
      file(d, "adapter", adapter.get());
    }
    return Hashes.hex(d);
  }

  private static void file(MessageDigest d, String role, ModelSource source) throws IOException {
    d.update(("\n" + role + "\n").getBytes(StandardCharsets.UTF_8));
    Optional<java.net.URL> resource = source.resourceUrl();
    if (resource.isPresent()) { // one model has one fingerprint however its jar is packaged
      d.update(ResourceCache.resourceIdentity(resource.get()).getBytes(StandardCharsets.UTF_8));
      return;
    }
    try (InputStream in = source.open()) {
      Hashes.update(d, in);
    }
  }
}
