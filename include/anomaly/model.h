/*-------------------------------------------------------------------------
 *
 * model.h
 *	  A trained model: method state, feature specification, scaler,
 *	  threshold and score quantiles; training, scoring and the stored
 *	  document.
 *
 * IDENTIFICATION
 *	  include/anomaly/model.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_MODEL_H
#define ANOMALY_MODEL_H

#include "anomaly/features.h"
#include "anomaly/method.h"
#include "anomaly/options.h"
#include "anomaly/stats.h"
#include "anomaly/trainer.h"

#define AN_FORMAT_TAG		"anomaly-model"
#define AN_FORMAT_VERSION	1
#define AN_N_QUANTILES		101		/* score percentiles 0, 1, ..., 100 */

typedef struct AnModel
{
	const AnMethod *method;
	void	   *state;
	AnFeatureSpec spec;
	AnScaler	scaler;

	double		threshold;		/* score > threshold = anomaly */
	double		contamination;
	double		quantiles[AN_N_QUANTILES];

	/* how it was trained */
	int64_t		trained_rows;
	int			epochs_run;
	double		loss;			/* best validation loss, or final training loss */
	uint64_t	seed;

	int			score_rows;		/* rows per score call (AN_DECODE_BATCH once
								 * trained or decoded; 0: AN_SCORE_BATCH) */
	float	   *scratch;		/* score_rows x dim scaled rows */
} AnModel;

/*
 * What a decoded model may allocate, in total, while it is decoded (its
 * state, specification, scaler and scoring workspace): a fixed allowance
 * plus a multiple of the document's length, checked before each
 * allocation.  A document asking for more is refused (docs/security.md).
 * msgpack-c's object tree, freed at the end of the decode, is bounded
 * separately by the number of objects an_msgpack_check allows.
 */
#define AN_DECODE_FIXED_BYTES	((size_t) 64 << 20)
#define AN_DECODE_BYTES_PER_DOC_BYTE 4

/* fewer rows than this carry no spread to learn from */
#define AN_MIN_TRAIN_ROWS	2

/*
 * Train model->method on n scaled rows x (model->spec and model->scaler
 * already set): trains the method's state (an_method_train), then scores
 * every training row to set the threshold and quantiles.  opts must be
 * resolved.
 */
extern AnStatus an_model_fit(AnContext *ctx, AnModel *model, const AnOptions *opts,
							 const float *x, size_t n);

/* allocate the scoring scratch buffer (after fit or decode) */
extern AnStatus an_model_ready(AnContext *ctx, AnModel *model);

/*
 * Score n rows of scaled floats / of raw encoded doubles.  Raw rows are
 * scaled with clamping (an_scaler_apply); a score that is not finite
 * (NaN, or an overflow inside the method) is returned as +Infinity, the
 * most anomalous score, so that "score > threshold" flags it.
 */
extern void an_model_score_scaled(AnModel *model, const float *x, size_t n, double *out);
extern void an_model_score_raw(AnModel *model, const double *raw, size_t n, double *out);

extern AnStatus an_model_encode(AnContext *ctx, const AnModel *model,
								char **data, size_t *len);
extern AnStatus an_model_decode(AnContext *ctx, const char *data, size_t len,
								AnModel *model);
extern void an_model_free(AnContext *ctx, AnModel *model);

#endif							/* ANOMALY_MODEL_H */
