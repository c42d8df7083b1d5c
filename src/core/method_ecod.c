/*-------------------------------------------------------------------------
 *
 * method_ecod.c
 *	  ECOD (Li et al. 2022, "ECOD: Unsupervised Outlier Detection Using
 *	  Empirical Cumulative Distribution Functions"): a row is anomalous when
 *	  its values sit far in the tails of each feature's empirical
 *	  distribution.
 *
 * Per feature j, F_left(x) = P(X_j <= x) and F_right(x) = P(X_j >= x) over
 * the training rows, and the tail terms l_j = -log F_left(x_j), r_j =
 * -log F_right(x_j).  The feature's skewness picks a tail: a_j = l_j when
 * it is negative, r_j when positive.  Two ways to combine them:
 *
 *	 pyod (the default, PyOD's ECOD, whose figures ADBench publishes): the
 *	 sum over features of max(a_j, (l_j + r_j) / 2), with a_j = l_j + r_j
 *	 for a skewness of exactly 0;
 *
 *	 paper (Algorithm 1 of the paper): max(sum l_j, sum r_j, sum a_j), with
 *	 a_j = r_j for a skewness of 0.
 *
 * The pyod sum is a sum of per-feature scores, which explains a score
 * column by column; it also measures better on the shared tables
 * (docs/benchmarks.md).
 *
 * What is kept is a compact ECDF per feature: K = min(n, MAX_KNOTS) knots,
 * the order statistics at ranks r_k = round(k (n - 1) / (K - 1)); between
 * knots the count of training values is interpolated linearly (exact when
 * K = n).  PyOD instead refits the ECDF on the rows being scored; storing
 * it makes a row's score independent of the other rows scored with it.
 * New values beyond the training range get tail probability 1 / (n + 1),
 * just below the smallest any training row can have (1 / n), so that log
 * never sees 0.  Beyond that floor the tail is extended exponentially:
 * a value d beyond the training range has -log tail = log(n + 1) + d / s,
 * s the feature's interquartile range (from the knots; its full range, or
 * 1, when that is 0), so that rows farther out score higher instead of
 * all sharing the floor's score.  Training rows are never beyond their
 * own range, so their scores, and the threshold, do not change.
 *
 * IDENTIFICATION
 *	  src/core/method_ecod.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/method.h"
#include "anomaly/stats.h"

#define MAX_KNOTS		1000	/* knots kept per feature by fit */
#define MAX_KNOTS_READ	65536	/* the most the decoder accepts */
#define MAX_ROWS		(INT64_C(1) << 40)

typedef enum EcodVariant
{
	ECOD_PYOD,
	ECOD_PAPER
} EcodVariant;

static const char *const variant_names[] = {"pyod", "paper", NULL};

typedef struct EcodOptions
{
	EcodVariant variant;
} EcodOptions;

typedef struct Ecod
{
	EcodVariant variant;
	int			dim;
	int			knots;			/* K */
	int64_t		rows;			/* n */
	float	   *values;			/* dim x K knots, ascending per feature */
	double	   *ranks;			/* K: the 0-based rank of each knot */
	double	   *skewness;		/* dim: picks the tail of O_auto */
	double	   *tail_scale;		/* dim: s of the exponential tail beyond the range */
	double	   *left;			/* scratch, dim: -log F_left per feature */
	double	   *right;			/* scratch, dim: -log F_right per feature */
} Ecod;

/* ---- options ---- */

static void
ecod_options_init(void *mopts)
{
	((EcodOptions *) mopts)->variant = ECOD_PYOD;
}

static AnStatus
ecod_set_option(AnContext *ctx, void *mopts, const char *key, const AnOptionValue *v)
{
	int			choice;

	if (strcmp(key, "variant") != 0)
		return AN_ERR_NOT_FOUND;
	AN_TRY(an_option_choice(ctx, key, v, variant_names, &choice));
	((EcodOptions *) mopts)->variant = (EcodVariant) choice;
	return AN_OK;
}

static void
ecod_destroy(AnContext *ctx, void *state)
{
	Ecod	   *e = state;

	if (!e)
		return;
	an_free(ctx, e->values);
	an_free(ctx, e->ranks);
	an_free(ctx, e->skewness);
	an_free(ctx, e->tail_scale);
	an_free(ctx, e->left);
	an_free(ctx, e->right);
	an_free(ctx, e);
}

