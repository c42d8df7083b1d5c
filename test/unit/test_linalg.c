/*-------------------------------------------------------------------------
 *
 * test_linalg.c
 *	  Unit tests of the symmetric eigensolver (linalg.c): a diagonal
 *	  matrix, a 2 x 2 matrix with known eigenvalues, repeated eigenvalues,
 *	  and random symmetric matrices checked by A v = lambda v and
 *	  orthonormality.
 *
 * IDENTIFICATION
 *	  test/unit/test_linalg.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "anomaly/linalg.h"
#include "anomaly/rng.h"
#include "unit.h"

/* max |A v_j - w_j v_j| and max |V^T V - I| for the decomposition of a0 */
static void
residuals(int n, const double *a0, const double *v, const double *w,
		  double *eig_err, double *orth_err)
{
	*eig_err = 0.0;
	*orth_err = 0.0;
	for (int j = 0; j < n; j++)
	{
		for (int i = 0; i < n; i++)
		{
			double		av = 0.0;

			for (int k = 0; k < n; k++)
				av += a0[i * n + k] * v[k * n + j];
			*eig_err = fmax(*eig_err, fabs(av - w[j] * v[i * n + j]));
		}
		for (int l = 0; l < n; l++)
		{
			double		dot = 0.0;

			for (int k = 0; k < n; k++)
				dot += v[k * n + j] * v[k * n + l];
			*orth_err = fmax(*orth_err, fabs(dot - (j == l ? 1.0 : 0.0)));
		}
	}
}

UNIT_TEST(linalg_diagonal)
{
	AnContext	ctx;
	double		a[9] = {3, 0, 0, 0, -1, 0, 0, 0, 2};
	double		w[3],
				work[3];

	unit_context_malloc(&ctx);
	REQUIRE(an_eigen_symmetric(&ctx, 3, a, w, work) == AN_OK);
	CHECK_NEAR(w[0], -1, 1e-14);
	CHECK_NEAR(w[1], 2, 1e-14);
	CHECK_NEAR(w[2], 3, 1e-14);
	/* eigenvector of -1 is +-e1, of 2 is +-e2, of 3 is +-e0 */
	CHECK_NEAR(fabs(a[1 * 3 + 0]), 1, 1e-14);
	CHECK_NEAR(fabs(a[2 * 3 + 1]), 1, 1e-14);
	CHECK_NEAR(fabs(a[0 * 3 + 2]), 1, 1e-14);
}

UNIT_TEST(linalg_two_by_two)
{
	AnContext	ctx;
	/* [[2, 1], [1, 2]]: eigenvalues 1 and 3, vectors (1, -1) and (1, 1) / sqrt 2 */
	double		a[4] = {2, 1, 1, 2};
	double		w[2],
				work[2];
	double		r = sqrt(0.5);

	unit_context_malloc(&ctx);
	REQUIRE(an_eigen_symmetric(&ctx, 2, a, w, work) == AN_OK);
	CHECK_NEAR(w[0], 1, 1e-14);
	CHECK_NEAR(w[1], 3, 1e-14);
	CHECK_NEAR(fabs(a[0]), r, 1e-14);
	CHECK_NEAR(a[0] * a[2], -0.5, 1e-14);	/* opposite signs */
	CHECK_NEAR(a[1] * a[3], 0.5, 1e-14);	/* same sign */
}

UNIT_TEST(linalg_one_by_one_and_zero)
{
	AnContext	ctx;
	double		a1[1] = {-4},
				w1[1],
				work[4];
	double		z[16] = {0},
				wz[4],
				ez,
				oz;
	double		z0[16] = {0};

	unit_context_malloc(&ctx);
	REQUIRE(an_eigen_symmetric(&ctx, 1, a1, w1, work) == AN_OK);
	CHECK(w1[0] == -4 && a1[0] == 1);
	/* the zero matrix: eigenvalues 0, any orthonormal basis */
	REQUIRE(an_eigen_symmetric(&ctx, 4, z, wz, work) == AN_OK);
	residuals(4, z0, z, wz, &ez, &oz);
	CHECK(ez < 1e-14 && oz < 1e-14);
	for (int j = 0; j < 4; j++)
		CHECK(wz[j] == 0);
}

UNIT_TEST(linalg_random_symmetric)
{
	AnContext	ctx;
	AnRng		rng;
	static const int sizes[] = {3, 10, 57, 150};

	unit_context_malloc(&ctx);
	an_rng_seed(&rng, 11);
	for (int s = 0; s < AN_LENGTHOF(sizes); s++)
	{
		int			n = sizes[s];
		double	   *a0 = malloc(sizeof(double) * n * n);
		double	   *a = malloc(sizeof(double) * n * n);
		double	   *w = malloc(sizeof(double) * n);
		double	   *work = malloc(sizeof(double) * n);
		double		eig_err,
					orth_err,
					trace = 0.0,
					sum = 0.0;

		for (int i = 0; i < n; i++)
			for (int j = 0; j <= i; j++)
				a0[i * n + j] = a0[j * n + i] = an_rng_normal(&rng);
		memcpy(a, a0, sizeof(double) * n * n);
		REQUIRE(an_eigen_symmetric(&ctx, n, a, w, work) == AN_OK);
		residuals(n, a0, a, w, &eig_err, &orth_err);
		if (!(eig_err < 1e-10 * n && orth_err < 1e-12 * n))
			unit_fail(__FILE__, __LINE__, "n %d: |Av - wv| %g, |V'V - I| %g",
					  n, eig_err, orth_err);
		for (int i = 0; i < n; i++)
		{
			trace += a0[i * n + i];
			sum += w[i];
			if (i > 0)
				CHECK(w[i] >= w[i - 1]);
		}
		CHECK_CLOSE(trace, sum, 1e-12, 1e-10);
		free(a0);
		free(a);
		free(w);
		free(work);
	}
}

UNIT_TEST(linalg_repeated_and_rank_deficient)
{
	AnContext	ctx;
	AnRng		rng;
	int			n = 20;
	double		x[20 * 3];
	double		a0[20 * 20],
				a[20 * 20],
				w[20],
				work[20],
				eig_err,
				orth_err;

	/* a rank-3 Gram matrix X X^T: 17 zero eigenvalues, all positive otherwise */
	unit_context_malloc(&ctx);
	an_rng_seed(&rng, 5);
	for (int i = 0; i < n * 3; i++)
		x[i] = an_rng_normal(&rng);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			a0[i * n + j] = x[i * 3] * x[j * 3] + x[i * 3 + 1] * x[j * 3 + 1] +
				x[i * 3 + 2] * x[j * 3 + 2];
	memcpy(a, a0, sizeof(a));
	REQUIRE(an_eigen_symmetric(&ctx, n, a, w, work) == AN_OK);
	residuals(n, a0, a, w, &eig_err, &orth_err);
	CHECK(eig_err < 1e-12 * 100 && orth_err < 1e-12);
	for (int i = 0; i < n - 3; i++)
		CHECK_NEAR(w[i], 0, 1e-12 * 100);
	for (int i = n - 3; i < n; i++)
		CHECK(w[i] > 1e-3);
}

UNIT_TEST(linalg_refuses_non_finite)
{
	AnContext	ctx;
	double		a[4] = {1, NAN, NAN, 1},
				w[2],
				work[2];

	unit_context_malloc(&ctx);
	CHECK_STATUS(an_eigen_symmetric(&ctx, 2, a, w, work), AN_ERR_NUMERIC);
}
