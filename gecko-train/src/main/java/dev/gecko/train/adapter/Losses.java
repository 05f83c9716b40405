package dev.gecko.train.adapter;

/**
 * The training losses with exact, hand-written gradients. Every loss reads adapted vectors
 * {@code y[k]} (full width) and adds {@code dL/dy[k]} into {@code g[k]}; similarities are cosines
 * of prefixes at each Matryoshka width {@code widths[w]} (ascending), weighted by {@code
 * weights[w]} and summed. Stateless.
 */
final class Losses {
  private Losses() {}

  /** Per-pair prefix statistics at every width: cosine and squared norms. */
  static final class PrefixCos {
    final double[] cos;
    final double[] na2;
    final double[] nb2;

    PrefixCos(int widths) {
      cos = new double[widths];
      na2 = new double[widths];
      nb2 = new double[widths];
    }

    /** Fills the statistics of (a, b) at each width in one pass. */
    PrefixCos compute(double[] a, double[] b, int[] widths) {
      double dot = 0;
      double sa = 0;
      double sb = 0;
      int t = 0;
      for (int w = 0; w < widths.length; w++) {
        for (; t < widths[w]; t++) {
          dot += a[t] * b[t];
          sa += a[t] * a[t];
          sb += b[t] * b[t];
        }
        na2[w] = sa;
        nb2[w] = sb;
        cos[w] = sa == 0 || sb == 0 ? 0 : dot / Math.sqrt(sa * sb);
      }
      return this;
    }

    /**
     * Adds the gradient of {@code sum_w dcos[w] * cos_w(a, b)} into {@code ga}, {@code gb} in one
     * pass from the widest prefix down: for t below width m, dcos_m/da_t = b_t/(|a||b|) - cos_m
     * a_t/|a|^2.
     */
    void backward(double[] a, double[] b, int[] widths, double[] dcos, double[] ga, double[] gb) {
      double ab = 0;
      double aa = 0;
      double bb = 0;
      int t = widths[widths.length - 1] - 1;
      for (int w = widths.length - 1; w >= 0; w--) {
        if (dcos[w] != 0 && na2[w] > 0 && nb2[w] > 0) {
          double inv = 1 / Math.sqrt(na2[w] * nb2[w]);
          ab += dcos[w] * inv;
          aa += dcos[w] * cos[w] / na2[w];
          bb += dcos[w] * cos[w] / nb2[w];
        }
        int lower = w == 0 ? 0 : widths[w - 1];
        for (; t >= lower; t--) {
          ga[t] += ab * b[t] - aa * a[t];
          gb[t] += ab * a[t] - bb * b[t];
        }
      }
    }
  }

  /** Whether text {@code t} is a positive of row {@code i}'s query in this batch: its own, or another row's of that query. */
  static boolean positiveOf(int[] q, int[] pos, int i, int t) {
    for (int k = 0; k < q.length; k++) {
      if (q[k] == q[i] && pos[k] == t) {
        return true;
      }
    }
    return false;
  }

