/*-------------------------------------------------------------------------
 *
 * test_metrics.c
 *	  Unit tests of metrics.c against hand-computed values, ties included,
 *	  and of the contamination => 'auto' threshold (stats.c).
 *
 * IDENTIFICATION
 *	  test/unit/test_metrics.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly/metrics.h"
#include "anomaly/rng.h"
#include "anomaly/stats.h"
#include "fixture.h"
#include "unit.h"

/*
 * Seven rows with ties across the classes:
 *
 *	 score	0.9  0.8  0.8  0.5  0.5  0.5  0.1
 *	 label	 1	  1	   0	1	 0	  0	   0
 *
 * AUROC: of the 3 x 4 (anomaly, normal) pairs, the 0.9 anomaly wins 4, the
 * 0.8 one wins 3 and ties 1 (3.5), the 0.5 one wins 1 and ties 2 (2):
 * 9.5 / 12.  Average precision, one point per distinct score: recall
 * 1/3 at precision 1, 2/3 at 2/3, 1 at 1/2: (1 + 2/3 + 1/2) / 3 = 13/18.
 * F1 after each group: 1/2, 2/3, 2/3, 3/5; the first 2/3 flags the rows
 * above 0.5, so threshold_best is 0.5.
 */
static const double tie_scores[] = {0.9, 0.8, 0.8, 0.5, 0.5, 0.5, 0.1};
static const bool tie_labels[] = {true, true, false, true, false, false, false};

UNIT_TEST(metrics_ties_hand_computed)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnMetrics	m;

	unit_context_counting(&ctx, &counter);
	REQUIRE(an_metrics_compute(&ctx, tie_scores, tie_labels, 7, 0.5, &m) == AN_OK);
	CHECK(m.n == 7);
	CHECK(m.n_positive == 3);
	CHECK_CLOSE(m.auroc, 9.5 / 12.0, 1e-14, 0);
	CHECK_CLOSE(m.auprc, 13.0 / 18.0, 1e-14, 0);
	CHECK_CLOSE(m.f1_best, 2.0 / 3.0, 1e-14, 0);
	CHECK(m.threshold_best == 0.5);
	/* threshold 0.5: the rows above it are 0.9, 0.8, 0.8 */
	CHECK_CLOSE(m.precision, 2.0 / 3.0, 1e-14, 0);
	CHECK_CLOSE(m.recall, 2.0 / 3.0, 1e-14, 0);
	CHECK_NO_LEAKS(&counter);

	/* the order of the input does not matter */
	{
		double		s[7];
		bool		l[7];
		AnMetrics	r;

		for (int i = 0; i < 7; i++)
		{
			s[i] = tie_scores[6 - i];
			l[i] = tie_labels[6 - i];
		}
		REQUIRE(an_metrics_compute(&ctx, s, l, 7, 0.5, &r) == AN_OK);
		CHECK(r.auroc == m.auroc && r.auprc == m.auprc && r.f1_best == m.f1_best &&
			  r.threshold_best == m.threshold_best);
	}
}

UNIT_TEST(metrics_threshold_positions)
{
	AnContext	ctx;
	AnMetrics	m;

	unit_context_malloc(&ctx);
	/* only the 0.9 row is above 0.8 */
	REQUIRE(an_metrics_compute(&ctx, tie_scores, tie_labels, 7, 0.8, &m) == AN_OK);
	CHECK_CLOSE(m.precision, 1.0, 1e-14, 0);
	CHECK_CLOSE(m.recall, 1.0 / 3.0, 1e-14, 0);
	/* nothing flagged: precision is undefined, recall 0 */
	REQUIRE(an_metrics_compute(&ctx, tie_scores, tie_labels, 7, 1.0, &m) == AN_OK);
	CHECK(isnan(m.precision));
	CHECK(m.recall == 0.0);
	/* everything flagged */
	REQUIRE(an_metrics_compute(&ctx, tie_scores, tie_labels, 7, 0.0, &m) == AN_OK);
	CHECK_CLOSE(m.precision, 3.0 / 7.0, 1e-14, 0);
	CHECK(m.recall == 1.0);
}

/*
 * Every score tied: AUROC 1/2, average precision the share of anomalies
 * (one point, recall 1 at precision 2/4), and the best F1 flags every row
 * (2 x 2 / (2 x 2 + 2) = 2/3) at a threshold just below the score.
 */
