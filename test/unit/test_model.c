/*-------------------------------------------------------------------------
 *
 * test_model.c
 *	  End-to-end tests of the autoencoder: training on a synthetic data
 *	  set, threshold and quantiles, outlier scores, freeing and
 *	  interruption (seeds and allocation failures: test_methods.c).
 *
 * IDENTIFICATION
 *	  test/unit/test_model.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "fixture.h"
#include "unit.h"

/* numpy.quantile (linear) of an unsorted sample, computed independently */
static double
numpy_quantile(const double *v, size_t n, double q)
{
	double	   *s = malloc(n * sizeof(double));
	double		pos = q * (double) (n - 1);
	size_t		lo;
	double		r;

	memcpy(s, v, n * sizeof(double));
	/* insertion sort: slow but obviously right */
	for (size_t i = 1; i < n; i++)
	{
		double		x = s[i];
		size_t		j = i;

		for (; j > 0 && s[j - 1] > x; j--)
			s[j] = s[j - 1];
		s[j] = x;
	}
	lo = (size_t) pos;
	r = lo + 1 < n ? s[lo] + (pos - lo) * (s[lo + 1] - s[lo]) : s[n - 1];
	free(s);
	return r;
}

UNIT_TEST(model_training_reduces_loss)
{
	FixtureModel *fm = fixture_trained();
	double		best_val = INFINITY;

	REQUIRE(fm->status == AN_OK);
	REQUIRE(fm->n_reports >= 2);
	CHECK(fm->n_reports == fm->model.epochs_run);
	CHECK(fm->model.epochs_run <= fm->opts.epochs);
	for (int i = 0; i < fm->n_reports; i++)
	{
		const AnEpochReport *r = &fm->reports[i];

		CHECK(r->epoch == i + 1);
		CHECK(r->epochs == fm->opts.epochs);
		CHECK_STR(r->phase, "train");
		CHECK(isfinite(r->train_loss) && r->train_loss > 0);
		/* 10% of 2000 rows are held out */
		CHECK(isfinite(r->val_loss));
		CHECK(r->rows_per_second > 0 && r->seconds >= 0);
		CHECK(r->improved == (r->val_loss < best_val));
		if (r->val_loss < best_val)
			best_val = r->val_loss;
	}
	/* the standardised data starts near loss 1 and is learnt well */
	CHECK(fm->reports[fm->n_reports - 1].train_loss < 0.5 * fm->reports[0].train_loss);
	CHECK(fm->reports[fm->n_reports - 1].val_loss < 0.5 * fm->reports[0].val_loss);
	/* the model keeps the best validation loss */
	CHECK(fm->model.loss == best_val);

	/*
	 * This data set plateaus well before 60 epochs: early stopping ends
	 * training exactly patience epochs after the best one.
	 */
	CHECK(fm->model.epochs_run < fm->opts.epochs);
	if (fm->model.epochs_run < fm->opts.epochs)
	{
		int			patience = fm->opts.early_stopping_patience;

		REQUIRE(patience > 0 && fm->n_reports > patience);
		CHECK(fm->reports[fm->n_reports - 1 - patience].improved);
		CHECK(fm->reports[fm->n_reports - 1 - patience].val_loss == best_val);
		for (int i = fm->n_reports - patience; i < fm->n_reports; i++)
			CHECK(!fm->reports[i].improved);
	}
	CHECK(fm->model.trained_rows == 2000);
	CHECK(fm->model.seed == 42);
	CHECK(fm->model.method == an_method_lookup("autoencoder"));
	CHECK(fm->model.contamination == 0.01);
}

