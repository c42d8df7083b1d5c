/*-------------------------------------------------------------------------
 *
 * stats.c
 *	  Sorting and quantiles of score and feature samples.
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
