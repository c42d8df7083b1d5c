/*-------------------------------------------------------------------------
 *
 * test_egbad.c
 *	  Unit tests of EGBAD (method_egbad.c) that the shared method tests do
 *	  not make: the gradient of the G+E loss, training stability on a
 *	  simple distribution (finite losses, reconstruction, the generator's
 *	  moments), the score's definition, its options.
 *
 * Detection, round trip, damaged documents, allocation failures, seeds,
 * extreme rows and explain are checked for every method by test_methods.c,
 * test_security.c and test_explain.c.  The state is driven through its
 * AnMethod interface, plus the test entry point an_egbad_ge_loss, which
 * computes the G+E loss and its gradients without an optimiser step.
 *
 * IDENTIFICATION
 *	  test/unit/test_egbad.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>

#include "anomaly/method.h"
#include "fixture.h"
#include "unit.h"

extern double an_egbad_ge_loss(void *state, const float *x, const float *z, int n,
							   AnParamList *ge_params);
extern void an_egbad_generate(void *state, AnRng *rng, int n, float *out);

#define GAUSS_ROWS	1000
#define GAUSS_RHO	0.8

/* EGBAD options for 2-D rows: hidden [16], latent 2, activation act */
static AnStatus
egbad_options(AnContext *ctx, AnOptions *opts, const char *act, double lambda,
			  double consistency, size_t n)
{
	static const double hidden[1] = {16};
	AnOptionValue v = {.kind = AN_OPTION_ARRAY, .items = hidden, .n_items = 1};

	AN_TRY(an_options_init(ctx, opts, an_method_lookup("egbad")));
	AN_TRY(an_options_set(ctx, opts, "hidden", &v));
	v = unit_num(2);
	AN_TRY(an_options_set(ctx, opts, "latent", &v));
	v = unit_num(64);
	AN_TRY(an_options_set(ctx, opts, "batch_size", &v));
	v = unit_str(act);
	AN_TRY(an_options_set(ctx, opts, "activation", &v));
	v = unit_num(lambda);
	AN_TRY(an_options_set(ctx, opts, "lambda", &v));
	v = unit_num(consistency);
	AN_TRY(an_options_set(ctx, opts, "consistency", &v));
	an_options_resolve(opts, 2, n);
	return AN_OK;
}

/* n rows of a 2-D Gaussian, unit variances, correlation GAUSS_RHO */
static float *
gaussian_rows(uint64_t seed, size_t n)
{
	float	   *x = malloc(sizeof(float) * 2 * n);
	AnRng		rng;

	an_rng_seed(&rng, seed);
	for (size_t i = 0; i < n; i++)
	{
		double		a = an_rng_normal(&rng);
		double		b = an_rng_normal(&rng);

		x[2 * i] = (float) a;
		x[2 * i + 1] = (float) (GAUSS_RHO * a + sqrt(1 - GAUSS_RHO * GAUSS_RHO) * b);
	}
	return x;
}

/*
 * Float32 central differences of the G+E loss in every parameter of E and
 * G (tanh hidden layers; D's leaky ReLU kinks can make a difference
 * quotient wrong, so at most 2% of the entries may miss).
 */
