/*-------------------------------------------------------------------------
 *
 * trainer.h
 *	  Training a method's state: the epoch loop shared by the methods
 *	  trained by mini-batch gradient steps, and the one entry point that
 *	  trains any method, whichever way it learns.
 *
 * IDENTIFICATION
 *	  include/anomaly/trainer.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_TRAINER_H
#define ANOMALY_TRAINER_H

#include "anomaly/method.h"

/* Training summary. */
typedef struct AnTrainResult
{
	int			epochs_run;		/* 0 for a method with a fit callback */
	double		loss;			/* best validation or training loss; NaN if none */
	bool		stopped_early;
} AnTrainResult;

/*
 * The epoch loop: shuffled mini-batches, optional validation split and
 * early stopping with the best weights restored, progress and interrupt
 * callbacks.  x holds n scaled rows of width dim.
 */
extern AnStatus an_train(AnContext *ctx, const AnMethod *method, void *state,
						 const AnOptions *opts, const float *x, size_t n, int dim,
						 AnRng *rng, AnTrainResult *result);

/*
 * The mean of score(state, rows, m, out) over n rows of width dim, scored
 * in blocks of AN_SCORE_BATCH and summed in row order: the epoch loop's
 * default validation loss (method->score), and a method's eval_loss that
 * scores with a part of its model.
 */
typedef void (*AnBlockScore) (void *state, const float *x, int n, double *out);
extern double an_mean_block_score(AnBlockScore score, void *state, const float *x,
								  size_t n, int dim);

/*
 * The same loop under another phase name in the progress reports: a method
 * that trains a helper network first (an autoencoder to pretrain an
 * encoder, say) runs it through here with phase "pretrain".
 */
extern AnStatus an_train_phase(AnContext *ctx, const AnMethod *method, void *state,
							   const AnOptions *opts, const char *phase,
							   const float *x, size_t n, int dim,
							   AnRng *rng, AnTrainResult *result);

/*
 * Train opts->method on n scaled rows of width dim (opts resolved) into a
 * new *state: the method's fit callback when it has one, otherwise create,
 * prepare and the epoch loop.  On failure *state is NULL and nothing is
 * left allocated.
 */
extern AnStatus an_method_train(AnContext *ctx, const AnOptions *opts,
								const float *x, size_t n, int dim, AnRng *rng,
								void **state, AnTrainResult *result);

#endif							/* ANOMALY_TRAINER_H */
