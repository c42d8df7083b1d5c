/*-------------------------------------------------------------------------
 *
 * moments.c
 *	  Bounding boxes, means and covariances of rows, and the moment-
 *	  matching loss of a generator (feature matching, Salimans et al.
 *	  2016, on the identity feature); the GANs' clamp into a box.
 *
 * A GAN's generator trained adversarially alone can collapse onto the
 * densest part of tabular rows; adding the distance between a batch's
 * first two moments and the training rows' to its loss keeps it as spread
 * as the data (docs/benchmarks.md, "GAN-based detectors").
 *
 * IDENTIFICATION
 *	  src/core/moments.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/blas.h"
#include "anomaly/moments.h"

void
an_bounding_box(const float *x, size_t n, int dim, float *lo, float *hi)
{
	for (int j = 0; j < dim; j++)
	{
		lo[j] = INFINITY;
		hi[j] = -INFINITY;
	}
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < dim; j++)
		{
			float		v = x[i * dim + j];

			if (v < lo[j])
				lo[j] = v;
			if (v > hi[j])
				hi[j] = v;
		}
}

void
an_box_clamp(const float *lo, const float *hi, const float *x, int n, int dim,
			 float *out, double *sq)
{
	for (int i = 0; i < n; i++)
	{
		double		d2 = 0.0;

		for (int j = 0; j < dim; j++)
		{
			float		v = x[(size_t) i * dim + j];
			float		c = v < lo[j] ? lo[j] : (v > hi[j] ? hi[j] : v);

			/* NaN compares false both ways: c is v, and v - c NaN */
			out[(size_t) i * dim + j] = c;
			d2 += ((double) v - c) * ((double) v - c);
		}
		sq[i] = d2;
	}
}

AnStatus
an_get_box(AnContext *ctx, const AnObject *obj, int dim, float **lo, float **hi)
{
	*lo = an_alloc_array(ctx, dim, sizeof(float));
	*hi = an_alloc_array(ctx, dim, sizeof(float));
	if (!*lo || !*hi)
		return an_nomem(ctx);
	AN_TRY(an_get_floats(ctx, obj, "lo", *lo, dim));
	AN_TRY(an_get_floats(ctx, obj, "hi", *hi, dim));
	for (int j = 0; j < dim; j++)
		if (!((*lo)[j] <= (*hi)[j]))
			return an_error(ctx, AN_ERR_CORRUPT,
							"corrupt model document: the box is empty in dimension %d", j);
	return AN_OK;
}

AnStatus
an_covariance(AnContext *ctx, const float *x, size_t n, int dim, float *mean,
			  double *cov, float *block, float *prod)
{
	double	   *sum = cov;			/* the first row of cov, before it is used */
	size_t		dd = (size_t) dim * dim;

	memset(cov, 0, dd * sizeof(double));
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < dim; j++)
			sum[j] += x[i * dim + j];
	for (int j = 0; j < dim; j++)
		mean[j] = (float) (sum[j] / (double) n);
	memset(cov, 0, dim * sizeof(double));

	for (size_t i = 0; i < n; i += AN_COV_BLOCK)
	{
		int			m = (int) (n - i < AN_COV_BLOCK ? n - i : AN_COV_BLOCK);

		if (an_check_interrupts(ctx))
			return an_error(ctx, AN_ERR_INTERRUPTED, "training was interrupted");
		for (int r = 0; r < m; r++)
			for (int j = 0; j < dim; j++)
				block[(size_t) r * dim + j] = x[(i + r) * dim + j] - mean[j];
		an_sgemm(true, false, dim, dim, m, 1.0f, block, dim, block, dim,
				 0.0f, prod, dim);
		for (size_t e = 0; e < dd; e++)
			cov[e] += prod[e];
	}
	for (size_t e = 0; e < dd; e++)
		cov[e] /= (double) (n > 1 ? n - 1 : 1);
	return AN_OK;
}

