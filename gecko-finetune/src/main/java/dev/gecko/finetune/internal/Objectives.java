package dev.gecko.finetune.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * The fine-tuning losses over pooled vectors {@code emb [N, H]} (one row per distinct text of a
 * batch), each summed over Matryoshka widths with weights: at width m the rows are truncated to
 * their first m coordinates and L2-normalised, the loss is computed, and weighted.
 *
 * <p>Duplicates are recognised by row index: a batch's texts are deduplicated before encoding,
 * so two rows of a batch that name the same text name the same row. Stateless; every array it
 * creates is attached to {@code emb}'s manager.
 */
public final class Objectives {
  /** Added to a masked logit: its softmax weight is exactly 0 in float32 and float64. */
  static final double MASKED = -1e9;

  private Objectives() {}

  /** Whether text row {@code t} is a positive of row {@code i}'s query in the batch: its own, or another row's of that query. */
  static boolean positiveOf(int[] q, int[] pos, int i, int t) {
    for (int k = 0; k < q.length; k++) {
      if (q[k] == q[i] && pos[k] == t) {
        return true;
      }
    }
    return false;
  }

  /** Truncates to m coordinates and L2-normalises each row. */
  static NDArray truncateNormalize(NDArray emb, int m) {
    NDArray t = m == emb.getShape().get(1) ? emb : emb.get(new NDIndex(":, :" + m));
    return t.div(t.square().sum(new int[] {1}, true).sqrt());
  }

  static NDArray rows(NDArray e, int[] idx) {
    NDManager m = e.getManager();
    long[] l = new long[idx.length];
    for (int i = 0; i < idx.length; i++) {
      l[i] = Math.max(idx[i], 0);
    }
    return e.get(new NDIndex("{}", m.create(l)));
  }

