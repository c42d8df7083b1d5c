/*-------------------------------------------------------------------------
 *
 * method_iforest.c
 *	  Isolation forest (Liu, Ting and Zhou 2008): random trees grown on
 *	  small subsamples isolate anomalies in fewer splits than normal rows.
 *
 * Each tree sees sample_size rows drawn without replacement.  A node splits
 * on a feature chosen uniformly among those not constant in its rows, at a
 * threshold drawn uniformly between their minimum and maximum; it becomes
 * a leaf at max_depth, or when its rows cannot be split.  The path length
 * of a row is the depth of its leaf plus c(size), the expected depth of an
 * unbuilt tree over the leaf's rows; the score is 2^(-E[h(x)] / c(psi)),
 * as scikit-learn's score_samples negated (higher = more anomalous).
 *
 * A row beyond the training rows' range on a feature cannot be isolated by
 * a tree grown without it: every threshold falls inside the range, so the
 * row shares the leaf of the most extreme training rows, and a value of
 * 1e300 in one column scored about 0.52, below the threshold.  Had the row
 * been in the sample, a threshold drawn between the far end of the range
 * and the row would have cut it off with probability (x - high) / (x - low)
 * (for x above the range).  So at each split on such a feature the walk
 * ends there with that probability, and the path length is the
 * expectation: unchanged for rows within the range, shorter the further a
 * row lies outside it.  The range is the training rows' (all of them, not
 * the tree's sample), kept per feature in the document.
 *
 * Layout: the nodes of all trees sit in three flat arrays, tree by tree.
 * Within a tree the root is node 0 and a split node's two children are
 * adjacent (left, then right) and come after it, so a walk only ever moves
 * forward: the decoder checks exactly that, which rules out cycles in a
 * hostile document.
 *
 * IDENTIFICATION
 *	  src/core/method_iforest.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/method.h"

#define EULER_GAMMA 0.5772156649

#define MAX_TREES		10000
#define MAX_SAMPLE		1000000
#define MAX_DEPTH		1000

typedef struct IforestOptions
{
	int			n_trees;
	int			sample_size;
	int			max_depth;		/* 0 = ceil(log2(psi)) */
} IforestOptions;

/*
 * A node as scoring walks it: the three arrays below, interleaved, so that
 * a step of the walk touches one cache line instead of three (a forest of
 * 100 trees is about 800 kB, more than the L2 cache; scoring one row took
 * 5.8 us with the separate arrays).
 */
typedef struct IfNode
{
	double		value;			/* threshold (a float), or a leaf's c(size) */
	int32_t		feature;		/* -1 for a leaf */
	int32_t		child;			/* left child, tree-local */
} IfNode;

typedef struct Iforest
{
	int			dim;
	int			n_trees;
	int			sample_size;	/* psi: the rows each tree was grown on */
	int			max_depth;
	double		norm;			/* c(psi), the score's denominator */
	size_t	   *start;			/* n_trees + 1: first node of each tree */
	int32_t    *feature;		/* split feature, or -1 for a leaf */
	int32_t    *child;			/* left child (tree-local), or a leaf's size */
	double	   *value;			/* a split's threshold (a float), or a leaf's c(size) */
	float	   *low;			/* dim: the training rows' range per feature */
	float	   *high;
	IfNode	   *nodes;			/* the same trees, for scoring (if_pack) */
} Iforest;

/* ---- options ---- */

static void
if_options_init(void *mopts)
{
	IforestOptions *o = mopts;

	o->n_trees = 100;
	o->sample_size = 256;
	o->max_depth = 0;
}

static AnStatus
if_set_option(AnContext *ctx, void *mopts, const char *key, const AnOptionValue *v)
{
	IforestOptions *o = mopts;
	int64_t		i;

	if (strcmp(key, "n_trees") == 0)
	{
		AN_TRY(an_option_int(ctx, key, v, 1, MAX_TREES, &i));
		o->n_trees = (int) i;
		return AN_OK;
	}
	if (strcmp(key, "sample_size") == 0)
	{
		AN_TRY(an_option_int(ctx, key, v, 2, MAX_SAMPLE, &i));
		o->sample_size = (int) i;
		return AN_OK;
	}
	if (strcmp(key, "max_depth") == 0)
	{
		AN_TRY(an_option_int(ctx, key, v, 1, MAX_DEPTH, &i));
		o->max_depth = (int) i;
		return AN_OK;
	}
	return AN_ERR_NOT_FOUND;
}

