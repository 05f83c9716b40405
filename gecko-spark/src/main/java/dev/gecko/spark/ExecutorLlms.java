package dev.gecko.spark;

import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmClients;
import dev.gecko.train.llm.UsageMeter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The LLM clients of this JVM (an executor, or the driver in local mode): per spec and limit, one
 * HTTP client under retries and a concurrency limit, shared by every task of the JVM, so that the
 * limit (and a rate-limit pause the retries met) holds per executor. Each task puts its own meter
 * (and the response cache) over it, in the order of {@link LlmClients#standard}: cache, meter,
 * limit, retries, HTTP.
 *
 * <p>Thread-safe. Clients live as long as the JVM (they hold nothing that needs closing).
 */
final class ExecutorLlms {
  private static final Map<String, LlmClient> SHARED = new ConcurrentHashMap<>();

  private ExecutorLlms() {}

  /** The client a task uses: its meter and the cache (null: none) over this JVM's shared, limited, retrying client. */
  static LlmClient forTask(LlmSpec spec, int maxInFlight, UsageMeter meter, Path cacheDir) {
    LlmClient shared = SHARED.computeIfAbsent(spec.key() + "|" + maxInFlight,
        k -> LlmClients.concurrencyLimited(LlmClients.retrying(spec.http(System.getenv()), spec.retryPolicy()), maxInFlight));
    LlmClient metered = LlmClients.metered(shared, meter);
    return cacheDir == null ? metered : LlmClients.caching(metered, cacheDir, meter);
  }
}