UNIT_TEST(model_threshold_and_quantiles)
{
	FixtureModel *fm = fixture_trained();
	AnModel    *m = &fm->model;
	double	   *scores = malloc(fm->n * sizeof(double));
	double	   *raw_scores = malloc(fm->n * sizeof(double));
	size_t		above = 0;
	int			raw_mismatch = 0;

	REQUIRE(fm->status == AN_OK);
	an_model_score_scaled(m, fm->x, fm->n, scores);
	an_model_score_raw(m, fm->raw, fm->n, raw_scores);
	for (size_t i = 0; i < fm->n; i++)
	{
		above += scores[i] > m->threshold;
		raw_mismatch += memcmp(&scores[i], &raw_scores[i], sizeof(double)) != 0;
		CHECK(scores[i] >= 0);
	}
	/* scoring raw rows scales them exactly as training did */
	CHECK(raw_mismatch == 0);

	CHECK_CLOSE(m->threshold, numpy_quantile(scores, fm->n, 0.99), 1e-12, 0);
	for (int q = 0; q < AN_N_QUANTILES; q++)
		CHECK_CLOSE(m->quantiles[q], numpy_quantile(scores, fm->n, q / 100.0), 1e-12, 0);
	for (int q = 1; q < AN_N_QUANTILES; q++)
		CHECK(m->quantiles[q] >= m->quantiles[q - 1]);
	CHECK(m->quantiles[0] < m->quantiles[100]);
	CHECK(m->threshold >= m->quantiles[98] && m->threshold <= m->quantiles[100]);
	/* 1% of 2000 rows above the 99th percentile */
	CHECK(above >= 15 && above <= 20);
	free(scores);
	free(raw_scores);
}

UNIT_TEST(model_outliers_score_above_threshold)
{
	FixtureModel *fm = fixture_trained();
	enum
	{
		N_OUT = 50
	};
	int			flagged,
				normal_flagged;

	REQUIRE(fm->status == AN_OK);
	fixture_count_flagged(&fm->model, N_OUT, &flagged, &normal_flagged);
	CHECK(flagged == N_OUT);
	/* fresh normal rows are mostly below it (1% expected) */
	CHECK(normal_flagged <= 3);
}

UNIT_TEST(model_free_leaks_nothing)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnModel		model;
	float	   *x;

	unit_context_counting(&ctx, &counter);
	REQUIRE(fixture_fit(&ctx, &model, 300, 3, 9, &x) == AN_OK);
	CHECK(counter.outstanding > 0);
	CHECK(model.scratch != NULL);
	an_model_free(&ctx, &model);
	CHECK(model.state == NULL && model.scratch == NULL);
	CHECK_NO_LEAKS(&counter);
	/* a second free is harmless */
	an_model_free(&ctx, &model);
	CHECK_NO_LEAKS(&counter);
	free(x);
}

/*
 * The counting allocator's state first (it is the allocator's arg), then
 * what the interrupt and progress callbacks record: one ctx->arg for all.
 */
typedef struct ProbeArg
{
	UnitAlloc	counter;
	int			calls;
	int			stop_at;
	int			reports;
} ProbeArg;

static bool
interrupt_at(void *arg)
{
	ProbeArg   *p = arg;

	return ++p->calls >= p->stop_at;
}

static void
count_reports(void *arg, const AnEpochReport *report)
{
	ProbeArg   *p = arg;

	(void) report;
	p->reports++;
}

UNIT_TEST(model_interrupt_stops_training)
{
	static const int stops[] = {1, 5, 40};

	for (size_t s = 0; s < sizeof(stops) / sizeof(stops[0]); s++)
	{
		AnContext	ctx;
		ProbeArg	arg = {{0}, 0, stops[s], 0};
		AnModel		model;
		float	   *x;

		unit_context_counting(&ctx, &arg.counter);
		ctx.arg = &arg;
		ctx.interrupted = interrupt_at;
		ctx.progress = count_reports;

		/* 540 training rows in batches of 64: 9 batches per epoch */
		CHECK_STATUS(fixture_fit(&ctx, &model, 600, 50, 3, &x), AN_ERR_INTERRUPTED);
		CHECK_CONTAINS(ctx.errmsg, "interrupted");
		/* asked before every batch, and never again once it said stop */
		CHECK(arg.calls == stops[s]);
		CHECK(arg.reports == (stops[s] - 1) / 9);
		an_model_free(&ctx, &model);
		CHECK_NO_LEAKS(&arg.counter);
		free(x);
	}
}
