/*-------------------------------------------------------------------------
 *
 * method_knn.c
 *	  k-nearest-neighbour distance: the score of a row is its Euclidean
 *	  distance to the k-th nearest row of a memory bank of training rows
 *	  (PyOD's KNN, method "largest"), or the mean of the distances to the k
 *	  nearest ("mean").
 *
 * The bank is every training row while there are at most coreset_size of
 * them; beyond that, a greedy k-centre coreset of coreset_size rows (as
 * PatchCore selects its memory bank): start from a random row, then add
 * again and again the row farthest from the rows chosen so far.  The
 * coreset covers the outskirts of the data, where a uniform sample would
 * leave holes that make normal rows look far from everything.  Selection
 * costs n x coreset_size distance evaluations, each of dim flops.
 *
 * Scoring computes squared distances a block of the bank at a time as
 * ||x||^2 + ||b||^2 - 2 x.b, the products by one sgemm per block, clamped
 * at 0 against rounding, and keeps the k smallest per row by insertion
 * (k is small; most candidates lose against the current k-th at once).
 * The scratch for a batch of AN_SCORE_BATCH rows against one block is
 * allocated with the state, so that scoring never allocates.
 *
 * A training row in the bank is its own nearest neighbour, at distance 0.
 * PyOD leaves the row itself out of its training scores, and so does this
 * method, by one rule for every row scored: one bank row bit-identical to
 * the row (after scaling) is left out.  So the training scores that set
 * the threshold, the scores of the same rows in SQL later, and those of
 * unseen rows all count k other rows, and about the contamination share of
 * the training rows is flagged when they are scored again.  Further exact
 * copies of the row still count, at distance 0, as in PyOD.  Training rows
 * left out of a coreset have no bank entry to leave out.
 *
 * IDENTIFICATION
 *	  src/core/method_knn.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/blas.h"
#include "anomaly/method.h"

#define KNN_MAX_K			1000
#define KNN_MAX_CORESET		1000000
#define KNN_DEFAULT_CORESET 10000
/* bank rows per sgemm: the scratch is AN_SCORE_BATCH x this many floats */
#define KNN_BLOCK			1024
/* the bank is stored in the model document, itself one bytea */
#define KNN_MAX_BANK_BYTES	((size_t) 256 << 20)

typedef enum KnnAggregate
{
	KNN_LARGEST,
	KNN_MEAN
} KnnAggregate;

static const char *const aggregate_names[] = {"largest", "mean", NULL};

typedef struct KnnOptions
{
	int			k;
	int			aggregate;		/* KnnAggregate */
	int			coreset_size;
} KnnOptions;

typedef struct Knn
{
	int			dim;
	int			k;
	KnnAggregate aggregate;
	int			rows;			/* bank rows */
	float	   *bank;			/* rows x dim */
	float	   *norms;			/* rows: ||b||^2 */

	/* scoring scratch */
	int			block;			/* min(rows, KNN_BLOCK) */
	float	   *dist;			/* AN_SCORE_BATCH x block */
	float	   *best;			/* AN_SCORE_BATCH x k, ascending squared distances */
	float	   *xnorms;			/* AN_SCORE_BATCH */
} Knn;

/* ---- options ---- */

static void
knn_options_init(void *mopts)
{
	KnnOptions *o = mopts;

	o->k = 5;
	o->aggregate = KNN_LARGEST;
	o->coreset_size = KNN_DEFAULT_CORESET;
}

static AnStatus
knn_set_option(AnContext *ctx, void *mopts, const char *key, const AnOptionValue *v)
{
	KnnOptions *o = mopts;
	int64_t		i;

	if (strcmp(key, "k") == 0)
	{
		AN_TRY(an_option_int(ctx, key, v, 1, KNN_MAX_K, &i));
		o->k = (int) i;
		return AN_OK;
	}
	if (strcmp(key, "aggregate") == 0)
		return an_option_choice(ctx, key, v, aggregate_names, &o->aggregate);
	if (strcmp(key, "coreset_size") == 0)
	{
		AN_TRY(an_option_int(ctx, key, v, 2, KNN_MAX_CORESET, &i));
		o->coreset_size = (int) i;
		return AN_OK;
	}
	return AN_ERR_NOT_FOUND;
}

/* ---- state ---- */

static void
knn_destroy(AnContext *ctx, void *state)
{
	Knn		   *kn = state;

	an_free(ctx, kn->bank);
	an_free(ctx, kn->norms);
	an_free(ctx, kn->dist);
	an_free(ctx, kn->best);
	an_free(ctx, kn->xnorms);
	an_free(ctx, kn);
}

