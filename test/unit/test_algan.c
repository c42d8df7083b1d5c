/*-------------------------------------------------------------------------
 *
 * test_algan.c
 *	  ALGAN's own behaviour (method_algan.c): training stability on a
 *	  simple distribution (finite losses, the generator's mean and
 *	  covariance match the data's), detection of a ring and of far points
 *	  around a Gaussian blob, and the options.
 *
 * The shared checks (round trip, damaged documents, allocation failures,
 * determinism, extreme rows) come from test_methods.c and test_security.c.
 * The moment term's gradient is test_gradcheck.c's.  The state is driven
 * through its AnMethod interface, plus the test entry point
 * an_algan_generate.
 *
 * IDENTIFICATION
 *	  test/unit/test_algan.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "anomaly/trainer.h"
#include "fixture.h"
#include "unit.h"

extern void an_algan_generate(void *state, AnRng *rng, int n, float *out);

#define ROWS	2000
#define DIM		2
#define SAMPLES	256				/* at most the batch size */
#define EPOCHS	100

typedef struct Losses
{
	int			n;
	bool		finite;
} Losses;

static void
record(void *arg, const AnEpochReport *r)
{
	Losses	   *l = arg;

	l->n++;
	if (!isfinite(r->train_loss))
		l->finite = false;
}

/*
 * n rows of (0.5, -0.5) + the Cholesky factor of [[1, 0.6], [0.6, 1]]
 * N(0, I), or of (0.5, -0.5) + N(0, I) if round
 */
static float *
blob_rows(AnRng *rng, int n, bool round)
{
	double		rho = round ? 0.0 : 0.6;

	float	   *x = malloc(sizeof(float) * n * DIM);

	for (int i = 0; i < n; i++)
	{
		double		a = an_rng_normal(rng),
					b = an_rng_normal(rng);

		x[i * DIM] = (float) (0.5 + a);
		x[i * DIM + 1] = (float) (-0.5 + rho * a + sqrt(1.0 - rho * rho) * b);
	}
	return x;
}

/*
 * ALGAN with its defaults but EPOCHS epochs of 256-row batches, trained on
 * x into *state (left NULL on failure)
 */
static void
train_algan(AnContext *ctx, AnOptions *opts, const float *x, uint64_t seed, void **state)
{
	const AnMethod *m = an_method_lookup("algan");
	AnOptionValue v;
	AnRng		rng;
	AnTrainResult result;

	REQUIRE(an_options_init(ctx, opts, m) == AN_OK);
	v = unit_num(EPOCHS);
	REQUIRE(an_options_set(ctx, opts, "epochs", &v) == AN_OK);
	v = unit_num(256);
	REQUIRE(an_options_set(ctx, opts, "batch_size", &v) == AN_OK);
	an_options_resolve(opts, DIM, ROWS);
	an_rng_seed(&rng, seed);
	REQUIRE(m->create(ctx, opts, DIM, &rng, state) == AN_OK);
	REQUIRE(m->prepare(ctx, *state, opts, x, ROWS, &rng) == AN_OK);
	REQUIRE(an_train(ctx, m, *state, opts, x, ROWS, DIM, &rng, &result) == AN_OK);
	/* the last epoch is kept: its validation loss is minus its number */
	CHECK(result.loss == -(double) EPOCHS);
}

/*
 * A correlated Gaussian, 100 epochs of 256-row batches: every epoch's loss
 * is finite, the generator's N(0, I) samples have the data's mean (within
 * 0.25) and covariance (each entry within 0.3), and the score grows
 * without bound away from the data.
 */
UNIT_TEST(algan_training_is_stable_on_a_gaussian)
{
	AnContext	ctx;
	AnOptions	opts;
	AnRng		rng;
	Losses		losses = {0, true};
	float	   *x;
	float	   *gen = malloc(sizeof(float) * SAMPLES * DIM);
	void	   *state = NULL;

	/* ctx.arg goes to the progress callback: leaks are test_methods.c's */
	unit_context_malloc(&ctx);
	ctx.progress = record;
	ctx.arg = &losses;
	an_rng_seed(&rng, 5);
	x = blob_rows(&rng, ROWS, false);
	train_algan(&ctx, &opts, x, 5, &state);
	REQUIRE(state != NULL);
	CHECK(losses.n == EPOCHS && losses.finite);

	an_algan_generate(state, &rng, SAMPLES, gen);
	CHECK(fixture_moments_match(x, ROWS, gen, SAMPLES, 0.25, 0.3));

	/* far from the data the score keeps growing: no plateau */
	{
		const AnMethod *m = an_method_lookup("algan");
		float		far[4 * DIM] = {10, 0, 100, 0, 1e4f, 0, 1e8f, 0};
		double		s[4];

		m->score(state, far, 4, s);
		for (int i = 0; i < 4; i++)
			CHECK(isfinite(s[i]));
		CHECK(s[0] < s[1] && s[1] < s[2] && s[2] < s[3]);
		CHECK(s[3] > 0.9e8);
		m->destroy(&ctx, state);
	}
	an_options_free(&ctx, &opts);
	free(x);
	free(gen);
}

