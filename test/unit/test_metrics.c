/*-------------------------------------------------------------------------
 *
 * test_metrics.c
 *	  Unit tests of metrics.c against hand-computed values, ties included.
 *
 * IDENTIFICATION
 *	  test/unit/test_metrics.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "anomaly/metrics.h"
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