static float
sq_norm(const float *x, int dim)
{
	float		s = 0.0f;

	for (int j = 0; j < dim; j++)
		s += x[j] * x[j];
	return s;
}

/*
 * A state with room for a bank of rows x dim and its scoring scratch; the
 * caller fills the bank and calls knn_finish.
 */
static AnStatus
knn_alloc(AnContext *ctx, int dim, int rows, int k, KnnAggregate aggregate,
		  Knn **out)
{
	Knn		   *kn = an_alloc0(ctx, sizeof(Knn));

	*out = NULL;
	if (!kn)
		return an_nomem(ctx);
	kn->dim = dim;
	kn->rows = rows;
	kn->k = k;
	kn->aggregate = aggregate;
	kn->block = rows < KNN_BLOCK ? rows : KNN_BLOCK;
	kn->bank = an_alloc_array(ctx, (size_t) rows * dim, sizeof(float));
	kn->norms = an_alloc_array(ctx, rows, sizeof(float));
	kn->dist = an_alloc_array(ctx, (size_t) AN_SCORE_BATCH * kn->block, sizeof(float));
	kn->best = an_alloc_array(ctx, (size_t) AN_SCORE_BATCH * k, sizeof(float));
	kn->xnorms = an_alloc_array(ctx, AN_SCORE_BATCH, sizeof(float));
	if (!kn->bank || !kn->norms || !kn->dist || !kn->best || !kn->xnorms)
	{
		knn_destroy(ctx, kn);
		return an_nomem(ctx);
	}
	*out = kn;
	return AN_OK;
}

/* the squared norms of the bank rows, once the bank is filled */
static void
knn_finish(Knn *kn)
{
	for (int b = 0; b < kn->rows; b++)
		kn->norms[b] = sq_norm(kn->bank + (size_t) b * kn->dim, kn->dim);
}

/* ---- coreset ---- */

/*
 * Greedy k-centre selection of m of the n rows x into bank, in the order
 * chosen.  mind[i]
 * is row i's squared distance to the nearest chosen row, -1 once chosen,
 * so that the farthest row is never one already taken; ties go to the
 * lowest index, which makes the choice depend on the seed alone.
 */
static AnStatus
select_coreset(AnContext *ctx, const float *x, size_t n, int dim, int m,
			   AnRng *rng, float *bank, float *mind)
{
	size_t		next = (size_t) an_rng_below(rng, n);

	for (size_t i = 0; i < n; i++)
		mind[i] = INFINITY;
	for (int c = 0; c < m; c++)
	{
		const float *p = x + next * dim;
		size_t		far = 0;
		float		far_d = -1.0f;

		if (an_check_interrupts(ctx))
			return an_error(ctx, AN_ERR_INTERRUPTED, "training was interrupted");
		memcpy(bank + (size_t) c * dim, p, dim * sizeof(float));
		mind[next] = -1.0f;
		for (size_t i = 0; i < n; i++)
		{
			const float *r = x + i * dim;
			float		d = 0.0f;

			if (mind[i] < 0.0f)
				continue;
			for (int j = 0; j < dim; j++)
				d += (r[j] - p[j]) * (r[j] - p[j]);
			if (d < mind[i])
				mind[i] = d;
			if (mind[i] > far_d)
			{
				far_d = mind[i];
				far = i;
			}
		}
		next = far;
	}
	return AN_OK;
}

/* ---- scoring ---- */

/* insert d into the ascending list best[0..k-1] if it is smaller than the last */
static inline void
keep_smallest(float *best, int k, float d)
{
	int			i = k - 1;

	if (!(d < best[i]))
		return;
	while (i > 0 && best[i - 1] > d)
	{
		best[i] = best[i - 1];
		i--;
	}
	best[i] = d;
}

/*
 * Is candidate b, at squared distance d from row x by the sgemm formula, a
 * copy of x?  Rounding leaves a copy's distance near 0, not at 0, so
 * candidates within a generous rounding bound are compared bit by bit.
 */
static inline bool
is_copy(const Knn *kn, const float *x, float xnorm, int b, float d)
{
	return d <= 1e-3f * (xnorm + kn->norms[b]) &&
		memcmp(x, kn->bank + (size_t) b * kn->dim, kn->dim * sizeof(float)) == 0;
}

