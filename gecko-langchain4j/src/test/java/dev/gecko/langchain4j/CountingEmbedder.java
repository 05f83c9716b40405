package dev.gecko.langchain4j;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.EmbedderMetrics;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.ProgressListener;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/** A GeckoEmbedder that counts the embedding calls it forwards, and whether it was closed. */
final class CountingEmbedder implements GeckoEmbedder {
  final GeckoEmbedder inner;
  final AtomicInteger embedCalls = new AtomicInteger();
  final AtomicInteger texts = new AtomicInteger();
  volatile boolean closed;

  CountingEmbedder(GeckoEmbedder inner) {
    this.inner = inner;
  }

  @Override
  public ModelPackage model() {
    return inner.model();
  }

  @Override
  public int dimensions() {
    return inner.dimensions();
  }

  @Override
  public List<float[]> embedAll(List<String> list, int dims) {
    embedCalls.incrementAndGet();
    texts.addAndGet(list.size());
    return inner.embedAll(list, dims);
  }

  @Override
  public List<float[]> embedRequests(List<EmbedRequest> requests, int dims, ProgressListener progress) {
    embedCalls.incrementAndGet();
    texts.addAndGet(requests.size());
    return inner.embedRequests(requests, dims, progress);
  }

  @Override
  public CompletableFuture<List<float[]>> embedRequestsAsync(List<EmbedRequest> requests, int dims) {
    embedCalls.incrementAndGet();
    texts.addAndGet(requests.size());
    return inner.embedRequestsAsync(requests, dims);
  }

  @Override
  public EmbedderMetrics metrics() {
    return inner.metrics();
  }

  @Override
  public int countTokens(EmbedRequest request) {
    return inner.countTokens(request);
  }

  @Override
  public void close() {
    closed = true;
  }
}
