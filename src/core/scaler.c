/*-------------------------------------------------------------------------
 *
 * scaler.c
 *	  Per-dimension affine scaling of the encoded input.
 *
 * Fitting and the raw values are double precision: a column of epoch
 * seconds or large amounts would lose its variation if it were rounded to
 * float32 before its mean is removed.
 *
 * IDENTIFICATION
 *	  src/core/scaler.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/features.h"
#include "anomaly/stats.h"

static const char *const scaler_names[] = {
	[AN_SCALER_STANDARD] = "standard",
	[AN_SCALER_ROBUST] = "robust",
	[AN_SCALER_NONE] = "none",
};

const char *
an_scaler_name(AnScalerKind kind)
{
	return an_name_of(scaler_names, AN_LENGTHOF(scaler_names), (int) kind);
}

bool
an_scaler_parse(const char *name, AnScalerKind *kind)
{
	int			i = an_name_index(scaler_names, AN_LENGTHOF(scaler_names), name);

	if (i < 0)
		return false;
	*kind = (AnScalerKind) i;
	return true;
}

AnStatus
an_scaler_alloc(AnContext *ctx, AnScaler *scaler, int dim)
{
	memset(scaler, 0, sizeof(*scaler));
	scaler->dim = dim;
	scaler->offset = an_alloc_array(ctx, dim, sizeof(double));
	scaler->scale = an_alloc_array(ctx, dim, sizeof(double));
	if (!scaler->offset || !scaler->scale)
	{
		an_scaler_free(ctx, scaler);
		return an_nomem(ctx);
	}
	for (int j = 0; j < dim; j++)
		scaler->scale[j] = 1.0;
	return AN_OK;
}

void
an_scaler_free(AnContext *ctx, AnScaler *scaler)
{
	an_free(ctx, scaler->offset);
	an_free(ctx, scaler->scale);
	scaler->offset = scaler->scale = NULL;
}

/*
 * A spread too small to divide by is treated as a constant column.  A
 * non-finite one (values so large that their squares overflow) is kept,
 * for an_scaler_bad_dim to report.
 */
static double
usable_spread(double s)
{
	if (!isfinite(s))
		return s;
	return s > AN_MIN_SCALE ? s : 1.0;
}

/*
 * Mean and population standard deviation of every dimension in two
 * row-major passes (cache-friendly on n x dim data).  Sums are taken
 * relative to the first row, which keeps them exact enough for columns with
 * a large offset and a small spread (timestamps, account numbers).
 */
static void
fit_standard(AnScaler *scaler, const double *raw, size_t n, int dim, const bool *fit_dim)
{
	double	   *sum = scaler->offset;	/* used as accumulators, then set */
	double	   *sq = scaler->scale;

	for (int j = 0; j < dim; j++)
		sum[j] = sq[j] = 0.0;
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < dim; j++)
			sum[j] += raw[i * dim + j] - raw[j];
	for (int j = 0; j < dim; j++)
		sum[j] = raw[j] + sum[j] / (double) n;	/* the mean */
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < dim; j++)
		{
			double		d = raw[i * dim + j] - sum[j];

			sq[j] += d * d;
		}
	for (int j = 0; j < dim; j++)
	{
		if (fit_dim && !fit_dim[j])
		{
			sum[j] = 0.0;
			sq[j] = 1.0;
		}
		else
			sq[j] = usable_spread(sqrt(sq[j] / (double) n));
	}
}

AnStatus
an_scaler_fit(AnContext *ctx, AnScaler *scaler, AnScalerKind kind,
			  const double *raw, size_t n, int dim, const bool *fit_dim)
{
	double	   *column;

	AN_TRY(an_scaler_alloc(ctx, scaler, dim));
	scaler->kind = kind;
	if (kind == AN_SCALER_NONE || n == 0)
		return AN_OK;

	if (kind == AN_SCALER_STANDARD)
	{
		fit_standard(scaler, raw, n, dim, fit_dim);
		return AN_OK;
	}

	/* robust: median and interquartile range, one column at a time */
	column = an_alloc_array(ctx, n, sizeof(double));
	if (!column)
	{
		an_scaler_free(ctx, scaler);
		return an_nomem(ctx);
	}
	for (int j = 0; j < dim; j++)
	{
		double		q1,
					q3;

		if (fit_dim && !fit_dim[j])
			continue;
		for (size_t i = 0; i < n; i++)
			column[i] = raw[i * dim + j];
		an_sort_doubles(column, n);
		q1 = an_quantile_sorted(column, n, 0.25);
		q3 = an_quantile_sorted(column, n, 0.75);
		scaler->offset[j] = an_quantile_sorted(column, n, 0.5);
		scaler->scale[j] = usable_spread(q3 - q1);
	}
	an_free(ctx, column);
	return AN_OK;
}

int
an_scaler_bad_dim(const AnScaler *scaler)
{
	for (int j = 0; j < scaler->dim; j++)
	{
		double		o = scaler->offset[j];
		double		s = scaler->scale[j];

		/* written so that NaN fails every test */
		if (!(fabs(o) <= AN_MAX_SCALER_VALUE) ||
			!(s >= AN_MIN_SCALE && s <= AN_MAX_SCALER_VALUE))
			return j;
	}
	return -1;
}

/*
 * (x - offset) / scale in double precision, clamped before the conversion
 * to float: 1e300 becomes AN_MAX_SCALED, not Infinity, and NaN (which a
 * host should not pass) the upper bound, the most anomalous value.
 */
static inline float
scale_value(double x, double offset, double scale)
{
	double		z = (x - offset) / scale;

	if (!(z <= AN_MAX_SCALED))
		z = AN_MAX_SCALED;
	else if (z < -AN_MAX_SCALED)
		z = -AN_MAX_SCALED;
	return (float) z;
}

void
an_scaler_apply(const AnScaler *scaler, const double *raw, float *out)
{
	for (int j = 0; j < scaler->dim; j++)
		out[j] = scale_value(raw[j], scaler->offset[j], scaler->scale[j]);
}

float *
an_scaler_apply_compact(const AnScaler *scaler, double *buf, size_t n)
{
	char	   *bytes = (char *) buf;
	size_t		dim = (size_t) scaler->dim;

	/*
	 * Element k (= i * dim + j) is read as a double at byte 8k and written
	 * as a float at byte 4k, which only overlaps doubles of index <= k:
	 * those have all been read already when going in order.  The stores go
	 * through memcpy on char so that no aliasing assumption reorders them.
	 */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < dim; j++)
		{
			size_t		k = i * dim + j;
			double		x;
			float		f;

			memcpy(&x, bytes + k * sizeof(double), sizeof(double));
			f = scale_value(x, scaler->offset[j], scaler->scale[j]);
			memcpy(bytes + k * sizeof(float), &f, sizeof(float));
		}
	return (float *) buf;
}