UNIT_TEST(metrics_all_tied)
{
	AnContext	ctx;
	AnMetrics	m;
	const double s[] = {3, 3, 3, 3};
	const bool	l[] = {true, false, false, true};

	unit_context_malloc(&ctx);
	REQUIRE(an_metrics_compute(&ctx, s, l, 4, 3.0, &m) == AN_OK);
	CHECK_CLOSE(m.auroc, 0.5, 1e-14, 0);
	CHECK_CLOSE(m.auprc, 0.5, 1e-14, 0);
	CHECK_CLOSE(m.f1_best, 2.0 / 3.0, 1e-14, 0);
	CHECK(m.threshold_best < 3.0 && m.threshold_best > 2.999999);
	CHECK(isnan(m.precision));
}

/* perfect and reversed rankings, with a tie inside each class */
UNIT_TEST(metrics_perfect_and_reversed)
{
	AnContext	ctx;
	AnMetrics	m;
	const double s[] = {5, 5, 1, 2, 2};
	const bool	good[] = {true, true, false, false, false};
	const bool	bad[] = {false, false, true, true, true};

	unit_context_malloc(&ctx);
	REQUIRE(an_metrics_compute(&ctx, s, good, 5, 2.0, &m) == AN_OK);
	CHECK(m.auroc == 1.0 && m.auprc == 1.0 && m.f1_best == 1.0);
	CHECK(m.threshold_best == 2.0);
	CHECK(m.precision == 1.0 && m.recall == 1.0);
	REQUIRE(an_metrics_compute(&ctx, s, bad, 5, 2.0, &m) == AN_OK);
	CHECK(m.auroc == 0.0);
	/* recall 2/3 at precision 2/4 (the 2s after the 5s), then 1 at 3/5 */
	CHECK_CLOSE(m.auprc, (2.0 / 3.0) * 0.5 + (1.0 / 3.0) * 0.6, 1e-14, 0);
}

UNIT_TEST(metrics_errors)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnMetrics	m;
	const double s[] = {1, 2, 3};
	const double bad[] = {1, NAN, 3};
	const bool	one[] = {true, true, true};
	const bool	mixed[] = {true, false, true};

	unit_context_counting(&ctx, &counter);
	CHECK_STATUS(an_metrics_compute(&ctx, s, one, 3, 0, &m), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "all anomalies");
	CHECK_STATUS(an_metrics_compute(&ctx, bad, mixed, 3, 0, &m), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "not finite");
	counter.fail_at = counter.n_allocs + 1;
	CHECK_STATUS(an_metrics_compute(&ctx, s, mixed, 3, 0, &m), AN_ERR_NOMEM);
	CHECK_NO_LEAKS(&counter);
}

/* ---- contamination => 'auto' ---- */

/*
 * Positive scores {1, 2, 3, 4, 100} are taken in logs: the median is
 * log 3, the deviations log 3, log 3/2, 0, log 4/3, log 100/3, whose
 * median is log 3/2: the threshold is 3 (3/2)^(5 x 1.4826), about 60.6.
 * Scores with a 0 or below stay as they are: {-1, 0, 1, 2, 10} has median
 * 1 and MAD 1, threshold 1 + 5 x 1.4826.  Mostly tied scores {0, 0, 0, 0,
 * 5} have a MAD of 0 and a mean absolute deviation of 1: 5 x 1.2533.
 * Scores all tied give their value, which flags nothing.
 */
UNIT_TEST(threshold_auto_by_hand)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	const double pos[] = {1, 2, 3, 4, 100};
	const double mixed[] = {-1, 0, 1, 2, 10};
	const double ties[] = {0, 0, 0, 0, 5};
	const double flat[] = {2, 2, 2};
	double		t;

	unit_context_counting(&ctx, &counter);
	REQUIRE(an_threshold_auto(&ctx, pos, 5, &t) == AN_OK);
	CHECK_CLOSE(t, 3.0 * pow(1.5, 5.0 * 1.4826), 1e-12, 0);
	CHECK(t > 4 && t < 100);
	REQUIRE(an_threshold_auto(&ctx, mixed, 5, &t) == AN_OK);
	CHECK_CLOSE(t, 1.0 + 5.0 * 1.4826, 1e-12, 0);
	REQUIRE(an_threshold_auto(&ctx, ties, 5, &t) == AN_OK);
	CHECK_CLOSE(t, 5.0 * 1.2533, 1e-12, 0);
	REQUIRE(an_threshold_auto(&ctx, flat, 3, &t) == AN_OK);
	CHECK(t == 2.0);
	CHECK_NO_LEAKS(&counter);
	counter.fail_at = counter.n_allocs + 1;
	CHECK_STATUS(an_threshold_auto(&ctx, pos, 5, &t), AN_ERR_NOMEM);
	CHECK_NO_LEAKS(&counter);
}

