/*-------------------------------------------------------------------------
 *
 * stats.c
 *	  Sorting and quantiles of score and feature samples, and the
 *	  data-driven threshold of contamination => 'auto'.
 *
 * IDENTIFICATION
 *	  src/core/stats.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>

#include "anomaly/stats.h"

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

void
an_sort_doubles(double *v, size_t n)
{
	qsort(v, n, sizeof(double), cmp_double);
}

double
an_quantile_sorted(const double *sorted, size_t n, double q)
{
	double		pos;
	size_t		lo;
	double		frac;

	if (n == 0)
		return NAN;
	if (q <= 0.0)
		return sorted[0];
	if (q >= 1.0)
		return sorted[n - 1];
	pos = q * (double) (n - 1);
	lo = (size_t) floor(pos);
	frac = pos - (double) lo;
	if (lo + 1 >= n)
		return sorted[n - 1];
	return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

/*
 * median + K sigma of the training scores, sigma the median absolute
 * deviation times 1.4826 (the standard deviation of a normal
 * distribution): robust, so the anomalies among the training rows do not
 * set the scale they are judged by.  Scores that are all positive (errors,
 * distances, path-length ratios) are heavy-tailed, and their spread around
 * the median says little about their upper tail: the rule is applied to
 * their logarithm there.  K = 5 was chosen on the shared tables
 * (docs/benchmarks.md): it flags a few tenths of a percent of normal rows
 * where the 1 % quantile flags about 1 %.  When most scores tie (a MAD of
 * 0) the mean absolute deviation stands in; when every score ties, the
 * threshold is the largest score, which flags no training row.
 */
AnStatus
an_threshold_auto(AnContext *ctx, const double *sorted, size_t n, double *threshold)
{
	bool		logged = sorted[0] > 0.0;
	double	   *dev = an_alloc_array(ctx, n, sizeof(double));
	double		median,
				sigma,
				mean_dev = 0.0,
				t;

	if (!dev)
		return an_nomem(ctx);
	median = logged ? log(an_quantile_sorted(sorted, n, 0.5))
		: an_quantile_sorted(sorted, n, 0.5);
	for (size_t i = 0; i < n; i++)
	{
		dev[i] = fabs((logged ? log(sorted[i]) : sorted[i]) - median);
		mean_dev += dev[i];
	}
	an_sort_doubles(dev, n);
	sigma = 1.4826 * an_quantile_sorted(dev, n, 0.5);
	if (!(sigma > 0.0))
		sigma = 1.2533 * mean_dev / (double) n;
	an_free(ctx, dev);
	if (!(sigma > 0.0))
	{
		*threshold = sorted[n - 1];
		return AN_OK;
	}
	t = median + AN_AUTO_THRESHOLD_K * sigma;
	*threshold = logged ? exp(t) : t;
	return AN_OK;
}
