/*-------------------------------------------------------------------------
 *
 * test_iforest.c
 *	  Unit tests of the isolation forest's own maths (method_iforest.c):
 *	  the c(n) correction and path lengths on a hand-built forest, the
 *	  decoder's checks of the tree layout, the scores of an obvious outlier
 *	  and of the centre, subsamples larger than the data, depth limits and
 *	  constant columns.  Round trip, damage, allocation failures and seeds
 *	  are checked for every method by test_methods.c.
 *
 * The state is private to its file, so the tests go through the AnMethod
 * callbacks: fit and score on plain rows, decode of documents packed here.
 *
 * IDENTIFICATION
 *	  test/unit/test_iforest.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>

#include "anomaly/method.h"
#include "anomaly/rng.h"
#include "fixture.h"
#include "unit.h"

/* ---- helpers ---- */

static const AnMethod *
iforest(void)
{
	return an_method_lookup("iforest");
}

/* options for iforest with the given overrides (0: the default) */
static AnStatus
if_options(AnContext *ctx, AnOptions *opts, int n_trees, int sample_size, int max_depth)
{
	AnOptionValue v;

	AN_TRY(an_options_init(ctx, opts, iforest()));
	if (n_trees > 0)
	{
		v = unit_num(n_trees);
		AN_TRY(an_options_set(ctx, opts, "n_trees", &v));
	}
	if (sample_size > 0)
	{
		v = unit_num(sample_size);
		AN_TRY(an_options_set(ctx, opts, "sample_size", &v));
	}
	if (max_depth > 0)
	{
		v = unit_num(max_depth);
		AN_TRY(an_options_set(ctx, opts, "max_depth", &v));
	}
	return AN_OK;
}

/* fit on n rows of width dim with the given options and seed */
static AnStatus
if_fit(AnContext *ctx, const AnOptions *opts, const float *x, size_t n, int dim,
	   uint64_t seed, void **state)
{
	AnRng		rng;

	an_rng_seed(&rng, seed);
	return iforest()->fit(ctx, opts, x, n, dim, &rng, state);
}

/* n rows of two independent N(0, 1) columns */
static float *
gaussian_rows(uint64_t seed, size_t n)
{
	AnRng		rng;
	float	   *x = malloc(sizeof(float) * 2 * n);

	an_rng_seed(&rng, seed);
	for (size_t i = 0; i < 2 * n; i++)
		x[i] = (float) an_rng_normal(&rng);
	return x;
}

/* a forest document: trees given by their node counts and flat arrays */
typedef struct HandForest
{
	int			n_trees;
	int			sample_size;
	const int32_t *nodes;
	const int32_t *feature;
	const float *threshold;
	const int32_t *child_or_size;
	size_t		total;
} HandForest;

/* decode a hand-built forest for inputs of width dim */
static AnStatus
decode_hand(AnContext *ctx, const HandForest *h, int dim, void **state)
{
	AnBuffer	buf;
	AnPacker	pk;

	an_buffer_init(&buf, ctx);
	an_packer_init(&pk, &buf);
	float		low[8],
				high[8];

	/* a range wide enough that no probe is beyond it */
	for (int j = 0; j < dim && j < 8; j++)
	{
		low[j] = -1000.0f;
		high[j] = 1000.0f;
	}
	msgpack_pack_map(&pk, 9);
	an_pack_key_floats(&pk, "low", low, dim);
	an_pack_key_floats(&pk, "high", high, dim);
	an_pack_key_int(&pk, "n_trees", h->n_trees);
	an_pack_key_int(&pk, "sample_size", h->sample_size);
	an_pack_key_int(&pk, "max_depth", 3);
	an_pack_key_int32s(&pk, "nodes", h->nodes, h->n_trees);
	an_pack_key_int32s(&pk, "feature", h->feature, h->total);
	an_pack_key_floats(&pk, "threshold", h->threshold, h->total);
	an_pack_key_int32s(&pk, "child_or_size", h->child_or_size, h->total);
	return fixture_decode_packed(ctx, iforest(), &buf, dim, state);
}

