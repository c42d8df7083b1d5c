/*-------------------------------------------------------------------------
 *
 * test_explain.c
 *	  Explanations, percentiles and far rows, over every registered method
 *	  (a new method gets these checks by its registry line alone):
 *
 *	  - every method explains: its contributions are finite and, with the
 *		rest, add up to the row's score (to rounding for the additive
 *		methods, to the quadrature error for integrated gradients), on a
 *		decoded model as SQL uses it, without a leak, and an allocation
 *		failure is an error, not a crash or a leak;
 *	  - integrated gradients are exact on functions where they can be
 *		computed by hand;
 *	  - percentiles from the stored quantiles, by hand;
 *	  - scores separate: distinct rows ever farther from the training data
 *		get strictly increasing scores, with no plateau.
 *
 * IDENTIFICATION
 *	  test/unit/test_explain.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>

#include "anomaly/explain.h"
#include "fixture.h"
#include "unit.h"

#define TRAIN_ROWS	300
#define PROBES		20

/* quick options, the network options only where the method takes them */
static AnStatus
quick_options(AnContext *ctx, AnOptions *opts, const AnMethod *method)
{
	static const double hidden[1] = {16};
	AnOptionValue h = {.kind = AN_OPTION_ARRAY, .items = hidden, .n_items = 1};
	AnOptionValue v;

	AN_TRY(an_options_init(ctx, opts, method));
	v = unit_num(42);
	AN_TRY(an_options_set(ctx, opts, "seed", &v));
	if (an_method_is_gradient(method) || method->network_options)
	{
		AN_TRY(an_options_set(ctx, opts, "hidden", &h));
		v = unit_num(3);
		AN_TRY(an_options_set(ctx, opts, "latent", &v));
		v = unit_num(10);
		AN_TRY(an_options_set(ctx, opts, "epochs", &v));
		v = unit_num(32);
		AN_TRY(an_options_set(ctx, opts, "batch_size", &v));
		v = unit_num(0.01);
		AN_TRY(an_options_set(ctx, opts, "learning_rate", &v));
	}
	an_options_resolve(opts, FIX_DIM, TRAIN_ROWS);
	return AN_OK;
}

/* a model of method trained on the fixture, encoded and decoded back */
static AnStatus
trained_decoded(AnContext *ctx, const AnMethod *method, AnModel *out)
{
	AnModel		model;
	AnOptions	opts;
	double	   *raw = fixture_rows(1042, TRAIN_ROWS);
	float	   *x = NULL;
	char	   *doc = NULL;
	size_t		len;
	AnStatus	st;

	memset(&model, 0, sizeof(model));
	memset(&opts, 0, sizeof(opts));
	st = fixture_prepare(ctx, &model, raw, TRAIN_ROWS, AN_SCALER_STANDARD, &x);
	if (st == AN_OK)
		st = quick_options(ctx, &opts, method);
	if (st == AN_OK)
		st = an_model_fit(ctx, &model, &opts, x, TRAIN_ROWS);
	if (st == AN_OK)
		st = an_model_encode(ctx, &model, &doc, &len);
	if (st == AN_OK)
		st = an_model_decode(ctx, doc, len, out);
	an_free(ctx, doc);
	an_options_free(ctx, &opts);
	an_model_free(ctx, &model);
	free(raw);
	free(x);
	return st;
}

/*
 * Additive methods whose score has a term no dimension carries: the VAE's
 * KL, EGBAD's discrimination term.
 */
static bool
explains_with_rest(const AnMethod *m)
{
	return strcmp(m->name, "vae") == 0 || strcmp(m->name, "egbad") == 0;
}

/*
 * Integrated gradients from finite differences approximate an integral:
 * the methods explained that way are held to a looser tolerance.
 */
static bool
explained_by_gradients(const AnMethod *m)
{
	return strcmp(m->name, "deep_svdd") == 0 || strcmp(m->name, "ocnn") == 0 ||
		strcmp(m->name, "algan") == 0;
}

