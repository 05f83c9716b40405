package dev.gecko.train.adapter;

/**
 * The fixed basis an adapter's residual is trained in ({@code v = B u}, see {@code Adapter}).
 * Both choices leave every full-width cosine similarity as the base model gives it; they differ in
 * which directions the leading coordinates, the ones truncation keeps, hold. Immutable and
 * thread-safe.
 */
public enum Basis {
  /** {@code B = I}: the residual starts from the base model's own coordinates ({@code e' = u}). */
  IDENTITY,
  /**
   * {@code B} = the principal axes of the training texts' full-width vectors: the eigenvectors of
   * their uncentred second-moment matrix {@code sum u u^T}, rows by decreasing eigenvalue. For
   * every width {@code m} at once, the first {@code m} coordinates give the best rank-{@code m}
   * approximation of the training texts' matrix of inner products (Eckart-Young; before the
   * re-normalisation that truncation applies), so the residual starts from a nested truncation
   * that keeps as much of the geometry as a rotation can.
   */
  PRINCIPAL_AXES;

  /**
   * Returns this basis for a set of full-width vectors: {@code d x d}, row {@code r} is the
   * {@code r}-th axis ({@code v[r] = B[r] . u}), as {@code Adapter#withBasis} takes it. {@link
   * #IDENTITY} ignores the vectors' values; {@link #PRINCIPAL_AXES} takes the eigenvectors of their
   * uncentred second-moment matrix, by decreasing eigenvalue (ties by index), each signed so that
   * its largest-magnitude entry is positive: the same vectors give the same basis.
   *
   * @param vectors at least one vector, all of one width (unit length is what the basis is meant
   *     for: the second moment then weighs every text alike)
   * @throws IllegalArgumentException if there is no vector or the widths differ
   */
  public float[][] of(double[][] vectors) {
    if (vectors.length == 0) {
      throw new IllegalArgumentException("a basis needs at least one vector");
    }
    int d = vectors[0].length;
    for (int i = 0; i < vectors.length; i++) {
      if (vectors[i].length != d) {
        throw new IllegalArgumentException("vector " + i + " has width " + vectors[i].length + ", vector 0 " + d);
      }
    }
    if (this == IDENTITY) {
      float[][] b = new float[d][d];
      for (int i = 0; i < d; i++) {
        b[i][i] = 1;
      }
      return b;
    }
    int[] all = new int[vectors.length];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    return PrincipalAxes.of(vectors, java.util.List.of(all));
  }

  /**
   * Returns this basis for the given vectors scaled to unit length (copies; the arguments are
   * not modified), so that every text weighs alike: {@link #of} on the normalised vectors.
   *
   * @param vectors at least one vector, all of one width, none of them zero
   * @throws IllegalArgumentException if there is no vector, the widths differ or a vector is zero
   */
  public float[][] ofUnitVectors(float[][] vectors) {
    double[][] unit = new double[vectors.length][];
    for (int i = 0; i < vectors.length; i++) {
      double norm = 0;
      for (float x : vectors[i]) {
        norm += (double) x * x;
      }
      if (!(norm > 0) || Double.isInfinite(norm)) {
        throw new IllegalArgumentException("vector " + i + " has no direction (norm " + Math.sqrt(norm) + ")");
      }
      double inv = 1 / Math.sqrt(norm);
      unit[i] = new double[vectors[i].length];
      for (int k = 0; k < unit[i].length; k++) {
        unit[i][k] = vectors[i][k] * inv;
      }
    }
    return of(unit);
  }
}