/* ---- the maths ---- */

/*
 * c(n): the average path length of an unsuccessful search in a binary
 * search tree of n keys, 2 H(n - 1) - 2 (n - 1) / n with H(i) ~ ln(i) +
 * Euler's constant; c(1) = 0 and c(2) = 1 exactly, as scikit-learn.
 */
static double
if_c(double n)
{
	if (n <= 1.0)
		return 0.0;
	if (n <= 2.0)
		return 1.0;
	return 2.0 * (log(n - 1.0) + EULER_GAMMA) - 2.0 * (n - 1.0) / n;
}

/* every document with psi < 2 would divide by c(psi) = 0: use 1 */
static double
if_norm(int psi)
{
	return psi >= 2 ? if_c(psi) : 1.0;
}

/* the most nodes a tree of psi rows and the given depth can have */
static size_t
if_tree_capacity(int psi, int depth)
{
	size_t		by_rows = 2 * (size_t) psi - 1;

	if (depth < 30 && ((size_t) 1 << (depth + 1)) - 1 < by_rows)
		return ((size_t) 1 << (depth + 1)) - 1;
	return by_rows;
}

static void
if_destroy(AnContext *ctx, void *state)
{
	Iforest    *f = state;

	if (!f)
		return;
	an_free(ctx, f->start);
	an_free(ctx, f->feature);
	an_free(ctx, f->child);
	an_free(ctx, f->value);
	an_free(ctx, f->low);
	an_free(ctx, f->high);
	an_free(ctx, f->nodes);
	an_free(ctx, f);
}

/* a forest of n_trees with room for capacity nodes, all arrays zeroed */
static AnStatus
if_alloc(AnContext *ctx, int dim, int n_trees, int psi, size_t capacity, Iforest **out)
{
	Iforest    *f = an_alloc0(ctx, sizeof(Iforest));

	*out = NULL;
	if (!f)
		return an_nomem(ctx);
	f->dim = dim;
	f->n_trees = n_trees;
	f->sample_size = psi;
	f->norm = if_norm(psi);
	f->start = an_alloc_array(ctx, (size_t) n_trees + 1, sizeof(size_t));
	f->feature = an_alloc_array(ctx, capacity, sizeof(int32_t));
	f->child = an_alloc_array(ctx, capacity, sizeof(int32_t));
	f->value = an_alloc_array(ctx, capacity, sizeof(double));
	f->low = an_alloc_array(ctx, dim, sizeof(float));
	f->high = an_alloc_array(ctx, dim, sizeof(float));
	if (!f->start || !f->feature || !f->child || !f->value || !f->low || !f->high)
	{
		if_destroy(ctx, f);
		return an_nomem(ctx);
	}
	*out = f;
	return AN_OK;
}

/* ---- training ---- */

/* scratch of one tree's growth, reused from tree to tree */
typedef struct GrowScratch
{
	uint32_t   *rows;			/* the subsample, partitioned node by node */
	uint32_t   *begin;			/* per node: its rows are rows[begin, end) */
	uint32_t   *end;
	int		   *depth;
	int		   *splittable;		/* features not constant in a node */
	float	   *lo;				/* per feature: min and max in a node */
	float	   *hi;
} GrowScratch;

static void
scratch_free(AnContext *ctx, GrowScratch *s)
{
	an_free(ctx, s->rows);
	an_free(ctx, s->begin);
	an_free(ctx, s->end);
	an_free(ctx, s->depth);
	an_free(ctx, s->splittable);
	an_free(ctx, s->lo);
	an_free(ctx, s->hi);
}

