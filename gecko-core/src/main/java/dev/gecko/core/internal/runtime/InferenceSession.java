package dev.gecko.core.internal.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.gecko.core.InferenceException;
import dev.gecko.core.Pooling;
import dev.gecko.core.vector.VectorOps;
import dev.gecko.tokenizer.TokenizedBatch;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * One model's ONNX Runtime session and how to run a padded batch on it: copy the batch into a
 * {@link Workspace}'s native buffers, run the graph inside the shutdown gate, pool its output (mean
 * over the attention mask, or the first token). Internal.
 *
 * <p>Thread-safe: ONNX Runtime sessions may run concurrently; each thread brings its own
 * workspace. Owns the session and its options: {@link #close()} frees them (the caller makes sure
 * no run is in flight).
 */
final class InferenceSession implements AutoCloseable {
  private final OrtEnvironment env;
  private final OrtSession.SessionOptions options;
  private final OrtSession session;
  private final String outputName;
  private final boolean takesTokenTypes;
  private final int width;
  /** Whether the graph outputs each text's first token only ({@code [rows, 1, width]}). */
  private final boolean firstTokenOnly;
  private final Pooling pooling;

  InferenceSession(OrtEnvironment env, OrtSession.SessionOptions options, OrtSession session, String outputName, boolean takesTokenTypes, int width,
      boolean firstTokenOnly, Pooling pooling) {
    this.env = env;
    this.options = options;
    this.session = session;
    this.outputName = outputName;
    this.takesTokenTypes = takesTokenTypes;
    this.width = width;
    this.firstTokenOnly = firstTokenOnly;
    this.pooling = pooling;
  }

  /** Returns the pooled width. */
  int width() {
    return width;
  }

  /** Whether the graph computes its last layer for the first token only. */
  boolean firstTokenOnly() {
    return firstTokenOnly;
  }

  /**
   * Runs one padded batch and returns its pooled, unnormalised vectors as a flat [rows, width]
   * array. Inputs and the output live in the workspace's native buffers (no per-batch tensor
   * copies).
   *
   * @throws InferenceException if ONNX Runtime fails on the batch
   * @throws IllegalStateException if the JVM is shutting down
   */
  float[] run(TokenizedBatch batch, Workspace ws) {
    long[] shape = batch.shape();
    int tokens = batch.sequenceLength();
    int cells = batch.rows() * tokens;
    int outputTokens = firstTokenOnly ? 1 : tokens;
    ws.ensure(cells, batch.rows() * outputTokens, width, pooling == Pooling.MEAN);
    Map<String, OnnxTensor> inputs = new HashMap<>();
    OnnxTensor output = null;
    OrtRuntime.Call call = OrtRuntime.enter(); // tensors are created, run and freed inside the gate
    try {
      inputs.put(SessionLoader.INPUT_IDS, OnnxTensor.createTensor(env, ws.fill(ws.ids, batch.inputIds(), cells), shape));
      inputs.put(SessionLoader.ATTENTION_MASK,
          OnnxTensor.createTensor(env, ws.fill(ws.mask, batch.attentionMask(), cells), shape));
      if (takesTokenTypes) {
        inputs.put(SessionLoader.TOKEN_TYPE_IDS,
            OnnxTensor.createTensor(env, ws.fill(ws.types, batch.tokenTypeIds(), cells), shape));
      }
      FloatBuffer hidden = ws.hidden.duplicate().clear().limit(batch.rows() * outputTokens * width);
      output = OnnxTensor.createTensor(env, hidden, new long[] {batch.rows(), outputTokens, width});
      session.run(inputs, Map.of(outputName, output)).close();
      return pool(hidden, batch, ws);
    } catch (OrtException e) {
      throw new InferenceException("ONNX Runtime failed on a batch of " + batch.rows() + " x "
          + batch.sequenceLength() + " tokens: " + e.getMessage(), e);
    } finally {
      for (OnnxTensor t : inputs.values()) {
        t.close();
      }
      if (output != null) {
        output.close();
      }
      call.close();
    }
  }

  /**
   * Pools {@code [rows, tokens, width]} hidden states (or {@code [rows, 1, width]} from a
   * first-token-only graph) straight from the output buffer.
   */
  private float[] pool(FloatBuffer hidden, TokenizedBatch batch, Workspace ws) {
    int rows = batch.rows();
    int tokens = batch.sequenceLength();
    float[] pooled = new float[rows * width];
    if (pooling == Pooling.CLS) {
      int stride = firstTokenOnly ? width : tokens * width;
      for (int r = 0; r < rows; r++) {
        hidden.get(r * stride, pooled, r * width, width);
      }
      return pooled;
    }
    // Mean over the attention mask with the VectorOps kernel (SIMD when enabled), on heap copies
    // kept in the workspace: one bulk copy out of the native output buffer.
    int cells = rows * tokens;
    hidden.get(0, ws.hiddenHeap, 0, cells * width);
    batch.attentionMask().get(ws.maskHeap, 0, cells);
    VectorOps.meanPoolInto(ws.hiddenHeap, ws.maskHeap, rows, tokens, width, pooled);
    return pooled;
  }

  /** Frees the session, unless the JVM is shutting down (the process's end frees it then). */
  @Override
  public void close() {
    if (OrtRuntime.shuttingDown()) {
      return;
    }
    try (OrtRuntime.Call ignored = OrtRuntime.enter()) {
      SessionLoader.closeQuietly(session);
      options.close();
    } catch (IllegalStateException shuttingDown) {
      // lost the race with the JVM's shutdown: as above
    }
  }
}
