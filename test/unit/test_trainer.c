/*-------------------------------------------------------------------------
 *
 * test_trainer.c
 *	  Unit tests of the epoch loop (an_train) and of an_model_fit's
 *	  generic part, driven by a scripted method whose losses and scores
 *	  are chosen by the test.
 *
 * The scripted method's input rows are [i, 0]: row i carries its own
 * index, so the method can record which rows it was given.  Its only
 * parameter w[0] counts the optimiser steps taken, which shows which
 * epoch's weights the trainer restored.
 *
 * IDENTIFICATION
 *	  test/unit/test_trainer.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "anomaly/model.h"
#include "unit.h"

#define MAX_ROWS 1024

typedef struct Script
{
	const double *val_losses;	/* eval_loss of epoch k (the last repeats) */
	int			n_val_losses;
	int			nan_loss_epoch; /* train_batch returns NaN in this epoch */
	int			inf_param_epoch;	/* w[1] becomes Inf in this epoch */
	int			nan_score_row;	/* score of this row is NaN (-1: none) */
} Script;

typedef struct Scripted
{
	float		w[2];
	float		g[2];
	const Script *script;
	int			batches;
	int			epochs_ended;
	size_t		epoch_end_n;
	int			evals;
	size_t		eval_n;
	int			prepares;
	int			train_visits[MAX_ROWS];
	int			val_visits[MAX_ROWS];
} Scripted;

static const Script *current_script;

static AnStatus
scripted_create(AnContext *ctx, const AnOptions *opts, int dim, AnRng *rng,
				void **state)
{
	Scripted   *s = an_alloc0(ctx, sizeof(Scripted));

	if (!s)
		return an_nomem(ctx);
	s->script = current_script;
	*state = s;
	return AN_OK;
}

static AnStatus
scripted_prepare(AnContext *ctx, void *state, const AnOptions *opts,
				 const float *x, size_t n, AnRng *rng)
{
	((Scripted *) state)->prepares++;
	return AN_OK;
}

static double
scripted_train_batch(void *state, const float *x, int n, AnRng *rng)
{
	Scripted   *s = state;
	int			epoch = s->epochs_ended + 1;

	for (int i = 0; i < n; i++)
		s->train_visits[(int) x[2 * i]]++;
	s->batches++;
	s->w[0] += 1.0f;
	if (epoch == s->script->inf_param_epoch)
		s->w[1] = INFINITY;
	if (epoch == s->script->nan_loss_epoch)
		return NAN;
	return (double) n;
}

static double
scripted_eval_loss(void *state, const float *x, size_t n)
{
	Scripted   *s = state;
	int			k = s->evals < s->script->n_val_losses ? s->evals
		: s->script->n_val_losses - 1;

	for (size_t i = 0; i < n; i++)
		s->val_visits[(int) x[2 * i]]++;
	s->evals++;
	s->eval_n = n;
	return s->script->val_losses[k];
}

static AnStatus
scripted_epoch_end(AnContext *ctx, void *state, const float *x, size_t n)
{
	Scripted   *s = state;

	s->epochs_ended++;
	s->epoch_end_n = n;
	return AN_OK;
}

static void
scripted_params(void *state, AnParamList *list)
{
	Scripted   *s = state;

	an_params_add(list, s->w, s->g, 2);
}

static void
scripted_score(void *state, const float *x, int n, double *out)
{
	Scripted   *s = state;

	for (int i = 0; i < n; i++)
		out[i] = (int) x[2 * i] == s->script->nan_score_row ? NAN : x[2 * i];
}

static AnStatus
scripted_encode(AnContext *ctx, const void *state, AnPacker *pk)
{
	msgpack_pack_map(pk, 1);
	an_pack_key_floats(pk, "w", ((const Scripted *) state)->w, 2);
	return AN_OK;
}

static AnStatus
scripted_decode(AnContext *ctx, const AnObject *obj, int dim, void **state)
{
	return an_error(ctx, AN_ERR_CORRUPT, "not decodable");
}

static void
scripted_destroy(AnContext *ctx, void *state)
{
	an_free(ctx, state);
}

