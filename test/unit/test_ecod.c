/*-------------------------------------------------------------------------
 *
 * test_ecod.c
 *	  Unit tests of ECOD's own maths (method_ecod.c): empirical tails on
 *	  tiny samples against hand-computed values, both ways of combining
 *	  them, the interpolated ECDF when there are more rows than knots, the
 *	  floor beyond the training range, constant columns, options and the
 *	  decoder's checks.  Round trip, damage, allocation failures and seeds
 *	  are checked for every method by test_methods.c.
 *
 * The tests fit on plain rows (no scaler) through the AnMethod callbacks
 * and compare scores with values worked out by hand from the definitions:
 * l = -log P(X <= x), r = -log P(X >= x), tails floored at 1 / (n + 1).
 *
 * IDENTIFICATION
 *	  test/unit/test_ecod.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>

#include "anomaly/method.h"
#include "anomaly/rng.h"
#include "fixture.h"
#include "unit.h"

static const AnMethod *
ecod(void)
{
	return an_method_lookup("ecod");
}

/* fit on n rows of width dim with variant "pyod" or "paper" */
static AnStatus
ecod_fit(AnContext *ctx, const char *variant, const float *x, size_t n, int dim,
		 void **state)
{
	AnOptions	opts;
	AnOptionValue v = unit_str(variant);
	AnRng		rng;
	AnStatus	st;

	an_rng_seed(&rng, 1);
	AN_TRY(an_options_init(ctx, &opts, ecod()));
	st = an_options_set(ctx, &opts, "variant", &v);
	if (st == AN_OK)
	{
		an_options_resolve(&opts, dim, n);
		st = ecod()->fit(ctx, &opts, x, n, dim, &rng, state);
	}
	an_options_free(ctx, &opts);
	return st;
}

static double
score_one(void *state, const float *row)
{
	double		out;

	ecod()->score(state, row, 1, &out);
	return out;
}

/*
 * {1, 2, 2, 3, 10}: skewness positive, so the skew tail is the right one.
 *	 x = 2:   P(X <= 2) = 3/5, P(X >= 2) = 4/5
 *	 x = 10:  1, 1/5
 *	 x = 0:   0 -> floor 1/6, 1; 1 below the minimum, in units of the
 *			  interquartile range of the knots (3 - 2), extends l by 1
 *	 x = 2.5: 3/5, 2/5
 * pyod: max(r, (l + r) / 2); paper (one feature): max(l, r).
 */
UNIT_TEST(ecod_tails_by_hand)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	const float x[] = {2, 10, 1, 3, 2};
	const float probes[] = {2, 10, 0, 2.5f};
	double		l[4] = {-log(0.6), 0.0, log(6.0) + 1.0, -log(0.6)};
	double		r[4] = {-log(0.8), log(5.0), 0.0, -log(0.4)};
	void	   *pyod,
			   *paper;

	unit_context_counting(&ctx, &counter);
	REQUIRE(ecod_fit(&ctx, "pyod", x, 5, 1, &pyod) == AN_OK);
	REQUIRE(ecod_fit(&ctx, "paper", x, 5, 1, &paper) == AN_OK);
	for (int i = 0; i < 4; i++)
	{
		CHECK_CLOSE(score_one(pyod, &probes[i]), fmax(r[i], (l[i] + r[i]) / 2), 1e-12, 1e-12);
		CHECK_CLOSE(score_one(paper, &probes[i]), fmax(l[i], r[i]), 1e-12, 1e-12);
	}
	/* the same numbers written out: x = 2 and x = 0 */
	CHECK_CLOSE(score_one(pyod, &probes[0]), 0.3669845875, 1e-9, 0);
	CHECK_CLOSE(score_one(pyod, &probes[2]), 1.3958797346, 1e-9, 0);
	CHECK_CLOSE(score_one(paper, &probes[2]), 2.7917594692, 1e-9, 0);
	ecod()->destroy(&ctx, pyod);
	ecod()->destroy(&ctx, paper);
	CHECK_NO_LEAKS(&counter);
}

/* mirrored, {-10, -3, -2, -2, -1}: negative skewness picks the left tail */
UNIT_TEST(ecod_negative_skew_uses_left_tail)
{
	AnContext	ctx;
	const float x[] = {-2, -10, -1, -3, -2};
	const float low = -10,
				high = -1;
	void	   *pyod,
			   *paper;

	unit_context_malloc(&ctx);
	REQUIRE(ecod_fit(&ctx, "pyod", x, 5, 1, &pyod) == AN_OK);
	REQUIRE(ecod_fit(&ctx, "paper", x, 5, 1, &paper) == AN_OK);
	/* x = -10: l = log 5, r = 0; x = -1: l = 0, r = log 5 */
	CHECK_CLOSE(score_one(pyod, &low), log(5.0), 1e-12, 0);
	CHECK_CLOSE(score_one(pyod, &high), log(5.0) / 2, 1e-12, 0);
	CHECK_CLOSE(score_one(paper, &low), log(5.0), 1e-12, 0);
	CHECK_CLOSE(score_one(paper, &high), log(5.0), 1e-12, 0);
	ecod()->destroy(&ctx, pyod);
	ecod()->destroy(&ctx, paper);
}