UNIT_TEST(egbad_gradcheck_ge_loss)
{
	const AnMethod *m = an_method_lookup("egbad");
	AnContext	ctx;
	AnOptions	opts;
	AnRng		rng;
	void	   *state = NULL;
	float	   *x = gaussian_rows(3, 8);
	float		z[16];
	AnParamList ge;
	int			checked = 0,
				missed = 0;

	unit_context_malloc(&ctx);
	memset(&opts, 0, sizeof(opts));
	REQUIRE(egbad_options(&ctx, &opts, "tanh", 0.1, 0.7, 8) == AN_OK);
	an_rng_seed(&rng, 5);
	REQUIRE(m->create(&ctx, &opts, 2, &rng, &state) == AN_OK);
	REQUIRE(m->prepare(&ctx, state, &opts, x, 8, &rng) == AN_OK);
	for (int i = 0; i < 16; i++)
		z[i] = (float) an_rng_normal(&rng);

	memset(&ge, 0, sizeof(ge));
	(void) an_egbad_ge_loss(state, x, z, 8, &ge);
	for (int p = 0; p < ge.n; p++)
	{
		float	   *analytic = malloc(sizeof(float) * ge.items[p].size);

		memcpy(analytic, ge.items[p].grad, sizeof(float) * ge.items[p].size);
		for (size_t e = 0; e < ge.items[p].size; e++)
		{
			float	   *w = &ge.items[p].value[e];
			float		saved = *w;
			float		up = saved + 1e-3f;
			float		down = saved - 1e-3f;
			AnParamList scratch;
			double		lp,
						lm,
						numeric;

			*w = up;
			memset(&scratch, 0, sizeof(scratch));
			lp = an_egbad_ge_loss(state, x, z, 8, &scratch);
			*w = down;
			memset(&scratch, 0, sizeof(scratch));
			lm = an_egbad_ge_loss(state, x, z, 8, &scratch);
			*w = saved;
			numeric = (lp - lm) / ((double) up - down);
			checked++;
			if (fabs(numeric - analytic[e]) > 1e-2 * fmax(fabs(numeric), 1e-2))
				missed++;
		}
		free(analytic);
	}
	if (missed * 50 > checked)
		unit_fail(__FILE__, __LINE__, "%d of %d gradient entries differ", missed, checked);
	CHECK(checked > 100);
	m->destroy(&ctx, state);
	an_options_free(&ctx, &opts);
	free(x);
}

/*
 * Training on a correlated 2-D Gaussian, by train_batch directly: every
 * step's losses are finite, G(E(x)) reconstructs the rows much better
 * than their mean does (mean squared error per dimension about 1, the
 * variance), and G's samples have the data's mean (within 0.25) and
 * covariance (each entry within 0.3).  Without the consistency term (the paper's pure BiGAN, which
 * must be stable too and beat the mean), at its default and at 1.
 */
UNIT_TEST(egbad_training_is_stable_on_a_gaussian)
{
	const AnMethod *m = an_method_lookup("egbad");
	static const double consistency[] = {0.0, 0.1, 1.0};
	static const double bound[] = {0.9, 0.3, 0.15};

	for (int c = 0; c < 3; c++)
	{
		AnContext	ctx;
		UnitAlloc	counter = {0};
		AnOptions	opts;
		AnRng		rng;
		void	   *state = NULL;
		float	   *x = gaussian_rows(11, GAUSS_ROWS);
		float	   *held = gaussian_rows(12, 256);
		float		gen[2 * 256];
		double		scores[256];
		double		resid = 0.0,
					base = 0.0;
		bool		finite = true;

		unit_context_counting(&ctx, &counter);
		memset(&opts, 0, sizeof(opts));
		REQUIRE(egbad_options(&ctx, &opts, "relu", 0.0, consistency[c], GAUSS_ROWS) == AN_OK);
		an_rng_seed(&rng, 7);
		REQUIRE(m->create(&ctx, &opts, 2, &rng, &state) == AN_OK);
		REQUIRE(m->prepare(&ctx, state, &opts, x, GAUSS_ROWS, &rng) == AN_OK);
		for (int epoch = 0; epoch < 60; epoch++)
			for (int b = 0; b + 64 <= GAUSS_ROWS; b += 64)
			{
				double		loss = m->train_batch(state, x + 2 * b, 64, &rng);

				finite = finite && isfinite(loss);
			}
		CHECK(finite);
		/* lambda 0: the score is the residual ||x - G(E(x))||^2 / d */
		m->score(state, held, 256, scores);
		for (int i = 0; i < 256; i++)
		{
			resid += scores[i] / 256;
			base += (held[2 * i] * held[2 * i] + held[2 * i + 1] * held[2 * i + 1]) / 2.0 / 256;
		}
		printf("  consistency %g: residual %.4f, mean predictor %.4f\n",
			   consistency[c], resid, base);
		CHECK(isfinite(resid));
		CHECK(resid < bound[c] * base);
		/* G's samples have the data's moments */
		an_egbad_generate(state, &rng, 256, gen);
		CHECK(fixture_moments_match(x, GAUSS_ROWS, gen, 256, 0.25, 0.3));
		m->destroy(&ctx, state);
		an_options_free(&ctx, &opts);
		CHECK_NO_LEAKS(&counter);
		free(x);
		free(held);
	}
}