static const AnMethod scripted_method = {
	.name = "scripted",
	.create = scripted_create,
	.prepare = scripted_prepare,
	.train_batch = scripted_train_batch,
	.eval_loss = scripted_eval_loss,
	.epoch_end = scripted_epoch_end,
	.params = scripted_params,
	.score = scripted_score,
	.encode = scripted_encode,
	.decode = scripted_decode,
	.destroy = scripted_destroy,
};

/* rows [i, 0] */
static float *
index_rows(size_t n)
{
	float	   *x = calloc(2 * n + 1, sizeof(float));

	for (size_t i = 0; i < n; i++)
		x[2 * i] = (float) i;
	return x;
}

typedef struct Recorder
{
	UnitAlloc	counter;		/* first: the allocator's arg */
	int			n_reports;
	AnEpochReport reports[64];
	int			interrupt_calls;
	int			interrupt_at;	/* 0: never */
} Recorder;

static void
record(void *arg, const AnEpochReport *report)
{
	Recorder   *r = arg;

	if (r->n_reports < 64)
		r->reports[r->n_reports++] = *report;
}

static bool
interrupted(void *arg)
{
	Recorder   *r = arg;

	r->interrupt_calls++;
	return r->interrupt_at > 0 && r->interrupt_calls >= r->interrupt_at;
}

static void
recorder_context(AnContext *ctx, Recorder *r)
{
	memset(r, 0, sizeof(*r));
	unit_context_counting(ctx, &r->counter);
	ctx->arg = r;
	ctx->progress = record;
	ctx->interrupted = interrupted;
}

static void
scripted_options(AnContext *ctx, AnOptions *opts, int epochs, int batch,
				 double val_fraction, int patience)
{
	if (an_options_init(ctx, opts, &scripted_method) != AN_OK)
		unit_fail(__FILE__, __LINE__, "an_options_init: %s", ctx->errmsg);
	opts->epochs = epochs;
	opts->batch_size = batch;
	opts->validation_fraction = val_fraction;
	opts->early_stopping_patience = patience;
	opts->seed = 1;
}

/* create the scripted state and run an_train on n index rows */
static AnStatus
run_train(AnContext *ctx, const Script *script, const AnOptions *opts, size_t n,
		  Scripted **state, AnTrainResult *result)
{
	AnRng		rng;
	float	   *x = index_rows(n);
	AnStatus	st;
	void	   *s = NULL;

	current_script = script;
	an_rng_seed(&rng, 1);
	st = scripted_create(ctx, opts, 2, &rng, &s);
	if (st == AN_OK)
		st = an_train(ctx, &scripted_method, s, opts, x, n, 2, &rng, result);
	*state = s;
	free(x);
	return st;
}

static const double flat_losses[1] = {1.0};

UNIT_TEST(trainer_visits_rows_and_holds_out_validation)
{
	AnContext	ctx;
	Recorder	rec;
	AnOptions	opts;
	AnTrainResult result;
	Scripted   *s;
	Script		script = {flat_losses, 1, 0, 0, -1};
	int			trained = 0,
				held_out = 0;

	recorder_context(&ctx, &rec);
	/* 103 rows, 20% held out: 20 validation rows, 83 in 9 batches */
	scripted_options(&ctx, &opts, 4, 10, 0.2, 0);
	REQUIRE(run_train(&ctx, &script, &opts, 103, &s, &result) == AN_OK);
	for (int i = 0; i < 103; i++)
	{
		CHECK(s->train_visits[i] == 0 || s->val_visits[i] == 0);
		CHECK(s->train_visits[i] == 0 || s->train_visits[i] == 4);
		CHECK(s->val_visits[i] == 0 || s->val_visits[i] == 4);
		trained += s->train_visits[i] == 4;
		held_out += s->val_visits[i] == 4;
	}
	CHECK(trained == 83);
	CHECK(held_out == 20);
	CHECK(s->batches == 4 * 9);
	CHECK(s->evals == 4 && s->eval_n == 20);
	CHECK(s->epochs_ended == 4 && s->epoch_end_n == 103);
	CHECK(s->prepares == 0);	/* an_model_fit's business, not an_train's */
	CHECK(result.epochs_run == 4 && !result.stopped_early);
	CHECK(result.loss == 1.0);
	/* the trainer asks about interrupts before every batch */
	CHECK(rec.interrupt_calls == 4 * 9);

	/* the held-out rows are drawn at random, not taken from the front */
	CHECK(s->val_visits[0] + s->val_visits[1] + s->val_visits[2] +
		  s->val_visits[3] + s->val_visits[4] < 5 * 4);
	scripted_destroy(&ctx, s);
	CHECK_NO_LEAKS(&rec.counter);
}