static AnStatus
scratch_alloc(AnContext *ctx, GrowScratch *s, int psi, size_t capacity, int dim)
{
	memset(s, 0, sizeof(*s));
	s->rows = an_alloc_array(ctx, psi, sizeof(uint32_t));
	s->begin = an_alloc_array(ctx, capacity, sizeof(uint32_t));
	s->end = an_alloc_array(ctx, capacity, sizeof(uint32_t));
	s->depth = an_alloc_array(ctx, capacity, sizeof(int));
	s->splittable = an_alloc_array(ctx, dim, sizeof(int));
	s->lo = an_alloc_array(ctx, dim, sizeof(float));
	s->hi = an_alloc_array(ctx, dim, sizeof(float));
	if (!s->rows || !s->begin || !s->end || !s->depth || !s->splittable ||
		!s->lo || !s->hi)
	{
		scratch_free(ctx, s);
		return an_nomem(ctx);
	}
	return AN_OK;
}

/*
 * The features that vary among rows[b, e) (into s->splittable, their
 * count returned) with their minima and maxima (s->lo, s->hi).
 */
static int
node_ranges(GrowScratch *s, const float *x, int dim, uint32_t b, uint32_t e)
{
	int			k = 0;

	memcpy(s->lo, x + (size_t) s->rows[b] * dim, sizeof(float) * dim);
	memcpy(s->hi, s->lo, sizeof(float) * dim);
	for (uint32_t r = b + 1; r < e; r++)
	{
		const float *row = x + (size_t) s->rows[r] * dim;

		for (int j = 0; j < dim; j++)
		{
			if (row[j] < s->lo[j])
				s->lo[j] = row[j];
			if (row[j] > s->hi[j])
				s->hi[j] = row[j];
		}
	}
	for (int j = 0; j < dim; j++)
		if (s->hi[j] > s->lo[j])
			s->splittable[k++] = j;
	return k;
}

/* move the rows of [b, e) with x[j] <= t to the front; returns the split */
static uint32_t
partition_rows(uint32_t *rows, const float *x, int dim, int j, float t,
			   uint32_t b, uint32_t e)
{
	uint32_t	m = b;

	for (uint32_t r = b; r < e; r++)
	{
		if (x[(size_t) rows[r] * dim + j] <= t)
		{
			uint32_t	tmp = rows[m];

			rows[m++] = rows[r];
			rows[r] = tmp;
		}
	}
	return m;
}

/*
 * Grow one tree on s->rows[0, psi) into the forest's arrays from node
 * offset base; returns its node count.  Nodes are numbered in the order
 * they are created, so processing them in index order is breadth first
 * and a node's children always come after it.
 *
 * The threshold is drawn in [lo, hi) and rounded to float32, the stored
 * precision; should rounding reach hi it falls back to lo.  Rows with
 * x <= t go left, so each child keeps at least one row (the minimum goes
 * left, the maximum right) and leaf sizes are never 0.
 */
static size_t
grow_tree(Iforest *f, GrowScratch *s, const float *x, int psi, int max_depth,
		  size_t base, AnRng *rng)
{
	int32_t    *feature = f->feature + base;
	int32_t    *child = f->child + base;
	double	   *value = f->value + base;
	size_t		count = 1;
	int			dim = f->dim;

	s->begin[0] = 0;
	s->end[0] = (uint32_t) psi;
	s->depth[0] = 0;
	for (size_t i = 0; i < count; i++)
	{
		uint32_t	b = s->begin[i],
					e = s->end[i];
		int			k = 0;
		int			j;
		float		t;
		uint32_t	m;

		if (s->depth[i] < max_depth && e - b > 1)
			k = node_ranges(s, x, dim, b, e);
		if (k == 0)
		{
			feature[i] = -1;
			child[i] = (int32_t) (e - b);
			value[i] = if_c(e - b);
			continue;
		}
		j = s->splittable[an_rng_below(rng, (uint64_t) k)];
		t = (float) (s->lo[j] + an_rng_uniform(rng) * ((double) s->hi[j] - s->lo[j]));
		if (!(t < s->hi[j]))
			t = s->lo[j];
		m = partition_rows(s->rows, x, dim, j, t, b, e);

		feature[i] = j;
		value[i] = t;
		child[i] = (int32_t) count;
		s->begin[count] = b;
		s->end[count] = m;
		s->depth[count] = s->depth[i] + 1;
		s->begin[count + 1] = m;
		s->end[count + 1] = e;
		s->depth[count + 1] = s->depth[i] + 1;
		count += 2;
	}
	return count;
}