UNIT_TEST(explain_every_method_adds_up)
{
	for (int i = 0; an_method_at(i); i++)
	{
		const AnMethod *m = an_method_at(i);
		AnContext	ctx;
		UnitAlloc	counter = {0};
		AnModel		model;
		double	   *rows = malloc(sizeof(double) * FIX_DIM * 2 * PROBES);
		double	   *outliers = fixture_outliers(7, PROBES);
		double	   *normal = fixture_rows(8, PROBES);
		double		tol = explained_by_gradients(m) ? 2e-2 : 1e-4;

		memcpy(rows, outliers, sizeof(double) * FIX_DIM * PROBES);
		memcpy(rows + FIX_DIM * PROBES, normal, sizeof(double) * FIX_DIM * PROBES);
		free(outliers);
		free(normal);
		unit_context_counting(&ctx, &counter);
		if (trained_decoded(&ctx, m, &model) != AN_OK)
		{
			unit_fail(__FILE__, __LINE__, "%s: training failed: %s", m->name, ctx.errmsg);
			free(rows);
			continue;
		}
		if (!m->explain)
		{
			/* a method without it is refused by name, not crashed */
			double		f[8],
						rest,
						score;

			CHECK_STATUS(an_model_explain(&ctx, &model, rows, f, &rest, &score),
						 AN_ERR_INVALID);
			CHECK_CONTAINS(ctx.errmsg, m->name);
		}
		for (int r = 0; m->explain && r < 2 * PROBES; r++)
		{
			double		per_feature[8];
			double		rest = NAN,
						score = NAN,
						check,
						sum = 0.0;

			REQUIRE(model.spec.n_features <= 8);
			if (an_model_explain(&ctx, &model, rows + (size_t) r * FIX_DIM, per_feature,
								 &rest, &score) != AN_OK)
			{
				unit_fail(__FILE__, __LINE__, "%s: explain failed: %s", m->name, ctx.errmsg);
				break;
			}
			an_model_score_raw(&model, rows + (size_t) r * FIX_DIM, 1, &check);
			CHECK(score == check);
			for (int f = 0; f < model.spec.n_features; f++)
			{
				if (!isfinite(per_feature[f]))
					unit_fail(__FILE__, __LINE__, "%s: contribution %d is %g",
							  m->name, f, per_feature[f]);
				sum += per_feature[f];
			}
			CHECK(isfinite(rest));
			/* for the gradient methods the error is relative to what they attribute */
			if (!(fabs(sum + rest - score) <=
				  tol * (fabs(score) + fabs(rest) + fabs(sum)) + 1e-9))
				unit_fail(__FILE__, __LINE__,
						  "%s: row %d: contributions %.9g + rest %.9g against score %.9g",
						  m->name, r, sum, rest, score);
			/* the additive methods attribute all of it, but for a documented rest */
			if (!explained_by_gradients(m) && !explains_with_rest(m))
				CHECK(fabs(rest) <= 1e-9 * (1.0 + fabs(score)));
		}

		/* every allocation of an explanation may fail, without a leak */
		for (long k = 1; m->explain && k < 50; k++)
		{
			double		per_feature[8],
						rest,
						score;
			AnStatus	st;

			counter.fail_at = counter.n_allocs + k;
			st = an_model_explain(&ctx, &model, rows, per_feature, &rest, &score);
			counter.fail_at = 0;
			if (st == AN_OK)
				break;
			CHECK_STATUS(st, AN_ERR_NOMEM);
		}
		an_model_free(&ctx, &model);
		CHECK_NO_LEAKS(&counter);
		free(rows);
	}
}

/*
 * A method whose score is known in closed form: f(x) = sum_j a_j x_j^2 +
 * b_j x_j + x_0 x_1.  Along the path alpha x the partial derivatives are
 * linear in alpha, so the midpoint rule and central differences are
 * exact: IG_j = a_j x_j^2 + b_j x_j, plus x_0 x_1 / 2 for each of
 * dimensions 0 and 1, and f(0) = 0.
 */
static const double quad_a[3] = {1.0, -0.5, 2.0};
static const double quad_b[3] = {0.25, 1.0, -1.0};

static void
quad_score(void *state, const float *x, int n, double *out)
{
	(void) state;
	for (int r = 0; r < n; r++)
	{
		const float *row = x + (size_t) r * 3;
		double		s = (double) row[0] * row[1];

		for (int j = 0; j < 3; j++)
			s += quad_a[j] * row[j] * row[j] + quad_b[j] * row[j];
		out[r] = s;
	}
}

