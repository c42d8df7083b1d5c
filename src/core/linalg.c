/*-------------------------------------------------------------------------
 *
 * linalg.c
 *	  Symmetric eigen-decomposition: Householder reduction to tridiagonal
 *	  form, then the implicit QL algorithm with shifts.
 *
 * This is the classical pair tred2/tql2 (Bowdler, Martin, Reinsch and
 * Wilkinson, Handbook for Automatic Computation vol. II, 1971; the EISPACK
 * routines of the same names).  It costs about (4/3 + 3) n^3 flops, so a
 * covariance matrix of a few hundred columns decomposes in milliseconds,
 * where cyclic Jacobi would need several sweeps of 4 n^3.  Everything is in
 * double precision: the smallest eigenvalues of a covariance matrix are
 * the ones a Mahalanobis score divides by.
 *
 * IDENTIFICATION
 *	  src/core/linalg.c
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>

#include "anomaly/linalg.h"

#define A(i, j) a[(size_t) (i) * n + (j)]

/* QL sweeps allowed per eigenvalue before giving up (EISPACK uses 30) */
#define MAX_QL_ITERATIONS 60

/*
 * Householder reduction of a to tridiagonal form: d receives the diagonal,
 * e the subdiagonal in e[1..n-1], and a the accumulated orthogonal
 * transformation.
 */
static AnStatus
tridiagonalize(AnContext *ctx, int n, double *a, double *d, double *e)
{
	for (int j = 0; j < n; j++)
		d[j] = A(n - 1, j);

	for (int i = n - 1; i > 0; i--)
	{
		double		scale = 0.0,
					h = 0.0;

		if (an_check_interrupts(ctx))
			return an_error(ctx, AN_ERR_INTERRUPTED, "training was interrupted");
		for (int k = 0; k < i; k++)
			scale += fabs(d[k]);
		if (scale == 0.0)
		{
			/* the row is already reduced */
			e[i] = d[i - 1];
			for (int j = 0; j < i; j++)
			{
				d[j] = A(i - 1, j);
				A(i, j) = 0.0;
				A(j, i) = 0.0;
			}
		}
		else
		{
			double		f,
						g,
						hh;

			for (int k = 0; k < i; k++)
			{
				d[k] /= scale;
				h += d[k] * d[k];
			}
			f = d[i - 1];
			g = f > 0 ? -sqrt(h) : sqrt(h);
			e[i] = scale * g;
			h -= f * g;
			d[i - 1] = f - g;
			for (int j = 0; j < i; j++)
				e[j] = 0.0;

			/* e = A u / h, using only the lower triangle */
			for (int j = 0; j < i; j++)
			{
				f = d[j];
				A(j, i) = f;
				g = e[j] + A(j, j) * f;
				for (int k = j + 1; k <= i - 1; k++)
				{
					g += A(k, j) * d[k];
					e[k] += A(k, j) * f;
				}
				e[j] = g;
			}
			f = 0.0;
			for (int j = 0; j < i; j++)
			{
				e[j] /= h;
				f += e[j] * d[j];
			}
			hh = f / (h + h);
			for (int j = 0; j < i; j++)
				e[j] -= hh * d[j];
			/* A -= u e^T + e u^T */
			for (int j = 0; j < i; j++)
			{
				f = d[j];
				g = e[j];
				for (int k = j; k <= i - 1; k++)
					A(k, j) -= f * e[k] + g * d[k];
				d[j] = A(i - 1, j);
				A(i, j) = 0.0;
			}
		}
		d[i] = h;
	}

	/* accumulate the transformations */
	for (int i = 0; i < n - 1; i++)
	{
		double		h;

		A(n - 1, i) = A(i, i);
		A(i, i) = 1.0;
		h = d[i + 1];
		if (h != 0.0)
		{
			for (int k = 0; k <= i; k++)
				d[k] = A(k, i + 1) / h;
			for (int j = 0; j <= i; j++)
			{
				double		g = 0.0;

				for (int k = 0; k <= i; k++)
					g += A(k, i + 1) * A(k, j);
				for (int k = 0; k <= i; k++)
					A(k, j) -= g * d[k];
			}
		}
		for (int k = 0; k <= i; k++)
			A(k, i + 1) = 0.0;
	}
	for (int j = 0; j < n; j++)
	{
		d[j] = A(n - 1, j);
		A(n - 1, j) = 0.0;
	}
	A(n - 1, n - 1) = 1.0;
	e[0] = 0.0;
	return AN_OK;
}