/* draw psi of the n rows without replacement: a partial Fisher-Yates */
static void
draw_subsample(uint32_t *perm, size_t n, int psi, uint32_t *rows, AnRng *rng)
{
	for (int i = 0; i < psi; i++)
	{
		size_t		k = i + (size_t) an_rng_below(rng, n - i);
		uint32_t	tmp = perm[i];

		perm[i] = perm[k];
		perm[k] = tmp;
		rows[i] = perm[i];
	}
}

/* interleave the node arrays for scoring, after fit or decode */
static AnStatus
if_pack(AnContext *ctx, Iforest *f)
{
	size_t		total = f->start[f->n_trees];

	f->nodes = an_alloc_array(ctx, total, sizeof(IfNode));
	if (!f->nodes)
		return an_nomem(ctx);
	for (size_t i = 0; i < total; i++)
	{
		f->nodes[i].value = f->value[i];
		f->nodes[i].feature = f->feature[i];
		f->nodes[i].child = f->child[i];
	}
	return AN_OK;
}

static AnStatus
if_fit(AnContext *ctx, const AnOptions *opts, const float *x, size_t n, int dim,
	   AnRng *rng, void **state)
{
	const IforestOptions *o = opts->method_options;
	int			psi = (size_t) o->sample_size < n ? o->sample_size : (int) n;
	int			depth = o->max_depth > 0 ? o->max_depth
		: (int) ceil(log2(psi > 2 ? (double) psi : 2.0));
	size_t		per_tree = if_tree_capacity(psi, depth);
	Iforest    *f;
	GrowScratch s;
	uint32_t   *perm;
	size_t		used = 0;
	AnStatus	st = AN_OK;

	*state = NULL;
	if (n > UINT32_MAX)
		return an_error(ctx, AN_ERR_INVALID, "too many rows for an isolation forest: %zu", n);
	if ((size_t) o->n_trees > SIZE_MAX / per_tree)
		return an_nomem(ctx);
	AN_TRY(if_alloc(ctx, dim, o->n_trees, psi, per_tree * o->n_trees, &f));
	f->max_depth = depth;
	perm = an_alloc_array(ctx, n, sizeof(uint32_t));
	if (!perm)
	{
		if_destroy(ctx, f);
		return an_nomem(ctx);
	}
	st = scratch_alloc(ctx, &s, psi, per_tree, dim);
	if (st != AN_OK)
	{
		an_free(ctx, perm);
		if_destroy(ctx, f);
		return st;
	}

	for (size_t i = 0; i < n; i++)
		perm[i] = (uint32_t) i;
	for (int j = 0; j < dim; j++)
		f->low[j] = f->high[j] = x[j];
	for (size_t i = 1; i < n; i++)
		for (int j = 0; j < dim; j++)
		{
			f->low[j] = fminf(f->low[j], x[i * dim + j]);
			f->high[j] = fmaxf(f->high[j], x[i * dim + j]);
		}
	for (int t = 0; t < f->n_trees; t++)
	{
		if (an_check_interrupts(ctx))
		{
			st = an_error(ctx, AN_ERR_INTERRUPTED, "training was interrupted");
			break;
		}
		draw_subsample(perm, n, psi, s.rows, rng);
		f->start[t] = used;
		used += grow_tree(f, &s, x, psi, depth, used, rng);
	}
	f->start[f->n_trees] = used;

	scratch_free(ctx, &s);
	an_free(ctx, perm);
	if (st != AN_OK)
	{
		if_destroy(ctx, f);
		return st;
	}
	st = if_pack(ctx, f);
	if (st != AN_OK)
	{
		if_destroy(ctx, f);
		return st;
	}
	*state = f;
	return AN_OK;
}

/* ---- scoring ---- */

/* the chance that a threshold between the range's far end and x cuts x off */
static inline double
cut_off(const Iforest *f, int j, double x)
{
	double		lo = f->low[j],
				hi = f->high[j];

	if (x > hi)
		return (x - hi) / (x - lo);
	if (x < lo)
		return (lo - x) / (hi - x);
	return 0.0;
}

