package dev.gecko.core.vector;

/** Plain Java kernels: the reference, and the fallback where the Vector API is missing. */
final class ScalarVectorSupport implements VectorSupport {
  static final ScalarVectorSupport INSTANCE = new ScalarVectorSupport();

  private ScalarVectorSupport() {}

  @Override
  public float dot(float[] a, int aOffset, float[] b, int bOffset, int length) {
    float sum = 0f;
    for (int i = 0; i < length; i++) {
      sum = Math.fma(a[aOffset + i], b[bOffset + i], sum);
    }
    return sum;
  }

  @Override
  public float squaredNorm(float[] a, int offset, int length) {
    float sum = 0f;
    for (int i = 0; i < length; i++) {
      float v = a[offset + i];
      sum = Math.fma(v, v, sum);
    }
    return sum;
  }

  @Override
  public void scale(float[] a, int offset, int length, float factor) {
    for (int i = 0; i < length; i++) {
      a[offset + i] *= factor;
    }
  }

  @Override
  public void meanPool(float[] hidden, long[] mask, int batch, int tokens, int hiddenSize, float[] out, int outStride) {
    for (int b = 0; b < batch; b++) {
      int o = b * outStride;
      java.util.Arrays.fill(out, o, o + hiddenSize, 0f);
      int count = 0;
      for (int t = 0; t < tokens; t++) {
        if (mask[b * tokens + t] == 0) {
          continue;
        }
        count++;
        int h = (b * tokens + t) * hiddenSize;
        for (int i = 0; i < hiddenSize; i++) {
          out[o + i] += hidden[h + i];
        }
      }
      if (count > 0) {
        scale(out, o, hiddenSize, 1f / count);
      }
    }
  }
}