UNIT_TEST(trainer_reports_each_epoch)
{
	AnContext	ctx;
	Recorder	rec;
	AnOptions	opts;
	AnTrainResult result;
	Scripted   *s;
	static const double losses[4] = {3, 2, 2, 1};
	Script		script = {losses, 4, 0, 0, -1};

	recorder_context(&ctx, &rec);
	/* 100 rows, 10 held out, 90 in batches of 40, 40, 10 */
	scripted_options(&ctx, &opts, 4, 40, 0.1, 0);
	REQUIRE(run_train(&ctx, &script, &opts, 100, &s, &result) == AN_OK);
	REQUIRE(rec.n_reports == 4);
	for (int e = 0; e < 4; e++)
	{
		const AnEpochReport *r = &rec.reports[e];

		CHECK(r->epoch == e + 1 && r->epochs == 4);
		CHECK_STR(r->phase, "train");
		/* the batch losses (= batch sizes) averaged over rows */
		CHECK_NEAR(r->train_loss, (40.0 * 40 + 40 * 40 + 10 * 10) / 90, 1e-12);
		CHECK(r->val_loss == losses[e]);
		CHECK(r->rows_per_second > 0 && isfinite(r->rows_per_second));
		CHECK(r->seconds >= 0);
		if (e > 0)
			CHECK(r->seconds >= rec.reports[e - 1].seconds);
	}
	/* a tie is not an improvement */
	CHECK(rec.reports[0].improved && rec.reports[1].improved);
	CHECK(!rec.reports[2].improved && rec.reports[3].improved);
	CHECK(result.loss == 1.0);
	scripted_destroy(&ctx, s);
	CHECK_NO_LEAKS(&rec.counter);
}

UNIT_TEST(trainer_early_stopping_restores_best)
{
	AnContext	ctx;
	Recorder	rec;
	AnOptions	opts;
	AnTrainResult result;
	Scripted   *s;
	static const double losses[8] = {5, 4, 3, 3.5, 3.2, 3.1, 2.0, 1.0};
	static const double dip[4] = {5, 1, 3, 4};
	Script		script = {losses, 8, 0, 0, -1};
	Script		script2 = {dip, 4, 0, 0, -1};

	recorder_context(&ctx, &rec);
	/* 50 rows, 5 held out, 45 in 5 batches of 10 */
	scripted_options(&ctx, &opts, 8, 10, 0.1, 3);
	REQUIRE(run_train(&ctx, &script, &opts, 50, &s, &result) == AN_OK);
	/* best at epoch 3, three stale epochs, stop after epoch 6 */
	CHECK(result.epochs_run == 6);
	CHECK(result.stopped_early);
	CHECK(result.loss == 3.0);
	CHECK(rec.n_reports == 6);
	CHECK(s->batches == 6 * 5);
	/* the weights of epoch 3 are back */
	CHECK(s->w[0] == 3 * 5);
	scripted_destroy(&ctx, s);

	/* without early stopping: every epoch, and still the best weights */
	scripted_options(&ctx, &opts, 4, 10, 0.1, 0);
	REQUIRE(run_train(&ctx, &script2, &opts, 50, &s, &result) == AN_OK);
	CHECK(result.epochs_run == 4 && !result.stopped_early);
	CHECK(result.loss == 1.0);
	CHECK(s->w[0] == 2 * 5);
	scripted_destroy(&ctx, s);
	CHECK_NO_LEAKS(&rec.counter);
}