/* the path length of an in-range row in one tree: edges plus the leaf's c(size) */
static inline double
path_length(const IfNode *node, const float *row)
{
	size_t		i = 0;
	int			edges = 0;

	while (node[i].feature >= 0)
	{
		i = node[i].child + (row[node[i].feature] <= node[i].value ? 0 : 1);
		edges++;
	}
	return edges + node[i].value;
}

/*
 * The path lengths of an in-range row in trees t .. t + IF_WALKS - 1,
 * walked together: one walk is a chain of dependent loads, most of them
 * cache misses in a forest larger than the L2 cache, and independent walks
 * let the processor wait for several at once.  Each length is the one
 * path_length gives.
 */
#define IF_WALKS 8

static inline void
path_lengths(const Iforest *f, int t, const float *row, double *h)
{
	const IfNode *tree[IF_WALKS];
	size_t		i[IF_WALKS];
	int			edges[IF_WALKS];
	bool		walking;

	for (int k = 0; k < IF_WALKS; k++)
	{
		tree[k] = f->nodes + f->start[t + k];
		i[k] = 0;
		edges[k] = 0;
	}
	do
	{
		walking = false;
		for (int k = 0; k < IF_WALKS; k++)
		{
			const IfNode *node = &tree[k][i[k]];

			if (node->feature >= 0)
			{
				i[k] = node->child + (row[node->feature] <= node->value ? 0 : 1);
				edges[k]++;
				walking = true;
			}
		}
	} while (walking);
	for (int k = 0; k < IF_WALKS; k++)
		h[k] = edges[k] + tree[k][i[k]].value;
}

/*
 * The expected path length of a row beyond the range on some feature: at a
 * split on such a feature the walk ends there (edges + 1) with the
 * probability that a threshold drawn up to the value cuts it off.
 */
static double
path_length_beyond(const Iforest *f, const IfNode *node, const float *row)
{
	size_t		i = 0;
	int			edges = 0;
	double		stay = 1.0,		/* probability the walk got this far */
				h = 0.0;

	while (node[i].feature >= 0)
	{
		double		p = cut_off(f, node[i].feature, row[node[i].feature]);

		h += stay * p * (edges + 1);
		stay *= 1.0 - p;
		i = node[i].child + (row[node[i].feature] <= node[i].value ? 0 : 1);
		edges++;
	}
	return h + stay * (edges + node[i].value);
}

/* is the row within the training range on every feature? */
static bool
in_range(const Iforest *f, const float *row)
{
	for (int j = 0; j < f->dim; j++)
		if (row[j] < f->low[j] || row[j] > f->high[j])
			return false;
	return true;
}


static void
if_score(void *state, const float *x, int n, double *out)
{
	const Iforest *f = state;

	for (int r = 0; r < n; r++)
	{
		const float *row = x + (size_t) r * f->dim;
		double		h = 0.0;

		if (in_range(f, row))
		{
			int			t = 0;

			/* summed in tree order, as one tree at a time would */
			for (; t + IF_WALKS <= f->n_trees; t += IF_WALKS)
			{
				double		lengths[IF_WALKS];

				path_lengths(f, t, row, lengths);
				for (int k = 0; k < IF_WALKS; k++)
					h += lengths[k];
			}
			for (; t < f->n_trees; t++)
				h += path_length(f->nodes + f->start[t], row);
		}
		else
			for (int t = 0; t < f->n_trees; t++)
				h += path_length_beyond(f, f->nodes + f->start[t], row);
		out[r] = exp2(-h / f->n_trees / f->norm);
	}
}

/*
 * Explanation: each split on the row's path in a tree credits its feature
 * with 1 / h, h the tree's path length for the row, so that the splits of
 * short paths (the ones that isolate the row quickly) weigh most; the
 * credits, as shares, are scaled to add up to the score.  A row that no
 * tree splits (single-leaf trees) has its whole score as the rest.
 */
