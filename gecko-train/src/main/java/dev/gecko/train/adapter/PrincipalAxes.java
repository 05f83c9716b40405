package dev.gecko.train.adapter;

import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;

/** {@link Basis#PRINCIPAL_AXES}: the basis from the training texts' vectors, and the rotation. */
final class PrincipalAxes {
  private PrincipalAxes() {}

  /**
   * The eigenvectors of {@code sum u u^T} over the distinct texts that {@code rows} name (ids
   * below zero are absent texts), as rows ordered by decreasing eigenvalue (ties by index), each
   * signed so that its largest-magnitude entry is positive.
   */
  static float[][] of(double[][] x, List<int[]> rows) {
    int d = x[0].length;
    BitSet used = new BitSet(x.length);
    for (int[] r : rows) {
      for (int id : r) {
        if (id >= 0) {
          used.set(id);
        }
      }
    }
    if (used.cardinality() < d) {
      System.getLogger(PrincipalAxes.class.getName()).log(System.Logger.Level.WARNING, "the principal axes are fit on "
          + used.cardinality() + " training texts, fewer than the width " + d + ": the axes beyond the texts' span "
          + "are arbitrary, and other texts may lose more at small widths than without the basis");
    }
    DMatrixRMaj m = new DMatrixRMaj(d, d);
    double[] data = m.data;
    for (int id = used.nextSetBit(0); id >= 0; id = used.nextSetBit(id + 1)) {
      double[] u = x[id];
      for (int i = 0; i < d; i++) {
        double ui = u[i];
        int row = i * d;
        for (int j = i; j < d; j++) {
          data[row + j] += ui * u[j];
        }
      }
    }
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < i; j++) {
        data[i * d + j] = data[j * d + i];
      }
    }
    EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(d, true, true);
    if (!eig.decompose(m)) {
      throw new IllegalStateException("the eigendecomposition of the " + d + "x" + d
          + " second-moment matrix did not converge");
    }
    double[] values = new double[d];
    for (int i = 0; i < d; i++) {
      values[i] = eig.getEigenvalue(i).getReal();
    }
    Integer[] order = IntStream.range(0, d).boxed().toArray(Integer[]::new);
    Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -values[i]).thenComparingInt(i -> i));
    float[][] basis = new float[d][d];
    for (int r = 0; r < d; r++) {
      DMatrixRMaj v = eig.getEigenVector(order[r]);
      double norm = 0;
      int arg = 0;
      for (int i = 0; i < d; i++) {
        double a = v.get(i, 0);
        norm += a * a;
        if (Math.abs(a) > Math.abs(v.get(arg, 0))) {
          arg = i;
        }
      }
      double scale = (v.get(arg, 0) < 0 ? -1 : 1) / Math.sqrt(norm);
      for (int i = 0; i < d; i++) {
        basis[r][i] = (float) (v.get(i, 0) * scale);
      }
    }
    return basis;
  }

  /** Replaces every row {@code u} of {@code x} by {@code B u}. */
  static void rotate(float[][] basis, double[][] x) {
    int d = basis.length;
    double[] v = new double[d];
    for (double[] u : x) {
      for (int r = 0; r < d; r++) {
        float[] b = basis[r];
        double s = 0;
        for (int i = 0; i < d; i++) {
          s += b[i] * u[i];
        }
        v[r] = s;
      }
      System.arraycopy(v, 0, u, 0, d);
    }
  }
}