/*
 * Two features: a = {1, 2, 3, 4} (skewness exactly 0) and b = {1, 1, 1, 5}
 * (positive).  Row (1, 5): a has l = log 4, r = 0; b has l = 0, r = log 4.
 *	 pyod: a contributes l + r = log 4 (both tails for skewness 0), b
 *	 max(r, (l + r) / 2) = log 4: 2 log 4.
 *	 paper: O_left = log 4, O_right = log 4, O_auto = r_a + r_b = log 4
 *	 (skewness 0 takes the right tail): log 4.
 */
UNIT_TEST(ecod_score_of_a_hand_computed_case)
{
	AnContext	ctx;
	const float x[] = {1, 1, 2, 1, 3, 1, 4, 5};
	const float row[] = {1, 5};
	const float typical[] = {2, 1};
	void	   *pyod,
			   *paper;

	unit_context_malloc(&ctx);
	REQUIRE(ecod_fit(&ctx, "pyod", x, 4, 2, &pyod) == AN_OK);
	REQUIRE(ecod_fit(&ctx, "paper", x, 4, 2, &paper) == AN_OK);
	CHECK_CLOSE(score_one(pyod, row), 2 * log(4.0), 1e-12, 0);
	CHECK_CLOSE(score_one(paper, row), log(4.0), 1e-12, 0);
	/*
	 * (2, 1): a has l = log 2, r = -log(3/4); b has l = -log(3/4), r = 0.
	 * pyod: (log 2 - log 0.75) + max(0, -log(0.75) / 2);
	 * paper: max(log 2 - log 0.75, -log 0.75, -log 0.75).
	 */
	CHECK_CLOSE(score_one(pyod, typical), log(2.0) - log(0.75) - log(0.75) / 2, 1e-12, 0);
	CHECK_CLOSE(score_one(paper, typical), log(2.0) - log(0.75), 1e-12, 0);
	ecod()->destroy(&ctx, pyod);
	ecod()->destroy(&ctx, paper);
}

/*
 * 1999 rows 0..1998 (in a shuffled order) keep 1000 knots: v_k = r_k = 2k.
 * Between knots the count is interpolated: for x = 3, count(X <= 3) =
 * r_1 + 1 + (r_2 - r_1 - 1) (3 - 2) / 2 = 3.5 (the truth is 4) and
 * count(X >= 3) = n - r_2 + (r_2 - r_1 - 1) (4 - 3) / 2 = 1995.5; at a
 * knot, x = 4, both are exact: 5 and 1995.  The skewness is exactly 0.
 */
UNIT_TEST(ecod_interpolated_ecdf)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	const int	n = 1999;
	uint32_t   *perm = malloc(sizeof(uint32_t) * n);
	float	   *x = malloc(sizeof(float) * n);
	AnRng		rng;
	void	   *pyod,
			   *paper;
	const float at3 = 3,
				at4 = 4;

	an_rng_seed(&rng, 8);
	for (int i = 0; i < n; i++)
		perm[i] = (uint32_t) i;
	an_rng_shuffle(&rng, perm, n);
	for (int i = 0; i < n; i++)
		x[i] = (float) perm[i];
	unit_context_counting(&ctx, &counter);
	REQUIRE(ecod_fit(&ctx, "pyod", x, n, 1, &pyod) == AN_OK);
	REQUIRE(ecod_fit(&ctx, "paper", x, n, 1, &paper) == AN_OK);
	/* pyod with skewness 0: l + r; paper: max(l, r) = l here */
	CHECK_CLOSE(score_one(pyod, &at3), -log(3.5 / n) - log(1995.5 / n), 1e-12, 0);
	CHECK_CLOSE(score_one(paper, &at3), -log(3.5 / n), 1e-12, 0);
	CHECK_CLOSE(score_one(pyod, &at4), -log(5.0 / n) - log(1995.0 / n), 1e-12, 0);
	ecod()->destroy(&ctx, pyod);
	ecod()->destroy(&ctx, paper);
	CHECK_NO_LEAKS(&counter);
	free(perm);
	free(x);
}

/*
 * A constant column contributes nothing to training rows (both tails are
 * 1) and, for any other value, the floored tail log(n + 1) plus the
 * extended tail: the distance beyond the range over the scale, which is 1
 * for a column of no spread.
 */