static AnStatus
if_explain(AnContext *ctx, void *state, const float *x, int dim, double *contrib,
		   double *rest)
{
	const Iforest *f = state;
	bool		inside = in_range(f, x);
	double		score;
	double		total = 0.0;

	(void) ctx;
	if_score(state, x, 1, &score);
	for (int j = 0; j < dim; j++)
		contrib[j] = 0.0;
	for (int t = 0; t < f->n_trees; t++)
	{
		const IfNode *node = f->nodes + f->start[t];
		double		h = inside ? path_length(node, x) : path_length_beyond(f, node, x);
		size_t		i = 0;

		if (h <= 0.0)
			continue;
		while (node[i].feature >= 0)
		{
			contrib[node[i].feature] += 1.0 / h;
			total += 1.0 / h;
			i = node[i].child + (x[node[i].feature] <= node[i].value ? 0 : 1);
		}
	}
	*rest = total > 0.0 ? 0.0 : score;
	for (int j = 0; j < dim; j++)
		contrib[j] = total > 0.0 ? score * contrib[j] / total : 0.0;
	return AN_OK;
}

/* ---- the document ---- */

static AnStatus
if_encode(AnContext *ctx, const void *state, AnPacker *pk)
{
	const Iforest *f = state;
	size_t		total = f->start[f->n_trees];
	int32_t    *nodes = an_alloc_array(ctx, f->n_trees, sizeof(int32_t));
	float	   *threshold = an_alloc_array(ctx, total, sizeof(float));

	if (!nodes || !threshold)
	{
		an_free(ctx, nodes);
		an_free(ctx, threshold);
		return an_nomem(ctx);
	}
	for (int t = 0; t < f->n_trees; t++)
		nodes[t] = (int32_t) (f->start[t + 1] - f->start[t]);
	/* leaves hold c(size) in memory; the document keeps their size only */
	for (size_t i = 0; i < total; i++)
		threshold[i] = f->feature[i] >= 0 ? (float) f->value[i] : 0.0f;

	msgpack_pack_map(pk, 9);
	an_pack_key_floats(pk, "low", f->low, f->dim);
	an_pack_key_floats(pk, "high", f->high, f->dim);
	an_pack_key_int(pk, "n_trees", f->n_trees);
	an_pack_key_int(pk, "sample_size", f->sample_size);
	an_pack_key_int(pk, "max_depth", f->max_depth);
	an_pack_key_int32s(pk, "nodes", nodes, f->n_trees);
	an_pack_key_int32s(pk, "feature", f->feature, total);
	an_pack_key_floats(pk, "threshold", threshold, total);
	an_pack_key_int32s(pk, "child_or_size", f->child, total);
	an_free(ctx, nodes);
	an_free(ctx, threshold);
	return AN_OK;
}

/* the float32 thresholds, widened into the double array value */
static AnStatus
get_thresholds(AnContext *ctx, const AnObject *obj, double *value, size_t n)
{
	float	   *t = an_alloc_array(ctx, n, sizeof(float));
	AnStatus	st;

	if (!t)
		return an_nomem(ctx);
	st = an_get_floats(ctx, obj, "threshold", t, n);
	for (size_t i = 0; st == AN_OK && i < n; i++)
		value[i] = t[i];
	an_free(ctx, t);
	return st;
}

/*
 * Check one tree of n nodes: split features below dim, both children
 * inside the tree and after the node, leaf sizes in [1, psi]; fill the
 * leaves' c(size).
 */
static AnStatus
check_tree(AnContext *ctx, Iforest *f, int t, size_t b, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		int32_t		j = f->feature[b + i];
		int32_t		c = f->child[b + i];

		if (j >= 0)
		{
			if (j >= f->dim || c <= 0 || (size_t) c <= i || (size_t) c + 1 >= n)
				return an_error(ctx, AN_ERR_CORRUPT,
								"corrupt model document: isolation tree %d has a bad split at node %zu",
								t, i);
		}
		else if (j != -1 || c < 1 || c > f->sample_size)
			return an_error(ctx, AN_ERR_CORRUPT,
							"corrupt model document: isolation tree %d has a bad leaf at node %zu",
							t, i);
		else
			f->value[b + i] = if_c(c);
	}
	return AN_OK;
}