UNIT_TEST(trainer_without_validation_monitors_train_loss)
{
	AnContext	ctx;
	Recorder	rec;
	AnOptions	opts;
	AnTrainResult result;
	Scripted   *s;
	Script		script = {flat_losses, 1, 0, 0, -1};

	recorder_context(&ctx, &rec);
	/* 15 rows: too few to hold any out; batches 4, 4, 4, 3 */
	scripted_options(&ctx, &opts, 10, 4, 0.1, 2);
	REQUIRE(run_train(&ctx, &script, &opts, 15, &s, &result) == AN_OK);
	CHECK(s->evals == 0);
	for (int i = 0; i < 15; i++)
		CHECK(s->train_visits[i] == result.epochs_run);
	REQUIRE(rec.n_reports >= 1);
	CHECK(isnan(rec.reports[0].val_loss));
	CHECK_NEAR(rec.reports[0].train_loss, 57.0 / 15, 1e-12);
	/* a constant training loss improves once, then stalls for 2 epochs */
	CHECK(result.epochs_run == 3 && result.stopped_early);
	CHECK_NEAR(result.loss, 57.0 / 15, 1e-12);
	scripted_destroy(&ctx, s);

	/* validation_fraction 0 holds nothing out even with many rows */
	scripted_options(&ctx, &opts, 2, 16, 0.0, 0);
	REQUIRE(run_train(&ctx, &script, &opts, 100, &s, &result) == AN_OK);
	CHECK(s->evals == 0);
	CHECK(s->train_visits[0] == 2 && s->train_visits[99] == 2);
	scripted_destroy(&ctx, s);
	CHECK_NO_LEAKS(&rec.counter);
}

UNIT_TEST(trainer_detects_divergence)
{
	AnContext	ctx;
	Recorder	rec;
	AnOptions	opts;
	AnTrainResult result;
	Scripted   *s;
	Script		nan_loss = {flat_losses, 1, 2, 0, -1};
	Script		inf_param = {flat_losses, 1, 0, 3, -1};

	recorder_context(&ctx, &rec);
	scripted_options(&ctx, &opts, 5, 10, 0.1, 0);
	CHECK_STATUS(run_train(&ctx, &nan_loss, &opts, 50, &s, &result), AN_ERR_NUMERIC);
	CHECK_CONTAINS(ctx.errmsg, "epoch 2");
	CHECK(rec.n_reports == 1);
	scripted_destroy(&ctx, s);

	rec.n_reports = 0;
	CHECK_STATUS(run_train(&ctx, &inf_param, &opts, 50, &s, &result), AN_ERR_NUMERIC);
	CHECK_CONTAINS(ctx.errmsg, "epoch 3");
	CHECK(rec.n_reports == 2);
	scripted_destroy(&ctx, s);
	CHECK_NO_LEAKS(&rec.counter);
}

UNIT_TEST(trainer_interrupt_and_bad_input)
{
	AnContext	ctx;
	Recorder	rec;
	AnOptions	opts;
	AnTrainResult result;
	Scripted   *s;
	Script		script = {flat_losses, 1, 0, 0, -1};

	recorder_context(&ctx, &rec);
	rec.interrupt_at = 7;
	/* 45 training rows, 5 batches per epoch: stops in epoch 2 */
	scripted_options(&ctx, &opts, 5, 10, 0.1, 0);
	CHECK_STATUS(run_train(&ctx, &script, &opts, 50, &s, &result), AN_ERR_INTERRUPTED);
	CHECK(rec.interrupt_calls == 7);
	CHECK(s->batches == 6);
	CHECK(rec.n_reports == 1);
	scripted_destroy(&ctx, s);
	CHECK_NO_LEAKS(&rec.counter);

	rec.interrupt_at = 0;
	CHECK_STATUS(run_train(&ctx, &script, &opts, 0, &s, &result), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "no rows");
	scripted_destroy(&ctx, s);

	/* every allocation of an_train may fail without a leak */
	for (long k = 1; k <= 4; k++)
	{
		rec.counter.n_allocs = 0;
		rec.counter.fail_at = k + 1;	/* allocation 1 is the state */
		CHECK_STATUS(run_train(&ctx, &script, &opts, 50, &s, &result), AN_ERR_NOMEM);
		rec.counter.fail_at = 0;
		scripted_destroy(&ctx, s);
		CHECK_NO_LEAKS(&rec.counter);
	}
}

/* ---- an_model_fit's generic part ---- */

