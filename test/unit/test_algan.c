/*-------------------------------------------------------------------------
 *
 * test_algan.c
 *	  ALGAN's own behaviour: adversarial training on a simple distribution
 *	  keeps finite losses (the generator's moments are reported, not yet
 *	  asserted), the score keeps growing far from the data, and the options
 *	  are validated.  The shared checks (round trip, damaged documents,
 *	  allocation failures, determinism, extreme rows) come from
 *	  test_methods.c and test_security.c once the method is registered; the
 *	  loss's gradient from test_gradcheck.c.
 *
 * IDENTIFICATION
 *	  test/unit/test_algan.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>

#include "anomaly/trainer.h"
#include "unit.h"

/* not in the registry yet (see algan_training_stays_finite) */
extern const AnMethod an_method_algan;

#define ROWS	2000
#define DIM		2
#define SAMPLES	256				/* at most the batch size */
#define EPOCHS	300

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

/* mean and covariance (population) of n rows of width 2 */
static void
moments(const float *x, int n, double *mean, double *cov)
{
	mean[0] = mean[1] = 0.0;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < DIM; j++)
			mean[j] += x[i * DIM + j] / (double) n;
	cov[0] = cov[1] = cov[2] = 0.0;
	for (int i = 0; i < n; i++)
	{
		double		a = x[i * DIM] - mean[0],
					b = x[i * DIM + 1] - mean[1];

		cov[0] += a * a / n;
		cov[1] += a * b / n;
		cov[2] += b * b / n;
	}
}

/*
 * A correlated Gaussian, (0.5, -0.5) + the Cholesky factor of
 * [[1, 0.6], [0.6, 1]] times N(0, I), 300 epochs of 256-row batches:
 * the losses stay finite, the last epoch is kept, and the score grows
 * without bound away from the data.  The generator's moments should match
 * the data's (mean within 0.25, covariance entries within 0.3); they do
 * not yet, see below.
 */
UNIT_TEST(algan_training_stays_finite)
{
	const AnMethod *m = &an_method_algan;
	AnContext	ctx;
	AnOptions	opts;
	AnOptionValue v;
	AnRng		rng;
	AnTrainResult result;
	Losses		losses = {0, true};
	float	   *x = malloc(sizeof(float) * ROWS * DIM);
	float	   *gen = malloc(sizeof(float) * SAMPLES * DIM);
	double		dm[2],
				dc[3],
				gm[2],
				gc[3];
	void	   *state = NULL;

	REQUIRE(m != NULL);
	unit_context_malloc(&ctx);
	ctx.progress = record;
	ctx.arg = &losses;
	an_rng_seed(&rng, 5);
	for (int i = 0; i < ROWS; i++)
	{
		double		a = an_rng_normal(&rng),
					b = an_rng_normal(&rng);

		x[i * DIM] = (float) (0.5 + a);
		x[i * DIM + 1] = (float) (-0.5 + 0.6 * a + 0.8 * b);
	}
	REQUIRE(an_options_init(&ctx, &opts, m) == AN_OK);
	v = unit_num(EPOCHS);
	REQUIRE(an_options_set(&ctx, &opts, "epochs", &v) == AN_OK);
	v = unit_num(256);
	REQUIRE(an_options_set(&ctx, &opts, "batch_size", &v) == AN_OK);
	an_options_resolve(&opts, DIM, ROWS);

	REQUIRE(m->create(&ctx, &opts, DIM, &rng, &state) == AN_OK);
	REQUIRE(m->prepare(&ctx, state, &opts, x, ROWS, &rng) == AN_OK);
	REQUIRE(an_train(&ctx, m, state, &opts, x, ROWS, DIM, &rng, &result) == AN_OK);
	CHECK(losses.n == EPOCHS && losses.finite);
	/* the last epoch is kept: its validation loss is minus its number */
	CHECK(result.loss == -(double) EPOCHS);

	an_algan_generate(state, &rng, SAMPLES, gen);
	moments(x, ROWS, dm, dc);
	moments(gen, SAMPLES, gm, gc);
	/*
	 * Not yet asserted: the moments are printed as a diagnostic.  Seed 5
	 * gives mean (0.73, -0.57) against (0.49, -0.50) and covariance
	 * (0.68, 0.52, 0.68) against (0.97, 0.58, 1.01); at 60 epochs, or with
	 * learning rate 2e-4, the generator is further off (collapsed or twice
	 * too wide).  This is why ALGAN is not in the registry yet.
	 */
	printf("# algan generator: mean %.3f %.3f (data %.3f %.3f), "
		   "cov %.3f %.3f %.3f (data %.3f %.3f %.3f)\n",
		   gm[0], gm[1], dm[0], dm[1], gc[0], gc[1], gc[2], dc[0], dc[1], dc[2]);

	/* far from the data the score keeps growing: no plateau */
	{
		float		far[4 * DIM] = {10, 0, 100, 0, 1e4f, 0, 1e8f, 0};
		double		s[4];

		m->score(state, far, 4, s);
		for (int i = 0; i < 4; i++)
			CHECK(isfinite(s[i]));
		CHECK(s[0] < s[1] && s[1] < s[2] && s[2] < s[3]);
		CHECK(s[3] > 0.9e8);
	}
	m->destroy(&ctx, state);
	an_options_free(&ctx, &opts);
	free(x);
	free(gen);
}

UNIT_TEST(algan_options_validated)
{
	const AnMethod *m = &an_method_algan;
	AnContext	ctx;
	AnOptions	opts;
	AnOptionValue v;

	unit_context_malloc(&ctx);
	REQUIRE(an_options_init(&ctx, &opts, m) == AN_OK);
	CHECK(opts.early_stopping_patience == 0);
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
	v = unit_num(10);
	CHECK(an_options_set(&ctx, &opts, "sigma", &v) == AN_OK);
	an_options_free(&ctx, &opts);
}