/*
 * The option takes "auto" or a number; a model trained with "auto" has
 * the threshold of the rule on its training scores and records the share
 * of training rows above it as its contamination.
 */
UNIT_TEST(contamination_auto_option_and_fit)
{
	AnContext	ctx;
	AnOptions	opts;
	AnModel		model;
	AnOptionValue v;
	float	   *x = NULL;
	double	   *raw = fixture_rows(5, 400);
	double	   *scores = malloc(sizeof(double) * 400);
	double		t;
	size_t		above = 0;

	unit_context_malloc(&ctx);
	memset(&model, 0, sizeof(model));
	REQUIRE(fixture_prepare(&ctx, &model, raw, 400, AN_SCALER_STANDARD, &x) == AN_OK);
	REQUIRE(fixture_options(&ctx, &opts, 5, 3, 400) == AN_OK);
	v = unit_str("automatic");
	CHECK_STATUS(an_options_set(&ctx, &opts, "contamination", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "\"contamination\" must be a number in (0, 0.5] or \"auto\"");
	v = unit_num(0.7);
	CHECK_STATUS(an_options_set(&ctx, &opts, "contamination", &v), AN_ERR_INVALID);
	v = unit_str("auto");
	REQUIRE(an_options_set(&ctx, &opts, "contamination", &v) == AN_OK);
	CHECK(opts.contamination_auto);
	REQUIRE(an_model_fit(&ctx, &model, &opts, x, 400) == AN_OK);

	an_model_score_scaled(&model, x, 400, scores);
	an_sort_doubles(scores, 400);
	REQUIRE(an_threshold_auto(&ctx, scores, 400, &t) == AN_OK);
	CHECK(model.threshold == t);
	for (int i = 0; i < 400; i++)
		above += scores[i] > t;
	CHECK(model.contamination == above / 400.0);
	CHECK(model.contamination < 0.05);

	/* a number afterwards switches "auto" off again */
	v = unit_num(0.02);
	REQUIRE(an_options_set(&ctx, &opts, "contamination", &v) == AN_OK);
	CHECK(!opts.contamination_auto && opts.contamination == 0.02);
	an_model_free(&ctx, &model);
	an_options_free(&ctx, &opts);
	free(raw);
	free(x);
	free(scores);
}

/* qsort's order, the reference the radix sort must match */
static int
cmp_ref(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/*
 * an_sort_doubles sorts large arrays by radix: the same values as qsort
 * for negative and positive numbers, ties, both zeros, denormals and
 * infinities; with a NaN it falls back to qsort and still sorts the rest.
 */
UNIT_TEST(sort_doubles_radix_matches_qsort)
{
	const size_t n = 50000;
	double	   *v = malloc(n * sizeof(double));
	double	   *ref = malloc(n * sizeof(double));
	AnRng		rng;

	REQUIRE(v && ref);
	an_rng_seed(&rng, 7);
	for (size_t i = 0; i < n; i++)
	{
		double		u = an_rng_uniform(&rng);

		switch (i % 7)
		{
			case 0:
				v[i] = (u - 0.5) * 1e6;
				break;
			case 1:
				v[i] = exp((u - 0.5) * 600.0);	/* wide exponents */
				break;
			case 2:
				v[i] = -exp((u - 0.5) * 600.0);
				break;
			case 3:
				v[i] = (double) (int) (u * 10.0);	/* many ties */
				break;
			case 4:
				v[i] = u < 0.5 ? 0.0 : -0.0;
				break;
			case 5:
				v[i] = (u - 0.5) * 4.9e-320;	/* denormals */
				break;
			default:
				v[i] = u < 0.01 ? INFINITY : (u > 0.99 ? -INFINITY : u);
		}
	}
	memcpy(ref, v, n * sizeof(double));
	qsort(ref, n, sizeof(double), cmp_ref);
	an_sort_doubles(v, n);
	for (size_t i = 0; i < n; i++)
		if (v[i] != ref[i])
		{
			CHECK(v[i] == ref[i]);
			break;
		}
	for (size_t i = 1; i < n; i++)
		CHECK(v[i - 1] <= v[i]);

	/* a NaN: qsort's behaviour, the numbers around it still in order */
	v[n / 2] = NAN;
	an_sort_doubles(v, n);
	{
		size_t		nan_count = 0;

		for (size_t i = 0; i < n; i++)
			nan_count += isnan(v[i]);
		CHECK(nan_count == 1);
	}
	free(v);
	free(ref);
}
