/*-------------------------------------------------------------------------
 *
 * explain.h
 *	  Explanations and calibration of a model's scores: per-column
 *	  contributions to a row's score, and the percentile of a score among
 *	  the training rows' scores.
 *
 * A method explains a scaled row dimension by dimension (its explain
 * callback, method.h); here the encoded dimensions of a categorical
 * column (its one-hot group) are summed back to the column, so that a
 * host shows one contribution per source column.
 *
 * IDENTIFICATION
 *	  include/anomaly/explain.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_EXPLAIN_H
#define ANOMALY_EXPLAIN_H

#include "anomaly/model.h"

/*
 * Explain one raw encoded row (spec.dim doubles): per_feature[i] receives
 * the contribution of feature i (spec.n_features entries), *rest the part
 * of the score no feature carries and *score the row's score.
 * AN_ERR_INVALID if the method has no explain callback.
 */
extern AnStatus an_model_explain(AnContext *ctx, AnModel *model, const double *raw,
								 double *per_feature, double *rest, double *score);

/*
 * The fraction of the training rows' scores below score, from the 101
 * stored quantiles: 0 below the lowest, 1 above the highest, linear
 * between adjacent quantiles, and the middle of a run of equal quantiles
 * for a score equal to them.
 */
extern double an_model_percentile(const AnModel *model, double score);

/*
 * Integrated gradients (Sundararajan et al. 2017) of method's score at the
 * scaled row x, from the all-zero row (the training centre of every
 * numeric column, no category): contrib[j] = x_j times the mean over
 * AN_IG_STEPS points of the straight path of the score's partial
 * derivative in j, taken by central differences of the score itself.
 * The contributions add up to score(x) - score(0), up to the quadrature
 * error; *rest receives score(0).  For methods whose score is a network's
 * output with no per-dimension form.
 */
#define AN_IG_STEPS 32

extern AnStatus an_explain_integrated_gradients(AnContext *ctx, const AnMethod *method,
												void *state, const float *x, int dim,
												double *contrib, double *rest);

#endif							/* ANOMALY_EXPLAIN_H */