/*
 * Scores of n <= AN_SCORE_BATCH rows: the k smallest squared distances per
 * row, block by block of the bank, leaving out one copy of the row itself.
 */
static void
knn_score(void *state, const float *x, int n, double *out)
{
	Knn		   *kn = state;
	int			k = kn->k;
	bool		self_left_out[AN_SCORE_BATCH];

	for (int r = 0; r < n; r++)
	{
		kn->xnorms[r] = sq_norm(x + (size_t) r * kn->dim, kn->dim);
		self_left_out[r] = false;
		for (int j = 0; j < k; j++)
			kn->best[(size_t) r * k + j] = INFINITY;
	}
	for (int b0 = 0; b0 < kn->rows; b0 += kn->block)
	{
		int			nb = kn->rows - b0 < kn->block ? kn->rows - b0 : kn->block;

		/* dist = -2 X B^T */
		an_sgemm(false, true, n, nb, kn->dim, -2.0f, x, kn->dim,
				 kn->bank + (size_t) b0 * kn->dim, kn->dim, 0.0f, kn->dist, nb);
		for (int r = 0; r < n; r++)
		{
			const float *xr = x + (size_t) r * kn->dim;
			float	   *dr = kn->dist + (size_t) r * nb;
			float	   *best = kn->best + (size_t) r * k;

			for (int b = 0; b < nb; b++)
			{
				float		d = dr[b] + kn->xnorms[r] + kn->norms[b0 + b];

				d = d > 0.0f ? d : 0.0f;
				if (!self_left_out[r] && is_copy(kn, xr, kn->xnorms[r], b0 + b, d))
				{
					self_left_out[r] = true;
					continue;
				}
				keep_smallest(best, k, d);
			}
		}
	}
	for (int r = 0; r < n; r++)
	{
		const float *best = kn->best + (size_t) r * k;

		if (kn->aggregate == KNN_LARGEST)
			out[r] = sqrt((double) best[k - 1]);
		else
		{
			double		sum = 0.0;

			for (int j = 0; j < k; j++)
				sum += sqrt((double) best[j]);
			out[r] = sum / k;
		}
	}
}

/*
 * The neighbours the score counts, found again by a direct scan (one bit-
 * identical copy of the row left out, as knn_score does): with the k-th
 * neighbour b at distance D (aggregate "largest"), dimension j contributes
 * (x_j - b_j)^2 / D, its share of the squared distance scaled to the
 * distance, so the contributions add up to the score; with "mean", the
 * mean of that over the k neighbours.  The direct scan computes distances
 * in double and the score by the sgemm formula in float, so the sum
 * matches the score up to that rounding.
 */
static AnStatus
knn_explain(AnContext *ctx, void *state, const float *x, int dim, double *contrib,
			double *rest)
{
	Knn		   *kn = state;
	int			k = kn->k;
	double	   *best = an_alloc_array(ctx, k, sizeof(double));
	int		   *who = an_alloc_array(ctx, k, sizeof(int));
	bool		self_left_out = false;

	if (!best || !who)
	{
		an_free(ctx, best);
		an_free(ctx, who);
		return an_nomem(ctx);
	}
	for (int m = 0; m < k; m++)
	{
		best[m] = INFINITY;
		who[m] = -1;
	}
	for (int b = 0; b < kn->rows; b++)
	{
		const float *row = kn->bank + (size_t) b * dim;
		double		d = 0.0;
		int			i;

		if (!self_left_out && memcmp(x, row, dim * sizeof(float)) == 0)
		{
			self_left_out = true;
			continue;
		}
		for (int j = 0; j < dim; j++)
			d += ((double) x[j] - row[j]) * ((double) x[j] - row[j]);
		if (!(d < best[k - 1]))
			continue;
		for (i = k - 1; i > 0 && best[i - 1] > d; i--)
		{
			best[i] = best[i - 1];
			who[i] = who[i - 1];
		}
		best[i] = d;
		who[i] = b;
	}
	for (int j = 0; j < dim; j++)
		contrib[j] = 0.0;
	for (int m = kn->aggregate == KNN_LARGEST ? k - 1 : 0; m < k; m++)
	{
		const float *row;
		double		dist = sqrt(best[m]);
		double		weight = kn->aggregate == KNN_LARGEST ? 1.0 : 1.0 / k;

		if (who[m] < 0 || dist == 0.0)
			continue;
		row = kn->bank + (size_t) who[m] * dim;
		for (int j = 0; j < dim; j++)
			contrib[j] += weight * ((double) x[j] - row[j]) * ((double) x[j] - row[j]) / dist;
	}
	*rest = 0.0;
	an_free(ctx, best);
	an_free(ctx, who);
	return AN_OK;
}