  /**
   * Gecko's contrastive loss (Lee et al. 2024, eq. 3), the adapter trainer's CONTRASTIVE
   * objective: for row i, softmax cross-entropy at temperature tau of {@code cos(q_i, p_i)}
   * against {@code cos(q_i, p_j)} for every j, {@code cos(q_i, q_j)} for j != i (same-tower
   * negatives) and the hard negatives: the row's own {@code n_i} ({@code allNegatives} false, the
   * paper) or every row's {@code n_j} (sentence-transformers' choice); mean over rows. Entries
   * that are the same text as the row's query or as a positive of its query in the batch (its own,
   * or another row's of the same query) are masked (never pushed away).
   *
   * @param neg the row of each hard negative, or -1 for none
   */
  public static NDArray gecko(NDArray emb, int[] q, int[] pos, int[] neg, int[] widths, double[] weights,
      double tau, boolean allNegatives) {
    int b = q.length;
    int negCols = allNegatives ? b : 1;
    int cols = 2 * b + negCols;
    double[] mask = new double[b * cols];
    double[] onehot = new double[b * cols];
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < b; j++) {
        // the same text as the query, or as a positive of the query (its own, another row's of it)
        if (j != i && (pos[j] == q[i] || positiveOf(q, pos, i, pos[j]))) {
          mask[i * cols + j] = MASKED;
        }
        if (j == i || q[j] == q[i] || positiveOf(q, pos, i, q[j])) {
          mask[i * cols + b + j] = MASKED;
        }
      }
      for (int j = 0; j < negCols; j++) {
        int n = allNegatives ? neg[j] : neg[i];
        if (n < 0 || n == q[i] || positiveOf(q, pos, i, n)) {
          mask[i * cols + 2 * b + j] = MASKED;
        }
      }
      onehot[i * cols + i] = 1;
    }
    NDManager m = emb.getManager();
    NDArray maskA = m.create(mask, new Shape(b, cols)).toType(emb.getDataType(), false);
    NDArray onehotA = m.create(onehot, new Shape(b, cols)).toType(emb.getDataType(), false);
    NDArray total = null;
    for (int w = 0; w < widths.length; w++) {
      NDArray e = truncateNormalize(emb, widths[w]);
      NDArray qe = rows(e, q);
      NDArray pe = rows(e, pos);
      NDArray negSims;
      if (allNegatives) {
        negSims = qe.matMul(rows(e, neg).transpose());
      } else {
        negSims = qe.mul(rows(e, neg)).sum(new int[] {1}, true);
      }
      NDArray logits = NDArrays.concat(new NDList(qe.matMul(pe.transpose()), qe.matMul(qe.transpose()), negSims), 1)
          .div(tau).add(maskA);
      NDArray loss = logits.logSoftmax(1).mul(onehotA).sum().neg().div(b).mul(weights[w]);
      total = total == null ? loss : total.add(loss);
    }
    return total;
  }

  /**
   * CoSENT at each width: {@code log(1 + sum over pairs (p, q) with label_p < label_q of
   * exp(scale (cos_p - cos_q)))}, one scalar per batch, as sentence-transformers' CoSENTLoss.
   */
  public static NDArray cosent(NDArray emb, int[] a, int[] bIdx, double[] label, int[] widths, double[] weights,
      double scale) {
    int n = a.length;
    double[] mask = new double[n * n];
    for (int p = 0; p < n; p++) {
      for (int q = 0; q < n; q++) {
        mask[p * n + q] = label[p] < label[q] ? 0 : MASKED;
      }
    }
    NDManager m = emb.getManager();
    NDArray maskA = m.create(mask, new Shape(n, n)).toType(emb.getDataType(), false);
    NDArray zero = m.zeros(new Shape(1), emb.getDataType());
    NDArray total = null;
    for (int w = 0; w < widths.length; w++) {
      NDArray e = truncateNormalize(emb, widths[w]);
      NDArray s = rows(e, a).mul(rows(e, bIdx)).sum(new int[] {1}).mul(scale);
      NDArray diff = s.expandDims(1).sub(s.expandDims(0)).add(maskA).reshape(n * n);
      NDArray all = NDArrays.concat(new NDList(zero, diff));
      NDArray loss = logSumExp(all).mul(weights[w]);
      total = total == null ? loss : total.add(loss);
    }
    return total;
  }

  /**
   * Matryoshka self-distillation: at each width, KL(teacher || student) of the rows' in-batch
   * similarity distributions, {@code softmax(cos(t_i, t_j) / tau)} of the frozen base model's
   * full-width vectors {@code teacher [N, H]} against {@code softmax(cos_m(e_i, e_j) / tau)} of
   * the model being trained at width m, j != i; mean over rows.
   */
  public static NDArray distill(NDArray emb, NDArray teacher, int[] widths, double[] weights, double tau) {
    return distill(emb, teacher, null, null, widths, weights, tau);
  }

  /**
   * Query-to-document self-distillation: as {@link #distill(NDArray, NDArray, int[], double[], double)},
   * with row i's distribution taken over {@code cos(q_i, d_j)}, j != i, where {@code q_i} is the
   * row of the i-th text rendered as a query and {@code d_j} the row of the j-th text rendered as
   * a document, for the student at each width and the teacher at full width alike; mean over the
   * texts. The pair (q_i, d_i) is the same text and is masked, and so is every column j whose
   * document is row i's ({@code d[j] == d[i]}: a text the batch holds twice).
   */
  public static NDArray distillQueries(NDArray emb, NDArray teacher, int[] q, int[] d, int[] widths,
      double[] weights, double tau) {
    if (q.length != d.length) {
      throw new IllegalArgumentException(q.length + " query rows but " + d.length + " document rows");
    }
    return distill(emb, teacher, q, d, widths, weights, tau);
  }

  /** Rows {@code q} against rows {@code d}, or every row against every row where they are null. */
  private static NDArray distill(NDArray emb, NDArray teacher, int[] q, int[] d, int[] widths, double[] weights,
      double tau) {
    int n = q == null ? (int) emb.getShape().get(0) : q.length;
    NDManager m = emb.getManager();
    double[] mask = new double[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        // the row's own text; with q and d, every column of its own document (a row repeated in a
        // batch names the same document row, and its duplicate's column is that document too)
        if (j == i || (d != null && d[j] == d[i])) {
          mask[i * n + j] = MASKED;
        }
      }
    }
    NDArray maskA = m.create(mask, new Shape(n, n)).toType(emb.getDataType(), false);
    NDArray t = truncateNormalize(teacher, (int) teacher.getShape().get(1));
    NDArray logT = (q == null ? t.matMul(t.transpose()) : rows(t, q).matMul(rows(t, d).transpose()))
        .div(tau).add(maskA).logSoftmax(1);
    NDArray pT = logT.exp();
    NDArray total = null;
    for (int w = 0; w < widths.length; w++) {
      NDArray e = truncateNormalize(emb, widths[w]);
      NDArray sims = q == null ? e.matMul(e.transpose()) : rows(e, q).matMul(rows(e, d).transpose());
      NDArray logS = sims.div(tau).add(maskA).logSoftmax(1);
      NDArray loss = pT.mul(logT.sub(logS)).sum().div(n).mul(weights[w]);
      total = total == null ? loss : total.add(loss);
    }
    return total;
  }

  /** log(sum(exp(x))) of a vector, stable. */
  static NDArray logSumExp(NDArray x) {
    NDArray max = x.max().stopGradient();
    return x.sub(max).exp().sum().log().add(max);
  }
}
