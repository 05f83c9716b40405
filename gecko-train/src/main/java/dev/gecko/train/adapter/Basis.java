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
  PRINCIPAL_AXES
}