UNIT_TEST(explain_integrated_gradients_by_hand)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnMethod	quad = {.name = "quad", .score = quad_score};
	const float x[3] = {1.5f, -2.0f, 0.5f};
	double		contrib[3],
				rest;

	unit_context_counting(&ctx, &counter);
	REQUIRE(an_explain_integrated_gradients(&ctx, &quad, NULL, x, 3, contrib, &rest) == AN_OK);
	CHECK_NEAR(rest, 0.0, 1e-12);
	CHECK_CLOSE(contrib[0], 1.0 * 2.25 + 0.25 * 1.5 + 1.5 * -2.0 / 2, 1e-5, 1e-6);
	CHECK_CLOSE(contrib[1], -0.5 * 4.0 + 1.0 * -2.0 + 1.5 * -2.0 / 2, 1e-5, 1e-6);
	CHECK_CLOSE(contrib[2], 2.0 * 0.25 - 1.0 * 0.5, 1e-5, 1e-6);
	CHECK_NO_LEAKS(&counter);
	counter.fail_at = counter.n_allocs + 1;
	CHECK_STATUS(an_explain_integrated_gradients(&ctx, &quad, NULL, x, 3, contrib, &rest),
				 AN_ERR_NOMEM);
	CHECK_NO_LEAKS(&counter);
}

/*
 * Quantiles 0, 1, ..., 100 but for a run 50 .. 60 of the value 50: the
 * percentile is 0 below 0, 1 above 100, linear between neighbours (25.5
 * -> 0.255), the middle of the run at 50 (0.55), and 61 -> 0.61 just
 * after it.
 */
UNIT_TEST(percentile_by_hand)
{
	AnModel		model;
	double		prev = -1.0;

	memset(&model, 0, sizeof(model));
	for (int k = 0; k < AN_N_QUANTILES; k++)
		model.quantiles[k] = k >= 50 && k <= 60 ? 50.0 : (double) k;
	CHECK(an_model_percentile(&model, -0.001) == 0.0);
	CHECK(an_model_percentile(&model, -1e300) == 0.0);
	CHECK(an_model_percentile(&model, 100.001) == 1.0);
	CHECK_CLOSE(an_model_percentile(&model, 100.0), 1.0, 1e-15, 0);
	CHECK_CLOSE(an_model_percentile(&model, 0.0), 0.0, 1e-15, 1e-15);
	CHECK_CLOSE(an_model_percentile(&model, 25.5), 0.255, 1e-12, 0);
	CHECK_CLOSE(an_model_percentile(&model, 50.0), 0.55, 1e-12, 0);
	CHECK_CLOSE(an_model_percentile(&model, 61.0), 0.61, 1e-12, 0);
	CHECK_CLOSE(an_model_percentile(&model, 55.0), 0.60 + 0.01 * 5.0 / 11.0, 1e-12, 0);
	CHECK(isnan(an_model_percentile(&model, NAN)));
	/* monotone over the whole range */
	for (double s = -5.0; s <= 105.0; s += 0.25)
	{
		double		p = an_model_percentile(&model, s);

		CHECK(p >= prev && p >= 0.0 && p <= 1.0);
		prev = p;
	}
}

/*
 * Rows ever farther from the training data along one direction of the
 * numeric columns (the boolean and categorical dimensions those of a
 * typical row), at 4 to 256 scaled units: every method must give them
 * strictly increasing scores.  A plateau (OC-NN's vanished kernel
 * features, the isolation forest's and ECOD's floors beyond the training
 * range) makes "the top N rows" an arbitrary pick among ties.
 */
UNIT_TEST(scores_separate_far_rows)
{
	static const double direction[FIX_NUMERIC] = {1.0, -0.5, 0.25, 0.8, -1.2};
	const double distances[] = {4, 8, 16, 32, 64, 128, 256};
	const int	n_far = AN_LENGTHOF(distances);

	for (int i = 0; an_method_at(i); i++)
	{
		const AnMethod *m = an_method_at(i);
		AnContext	ctx;
		AnModel		model;
		float		rows[AN_LENGTHOF(distances) * FIX_DIM];
		double		scores[AN_LENGTHOF(distances)];

		unit_context_malloc(&ctx);
		if (trained_decoded(&ctx, m, &model) != AN_OK)
		{
			unit_fail(__FILE__, __LINE__, "%s: training failed: %s", m->name, ctx.errmsg);
			continue;
		}
		for (int k = 0; k < n_far; k++)
		{
			float	   *row = rows + (size_t) k * FIX_DIM;

			memset(row, 0, sizeof(float) * FIX_DIM);
			for (int j = 0; j < FIX_NUMERIC; j++)
				row[j] = (float) (distances[k] * direction[j]);
			row[FIX_NUMERIC + 1] = 1.0f;	/* the first category */
		}
		an_model_score_scaled(&model, rows, n_far, scores);
		for (int k = 1; k < n_far; k++)
			if (!(scores[k] > scores[k - 1]))
				unit_fail(__FILE__, __LINE__,
						  "%s: distance %g scores %.17g, distance %g scores %.17g",
						  m->name, distances[k - 1], scores[k - 1], distances[k], scores[k]);
		an_model_free(&ctx, &model);
	}
}