static AnStatus
scripted_model(AnContext *ctx, AnModel *model)
{
	AnFeature  *f;

	memset(model, 0, sizeof(*model));
	f = an_alloc_array(ctx, 2, sizeof(AnFeature));
	if (!f)
		return an_nomem(ctx);
	model->spec.features = f;
	model->spec.n_features = 2;
	f[0].name = an_strdup(ctx, "index");
	f[1].name = an_strdup(ctx, "zero");
	if (!f[0].name || !f[1].name)
		return an_nomem(ctx);
	AN_TRY(an_spec_layout(ctx, &model->spec));
	return an_scaler_alloc(ctx, &model->scaler, 2);
}

UNIT_TEST(model_fit_threshold_from_scores)
{
	AnContext	ctx;
	Recorder	rec;
	AnOptions	opts;
	AnModel		model;
	Script		script = {flat_losses, 1, 0, 0, -1};
	float	   *x = index_rows(201);
	double		raw[4] = {17, 0, 250.5, 0};
	double		scores[2];

	recorder_context(&ctx, &rec);
	current_script = &script;
	scripted_options(&ctx, &opts, 3, 32, 0.1, 0);
	opts.contamination = 0.05;
	opts.seed = 77;
	REQUIRE(scripted_model(&ctx, &model) == AN_OK);
	REQUIRE(an_model_fit(&ctx, &model, &opts, x, 201) == AN_OK);

	/* scores are the row indexes 0..200: percentile k is 2k */
	for (int q = 0; q < AN_N_QUANTILES; q++)
		CHECK_NEAR(model.quantiles[q], 2.0 * q, 1e-9);
	CHECK_NEAR(model.threshold, 190.0, 1e-9);
	CHECK(model.contamination == 0.05);
	CHECK(model.seed == 77);
	CHECK(model.trained_rows == 201);
	CHECK(model.epochs_run == 3);
	CHECK(model.loss == 1.0);
	CHECK(model.method == &scripted_method);
	CHECK(((Scripted *) model.state)->prepares == 1);
	REQUIRE(model.scratch != NULL);

	/* raw scoring goes through the scaler (identity here) */
	an_model_score_raw(&model, raw, 2, scores);
	CHECK(scores[0] == 17 && scores[1] == 250.5);

	an_model_free(&ctx, &model);
	CHECK_NO_LEAKS(&rec.counter);
	free(x);
}

UNIT_TEST(model_fit_rejects_non_finite_scores)
{
	AnContext	ctx;
	Recorder	rec;
	AnOptions	opts;
	AnModel		model;
	Script		script = {flat_losses, 1, 0, 0, 33};
	float	   *x = index_rows(100);

	recorder_context(&ctx, &rec);
	current_script = &script;
	scripted_options(&ctx, &opts, 1, 32, 0.1, 0);
	REQUIRE(scripted_model(&ctx, &model) == AN_OK);
	CHECK_STATUS(an_model_fit(&ctx, &model, &opts, x, 100), AN_ERR_NUMERIC);
	CHECK_CONTAINS(ctx.errmsg, "non-finite score");
	an_model_free(&ctx, &model);
	CHECK_NO_LEAKS(&rec.counter);
	free(x);
}

UNIT_TEST(model_encode_unknown_method_is_refused)
{
	AnContext	ctx;
	Recorder	rec;
	AnOptions	opts;
	AnModel		model,
				back;
	Script		script = {flat_losses, 1, 0, 0, -1};
	float	   *x = index_rows(50);
	char	   *data = NULL;
	size_t		len = 0;

	recorder_context(&ctx, &rec);
	current_script = &script;
	scripted_options(&ctx, &opts, 1, 32, 0.1, 0);
	REQUIRE(scripted_model(&ctx, &model) == AN_OK);
	REQUIRE(an_model_fit(&ctx, &model, &opts, x, 50) == AN_OK);
	REQUIRE(an_model_encode(&ctx, &model, &data, &len) == AN_OK);
	CHECK_STATUS(an_model_decode(&ctx, data, len, &back), AN_ERR_CORRUPT);
	CHECK_CONTAINS(ctx.errmsg, "unknown method \"scripted\"");
	an_free(&ctx, data);
	an_model_free(&ctx, &model);
	CHECK_NO_LEAKS(&rec.counter);
	free(x);
}
