/*-------------------------------------------------------------------------
 *
 * test_knn.c
 *	  Unit tests of the k-nearest-neighbour detector's own maths
 *	  (method_knn.c): the k-th and mean neighbour distance on a hand-built
 *	  bank, a row of the bank leaving one copy of itself out, the greedy
 *	  k-centre coreset picking the farthest rows, and its options.
 *	  Round trip, damaged documents, allocation failures and determinism
 *	  are the shared checks of test_methods.c.
 *
 * The state is private to its file, so the tests reach it through the
 * AnMethod callbacks (fit, score, encode).
 *
 * IDENTIFICATION
 *	  test/unit/test_knn.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "anomaly/codec.h"
#include "anomaly/method.h"
#include "anomaly/rng.h"
#include "unit.h"

/* five rows of width 2: (0,0) (1,0) (3,0) (0,4) (10,10) */
static const float tiny_bank[] = {0, 0, 1, 0, 3, 0, 0, 4, 10, 10};

/* options for knn with the given k, aggregate (NULL: default) and coreset size (0: default) */
static AnStatus
knn_options(AnContext *ctx, AnOptions *opts, int k, const char *aggregate, int coreset)
{
	AnOptionValue v;

	AN_TRY(an_options_init(ctx, opts, an_method_lookup("knn")));
	v = unit_num(k);
	AN_TRY(an_options_set(ctx, opts, "k", &v));
	if (aggregate)
	{
		v = unit_str(aggregate);
		AN_TRY(an_options_set(ctx, opts, "aggregate", &v));
	}
	if (coreset > 0)
	{
		v = unit_num(coreset);
		AN_TRY(an_options_set(ctx, opts, "coreset_size", &v));
	}
	return AN_OK;
}

static void *
fit(AnContext *ctx, int k, const char *aggregate, int coreset, const float *x,
	size_t n, int dim, uint64_t seed)
{
	const AnMethod *m = an_method_lookup("knn");
	AnOptions	opts;
	AnRng		rng;
	void	   *state = NULL;

	an_rng_seed(&rng, seed);
	if (knn_options(ctx, &opts, k, aggregate, coreset) != AN_OK ||
		m->fit(ctx, &opts, x, n, dim, &rng, &state) != AN_OK)
		unit_fail(__FILE__, __LINE__, "knn fit failed: %s", ctx->errmsg);
	an_options_free(ctx, &opts);
	return state;
}

UNIT_TEST(knn_kth_neighbour_distance)
{
	const AnMethod *m = an_method_lookup("knn");
	AnContext	ctx;
	/* (1,1) is not in the bank; (0,0) is, and leaves itself out */
	const float q[] = {1, 1, 0, 0};
	double		s[2];
	void	   *state;

	unit_context_malloc(&ctx);
	REQUIRE(m != NULL);

	/* k = 2, largest: (1,1) -> {1, sqrt 2}: sqrt 2; (0,0) -> {1, 3}: 3 */
	REQUIRE((state = fit(&ctx, 2, NULL, 0, tiny_bank, 5, 2, 1)) != NULL);
	m->score(state, q, 2, s);
	CHECK_NEAR(s[0], sqrt(2.0), 1e-6);
	CHECK_NEAR(s[1], 3.0, 1e-6);
	m->destroy(&ctx, state);

	/* k = 3, mean: (1,1) -> (1 + sqrt 2 + sqrt 5) / 3; (0,0) -> (1 + 3 + 4) / 3 */
	REQUIRE((state = fit(&ctx, 3, "mean", 0, tiny_bank, 5, 2, 1)) != NULL);
	m->score(state, q, 2, s);
	CHECK_NEAR(s[0], (1.0 + sqrt(2.0) + sqrt(5.0)) / 3.0, 1e-6);
	CHECK_NEAR(s[1], 8.0 / 3.0, 1e-6);
	m->destroy(&ctx, state);
}

UNIT_TEST(knn_leaves_one_copy_out)
{
	const AnMethod *m = an_method_lookup("knn");
	AnContext	ctx;
	/* the tiny bank plus a second copy of (0,0), and a row close to (3,0) */
	float		x[12];
	const float near3[2] = {3.0f, 1e-4f};
	double		s[6],
				t;
	void	   *state;

	unit_context_malloc(&ctx);
	memcpy(x, tiny_bank, sizeof(tiny_bank));
	x[10] = 0;
	x[11] = 0;
	REQUIRE((state = fit(&ctx, 2, NULL, 0, x, 6, 2, 1)) != NULL);
	m->score(state, x, 6, s);

	/* (0,0): one copy left out, the other counts: {0, 1}: 1 */
	CHECK_NEAR(s[0], 1.0, 1e-6);
	CHECK_NEAR(s[5], 1.0, 1e-6);
	/* (3,0): {2 (to (1,0)), 3}: 3 */
	CHECK_NEAR(s[2], 3.0, 1e-6);
	/* (10,10): the two nearest others are (0,4) at sqrt 136 and (3,0) at sqrt 149 */
	CHECK_NEAR(s[4], sqrt(149.0), 1e-5);
	/* a row merely close to (3,0) keeps it: {1e-4, 2} */
	m->score(state, near3, 1, &t);
	CHECK_NEAR(t, 2.0, 1e-5);
	m->destroy(&ctx, state);
}