/*
 * The sanity check of the method: trained on a round Gaussian blob, it
 * ranks points of a ring around the blob (radius 4, inside the training
 * rows' box) and points far away (radius 10 to 50) above fresh blob rows, each
 * group with AUROC > 0.9 by counting pairs.  A discriminator that learns
 * "where the generator is now" rather than "where the data is not" fails
 * this (it did, at 0.54, before the moment term and the averaged D).
 */
UNIT_TEST(algan_ranks_a_ring_and_far_points_above_a_blob)
{
	const AnMethod *m = an_method_lookup("algan");
	AnContext	ctx;
	AnOptions	opts;
	AnRng		rng;
	float	   *x;
	float	   *fresh;
	float		ring[100 * DIM];
	float		far[20 * DIM];
	double		s_fresh[200],
				s_ring[100],
				s_far[20];
	double		auroc_ring = 0.0,
				auroc_far = 0.0;
	void	   *state = NULL;

	unit_context_malloc(&ctx);
	an_rng_seed(&rng, 17);
	x = blob_rows(&rng, ROWS, true);
	fresh = blob_rows(&rng, 200, true);
	for (int i = 0; i < 100; i++)
	{
		double		t = 2.0 * M_PI * an_rng_uniform(&rng);
		double		r = 4.0 + 0.2 * an_rng_normal(&rng);

		ring[i * DIM] = (float) (0.5 + r * cos(t));
		ring[i * DIM + 1] = (float) (-0.5 + r * sin(t));
	}
	for (int i = 0; i < 20; i++)
	{
		double		t = 2.0 * M_PI * an_rng_uniform(&rng);
		double		r = 10.0 + 40.0 * an_rng_uniform(&rng);

		far[i * DIM] = (float) (r * cos(t));
		far[i * DIM + 1] = (float) (r * sin(t));
	}
	train_algan(&ctx, &opts, x, 17, &state);
	REQUIRE(state != NULL);
	m->score(state, fresh, 200, s_fresh);
	m->score(state, ring, 100, s_ring);
	m->score(state, far, 20, s_far);
	for (int i = 0; i < 200; i++)
	{
		for (int k = 0; k < 100; k++)
			auroc_ring += (s_ring[k] > s_fresh[i] ? 1.0 : s_ring[k] == s_fresh[i] ? 0.5 : 0.0)
				/ (200.0 * 100.0);
		for (int k = 0; k < 20; k++)
			auroc_far += (s_far[k] > s_fresh[i] ? 1.0 : s_far[k] == s_fresh[i] ? 0.5 : 0.0)
				/ (200.0 * 20.0);
	}
	printf("  AUROC ring %.3f, far %.3f\n", auroc_ring, auroc_far);
	CHECK(auroc_ring > 0.9);
	CHECK(auroc_far > 0.9);
	m->destroy(&ctx, state);
	an_options_free(&ctx, &opts);
	free(x);
	free(fresh);
}

UNIT_TEST(algan_options_validated)
{
	const AnMethod *m = an_method_lookup("algan");
	AnContext	ctx;
	AnOptions	opts;
	AnOptionValue v;

	unit_context_malloc(&ctx);
	REQUIRE(an_options_init(&ctx, &opts, m) == AN_OK);
	/* the method's own defaults of two common options */
	CHECK(opts.early_stopping_patience == 0);
	CHECK(opts.weight_decay == 0.05);
	v = unit_num(0);
	CHECK_STATUS(an_options_set(&ctx, &opts, "alpha", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "\"alpha\"");
	v = unit_num(1.5);
	CHECK_STATUS(an_options_set(&ctx, &opts, "alpha", &v), AN_ERR_INVALID);
	v = unit_num(1);
	CHECK(an_options_set(&ctx, &opts, "alpha", &v) == AN_OK);
	v = unit_num(0.5);
	CHECK_STATUS(an_options_set(&ctx, &opts, "sigma", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "\"sigma\"");
	v = unit_num(1001);
	CHECK_STATUS(an_options_set(&ctx, &opts, "sigma", &v), AN_ERR_INVALID);
	v = unit_num(10);
	CHECK(an_options_set(&ctx, &opts, "sigma", &v) == AN_OK);
	v = unit_num(0);
	CHECK(an_options_set(&ctx, &opts, "weight_decay", &v) == AN_OK);
	an_options_free(&ctx, &opts);
}
