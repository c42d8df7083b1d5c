/*-------------------------------------------------------------------------
 *
 * trainer.c
 *	  The epoch loop shared by every method.
 *
 * A fixed fraction of the rows, drawn at random, is held out for
 * validation; every epoch visits the other rows in a new random order in
 * mini-batches.  The weights of the epoch with the best validation loss
 * (the training loss without a validation split) are kept, and training
 * stops once that loss has not improved for early_stopping_patience
 * epochs.  The interrupt callback runs before every mini-batch, so that a
 * cancel is honoured within one optimiser step.
 *
 * IDENTIFICATION
 *	  src/core/trainer.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/trainer.h"

/* validation needs enough rows to mean something */
#define MIN_ROWS_FOR_VALIDATION 20

static void
gather_rows(const float *x, int dim, const uint32_t *idx, size_t n, float *out)
{
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * dim, x + (size_t) idx[i] * dim, dim * sizeof(float));
}

double
an_mean_block_score(AnBlockScore score, void *state, const float *x, size_t n, int dim)
{
	double		scores[AN_SCORE_BATCH];
	double		sum = 0.0;

	for (size_t i = 0; i < n; i += AN_SCORE_BATCH)
	{
		int			m = (int) (n - i < AN_SCORE_BATCH ? n - i : AN_SCORE_BATCH);

		score(state, x + (size_t) i * dim, m, scores);
		for (int k = 0; k < m; k++)
			sum += scores[k];
	}
	return n ? sum / (double) n : NAN;
}

static AnStatus
train_epochs(AnContext *ctx, const AnMethod *method, void *state,
			 const AnOptions *opts, const char *phase, const float *x, int dim,
			 uint32_t *train_idx, size_t n_train, const float *xv, size_t n_val,
			 float *xb, float *best, const AnParamList *params,
			 AnRng *rng, AnTrainResult *result)
{
	double		start = an_now(ctx);
	double		best_loss = INFINITY;
	int			stale = 0;

	for (int epoch = 1; epoch <= opts->epochs; epoch++)
	{
		double		epoch_start = an_now(ctx);
		double		sum = 0.0;
		AnEpochReport report;

		an_rng_shuffle(rng, train_idx, n_train);
		for (size_t i = 0; i < n_train; i += opts->batch_size)
		{
			size_t		m = n_train - i < (size_t) opts->batch_size
				? n_train - i : (size_t) opts->batch_size;

			if (an_check_interrupts(ctx))
				return an_error(ctx, AN_ERR_INTERRUPTED, "training was interrupted");
			gather_rows(x, dim, train_idx + i, m, xb);
			sum += method->train_batch(state, xb, (int) m, rng) * (double) m;
		}

		if (!isfinite(sum) || !an_params_finite(params))
			return an_error(ctx, AN_ERR_NUMERIC,
							"training diverged in epoch %d: the loss is not finite", epoch);
		if (method->epoch_end)
			AN_TRY(method->epoch_end(ctx, state, x, n_train + n_val));

		memset(&report, 0, sizeof(report));
		report.epoch = epoch;
		report.epochs = opts->epochs;
		report.phase = phase;
		report.train_loss = sum / (double) n_train;
		report.val_loss = NAN;
		if (n_val > 0)
			report.val_loss = method->eval_loss
				? method->eval_loss(state, xv, n_val)
				: an_mean_block_score(method->score, state, xv, n_val, dim);
		report.seconds = an_now(ctx) - start;
		report.rows_per_second = (double) n_train /
			fmax(an_now(ctx) - epoch_start, 1e-9);

		{
			double		monitored = n_val > 0 ? report.val_loss : report.train_loss;

			if (isfinite(monitored) && monitored < best_loss)
			{
				best_loss = monitored;
				an_params_save(params, best);
				report.improved = true;
				stale = 0;
			}
			else
				stale++;
		}
		result->epochs_run = epoch;
		if (ctx->progress)
			ctx->progress(ctx->arg, &report);
		if (opts->early_stopping_patience > 0 && stale >= opts->early_stopping_patience)
		{
			result->stopped_early = true;
			break;
		}
	}
	if (isfinite(best_loss))
		an_params_restore(params, best);
	result->loss = best_loss;
	return AN_OK;
}

AnStatus
an_train(AnContext *ctx, const AnMethod *method, void *state, const AnOptions *opts,
		 const float *x, size_t n, int dim, AnRng *rng, AnTrainResult *result)
{
	return an_train_phase(ctx, method, state, opts, "train", x, n, dim, rng, result);
}

AnStatus
an_train_phase(AnContext *ctx, const AnMethod *method, void *state,
			   const AnOptions *opts, const char *phase, const float *x, size_t n,
			   int dim, AnRng *rng, AnTrainResult *result)
{
	AnParamList params;
	size_t		n_val = 0;
	uint32_t   *idx;
	float	   *xv = NULL;
	float	   *xb;
	float	   *best;
	AnStatus	st;

	memset(result, 0, sizeof(*result));
	memset(&params, 0, sizeof(params));
	method->params(state, &params);

	if (n == 0)
		return an_error(ctx, AN_ERR_INVALID, "no rows to train on");
	if (n > UINT32_MAX)
		return an_error(ctx, AN_ERR_INVALID, "too many training rows");
	if (opts->validation_fraction > 0 && n >= MIN_ROWS_FOR_VALIDATION)
		n_val = (size_t) floor((double) n * opts->validation_fraction);

	idx = an_alloc_array(ctx, n, sizeof(uint32_t));
	xb = an_alloc_array(ctx, (size_t) opts->batch_size * dim, sizeof(float));
	best = an_alloc_array(ctx, an_params_total(&params), sizeof(float));
	if (n_val > 0)
		xv = an_alloc_array(ctx, n_val * dim, sizeof(float));
	if (!idx || !xb || !best || (n_val > 0 && !xv))
	{
		st = an_nomem(ctx);
		goto done;
	}

	for (size_t i = 0; i < n; i++)
		idx[i] = (uint32_t) i;
	an_rng_shuffle(rng, idx, n);
	if (n_val > 0)
		gather_rows(x, dim, idx, n_val, xv);

	st = train_epochs(ctx, method, state, opts, phase, x, dim, idx + n_val, n - n_val,
					  xv, n_val, xb, best, &params, rng, result);
done:
	an_free(ctx, idx);
	an_free(ctx, xb);
	an_free(ctx, best);
	an_free(ctx, xv);
	return st;
}

AnStatus
an_method_train(AnContext *ctx, const AnOptions *opts, const float *x, size_t n,
				int dim, AnRng *rng, void **state, AnTrainResult *result)
{
	const AnMethod *method = opts->method;
	AnStatus	st;

	memset(result, 0, sizeof(*result));
	*state = NULL;
	if (n == 0)
		return an_error(ctx, AN_ERR_INVALID, "no rows to train on");
	if (method->fit)
	{
		st = method->fit(ctx, opts, x, n, dim, rng, state);
		result->loss = NAN;
	}
	else
	{
		st = method->create(ctx, opts, dim, rng, state);
		if (st == AN_OK && method->prepare)
			st = method->prepare(ctx, *state, opts, x, n, rng);
		if (st == AN_OK)
			st = an_train(ctx, method, *state, opts, x, n, dim, rng, result);
		if (st == AN_OK && method->finish)
			st = method->finish(ctx, *state, opts, x, n, result->loss);
	}
	if (st != AN_OK && *state)
	{
		method->destroy(ctx, *state);
		*state = NULL;
	}
	return st;
}
