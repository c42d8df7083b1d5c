/*-------------------------------------------------------------------------
 *
 * linalg.h
 *	  Dense linear algebra the core needs beyond BLAS: the eigen-
 *	  decomposition of a symmetric matrix.
 *
 * IDENTIFICATION
 *	  include/anomaly/linalg.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_LINALG_H
#define ANOMALY_LINALG_H

#include "anomaly/core.h"

/*
 * Eigen-decomposition of the symmetric n x n matrix a (row-major, only
 * symmetry assumed, not checked).  On return a holds the eigenvectors as
 * its columns (a[i * n + j] is component i of eigenvector j), orthonormal,
 * and w the eigenvalues in ascending order; work holds n doubles of
 * scratch.  ctx's interrupt check runs once per row of the reduction and
 * per eigenvalue.  AN_ERR_NUMERIC if the QL
 * iteration does not converge (it does for any finite input).
 */
extern AnStatus an_eigen_symmetric(AnContext *ctx, int n, double *a, double *w,
								   double *work);

#endif							/* ANOMALY_LINALG_H */
