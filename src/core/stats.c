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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly/stats.h"

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/*
 * Radix sort of doubles: a double's bits, with the sign bit flipped for
 * positive numbers and every bit flipped for negative ones, order as
 * unsigned integers as the numbers do.  Six stable passes of 11 bits over
 * those keys (a pass is skipped when every key has the same digit, as the
 * sign and exponent of a million positive scores mostly do) sort a million
 * training scores about ten times faster than qsort's comparisons.  The
 * result is the same array of values as qsort's: equal keys are equal
 * bits, but for -0.0, which becomes +0.0 (they compare equal).  NaN has no
 * place in the order: with one, qsort sorts as before.
 */
#define RADIX_BITS		11
#define RADIX_BUCKETS	(1 << RADIX_BITS)
#define RADIX_PASSES	6		/* 66 >= 64 bits */
#define RADIX_MIN_ROWS	1024	/* below this, qsort is as fast */

#define SIGN_BIT		(UINT64_C(1) << 63)
#define EXPONENT_BITS	UINT64_C(0x7FF0000000000000)

/*
 * The sort reads and writes the doubles' storage as 64-bit integers; the
 * type may alias a double, so the compiler cannot reorder those accesses
 * against the caller's stores of the values (strict aliasing).
 */
typedef uint64_t an_bits64 __attribute__((may_alias));

/* the key of a double's bits u (not a NaN) */
static inline uint64_t
double_key(uint64_t u)
{
	if ((u & ~SIGN_BIT) == 0)
		u = 0;					/* -0.0 sorts as +0.0 */
	return (u & SIGN_BIT) ? ~u : u | SIGN_BIT;
}

/* the bits of the double of key u */
static inline uint64_t
double_bits(uint64_t u)
{
	return (u & SIGN_BIT) ? u & ~SIGN_BIT : ~u;
}

static bool
radix_sort_doubles(double *v, size_t n)
{
	an_bits64  *keys = (an_bits64 *) v;	/* sorted in place of the values */
	an_bits64  *tmp;
	size_t	   *count;

	/* all accesses go through the keys: v is not read as double here */
	for (size_t i = 0; i < n; i++)
		if ((keys[i] & ~SIGN_BIT) > EXPONENT_BITS)
			return false;		/* NaN */
	tmp = malloc(n * sizeof(uint64_t));
	count = calloc((size_t) RADIX_PASSES * RADIX_BUCKETS, sizeof(size_t));
	if (!tmp || !count)
	{
		free(tmp);
		free(count);
		return false;
	}

	for (size_t i = 0; i < n; i++)
	{
		uint64_t	k = double_key(keys[i]);

		keys[i] = k;
		for (int p = 0; p < RADIX_PASSES; p++)
			count[p * RADIX_BUCKETS + ((k >> (p * RADIX_BITS)) & (RADIX_BUCKETS - 1))]++;
	}
	for (int p = 0; p < RADIX_PASSES; p++)
	{
		size_t	   *c = count + (size_t) p * RADIX_BUCKETS;
		int			shift = p * RADIX_BITS;
		size_t		pos = 0;
		an_bits64  *swap;

		if (c[(keys[0] >> shift) & (RADIX_BUCKETS - 1)] == n)
			continue;			/* one digit for all: the order stays */
		for (int b = 0; b < RADIX_BUCKETS; b++)
		{
			size_t		m = c[b];

			c[b] = pos;
			pos += m;
		}
		for (size_t i = 0; i < n; i++)
			tmp[c[(keys[i] >> shift) & (RADIX_BUCKETS - 1)]++] = keys[i];
		swap = keys;
		keys = tmp;
		tmp = swap;
	}
	if (keys != (an_bits64 *) v)
	{
		memcpy(v, keys, n * sizeof(uint64_t));
		tmp = keys;
		keys = (an_bits64 *) v;
	}
	for (size_t i = 0; i < n; i++)
		keys[i] = double_bits(keys[i]);
	free(tmp);
	free(count);
	return true;
}

void
an_sort_doubles(double *v, size_t n)
{
	if (n >= RADIX_MIN_ROWS && radix_sort_doubles(v, n))
		return;
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