/* the bank of a fitted state, read back from its "state" map */
static int
bank_of(AnContext *ctx, void *state, float *out, int max_rows)
{
	const AnMethod *m = an_method_lookup("knn");
	AnBuffer	buf;
	AnPacker	pk;
	msgpack_unpacked msg;
	size_t		off = 0;
	const AnObject *bank;
	int			rows = 0;

	an_buffer_init(&buf, ctx);
	an_packer_init(&pk, &buf);
	if (m->encode(ctx, state, &pk) != AN_OK || buf.failed)
		return -1;
	msgpack_unpacked_init(&msg);
	if (msgpack_unpack_next(&msg, buf.data, buf.len, &off) == MSGPACK_UNPACK_SUCCESS &&
		(bank = an_map_get(&msg.data, "bank")) != NULL &&
		bank->type == MSGPACK_OBJECT_BIN)
	{
		rows = (int) (bank->via.bin.size / sizeof(float));	/* dim 1 */
		if (rows > max_rows)
			rows = max_rows;
		memcpy(out, bank->via.bin.ptr, rows * sizeof(float));	/* little-endian host */
	}
	msgpack_unpacked_destroy(&msg);
	an_free(ctx, buf.data);
	return rows;
}

UNIT_TEST(knn_coreset_picks_farthest)
{
	const AnMethod *m = an_method_lookup("knn");
	AnContext	ctx;
	/* a cluster near 0 and two far rows, one on each side */
	const float x[] = {0.0f, 0.1f, 0.2f, 50.0f, 0.3f, -40.0f, 0.15f};
	const int	n = AN_LENGTHOF(x);

	unit_context_malloc(&ctx);
	for (uint64_t seed = 1; seed <= 20; seed++)
	{
		float		bank[8];
		double		s[7];
		void	   *state = fit(&ctx, 1, NULL, 3, x, n, 1, seed);
		bool		has_50 = false,
					has_m40 = false;
		float		far = 0.0f;

		REQUIRE(state != NULL);
		REQUIRE(bank_of(&ctx, state, bank, 8) == 3);
		for (int i = 0; i < 3; i++)
		{
			has_50 |= bank[i] == 50.0f;
			has_m40 |= bank[i] == -40.0f;
		}
		/* whatever the first row, the two far rows are chosen next */
		CHECK(has_50 && has_m40);
		/* the second is the row farthest from the first */
		for (int i = 0; i < n; i++)
			far = fmaxf(far, fabsf(x[i] - bank[0]));
		CHECK(fabsf(bank[1] - bank[0]) == far);

		/*
		 * k = 1: a far row leaves itself out and finds the cluster's bank
		 * row; a cluster row not in the bank finds that one nearby
		 */
		m->score(state, x, n, s);
		CHECK(s[3] > 49.0 && s[5] > 39.0);
		for (int i = 0; i < n; i++)
			if (fabsf(x[i]) < 1.0f && x[i] != bank[0] && x[i] != bank[1] && x[i] != bank[2])
				CHECK(s[i] < 0.31);
		m->destroy(&ctx, state);
	}
}

UNIT_TEST(knn_options_checked)
{
	const AnMethod *m = an_method_lookup("knn");
	AnContext	ctx;
	AnOptions	opts;
	AnOptionValue v;
	AnRng		rng;
	void	   *state = NULL;

	unit_context_malloc(&ctx);
	REQUIRE(an_options_init(&ctx, &opts, m) == AN_OK);
	v = unit_num(0);
	CHECK_STATUS(an_options_set(&ctx, &opts, "k", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "\"k\"");
	v = unit_num(2.5);
	CHECK_STATUS(an_options_set(&ctx, &opts, "k", &v), AN_ERR_INVALID);
	v = unit_str("median");
	CHECK_STATUS(an_options_set(&ctx, &opts, "aggregate", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "\"aggregate\"");
	v = unit_num(1);
	CHECK_STATUS(an_options_set(&ctx, &opts, "coreset_size", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "\"coreset_size\"");

	/* k must leave a neighbour once a row's own entry is left out */
	v = unit_num(5);
	REQUIRE(an_options_set(&ctx, &opts, "k", &v) == AN_OK);
	an_rng_seed(&rng, 1);
	CHECK_STATUS(m->fit(&ctx, &opts, tiny_bank, 5, 2, &rng, &state), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "\"k\"");
	CHECK(state == NULL);
	an_options_free(&ctx, &opts);
}