/*
 * Two trees over psi = 8 rows of width 2.  Tree 0: node 0 splits x0 at 0,
 * node 1 (x0 <= 0) is a leaf of 1 row, node 2 splits x1 at 0.5 into leaves
 * of 3 (node 3) and 4 rows (node 4).  Tree 1: a single leaf of 2 rows.
 */
static const int32_t hand_nodes[] = {5, 1};
static const int32_t hand_feature[] = {0, -1, 1, -1, -1, -1};
static const float hand_threshold[] = {0, 0, 0.5f, 0, 0, 0};
static const int32_t hand_child[] = {1, 1, 3, 3, 4, 2};

static HandForest
hand_forest(void)
{
	HandForest	h = {2, 8, hand_nodes, hand_feature, hand_threshold, hand_child, 6};

	return h;
}

/* ---- options ---- */

UNIT_TEST(iforest_options)
{
	AnContext	ctx;
	AnOptions	opts;
	AnOptionValue v;

	unit_context_malloc(&ctx);
	REQUIRE(if_options(&ctx, &opts, 0, 0, 0) == AN_OK);
	v = unit_num(0);
	CHECK_STATUS(an_options_set(&ctx, &opts, "n_trees", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "\"n_trees\"");
	v = unit_num(10001);
	CHECK_STATUS(an_options_set(&ctx, &opts, "n_trees", &v), AN_ERR_INVALID);
	v = unit_num(1);
	CHECK_STATUS(an_options_set(&ctx, &opts, "sample_size", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "\"sample_size\"");
	v = unit_num(2.5);
	CHECK_STATUS(an_options_set(&ctx, &opts, "sample_size", &v), AN_ERR_INVALID);
	v = unit_num(0);
	CHECK_STATUS(an_options_set(&ctx, &opts, "max_depth", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "\"max_depth\"");
	v = unit_str("100");
	CHECK_STATUS(an_options_set(&ctx, &opts, "n_trees", &v), AN_ERR_INVALID);
	v = unit_num(1);
	CHECK_STATUS(an_options_set(&ctx, &opts, "learning_rate", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "does not apply");
	v = unit_num(7);
	CHECK_STATUS(an_options_set(&ctx, &opts, "n_trees", &v), AN_OK);
	CHECK_STATUS(an_options_set(&ctx, &opts, "max_depth", &v), AN_OK);
	an_options_free(&ctx, &opts);
}

/* ---- path lengths and c(n) ---- */

UNIT_TEST(iforest_path_length_of_a_hand_built_forest)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	HandForest	h = hand_forest();
	void	   *state = NULL;
	const float rows[] = {-1, 0, 0, 9, 1, 0, 1, 1};
	double		out[4];

	/*
	 * c(n) = 2 (ln(n - 1) + 0.5772156649) - 2 (n - 1) / n, by hand:
	 * c(1) = 0, c(2) = 1 (defined), c(3) = 1.2073923576,
	 * c(4) = 1.8516559071, c(8) = 3.2962516279.  Tree 1 always gives
	 * h = c(2) = 1; tree 0 gives 1 + c(1) left of x0 = 0 (inclusive), else
	 * 2 + c(3) or 2 + c(4).  Score = 2^(-mean(h) / c(8)).
	 */
	const double c3 = 1.2073923576,
				c4 = 1.8516559071,
				c8 = 3.2962516279;

	unit_context_counting(&ctx, &counter);
	REQUIRE(decode_hand(&ctx, &h, 2, &state) == AN_OK);
	iforest()->score(state, rows, 4, out);
	CHECK_CLOSE(out[0], pow(2.0, -((1.0 + 1.0) / 2) / c8), 1e-9, 0);
	CHECK_CLOSE(out[0], 0.810354514448913, 1e-9, 0);
	CHECK_CLOSE(out[1], out[0], 0, 0);	/* x0 = 0 goes left */
	CHECK_CLOSE(out[2], pow(2.0, -((2.0 + c3 + 1.0) / 2) / c8), 1e-9, 0);
	CHECK_CLOSE(out[2], 0.6425102554493022, 1e-9, 0);
	CHECK_CLOSE(out[3], pow(2.0, -((2.0 + c4 + 1.0) / 2) / c8), 1e-9, 0);
	CHECK_CLOSE(out[3], 0.6004286374432937, 1e-9, 0);
	iforest()->destroy(&ctx, state);
	CHECK_NO_LEAKS(&counter);
}

/* a forest of root leaves holding all psi rows scores 2^(-1) = 0.5 */
UNIT_TEST(iforest_unsplit_root_scores_one_half)
{
	AnContext	ctx;
	const int32_t nodes[] = {1};
	const int32_t feature[] = {-1};
	const float threshold[] = {0};
	const int32_t size[] = {256};
	HandForest	h = {1, 256, nodes, feature, threshold, size, 1};
	void	   *state;
	const float row[] = {3, -4};
	double		out;

	unit_context_malloc(&ctx);
	REQUIRE(decode_hand(&ctx, &h, 2, &state) == AN_OK);
	iforest()->score(state, row, 1, &out);
	CHECK_CLOSE(out, 0.5, 1e-12, 0);
	iforest()->destroy(&ctx, state);
}

/* ---- the decoder's checks ---- */

static void
check_refused(HandForest h, int dim, const char *what)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	void	   *state = NULL;
	AnStatus	st;

	unit_context_counting(&ctx, &counter);
	st = decode_hand(&ctx, &h, dim, &state);
	if (st != AN_ERR_CORRUPT)
		unit_fail(__FILE__, __LINE__, "%s: status %d, expected AN_ERR_CORRUPT", what, (int) st);
	else
		CHECK_CONTAINS(ctx.errmsg, "corrupt model document");
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(iforest_decoder_refuses_bad_trees)
{
	HandForest	h = hand_forest();
	int32_t		feature[6],
				child[6],
				nodes[2];
	float		threshold[6];

	/* the hand forest itself is fine; each change below is not */
	memcpy(feature, hand_feature, sizeof(feature));
	memcpy(child, hand_child, sizeof(child));
	memcpy(nodes, hand_nodes, sizeof(nodes));
	memcpy(threshold, hand_threshold, sizeof(threshold));
	h.feature = feature;
	h.child_or_size = child;
	h.nodes = nodes;
	h.threshold = threshold;

	check_refused(h, 1, "a split feature not below dim");
	feature[2] = -2;
	check_refused(h, 2, "a feature below -1");
	feature[2] = 1;

	child[2] = 2;
	check_refused(h, 2, "a split pointing at itself");
	child[2] = 1;
	check_refused(h, 2, "a split pointing backwards (a cycle)");
	child[2] = 4;
	check_refused(h, 2, "a right child past the tree's end");
	child[2] = 3;

	child[1] = 0;
	check_refused(h, 2, "an empty leaf");
	child[1] = 9;
	check_refused(h, 2, "a leaf larger than sample_size");
	child[1] = 1;

	threshold[0] = NAN;
	check_refused(h, 2, "a non-finite threshold");
	threshold[0] = 0;

	nodes[0] = 4;
	check_refused(h, 2, "node counts that do not add up to the arrays");
	nodes[0] = 0;
	check_refused(h, 2, "an empty tree");
	nodes[0] = 16;
	check_refused(h, 2, "more nodes than 2 sample_size - 1");
	nodes[0] = 5;

	h.total = 5;
	check_refused(h, 2, "arrays shorter than the node counts");
	h.total = 6;
	h.sample_size = 0;
	check_refused(h, 2, "sample_size 0");
}

/* ---- training ---- */

UNIT_TEST(iforest_outlier_near_one_centre_below_half)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnOptions	opts;
	float	   *x = gaussian_rows(11, 2000);
	void	   *state = NULL;
	const float probe[] = {0, 0, 8, -8, 0.2f, -0.1f};
	double		out[3];

	unit_context_counting(&ctx, &counter);
	REQUIRE(if_options(&ctx, &opts, 0, 0, 0) == AN_OK);
	an_options_resolve(&opts, 2, 2000);
	REQUIRE(if_fit(&ctx, &opts, x, 2000, 2, 5, &state) == AN_OK);
	iforest()->score(state, probe, 3, out);
	CHECK(out[0] < 0.5);
	CHECK(out[2] < 0.5);
	/*
	 * Far outside the data, but no split ever falls beyond the training
	 * range, so the row shares the leaves of the extreme training rows:
	 * E[h] about 4.4 and a score about 0.74 (scikit-learn's
	 * IsolationForest gives 0.744 on the same shape), against about 0.41
	 * at the centre.
	 */
	if (!(out[1] > 0.7 && out[1] <= 1.0))
		unit_fail(__FILE__, __LINE__, "outlier scores %g", out[1]);
	iforest()->destroy(&ctx, state);
	an_options_free(&ctx, &opts);
	CHECK_NO_LEAKS(&counter);
	free(x);
}

/* encoded fields of a trained state, for looking at its layout */
static void
layout_of(AnContext *ctx, void *state, int64_t *sample_size, int64_t *max_depth,
		  int32_t *nodes, int n_trees, bool *used_feature, int dim)
{
	AnBuffer	buf;
	AnPacker	pk;
	msgpack_unpacked msg;
	size_t		off = 0;
	const AnObject *o;

	an_buffer_init(&buf, ctx);
	an_packer_init(&pk, &buf);
	REQUIRE(iforest()->encode(ctx, state, &pk) == AN_OK);
	msgpack_unpacked_init(&msg);
	REQUIRE(msgpack_unpack_next(&msg, buf.data, buf.len, &off) == MSGPACK_UNPACK_SUCCESS);
	CHECK(an_get_int(ctx, &msg.data, "sample_size", 0, INT64_MAX, sample_size) == AN_OK);
	CHECK(an_get_int(ctx, &msg.data, "max_depth", 0, INT64_MAX, max_depth) == AN_OK);
	o = an_map_get(&msg.data, "nodes");
	REQUIRE(o && o->type == MSGPACK_OBJECT_BIN && o->via.bin.size == 4 * (uint32_t) n_trees);
	memcpy(nodes, o->via.bin.ptr, 4 * n_trees);
	o = an_map_get(&msg.data, "feature");
	REQUIRE(o && o->type == MSGPACK_OBJECT_BIN);
	memset(used_feature, 0, sizeof(bool) * dim);
	for (uint32_t i = 0; i < o->via.bin.size / 4; i++)
	{
		int32_t		f;

		memcpy(&f, o->via.bin.ptr + 4 * i, 4);
		if (f >= 0 && f < dim)
			used_feature[f] = true;
	}
	msgpack_unpacked_destroy(&msg);
	an_free(ctx, buf.data);
}

UNIT_TEST(iforest_sample_size_above_rows)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnOptions	opts;
	float	   *x = gaussian_rows(3, 50);
	void	   *state = NULL;
	int64_t		psi,
				depth;
	int32_t		nodes[10];
	bool		used[2];
	double		out[50];

	unit_context_counting(&ctx, &counter);
	REQUIRE(if_options(&ctx, &opts, 10, 256, 0) == AN_OK);
	an_options_resolve(&opts, 2, 50);
	REQUIRE(if_fit(&ctx, &opts, x, 50, 2, 1, &state) == AN_OK);
	layout_of(&ctx, state, &psi, &depth, nodes, 10, used, 2);
	CHECK(psi == 50);				/* capped at the rows */
	CHECK(depth == 6);				/* ceil(log2(50)) */
	for (int t = 0; t < 10; t++)
		CHECK(nodes[t] >= 3 && nodes[t] <= 99);
	iforest()->score(state, x, 50, out);
	for (int i = 0; i < 50; i++)
		CHECK(isfinite(out[i]) && out[i] > 0 && out[i] <= 1);
	iforest()->destroy(&ctx, state);
	an_options_free(&ctx, &opts);
	CHECK_NO_LEAKS(&counter);
	free(x);
}

UNIT_TEST(iforest_max_depth_limits_trees)
{
	AnContext	ctx;
	AnOptions	opts;
	float	   *x = gaussian_rows(4, 500);
	void	   *state = NULL;
	int64_t		psi,
				depth;
	int32_t		nodes[20];
	bool		used[2];

	unit_context_malloc(&ctx);
	REQUIRE(if_options(&ctx, &opts, 20, 64, 2) == AN_OK);
	REQUIRE(if_fit(&ctx, &opts, x, 500, 2, 9, &state) == AN_OK);
	layout_of(&ctx, state, &psi, &depth, nodes, 20, used, 2);
	CHECK(psi == 64 && depth == 2);
	/* at most a full tree of depth 2; fewer when a child holds one row */
	for (int t = 0; t < 20; t++)
		CHECK(nodes[t] == 3 || nodes[t] == 5 || nodes[t] == 7);
	iforest()->destroy(&ctx, state);
	an_options_free(&ctx, &opts);
	free(x);
}

UNIT_TEST(iforest_constant_columns)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnOptions	opts;
	float	   *x = malloc(sizeof(float) * 3 * 300);
	float	   *flat = malloc(sizeof(float) * 2 * 300);
	AnRng		rng;
	void	   *state = NULL;
	int64_t		psi,
				depth;
	int32_t		nodes[30];
	bool		used[3];
	double		out[2];
	const float probe[] = {0.1f, 0.5f, -0.2f};

	/* column 1 is constant: no tree may split on it */
	an_rng_seed(&rng, 2);
	for (int i = 0; i < 300; i++)
	{
		x[3 * i] = (float) an_rng_normal(&rng);
		x[3 * i + 1] = 0.5f;
		x[3 * i + 2] = (float) an_rng_normal(&rng);
		flat[2 * i] = 1.0f;
		flat[2 * i + 1] = -3.0f;
	}
	unit_context_counting(&ctx, &counter);
	REQUIRE(if_options(&ctx, &opts, 30, 0, 0) == AN_OK);
	an_options_resolve(&opts, 3, 300);
	REQUIRE(if_fit(&ctx, &opts, x, 300, 3, 4, &state) == AN_OK);
	layout_of(&ctx, state, &psi, &depth, nodes, 30, used, 3);
	CHECK(used[0] && !used[1] && used[2]);
	iforest()->destroy(&ctx, state);

	/*
	 * Every column constant: single leaves of psi rows, every score 0.5.
	 * The probe lies outside the (empty) ranges, but a tree without a split
	 * has nowhere to cut it off: a forest cannot tell rows of a table with
	 * no varying column apart.
	 */
	REQUIRE(if_fit(&ctx, &opts, flat, 300, 2, 4, &state) == AN_OK);
	layout_of(&ctx, state, &psi, &depth, nodes, 30, used, 2);
	for (int t = 0; t < 30; t++)
		CHECK(nodes[t] == 1);
	iforest()->score(state, probe, 1, out);
	iforest()->score(state, flat, 1, out + 1);
	CHECK_CLOSE(out[0], 0.5, 1e-6, 0);
	CHECK_CLOSE(out[1], 0.5, 1e-6, 0);
	iforest()->destroy(&ctx, state);
	an_options_free(&ctx, &opts);
	CHECK_NO_LEAKS(&counter);
	free(x);
	free(flat);
}

/* a host whose interrupt check asks to stop at once */
static bool
stop_now(void *arg)
{
	(void) arg;
	return true;
}

UNIT_TEST(iforest_fit_is_interruptible)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnOptions	opts;
	float	   *x = gaussian_rows(5, 100);
	void	   *state = NULL;

	unit_context_counting(&ctx, &counter);
	REQUIRE(if_options(&ctx, &opts, 0, 0, 0) == AN_OK);
	an_options_resolve(&opts, 2, 100);
	ctx.interrupted = stop_now;
	CHECK_STATUS(if_fit(&ctx, &opts, x, 100, 2, 1, &state), AN_ERR_INTERRUPTED);
	CHECK(state == NULL);
	an_options_free(&ctx, &opts);
	CHECK_NO_LEAKS(&counter);
	free(x);
}