/*
 * The score is (1 - lambda) residual + lambda disc with disc >= 0: raising
 * lambda from 0 moves every score by lambda * (disc - residual), and rows
 * far outside the box score higher than rows inside at lambda = 1 too.
 */
UNIT_TEST(egbad_score_terms)
{
	const AnMethod *m = an_method_lookup("egbad");
	static const double lambdas[] = {0.0, 0.5, 1.0};
	double		s[3][4];
	float	   *x = gaussian_rows(21, 256);
	float		probe[8] = {0.1f, 0.2f, -0.5f, -0.3f, 40.0f, 0.0f, -1e6f, 1e6f};

	for (int l = 0; l < 3; l++)
	{
		AnContext	ctx;
		AnOptions	opts;
		AnRng		rng;
		void	   *state = NULL;

		unit_context_malloc(&ctx);
		memset(&opts, 0, sizeof(opts));
		REQUIRE(egbad_options(&ctx, &opts, "relu", lambdas[l], 1.0, 256) == AN_OK);
		an_rng_seed(&rng, 9);
		REQUIRE(m->create(&ctx, &opts, 2, &rng, &state) == AN_OK);
		REQUIRE(m->prepare(&ctx, state, &opts, x, 256, &rng) == AN_OK);
		for (int b = 0; b < 256; b += 64)
			(void) m->train_batch(state, x + 2 * b, 64, &rng);
		m->score(state, probe, 4, s[l]);
		m->destroy(&ctx, state);
		an_options_free(&ctx, &opts);
	}
	for (int i = 0; i < 4; i++)
	{
		/* same seed, same weights: s(0.5) is the mean of s(0) and s(1) */
		CHECK_CLOSE(s[1][i], 0.5 * (s[0][i] + s[2][i]), 1e-5, 1e-6);
		for (int l = 0; l < 3; l++)
			CHECK(s[l][i] >= 0.0);
	}
	for (int l = 0; l < 3; l++)
	{
		CHECK(s[l][2] > s[l][0] && s[l][2] > s[l][1]);
		CHECK(s[l][3] > s[l][2]);
	}
	free(x);
}

UNIT_TEST(egbad_options_refused)
{
	AnContext	ctx;
	AnOptions	opts;
	AnOptionValue v;

	unit_context_malloc(&ctx);
	REQUIRE(an_options_init(&ctx, &opts, an_method_lookup("egbad")) == AN_OK);
	v = unit_num(1.5);
	CHECK_STATUS(an_options_set(&ctx, &opts, "lambda", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "lambda");
	v = unit_num(-0.1);
	CHECK_STATUS(an_options_set(&ctx, &opts, "lambda", &v), AN_ERR_INVALID);
	v = unit_num(-1);
	CHECK_STATUS(an_options_set(&ctx, &opts, "consistency", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "consistency");
	v = unit_num(1);
	CHECK_STATUS(an_options_set(&ctx, &opts, "lambda", &v), AN_OK);
	v = unit_num(0);
	CHECK_STATUS(an_options_set(&ctx, &opts, "consistency", &v), AN_OK);
	an_options_free(&ctx, &opts);
}