AnStatus
an_moments_create(AnContext *ctx, AnMoments *mm, int dim, int max_rows)
{
	memset(mm, 0, sizeof(*mm));
	mm->dim = dim;
	mm->max_rows = max_rows;
	mm->mean = an_alloc_array(ctx, dim, sizeof(float));
	mm->cov = an_alloc_array(ctx, (size_t) dim * dim, sizeof(float));
	mm->centred = an_alloc_array(ctx, (size_t) max_rows * dim, sizeof(float));
	mm->diff = an_alloc_array(ctx, (size_t) dim * dim, sizeof(float));
	mm->batch_mean = an_alloc_array(ctx, dim, sizeof(double));
	if (!mm->mean || !mm->cov || !mm->centred || !mm->diff || !mm->batch_mean)
		return an_nomem(ctx);
	return AN_OK;
}

void
an_moments_free(AnContext *ctx, AnMoments *mm)
{
	an_free(ctx, mm->mean);
	an_free(ctx, mm->cov);
	an_free(ctx, mm->centred);
	an_free(ctx, mm->diff);
	an_free(ctx, mm->batch_mean);
	memset(mm, 0, sizeof(*mm));
}

/*
 * The covariance is accumulated in double (dim x dim, freed before
 * returning) and kept in float; the blocks go through the batch workspace
 * when it is at least AN_COV_BLOCK rows, else through scratch of their own.
 */
AnStatus
an_moments_fit(AnContext *ctx, AnMoments *mm, const float *x, size_t n)
{
	size_t		dd = (size_t) mm->dim * mm->dim;
	double	   *cov = an_alloc_array(ctx, dd, sizeof(double));
	float	   *block = mm->max_rows >= AN_COV_BLOCK ? mm->centred
		: an_alloc_array(ctx, (size_t) AN_COV_BLOCK * mm->dim, sizeof(float));
	AnStatus	st;

	if (!cov || !block)
		st = an_nomem(ctx);
	else
		st = an_covariance(ctx, x, n, mm->dim, mm->mean, cov, block, mm->diff);
	if (st == AN_OK)
		for (size_t e = 0; e < dd; e++)
			mm->cov[e] = (float) cov[e];
	an_free(ctx, cov);
	if (block != mm->centred)
		an_free(ctx, block);
	return st;
}

double
an_moments_loss(AnMoments *mm, const float *y, int n, double weight, float *grad)
{
	int			d = mm->dim;
	size_t		dd = (size_t) d * d;
	double		loss = 0.0;

	for (int j = 0; j < d; j++)
		mm->batch_mean[j] = 0.0;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < d; j++)
			mm->batch_mean[j] += y[(size_t) i * d + j] / (double) n;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < d; j++)
			mm->centred[(size_t) i * d + j] =
				(float) (y[(size_t) i * d + j] - mm->batch_mean[j]);
	an_sgemm(true, false, d, d, n, 1.0f / (float) n, mm->centred, d, mm->centred, d,
			 0.0f, mm->diff, d);
	for (size_t e = 0; e < dd; e++)
	{
		mm->diff[e] -= mm->cov[e];
		loss += (double) mm->diff[e] * mm->diff[e];
	}
	loss /= (double) dd;
	for (int j = 0; j < d; j++)
		loss += (mm->batch_mean[j] - mm->mean[j]) * (mm->batch_mean[j] - mm->mean[j]) / d;
	if (!grad)
		return loss;

	/*
	 * d/dy_i: 4 / (n dim^2) diff (y_i - mean_y) (diff is symmetric, and the
	 * batch mean's own dependence on y_i cancels, the centred rows summing
	 * to 0), plus 2 / (n dim) (mean_y - mean)
	 */
	an_sgemm(false, false, n, d, d, (float) (weight * 4.0 / ((double) n * dd)),
			 mm->centred, d, mm->diff, d, 1.0f, grad, d);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < d; j++)
			grad[(size_t) i * d + j] += (float) (weight * 2.0 *
												 (mm->batch_mean[j] - mm->mean[j]) /
												 ((double) n * d));
	return loss;
}