static AnStatus
if_decode_trees(AnContext *ctx, const AnObject *obj, Iforest *f)
{
	int32_t    *nodes = an_alloc_array(ctx, f->n_trees, sizeof(int32_t));
	size_t		total = 0;
	size_t		limit = 2 * (size_t) f->sample_size - 1;
	AnStatus	st;

	if (!nodes)
		return an_nomem(ctx);
	st = an_get_int32s(ctx, obj, "nodes", nodes, f->n_trees);
	for (int t = 0; st == AN_OK && t < f->n_trees; t++)
	{
		if (nodes[t] < 1 || (size_t) nodes[t] > limit)
			st = an_error(ctx, AN_ERR_CORRUPT,
						  "corrupt model document: isolation tree %d has %d nodes", t, nodes[t]);
		f->start[t] = total;
		total += nodes[t] > 0 ? (size_t) nodes[t] : 0;
	}
	f->start[f->n_trees] = total;
	an_free(ctx, nodes);
	if (st != AN_OK)
		return st;

	/* the bins must hold total entries, so the document bounds these sizes */
	f->feature = an_alloc_array(ctx, total, sizeof(int32_t));
	f->child = an_alloc_array(ctx, total, sizeof(int32_t));
	f->value = an_alloc_array(ctx, total, sizeof(double));
	if (!f->feature || !f->child || !f->value)
		return an_nomem(ctx);
	AN_TRY(an_get_int32s(ctx, obj, "feature", f->feature, total));
	AN_TRY(an_get_int32s(ctx, obj, "child_or_size", f->child, total));
	AN_TRY(get_thresholds(ctx, obj, f->value, total));
	for (int t = 0; t < f->n_trees; t++)
		AN_TRY(check_tree(ctx, f, t, f->start[t], f->start[t + 1] - f->start[t]));
	return AN_OK;
}

static AnStatus
if_decode(AnContext *ctx, const AnObject *obj, int dim, void **state)
{
	Iforest    *f = an_alloc0(ctx, sizeof(Iforest));
	int64_t		n_trees,
				psi,
				depth;
	AnStatus	st;

	if (!f)
		return an_nomem(ctx);
	f->dim = dim;
	st = an_get_int(ctx, obj, "n_trees", 1, MAX_TREES, &n_trees);
	if (st == AN_OK)
		st = an_get_int(ctx, obj, "sample_size", 1, MAX_SAMPLE, &psi);
	if (st == AN_OK)
		st = an_get_int(ctx, obj, "max_depth", 0, MAX_DEPTH, &depth);
	if (st == AN_OK)
	{
		f->n_trees = (int) n_trees;
		f->sample_size = (int) psi;
		f->max_depth = (int) depth;
		f->norm = if_norm(f->sample_size);
		f->start = an_alloc_array(ctx, (size_t) n_trees + 1, sizeof(size_t));
		f->low = an_alloc_array(ctx, dim, sizeof(float));
		f->high = an_alloc_array(ctx, dim, sizeof(float));
		st = f->start && f->low && f->high ? if_decode_trees(ctx, obj, f) : an_nomem(ctx);
	}
	if (st == AN_OK)
		st = an_get_floats(ctx, obj, "low", f->low, dim);
	if (st == AN_OK)
		st = an_get_floats(ctx, obj, "high", f->high, dim);
	for (int j = 0; st == AN_OK && j < dim; j++)
		if (!(f->low[j] <= f->high[j]))
			st = an_error(ctx, AN_ERR_CORRUPT,
						  "corrupt model document: the isolation forest's range of dimension %d is empty", j);
	if (st == AN_OK)
		st = if_pack(ctx, f);
	if (st != AN_OK)
	{
		if_destroy(ctx, f);
		return st;
	}
	*state = f;
	return AN_OK;
}

const AnMethod an_method_iforest = {
	.name = "iforest",
	.options_size = sizeof(IforestOptions),
	.options_init = if_options_init,
	.set_option = if_set_option,
	.fit = if_fit,
	.sizing_options = "\"n_trees\" or \"sample_size\"",
	.score = if_score,
	.explain = if_explain,
	.encode = if_encode,
	.decode = if_decode,
	.destroy = if_destroy,
};