/* the state for dim features, n rows and K knots; arrays zeroed */
static AnStatus
ecod_alloc(AnContext *ctx, int dim, int64_t n, int knots, Ecod **out)
{
	Ecod	   *e = an_alloc0(ctx, sizeof(Ecod));

	*out = NULL;
	if (!e)
		return an_nomem(ctx);
	e->dim = dim;
	e->rows = n;
	e->knots = knots;
	e->values = an_alloc_array(ctx, (size_t) dim * knots, sizeof(float));
	e->ranks = an_alloc_array(ctx, knots, sizeof(double));
	e->skewness = an_alloc_array(ctx, dim, sizeof(double));
	e->tail_scale = an_alloc_array(ctx, dim, sizeof(double));
	e->left = an_alloc_array(ctx, dim, sizeof(double));
	e->right = an_alloc_array(ctx, dim, sizeof(double));
	if (!e->values || !e->ranks || !e->skewness || !e->tail_scale || !e->left ||
		!e->right)
	{
		ecod_destroy(ctx, e);
		return an_nomem(ctx);
	}
	for (int k = 0; k < knots; k++)
		e->ranks[k] = knots > 1 ? round((double) k * (double) (n - 1) / (knots - 1)) : 0.0;
	*out = e;
	return AN_OK;
}

/* ---- the empirical tails ---- */

/*
 * How many training values are <= x, from the knots v[0..K) at ranks r:
 * 0 below v[0], n from v[K-1] on; in [v[j], v[j+1]) (j the last knot <= x)
 * it rises linearly from r[j] + 1, the values known to be <= v[j], towards
 * r[j+1], those known to be below v[j+1].
 */
