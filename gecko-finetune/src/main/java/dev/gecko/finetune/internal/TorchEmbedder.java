package dev.gecko.finetune.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.EmbedderMetrics;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.adapter.Adapter;
import dev.gecko.core.Progress;
import dev.gecko.core.ProgressListener;
import dev.gecko.core.vector.VectorOps;
import dev.gecko.tokenizer.Encoding;
import dev.gecko.tokenizer.GeckoTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The model being trained as a {@link GeckoEmbedder}: the same prompts, tokenizer, pooling,
 * truncation and normalisation as the ONNX Runtime embedder, computed by {@link BertEncoder} with
 * no autograd. The evaluators of gecko-eval validate a model in training through it.
 *
 * <p>Not thread-safe (the encoder is not): the async call runs on the caller's thread and returns a
 * completed future. Does not own the encoder or the tokenizer: {@link #close()} does nothing.
 * {@link #metrics()} counts calls, texts, tokens and batches; it times nothing. Vectors are
 * returned as computed, NaN and infinities included (weights that diverged, or a text that
 * overflows the model); {@link #nonFiniteTexts()} counts the texts that gave such a vector.
 */
public final class TorchEmbedder implements GeckoEmbedder {
  private final ModelPackage pkg;
  private final GeckoTokenizer tokenizer;
  private final BertEncoder encoder;
  private final NDManager manager;
  private final int maxBatchTokens;
  private final Adapter adapter;
  private long calls;
  private long texts;
  private long tokens;
  private long paddedTokens;
  private long batches;
  private long nonFinite;

  public TorchEmbedder(ModelPackage pkg, GeckoTokenizer tokenizer, BertEncoder encoder, NDManager manager,
      int maxBatchTokens) {
    this(pkg, tokenizer, encoder, manager, maxBatchTokens, null);
  }

  /**
   * As the other constructor, with an adapter applied to every pooled vector before truncation (as
   * {@code GeckoEmbedder} applies a package's adapter); null for none.
   */
  public TorchEmbedder(ModelPackage pkg, GeckoTokenizer tokenizer, BertEncoder encoder, NDManager manager,
      int maxBatchTokens, Adapter adapter) {
    this.adapter = adapter;
    this.pkg = pkg;
    this.tokenizer = tokenizer;
    this.encoder = encoder;
    this.manager = manager;
    this.maxBatchTokens = maxBatchTokens;
  }

  @Override
  public ModelPackage model() {
    return pkg;
  }

  @Override
  public int dimensions() {
    return encoder.config().hidden();
  }

  @Override
  public List<float[]> embedAll(List<String> texts, int dims) {
    List<EmbedRequest> r = new ArrayList<>(texts.size());
    for (String t : texts) {
      r.add(EmbedRequest.of(t));
    }
    return embedRequests(r, dims, ProgressListener.none());
  }

  @Override
  public List<float[]> embedRequests(List<EmbedRequest> requests, int dims, ProgressListener progress) {
    Objects.requireNonNull(requests, "requests is null");
    if (dims < 1 || dims > dimensions()) {
      throw new IllegalArgumentException("dims must be in [1, " + dimensions() + "], was " + dims);
    }
    calls++;
    List<String> rendered = new ArrayList<>(requests.size());
    for (EmbedRequest r : requests) {
      rendered.add(pkg.render(r));
    }
    float[][] full = embedRendered(rendered, progress);
    List<float[]> out = new ArrayList<>(full.length);
    for (float[] v : full) {
      out.add(VectorOps.truncateAndNormalize(adapter == null ? v : adapter.apply(v), dims));
    }
    return out;
  }

  /** Full-width pooled vectors (not normalised) of texts already rendered, in their order. */
  public float[][] embedRendered(List<String> rendered, ProgressListener progress) {
    List<Encoding> enc = tokenizer.encodeAll(rendered);
    Integer[] order = new Integer[enc.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingInt(i -> enc.get(i).length()));
    float[][] out = new float[enc.size()][];
    int start = 0;
    while (start < order.length) {
      int end = start + 1;
      while (end < order.length && (end - start + 1) * enc.get(order[end]).length() <= maxBatchTokens) {
        end++;
      }
      List<Encoding> batch = new ArrayList<>(end - start);
      for (int i = start; i < end; i++) {
        batch.add(enc.get(order[i]));
        tokens += enc.get(order[i]).length();
      }
      texts += end - start;
      paddedTokens += (long) (end - start) * enc.get(order[end - 1]).length();
      batches++;
      try (NDManager sm = manager.newSubManager()) {
        NDArray pooled = encoder.encode(sm, tokenizer.pad(batch), pkg.pooling());
        NDArray f = encoder.dataType() == DataType.FLOAT32 ? pooled : pooled.toType(DataType.FLOAT32, false);
        float[] flat = f.toFloatArray();
        int h = dimensions();
        for (int i = start; i < end; i++) {
          out[order[i]] = Arrays.copyOfRange(flat, (i - start) * h, (i - start + 1) * h);
          if (!finite(out[order[i]])) {
            nonFinite++;
          }
        }
      }
      progress.onProgress(Progress.of("embedding", "texts", end, order.length));
      start = end;
    }
    return out;
  }

  /**
   * The texts embedded so far (as {@code metrics().texts()} counts them) whose pooled vector held
   * NaN or an infinity; such a vector stays so after truncation and normalisation.
   */
  public long nonFiniteTexts() {
    return nonFinite;
  }

  private static boolean finite(float[] v) {
    for (float x : v) {
      if (!Float.isFinite(x)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public CompletableFuture<List<float[]>> embedRequestsAsync(List<EmbedRequest> requests, int dims) {
    try {
      return CompletableFuture.completedFuture(embedRequests(requests, dims, ProgressListener.none()));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public EmbedderMetrics metrics() {
    EmbedderMetrics.LatencyHistogram none = new EmbedderMetrics.LatencyHistogram(List.of(Long.MAX_VALUE), List.of(0L));
    return new EmbedderMetrics(calls, texts, tokens, paddedTokens, batches, 0, 0, none, none);
  }

  @Override
  public int countTokens(EmbedRequest request) {
    return tokenizer.countTokens(pkg.render(request));
  }

  @Override
  public void close() {}
}