UNIT_TEST(ecod_constant_column)
{
	AnContext	ctx;
	const float x[] = {7, 1, 7, 2, 7, 3, 7, 4};
	const float same[] = {7, 2.5f};
	const float other[] = {8, 2.5f};
	void	   *pyod;
	double		base;

	unit_context_malloc(&ctx);
	REQUIRE(ecod_fit(&ctx, "pyod", x, 4, 2, &pyod) == AN_OK);
	base = score_one(pyod, same);
	/* column 2 alone: 2.5 has l = -log(1/2), r = -log(1/2), skewness 0 */
	CHECK_CLOSE(base, 2 * log(2.0), 1e-12, 0);
	CHECK_CLOSE(score_one(pyod, other) - base, log(5.0) + 1.0, 1e-12, 0);
	ecod()->destroy(&ctx, pyod);
}

UNIT_TEST(ecod_options)
{
	AnContext	ctx;
	AnOptions	opts;
	AnOptionValue v;

	unit_context_malloc(&ctx);
	REQUIRE(an_options_init(&ctx, &opts, ecod()) == AN_OK);
	v = unit_str("paper");
	CHECK_STATUS(an_options_set(&ctx, &opts, "variant", &v), AN_OK);
	v = unit_str("copod");
	CHECK_STATUS(an_options_set(&ctx, &opts, "variant", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "\"variant\"");
	CHECK_CONTAINS(ctx.errmsg, "pyod, paper");
	v = unit_num(10);
	CHECK_STATUS(an_options_set(&ctx, &opts, "n_trees", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "for method \"ecod\"");
	CHECK_STATUS(an_options_set(&ctx, &opts, "epochs", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "does not apply");
	an_options_free(&ctx, &opts);
}

/* ---- the decoder's checks ---- */

typedef struct HandEcod
{
	const char *variant;
	int64_t		rows;
	int64_t		knots;
	const float *values;
	size_t		n_values;
	const double *skewness;
	size_t		n_skewness;
} HandEcod;

static AnStatus
decode_hand(AnContext *ctx, const HandEcod *h, int dim, void **state)
{
	AnBuffer	buf;
	AnPacker	pk;

	an_buffer_init(&buf, ctx);
	an_packer_init(&pk, &buf);
	msgpack_pack_map(&pk, 5);
	an_pack_key_str(&pk, "variant", h->variant);
	an_pack_key_int(&pk, "rows", h->rows);
	an_pack_key_int(&pk, "knots", h->knots);
	an_pack_key_floats(&pk, "values", h->values, h->n_values);
	an_pack_key_reals(&pk, "skewness", h->skewness, h->n_skewness);
	return fixture_decode_packed(ctx, ecod(), &buf, dim, state);
}

static void
check_decode(HandEcod h, int dim, AnStatus expected, const char *what)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	void	   *state = NULL;
	AnStatus	st;

	unit_context_counting(&ctx, &counter);
	st = decode_hand(&ctx, &h, dim, &state);
	if (st != expected)
		unit_fail(__FILE__, __LINE__, "%s: status %d (%s), expected %d", what, (int) st,
				  ctx.errmsg, (int) expected);
	if (st == AN_OK)
		ecod()->destroy(&ctx, state);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(ecod_decoder_refuses_bad_state)
{
	float		values[6] = {0, 1, 2, -1, 0, 5};
	double		skew[2] = {0.3, -0.2};
	HandEcod	h = {"pyod", 10, 3, values, 6, skew, 2};

	check_decode(h, 2, AN_OK, "a good state");
	h.variant = "copod";
	check_decode(h, 2, AN_ERR_CORRUPT, "an unknown variant");
	h.variant = "pyod";
	h.rows = 2;
	check_decode(h, 2, AN_ERR_CORRUPT, "more knots than rows");
	h.rows = 0;
	check_decode(h, 2, AN_ERR_CORRUPT, "no rows");
	h.rows = 10;
	check_decode(h, 3, AN_ERR_CORRUPT, "values for another width");
	h.n_values = 5;
	check_decode(h, 2, AN_ERR_CORRUPT, "too few values");
	h.n_values = 6;
	values[4] = -2;
	check_decode(h, 2, AN_ERR_CORRUPT, "knots not ascending");
	values[4] = NAN;
	check_decode(h, 2, AN_ERR_CORRUPT, "a non-finite knot");
	values[4] = 0;
	h.n_skewness = 1;
	check_decode(h, 2, AN_ERR_CORRUPT, "skewness of the wrong width");
	h.n_skewness = 2;
	skew[1] = INFINITY;
	check_decode(h, 2, AN_ERR_CORRUPT, "a non-finite skewness");
}
