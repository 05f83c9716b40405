package dev.gecko.finetune.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.gecko.finetune.FineTuneConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter; beta 0.9 / 0.999, eps 1e-8, decoupled weight decay, none on
 * biases and layer norms) with global gradient-norm clipping (PyTorch's {@code
 * clip_grad_norm_}: every gradient scaled by {@code max / (norm + 1e-6)} when the norm of all of
 * them together exceeds {@code max}); a step whose gradient is not finite is skipped. Runs on the
 * engine, in place; reads each parameter's gradient through a handle it closes, and zeroes the
 * gradients after the step. Owns its moment
 * arrays (in a sub-manager of the one given). Not thread-safe.
 */
final class Optimizer {
  static final double BETA1 = 0.9;
  static final double BETA2 = 0.999;
  static final double EPS = 1e-8;

  private final BertEncoder encoder;
  private final FineTuneConfig config;
  final Map<String, NDArray> m = new LinkedHashMap<>();
  final Map<String, NDArray> v = new LinkedHashMap<>();
  long t;
  private String lastSkipReason = "";

  Optimizer(BertEncoder encoder, FineTuneConfig config, NDManager parent) {
    this.encoder = encoder;
    this.config = config;
    NDManager own = parent.newSubManager();
    encoder.parameters().forEach((name, p) -> {
      boolean trainable = !(config.freezeEmbeddings() && BertConfig.isEmbedding(name));
      p.setRequiresGradient(trainable);
      if (trainable) {
        m.put(name, own.zeros(p.getShape(), p.getDataType()));
        v.put(name, own.zeros(p.getShape(), p.getDataType()));
      }
    });
  }

  /** Trainable parameter names. */
  Iterable<String> trainable() {
    return m.keySet();
  }

  /** Returns the global gradient norm. */
  double gradNorm() {
    double sq = 0;
    for (String name : m.keySet()) {
      try (NDArray g = encoder.parameters().get(name).getGradient(); NDArray s = g.square(); NDArray sum = s.sum();
          NDArray d = sum.toType(ai.djl.ndarray.types.DataType.FLOAT64, true)) {
        sq += d.getDouble();
      }
    }
    return Math.sqrt(sq);
  }

  /**
   * One step at learning rate {@code lr}, then zeroes the gradients. When the gradient is not
   * finite (an infinity or NaN anywhere: an overflow in one batch), nothing but the gradients
   * changes (they are zeroed) and this returns false: one such batch must not turn the moments,
   * and through them every later step, into NaN.
   *
   * @return whether the step was applied
   */
  boolean step(double lr) {
    return step(lr, 0);
  }

  /**
   * As {@link #step(double)}, for a batch whose loss was {@code loss}: a loss that is not finite
   * skips the step too (its gradient, finite or not, is of a batch gone wrong).
   */
  boolean step(double lr, double loss) {
    if (!Double.isFinite(loss)) {
      lastSkipReason = "the loss is " + loss;
      zeroGradients();
      return false;
    }
    double norm = gradNorm();
    if (!Double.isFinite(norm)) {
      lastSkipReason = nonFiniteGradients();
      zeroGradients();
      return false;
    }
    double clip = config.maxGradNorm() > 0 && norm > config.maxGradNorm() ? config.maxGradNorm() / (norm + 1e-6) : 1;
    t++;
    double bc1 = 1 - Math.pow(BETA1, t);
    double bc2 = 1 - Math.pow(BETA2, t);
    for (String name : m.keySet()) {
      NDArray p = encoder.parameters().get(name);
      NDArray mi = m.get(name);
      NDArray vi = v.get(name);
      try (NDArray g = p.getGradient()) {
        if (clip != 1) {
          g.muli(clip);
        }
        mi.muli(BETA1);
        try (NDArray a = g.mul(1 - BETA1)) {
          mi.addi(a);
        }
        vi.muli(BETA2);
        try (NDArray g2 = g.square(); NDArray a = g2.muli(1 - BETA2)) {
          vi.addi(a);
        }
        if (!BertConfig.noDecay(name) && config.weightDecay() > 0) {
          p.muli(1 - lr * config.weightDecay());
        }
        try (NDArray denom = vi.div(bc2); NDArray s = denom.sqrt(); NDArray d = s.addi(EPS);
            NDArray upd = mi.div(d)) {
          upd.muli(lr / bc1);
          p.subi(upd);
        }
      }
    }
    zeroGradients();
    return true;
  }

  /** Why the last skipped step was skipped: which gradients held NaN or infinity ("" before any skip). */
  String lastSkipReason() {
    return lastSkipReason;
  }

  /**
   * Says which parameters' gradients hold NaN or infinity: how many, the values, and the one
   * nearest the output in the model's order (back-propagation runs from the output down, so that
   * is near where the first non-finite value arose), with the largest magnitude among the finite
   * gradients above it (a huge one points at a gradient that grew on its way down and overflowed,
   * a modest one at a value that overflowed there); or that none does and the squared norm
   * overflowed.
   */
  private String nonFiniteGradients() {
    int params = 0;
    long nans = 0;
    long infs = 0;
    String nearestOutput = null;
    String largestAbove = null; // among the finite gradients after nearestOutput
    double largestAboveValue = 0;
    for (String name : m.keySet()) {
      long nan;
      long inf;
      double maxAbs = 0;
      try (NDArray g = encoder.parameters().get(name).getGradient(); NDArray isNan = g.isNaN();
          NDArray nanL = isNan.toType(DataType.INT64, false); NDArray nanSum = nanL.sum();
          NDArray isInf = g.isInfinite(); NDArray infL = isInf.toType(DataType.INT64, false);
          NDArray infSum = infL.sum()) {
        nan = nanSum.getLong();
        inf = infSum.getLong();
        if (nan + inf == 0) {
          try (NDArray abs = g.abs(); NDArray max = abs.max(); NDArray d = max.toType(DataType.FLOAT64, false)) {
            maxAbs = d.getDouble();
          }
        }
      }
      if (nan + inf > 0) {
        params++;
        nans += nan;
        infs += inf;
        nearestOutput = name;
        largestAbove = null;
        largestAboveValue = 0;
      } else if (largestAbove == null || maxAbs > largestAboveValue) {
        largestAbove = name;
        largestAboveValue = maxAbs;
      }
    }
    if (params == 0) {
      return "no gradient holds NaN or infinity: their squared norm overflowed";
    }
    return params + " of " + m.size() + " parameters' gradients hold " + nans + " NaN and " + infs
        + " infinite values, the one nearest the output " + nearestOutput
        + (largestAbove == null ? " (no parameter above it)"
            : " (the largest finite gradient above it: " + String.format(java.util.Locale.ROOT, "%.3g", largestAboveValue)
                + " in " + largestAbove + ")");
  }

  /** Zeroes every trainable parameter's gradient in place (an assignment: a NaN does not survive it). */
  void zeroGradients() {
    for (String name : m.keySet()) {
      JniUtils.zeroGrad((PtNDArray) encoder.parameters().get(name));
    }
  }
}