/*
 * Implicit QL with Wilkinson-like shifts on the tridiagonal (d, e), the
 * rotations applied to the columns of a.
 */
static AnStatus
tridiagonal_ql(AnContext *ctx, int n, double *a, double *d, double *e)
{
	double		f = 0.0,
				tst1 = 0.0;
	const double eps = DBL_EPSILON;

	for (int i = 1; i < n; i++)
		e[i - 1] = e[i];
	e[n - 1] = 0.0;

	for (int l = 0; l < n; l++)
	{
		int			m = l;

		if (an_check_interrupts(ctx))
			return an_error(ctx, AN_ERR_INTERRUPTED, "training was interrupted");
		/* find a small subdiagonal element; e[n - 1] is 0, so m < n */
		tst1 = fmax(tst1, fabs(d[l]) + fabs(e[l]));
		while (m < n - 1 && fabs(e[m]) > eps * tst1)
			m++;

		if (m > l)
		{
			int			iter = 0;

			do
			{
				double		g = d[l],
							p = (d[l + 1] - g) / (2.0 * e[l]),
							r = hypot(p, 1.0),
							dl1,
							h,
							c = 1.0,
							c2 = 1.0,
							c3 = 1.0,
							el1 = e[l + 1],
							s = 0.0,
							s2 = 0.0;

				if (++iter > MAX_QL_ITERATIONS)
					return an_error(ctx, AN_ERR_NUMERIC,
									"the eigenvalue iteration did not converge");
				if (p < 0)
					r = -r;
				d[l] = e[l] / (p + r);
				d[l + 1] = e[l] * (p + r);
				dl1 = d[l + 1];
				h = g - d[l];
				for (int i = l + 2; i < n; i++)
					d[i] -= h;
				f += h;

				p = d[m];
				for (int i = m - 1; i >= l; i--)
				{
					c3 = c2;
					c2 = c;
					s2 = s;
					g = c * e[i];
					h = c * p;
					r = hypot(p, e[i]);
					e[i + 1] = s * r;
					s = e[i] / r;
					c = p / r;
					p = c * d[i] - s * g;
					d[i + 1] = h + s * (c * g + s * d[i]);
					for (int k = 0; k < n; k++)
					{
						h = A(k, i + 1);
						A(k, i + 1) = s * A(k, i) + c * h;
						A(k, i) = c * A(k, i) - s * h;
					}
				}
				p = -s * s2 * c3 * el1 * e[l] / dl1;
				e[l] = s * p;
				d[l] = c * p;
			} while (fabs(e[l]) > eps * tst1);
		}
		d[l] += f;
		e[l] = 0.0;
	}
	return AN_OK;
}

/* selection sort of the eigenvalues, ascending, columns following */
static void
sort_ascending(int n, double *a, double *d)
{
	for (int i = 0; i < n - 1; i++)
	{
		int			k = i;

		for (int j = i + 1; j < n; j++)
			if (d[j] < d[k])
				k = j;
		if (k != i)
		{
			double		t = d[k];

			d[k] = d[i];
			d[i] = t;
			for (int r = 0; r < n; r++)
			{
				t = A(r, i);
				A(r, i) = A(r, k);
				A(r, k) = t;
			}
		}
	}
}

AnStatus
an_eigen_symmetric(AnContext *ctx, int n, double *a, double *w, double *work)
{
	for (size_t i = 0; i < (size_t) n * n; i++)
		if (!isfinite(a[i]))
			return an_error(ctx, AN_ERR_NUMERIC, "the matrix to decompose is not finite");
	if (n == 1)
	{
		w[0] = a[0];
		a[0] = 1.0;
		return AN_OK;
	}
	AN_TRY(tridiagonalize(ctx, n, a, w, work));
	AN_TRY(tridiagonal_ql(ctx, n, a, w, work));
	sort_ascending(n, a, w);
	return AN_OK;
}