static double
count_le(const Ecod *e, const float *v, float x)
{
	int			lo = 0,
				hi = e->knots;
	int			j;

	/* lo = the number of knots <= x */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (v[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0.0;
	if (lo == e->knots)
		return (double) e->rows;
	j = lo - 1;
	return e->ranks[j] + 1.0 + (e->ranks[j + 1] - e->ranks[j] - 1.0) *
		(((double) x - v[j]) / ((double) v[j + 1] - v[j]));
}

/* how many training values are >= x: count_le mirrored */
static double
count_ge(const Ecod *e, const float *v, float x)
{
	int			lo = 0,
				hi = e->knots;
	int			j;
	double		n = (double) e->rows;

	/* lo = the number of knots < x */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == e->knots)
		return 0.0;
	if (lo == 0)
		return n;
	j = lo;						/* v[j - 1] < x <= v[j] */
	return n - e->ranks[j] + (e->ranks[j] - e->ranks[j - 1] - 1.0) *
		(((double) v[j] - x) / ((double) v[j] - v[j - 1]));
}

/*
 * The tail terms of one row: left[j] = -log F_left(x_j) and right[j] =
 * -log F_right(x_j), tails floored at 1 / (n + 1) and extended beyond the
 * training range (see the header).
 */
static void
ecod_terms(const Ecod *e, const float *row, double *left, double *right)
{
	double		n = (double) e->rows;
	double		floor_p = 1.0 / (n + 1.0);

	for (int j = 0; j < e->dim; j++)
	{
		const float *v = e->values + (size_t) j * e->knots;
		double		pl = count_le(e, v, row[j]) / n;
		double		pr = count_ge(e, v, row[j]) / n;

		left[j] = -log(pl > floor_p ? pl : floor_p);
		right[j] = -log(pr > floor_p ? pr : floor_p);
		if (row[j] < v[0])
			left[j] += ((double) v[0] - row[j]) / e->tail_scale[j];
		else if (row[j] > v[e->knots - 1])
			right[j] += ((double) row[j] - v[e->knots - 1]) / e->tail_scale[j];
	}
}

/* the scale of each feature's extended tails, from its knots */
static void
ecod_tail_scales(Ecod *e)
{
	int			k = e->knots;

	for (int j = 0; j < e->dim; j++)
	{
		const float *v = e->values + (size_t) j * k;
		double		iqr = (double) v[(int) lround(0.75 * (k - 1))] -
			v[(int) lround(0.25 * (k - 1))];
		double		range = (double) v[k - 1] - v[0];

		e->tail_scale[j] = iqr > 0.0 ? iqr : range > 0.0 ? range : 1.0;
	}
}

/*
 * The pyod variant's per-feature scores, from the tail terms (in place,
 * into left): max(a_j, (l_j + r_j) / 2), the tail a_j chosen by the sign
 * of the skewness, both tails for 0.  The row's score is their sum, so
 * they are also its explanation column by column.
 */
static void
ecod_dimension_scores(const Ecod *e, double *left, const double *right)
{
	for (int j = 0; j < e->dim; j++)
	{
		double		s = e->skewness[j];
		double		a = s < 0.0 ? left[j] : s > 0.0 ? right[j] : left[j] + right[j];
		double		both = (left[j] + right[j]) / 2.0;

		left[j] = a > both ? a : both;
	}
}

/* the paper's max(O_left, O_right, O_auto) from the tail terms */
static double
ecod_paper_score(const Ecod *e, const double *left, const double *right)
{
	double		o_left = 0.0,
				o_right = 0.0,
				o_auto = 0.0;

	for (int j = 0; j < e->dim; j++)
	{
		o_left += left[j];
		o_right += right[j];
		o_auto += e->skewness[j] < 0.0 ? left[j] : right[j];
	}
	return fmax(o_left, fmax(o_right, o_auto));
}

static void
ecod_score(void *state, const float *x, int n, double *out)
{
	Ecod	   *e = state;

	for (int r = 0; r < n; r++)
	{
		ecod_terms(e, x + (size_t) r * e->dim, e->left, e->right);
		if (e->variant == ECOD_PAPER)
			out[r] = ecod_paper_score(e, e->left, e->right);
		else
		{
			double		sum = 0.0;

			ecod_dimension_scores(e, e->left, e->right);
			for (int j = 0; j < e->dim; j++)
				sum += e->left[j];
			out[r] = sum;
		}
	}
}

/*
 * The pyod score is a sum of per-dimension scores, which are the
 * contributions; the paper's is the largest of three sums, whose terms
 * are.  Either way they add up to the score.
 */
static AnStatus
ecod_explain(AnContext *ctx, void *state, const float *x, int dim, double *contrib,
			 double *rest)
{
	Ecod	   *e = state;

	(void) ctx;
	ecod_terms(e, x, e->left, e->right);
	*rest = 0.0;
	if (e->variant == ECOD_PAPER)
	{
		double		o_left = 0.0,
					o_right = 0.0,
					o_auto = 0.0;

		for (int j = 0; j < dim; j++)
		{
			o_left += e->left[j];
			o_right += e->right[j];
			o_auto += e->skewness[j] < 0.0 ? e->left[j] : e->right[j];
		}
		for (int j = 0; j < dim; j++)
		{
			if (o_left >= o_right && o_left >= o_auto)
				contrib[j] = e->left[j];
			else if (o_right >= o_auto)
				contrib[j] = e->right[j];
			else
				contrib[j] = e->skewness[j] < 0.0 ? e->left[j] : e->right[j];
		}
		return AN_OK;
	}
	ecod_dimension_scores(e, e->left, e->right);
	for (int j = 0; j < dim; j++)
		contrib[j] = e->left[j];
	return AN_OK;
}

/* ---- training ---- */

/*
 * The sample skewness m3 / m2^1.5 (scipy.stats.skew, biased) of a sorted
 * column; 0 for a constant one, whose rounding could give any sign.
 */
static double
column_skewness(const double *sorted, size_t n)
{
	double		mean = 0.0,
				m2 = 0.0,
				m3 = 0.0;

	if (n < 2 || sorted[0] == sorted[n - 1])
		return 0.0;
	for (size_t i = 0; i < n; i++)
		mean += sorted[i];
	mean /= (double) n;
	for (size_t i = 0; i < n; i++)
	{
		double		d = sorted[i] - mean;

		m2 += d * d;
		m3 += d * d * d;
	}
	m2 /= (double) n;
	m3 /= (double) n;
	return m2 > 0.0 ? m3 / pow(m2, 1.5) : 0.0;
}

static AnStatus
ecod_fit(AnContext *ctx, const AnOptions *opts, const float *x, size_t n, int dim,
		 AnRng *rng, void **state)
{
	int			knots = n < MAX_KNOTS ? (int) n : MAX_KNOTS;
	double	   *col;
	Ecod	   *e;

	*state = NULL;
	if ((int64_t) n > MAX_ROWS)
		return an_error(ctx, AN_ERR_INVALID, "too many rows for ECOD: %zu", n);
	AN_TRY(ecod_alloc(ctx, dim, (int64_t) n, knots, &e));
	e->variant = ((const EcodOptions *) opts->method_options)->variant;
	col = an_alloc_array(ctx, n, sizeof(double));
	if (!col)
	{
		ecod_destroy(ctx, e);
		return an_nomem(ctx);
	}
	for (int j = 0; j < dim; j++)
	{
		float	   *v = e->values + (size_t) j * knots;

		if (an_check_interrupts(ctx))
		{
			an_free(ctx, col);
			ecod_destroy(ctx, e);
			return an_error(ctx, AN_ERR_INTERRUPTED, "training was interrupted");
		}
		for (size_t i = 0; i < n; i++)
			col[i] = x[i * dim + j];
		an_sort_doubles(col, n);
		for (int k = 0; k < knots; k++)
			v[k] = (float) col[(size_t) e->ranks[k]];
		e->skewness[j] = column_skewness(col, n);
	}
	an_free(ctx, col);
	ecod_tail_scales(e);
	*state = e;
	return AN_OK;
}

/* ---- the document ---- */

static AnStatus
ecod_encode(AnContext *ctx, const void *state, AnPacker *pk)
{
	const Ecod *e = state;

	(void) ctx;
	msgpack_pack_map(pk, 5);
	an_pack_key_str(pk, "variant", variant_names[e->variant]);
	an_pack_key_int(pk, "rows", e->rows);
	an_pack_key_int(pk, "knots", e->knots);
	an_pack_key_floats(pk, "values", e->values, (size_t) e->dim * e->knots);
	an_pack_key_reals(pk, "skewness", e->skewness, e->dim);
	return AN_OK;
}

static AnStatus
ecod_check_sorted(AnContext *ctx, const Ecod *e)
{
	for (int j = 0; j < e->dim; j++)
	{
		const float *v = e->values + (size_t) j * e->knots;

		for (int k = 1; k < e->knots; k++)
			if (!(v[k - 1] <= v[k]))
				return an_error(ctx, AN_ERR_CORRUPT,
								"corrupt model document: the ECDF knots of dimension %d are not ascending",
								j);
	}
	return AN_OK;
}

static AnStatus
ecod_decode(AnContext *ctx, const AnObject *obj, int dim, void **state)
{
	int64_t		n,
				knots;
	const AnObject *values;
	const AnObject *variant;
	int			v;
	Ecod	   *e;
	AnStatus	st;

	*state = NULL;
	variant = an_map_get(obj, "variant");
	for (v = 0; variant_names[v]; v++)
		if (variant && an_object_str_eq(variant, variant_names[v]))
			break;
	if (!variant_names[v])
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: field \"variant\" is missing or unknown");
	AN_TRY(an_get_int(ctx, obj, "rows", 1, MAX_ROWS, &n));
	AN_TRY(an_get_int(ctx, obj, "knots", 1, n < MAX_KNOTS_READ ? n : MAX_KNOTS_READ,
					  &knots));
	/* before allocating dim x K floats, check the document holds them */
	values = an_map_get(obj, "values");
	if (!values || values->type != MSGPACK_OBJECT_BIN ||
		values->via.bin.size != (uint64_t) dim * knots * 4)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: field \"values\" is missing or not %lld float32 values",
						(long long) dim * knots);
	AN_TRY(ecod_alloc(ctx, dim, n, (int) knots, &e));
	e->variant = (EcodVariant) v;
	st = an_get_floats(ctx, obj, "values", e->values, (size_t) dim * knots);
	if (st == AN_OK)
		st = an_get_reals(ctx, obj, "skewness", e->skewness, dim);
	if (st == AN_OK)
		st = ecod_check_sorted(ctx, e);
	if (st == AN_OK)
		ecod_tail_scales(e);
	if (st != AN_OK)
	{
		ecod_destroy(ctx, e);
		return st;
	}
	*state = e;
	return AN_OK;
}

const AnMethod an_method_ecod = {
	.name = "ecod",
	.options_size = sizeof(EcodOptions),
	.options_init = ecod_options_init,
	.set_option = ecod_set_option,
	.fit = ecod_fit,
	.score = ecod_score,
	.explain = ecod_explain,
	.encode = ecod_encode,
	.decode = ecod_decode,
	.destroy = ecod_destroy,
};