  /**
   * Gecko eq. 3 at each width: for row i, softmax cross-entropy of {@code cos(q_i, p_i)/tau}
   * against {@code cos(q_i, p_j)/tau} for all j, {@code cos(q_i, q_j)/tau} for j != i (same-tower
   * negatives) and {@code cos(q_i, n_i)/tau} (the row's own hard negative, if {@code neg[i] >=
   * 0}); mean over rows. Entries that are the same text as the row's query or as a positive of
   * its query in this batch (its own, or another row's of the same query: duplicate positives and
   * queries, a pair and its reverse, several positives of one query) are masked out, so they are
   * never pushed away.
   */
  static double contrastive(double[][] y, int[] q, int[] pos, int[] neg, int[] widths, double[] weights, double tau,
      double[][] g) {
    int b = q.length;
    int nw = widths.length;
    PrefixCos[][] qp = new PrefixCos[b][b];
    PrefixCos[][] qq = new PrefixCos[b][b];
    PrefixCos[] qn = new PrefixCos[b];
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < b; j++) {
        if (j == i || (pos[j] != q[i] && !positiveOf(q, pos, i, pos[j]))) {
          qp[i][j] = new PrefixCos(nw).compute(y[q[i]], y[pos[j]], widths);
        }
        if (j != i && q[j] != q[i] && !positiveOf(q, pos, i, q[j])) {
          qq[i][j] = new PrefixCos(nw).compute(y[q[i]], y[q[j]], widths);
        }
      }
      if (neg[i] >= 0 && neg[i] != q[i] && !positiveOf(q, pos, i, neg[i])) {
        qn[i] = new PrefixCos(nw).compute(y[q[i]], y[neg[i]], widths);
      }
    }
    double loss = 0;
    double[][] dqp = new double[b * b][];
    double[][] dqq = new double[b * b][];
    double[][] dqn = new double[b][];
    for (int i = 0; i < b; i++) {
      for (int w = 0; w < nw; w++) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < b; j++) {
          if (qp[i][j] != null) {
            max = Math.max(max, qp[i][j].cos[w] / tau);
          }
          if (qq[i][j] != null) {
            max = Math.max(max, qq[i][j].cos[w] / tau);
          }
        }
        if (qn[i] != null) {
          max = Math.max(max, qn[i].cos[w] / tau);
        }
        double z = 0;
        for (int j = 0; j < b; j++) {
          if (qp[i][j] != null) {
            z += Math.exp(qp[i][j].cos[w] / tau - max);
          }
          if (qq[i][j] != null) {
            z += Math.exp(qq[i][j].cos[w] / tau - max);
          }
        }
        if (qn[i] != null) {
          z += Math.exp(qn[i].cos[w] / tau - max);
        }
        double logZ = max + Math.log(z);
        double c = weights[w] / b;
        loss += c * (logZ - qp[i][i].cos[w] / tau);
        // d/dlogit = softmax - onehot; d logit/d cos = 1/tau
        for (int j = 0; j < b; j++) {
          if (qp[i][j] != null) {
            double sm = Math.exp(qp[i][j].cos[w] / tau - logZ) - (j == i ? 1 : 0);
            slot(dqp, i * b + j, nw)[w] += c * sm / tau;
          }
          if (qq[i][j] != null) {
            slot(dqq, i * b + j, nw)[w] += c * Math.exp(qq[i][j].cos[w] / tau - logZ) / tau;
          }
        }
        if (qn[i] != null) {
          slot(dqn, i, nw)[w] += c * Math.exp(qn[i].cos[w] / tau - logZ) / tau;
        }
      }
    }
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < b; j++) {
        if (dqp[i * b + j] != null) {
          qp[i][j].backward(y[q[i]], y[pos[j]], widths, dqp[i * b + j], g[q[i]], g[pos[j]]);
        }
        if (dqq[i * b + j] != null) {
          qq[i][j].backward(y[q[i]], y[q[j]], widths, dqq[i * b + j], g[q[i]], g[q[j]]);
        }
      }
      if (dqn[i] != null) {
        qn[i].backward(y[q[i]], y[neg[i]], widths, dqn[i], g[q[i]], g[neg[i]]);
      }
    }
    return loss;
  }

  private static double[] slot(double[][] a, int i, int n) {
    if (a[i] == null) {
      a[i] = new double[n];
    }
    return a[i];
  }

  /**
   * CoSENT at each width: {@code log(1 + sum over (p, q) with y_p < y_q of exp(s_p - s_q))} with
   * {@code s_k = scale * cos(a_k, b_k)}; one scalar per batch, as sentence-transformers computes it.
   */
  static double cosent(double[][] y, int[] a, int[] b, double[] label, int[] widths, double[] weights, double scale,
      double[][] g) {
    int n = a.length;
    int nw = widths.length;
    PrefixCos[] pc = new PrefixCos[n];
    for (int k = 0; k < n; k++) {
      pc[k] = new PrefixCos(nw).compute(y[a[k]], y[b[k]], widths);
    }
    double[][] dcos = new double[n][nw];
    double loss = 0;
    for (int w = 0; w < nw; w++) {
      double max = 0; // the "1 +" term is exp(0)
      for (int p = 0; p < n; p++) {
        for (int q = 0; q < n; q++) {
          if (label[p] < label[q]) {
            max = Math.max(max, scale * (pc[p].cos[w] - pc[q].cos[w]));
          }
        }
      }
      double z = Math.exp(-max);
      for (int p = 0; p < n; p++) {
        for (int q = 0; q < n; q++) {
          if (label[p] < label[q]) {
            z += Math.exp(scale * (pc[p].cos[w] - pc[q].cos[w]) - max);
          }
        }
      }
      double logZ = max + Math.log(z);
      loss += weights[w] * logZ;
      for (int p = 0; p < n; p++) {
        for (int q = 0; q < n; q++) {
          if (label[p] < label[q]) {
            double e = weights[w] * scale * Math.exp(scale * (pc[p].cos[w] - pc[q].cos[w]) - logZ);
            dcos[p][w] += e;
            dcos[q][w] -= e;
          }
        }
      }
    }
    for (int k = 0; k < n; k++) {
      pc[k].backward(y[a[k]], y[b[k]], widths, dcos[k], g[a[k]], g[b[k]]);
    }
    return loss;
  }

  /**
   * Matryoshka-Adaptor, unsupervised (Yoon et al. 2024, eq. 1-4, with means instead of sums):
   * {@code scale (L_topk + alpha L_pair + beta L_rec)} where {@code L_pair} is the mean over pairs
   * i < j of the batch of {@code sum_w weights[w] |cos(x_i, x_j) - cos_w(y_i, y_j)|} (target: the
   * ORIGINAL full-width similarity), {@code L_topk} the same over each batch item's precomputed
   * full-width nearest neighbours {@code nn[i]}, and {@code L_rec} the mean absolute difference
   * {@code |y - x|} over the batch items' coordinates. {@code scale} is 1 for the unsupervised
   * objective and the structure weight where these terms regularise a supervised loss (the
   * paper's supervised eq. 6 weighs its ranking loss by gamma and these terms by 1).
   *
   * @param items local indices of the batch items
   * @param nn local indices of each item's neighbours
   * @param pairTarget full-width original cosine of items i, j ({@code [B][B]})
   * @param nnTarget full-width original cosine of item i and its neighbour ({@code [B][k]})
   */
  static double unsupervised(double[][] y, double[][] x, int[] items, int[][] nn, double[][] pairTarget,
      double[][] nnTarget, int[] widths, double[] weights, double alpha, double beta, double scale, double[][] g) {
    int b = items.length;
    int nw = widths.length;
    PrefixCos pc = new PrefixCos(nw);
    double[] dcos = new double[nw];
    double loss = 0;
    if (alpha != 0 && b > 1) {
      double c = scale * alpha * 2.0 / ((double) b * (b - 1));
      for (int i = 0; i < b; i++) {
        for (int j = i + 1; j < b; j++) {
          loss += absTerm(y[items[i]], y[items[j]], pairTarget[i][j], widths, weights, c, pc, dcos);
          pc.backward(y[items[i]], y[items[j]], widths, dcos, g[items[i]], g[items[j]]);
        }
      }
    }
    int pairs = 0;
    for (int[] row : nn) {
      pairs += row.length;
    }
    if (pairs > 0) {
      double c = scale / pairs;
      for (int i = 0; i < b; i++) {
        for (int k = 0; k < nn[i].length; k++) {
          loss += absTerm(y[items[i]], y[nn[i][k]], nnTarget[i][k], widths, weights, c, pc, dcos);
          pc.backward(y[items[i]], y[nn[i][k]], widths, dcos, g[items[i]], g[nn[i][k]]);
        }
      }
    }
    if (beta != 0) {
      int d = x[0].length;
      double c = scale * beta / ((double) b * d);
      for (int i : items) {
        for (int t = 0; t < d; t++) {
          double diff = y[i][t] - x[i][t];
          loss += c * Math.abs(diff);
          g[i][t] += c * Math.signum(diff);
        }
      }
    }
    return loss;
  }

  /** Returns c * sum_w weights[w] |target - cos_w| and leaves dL/dcos_w in {@code dcos}. */
  private static double absTerm(double[] a, double[] b, double target, int[] widths, double[] weights, double c,
      PrefixCos pc, double[] dcos) {
    pc.compute(a, b, widths);
    double loss = 0;
    for (int w = 0; w < widths.length; w++) {
      double diff = target - pc.cos[w];
      loss += c * weights[w] * Math.abs(diff);
      dcos[w] = -c * weights[w] * Math.signum(diff);
    }
    return loss;
  }
}