/* ---- training ---- */

static AnStatus
knn_fit(AnContext *ctx, const AnOptions *opts, const float *x, size_t n, int dim,
		AnRng *rng, void **state)
{
	const KnnOptions *o = opts->method_options;
	int			rows = n < (size_t) o->coreset_size ? (int) n : o->coreset_size;
	Knn		   *kn;
	AnStatus	st = AN_OK;

	*state = NULL;
	if (o->k >= rows)
		return an_error(ctx, AN_ERR_INVALID,
						"option \"k\" (%d) must be less than the number of rows in the memory bank (%d)",
						o->k, rows);
	if ((size_t) rows * dim * sizeof(float) > KNN_MAX_BANK_BYTES)
		return an_error(ctx, AN_ERR_INVALID,
						"a memory bank of %d rows of %d values exceeds %zu MB",
						rows, dim, KNN_MAX_BANK_BYTES >> 20);
	AN_TRY(knn_alloc(ctx, dim, rows, o->k, (KnnAggregate) o->aggregate, &kn));

	if ((size_t) rows == n)
		memcpy(kn->bank, x, n * dim * sizeof(float));
	else
	{
		float	   *mind = an_alloc_array(ctx, n, sizeof(float));

		if (!mind)
			st = an_nomem(ctx);
		else
			st = select_coreset(ctx, x, n, dim, rows, rng, kn->bank, mind);
		an_free(ctx, mind);
	}
	if (st != AN_OK)
	{
		knn_destroy(ctx, kn);
		return st;
	}
	knn_finish(kn);
	*state = kn;
	return AN_OK;
}

/* ---- document ---- */

static AnStatus
knn_encode(AnContext *ctx, const void *state, AnPacker *pk)
{
	const Knn  *kn = state;

	(void) ctx;
	msgpack_pack_map(pk, 4);
	an_pack_key_int(pk, "k", kn->k);
	an_pack_key_str(pk, "aggregate", aggregate_names[kn->aggregate]);
	an_pack_key_int(pk, "rows", kn->rows);
	an_pack_key_floats(pk, "bank", kn->bank, (size_t) kn->rows * kn->dim);
	return AN_OK;
}

static AnStatus
knn_decode(AnContext *ctx, const AnObject *obj, int dim, void **state)
{
	int64_t		k,
				rows;
	const AnObject *agg = an_map_get(obj, "aggregate");
	const AnObject *bank;
	int			aggregate = -1;
	Knn		   *kn;
	AnStatus	st;

	/* k < rows: a bank row scored leaves itself out and still has k others */
	AN_TRY(an_get_int(ctx, obj, "rows", 2, KNN_MAX_CORESET, &rows));
	AN_TRY(an_get_int(ctx, obj, "k", 1, rows - 1 < KNN_MAX_K ? rows - 1 : KNN_MAX_K, &k));
	for (int i = 0; agg && aggregate_names[i]; i++)
		if (an_object_str_eq(agg, aggregate_names[i]))
			aggregate = i;
	if (aggregate < 0)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: field \"aggregate\" is missing or unknown");
	/* check the bank's size before allocating what "rows" claims */
	bank = an_map_get(obj, "bank");
	if ((size_t) rows * dim * sizeof(float) > KNN_MAX_BANK_BYTES ||
		!bank || bank->type != MSGPACK_OBJECT_BIN ||
		bank->via.bin.size != (size_t) rows * dim * sizeof(float))
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: field \"bank\" is missing or not %lld x %d float32 values",
						(long long) rows, dim);
	AN_TRY(knn_alloc(ctx, dim, (int) rows, (int) k, (KnnAggregate) aggregate, &kn));
	st = an_get_floats(ctx, obj, "bank", kn->bank, (size_t) rows * dim);
	if (st != AN_OK)
	{
		knn_destroy(ctx, kn);
		return st;
	}
	knn_finish(kn);
	*state = kn;
	return AN_OK;
}

const AnMethod an_method_knn = {
	.name = "knn",
	.options_size = sizeof(KnnOptions),
	.options_init = knn_options_init,
	.set_option = knn_set_option,
	.fit = knn_fit,
	.sizing_options = "\"coreset_size\"",
	.score = knn_score,
	.explain = knn_explain,
	.encode = knn_encode,
	.decode = knn_decode,
	.destroy = knn_destroy,
};
